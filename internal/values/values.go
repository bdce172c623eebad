// Package values encodes session values (gin-contrib's map of interface{}
// keys to interface{} values) so that every value comes back with the Go
// type it went in with: an int stays an int, a []string stays a []string.
//
// The common types are written in a compact tagged binary form without
// encoding/gob: nil, string, bool, every integer and float kind, []byte,
// time.Time, time.Duration, and slices and string-keyed maps of these.
// Any other type is written with encoding/gob, and so must be registered
// with gob.Register as gorilla/sessions already requires.
//
// Decode sees bytes that were authenticated (the cookie backend opens its
// AEAD first) or that come from the application's own store, but it is
// still written as a parser of hostile input: it never panics, bounds every
// allocation by the input length, and limits nesting.
package values

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gin-securesession/securesession/internal/wire"
)

// version is the first byte of every encoding.
const version = 1

// maxDepth bounds the nesting of []any and map[string]any values.
const maxDepth = 32

const (
	tNil byte = iota
	tFalse
	tTrue
	tString
	tInt
	tInt8
	tInt16
	tInt32
	tInt64
	tUint
	tUint8
	tUint16
	tUint32
	tUint64
	tFloat32
	tFloat64
	tBytes
	tTime
	tDuration
	tSliceAny
	tSliceString
	tSliceInt
	tSliceInt64
	tSliceFloat64
	tSliceBool
	tMapStringAny
	tMapStringString
	tMapStringInt
	tMapStringBool
	tGob
	tMax
)

// ErrMalformed is returned by Decode for input that is not a valid encoding.
var ErrMalformed = errors.New("malformed session values")

// Encode appends the encoding of m to dst. An empty or nil map encodes to
// nil (no bytes at all).
func Encode(dst []byte, m map[any]any) ([]byte, error) {
	if len(m) == 0 {
		return dst, nil
	}
	if cap(dst)-len(dst) < 11 {
		// One allocation of about the right size, rather than the
		// doublings of appending to a small slice.
		n := 11
		for k, v := range m {
			n += sizeHint(k) + sizeHint(v)
		}
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = append(dst, version)
	dst = wire.AppendUvarint(dst, uint64(len(m)))
	var err error
	for k, v := range m {
		if dst, err = appendValue(dst, k, 0); err != nil {
			return nil, &TypeError{Key: k, IsKey: true, Err: err}
		}
		if dst, err = appendValue(dst, v, 0); err != nil {
			return nil, &TypeError{Key: k, Err: err}
		}
	}
	return dst, nil
}

// sizeHint estimates the encoded size of v: exact or an upper bound for
// the scalar types and strings, a guess for the rest.
func sizeHint(v any) int {
	switch x := v.(type) {
	case nil, bool:
		return 1
	case string:
		return 1 + 10 + len(x)
	case []byte:
		return 1 + 10 + len(x)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, time.Duration:
		return 1 + 10
	case float32, float64:
		return 1 + 8
	}
	return 32
}

// TypeError reports a session key or value that Encode cannot write. Its
// message names the key and the Go type, never the value:
//
//	session value "cart" of type main.Cart: register it with gob.Register or use a supported type
type TypeError struct {
	Key   any   // the session key whose value (or the key itself) failed
	IsKey bool  // the key itself is what failed
	Err   error // a *GobError, or the reason a built-in type failed
}

// Error names the key and the type.
func (e *TypeError) Error() string {
	var ge *GobError
	what := "value " + keyString(e.Key)
	if e.IsKey {
		what = "key " + keyString(e.Key)
	}
	if !errors.As(e.Err, &ge) {
		return "session " + what + ": " + e.Err.Error()
	}
	of := "of type"
	if ge.Nested {
		of = "holds a"
	}
	return fmt.Sprintf("session %s %s %s: register it with gob.Register or use a supported type (%v)", what, of, ge.Type, ge.Err)
}

// Unwrap returns the cause.
func (e *TypeError) Unwrap() error { return e.Err }

// GobError is the failure to encode, with encoding/gob, a value of a type
// that is not built in: most often a type never passed to gob.Register.
type GobError struct {
	Type   string // the value's Go type, as %T prints it
	Nested bool   // the value sits inside a slice or map
	Err    error  // gob's error
}

// Error returns the type and gob's error.
func (e *GobError) Error() string {
	return fmt.Sprintf("type %s is not one of the built-in session value types and gob cannot encode it (call gob.Register): %v", e.Type, e.Err)
}

// Unwrap returns gob's error.
func (e *GobError) Unwrap() error { return e.Err }

func keyString(k any) string {
	if s, ok := k.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v (a %T)", k, k)
}

// Largest returns the key of m whose value takes the most bytes encoded,
// and that size, for an error about a session that does not fit. It
// returns (nil, 0) for an empty map or one it cannot encode.
func Largest(m map[any]any) (key any, size int) {
	for k, v := range m {
		b, err := appendValue(nil, v, 0)
		if err != nil {
			return nil, 0
		}
		if len(b) > size {
			key, size = k, len(b)
		}
	}
	return key, size
}

// Decode decodes an encoding made by Encode. Empty input yields an empty,
// non-nil map.
func Decode(p []byte) (map[any]any, error) {
	if len(p) == 0 {
		return make(map[any]any), nil
	}
	if p[0] != version {
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, p[0])
	}
	r := wire.NewReader(p[1:])
	n := r.Count(2)
	m := make(map[any]any, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		k := readValue(r, 0)
		v := readValue(r, 0)
		if r.Err() != nil {
			break
		}
		if !hashable(k) {
			return nil, fmt.Errorf("%w: unhashable key", ErrMalformed)
		}
		m[k] = v
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, r.Err())
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, r.Len())
	}
	return m, nil
}

func hashable(k any) bool {
	switch k.(type) {
	case []any, []string, []int, []int64, []float64, []bool, []byte,
		map[string]any, map[string]string, map[string]int, map[string]bool:
		return false
	}
	return true
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return append(b, tNil), nil
	case bool:
		if x {
			return append(b, tTrue), nil
		}
		return append(b, tFalse), nil
	case string:
		return wire.AppendString(append(b, tString), x), nil
	case int:
		return wire.AppendVarint(append(b, tInt), int64(x)), nil
	case int8:
		return wire.AppendVarint(append(b, tInt8), int64(x)), nil
	case int16:
		return wire.AppendVarint(append(b, tInt16), int64(x)), nil
	case int32:
		return wire.AppendVarint(append(b, tInt32), int64(x)), nil
	case int64:
		return wire.AppendVarint(append(b, tInt64), x), nil
	case uint:
		return wire.AppendUvarint(append(b, tUint), uint64(x)), nil
	case uint8:
		return wire.AppendUvarint(append(b, tUint8), uint64(x)), nil
	case uint16:
		return wire.AppendUvarint(append(b, tUint16), uint64(x)), nil
	case uint32:
		return wire.AppendUvarint(append(b, tUint32), uint64(x)), nil
	case uint64:
		return wire.AppendUvarint(append(b, tUint64), x), nil
	case float32:
		return wire.AppendFloat64(append(b, tFloat32), float64(x)), nil
	case float64:
		return wire.AppendFloat64(append(b, tFloat64), x), nil
	case []byte:
		return wire.AppendBytes(append(b, tBytes), x), nil
	case time.Time:
		tb, err := x.MarshalBinary()
		if err != nil {
			return nil, err
		}
		return wire.AppendBytes(append(b, tTime), tb), nil
	case time.Duration:
		return wire.AppendVarint(append(b, tDuration), int64(x)), nil
	case []any:
		b = wire.AppendUvarint(append(b, tSliceAny), uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []string:
		b = wire.AppendUvarint(append(b, tSliceString), uint64(len(x)))
		for _, e := range x {
			b = wire.AppendString(b, e)
		}
		return b, nil
	case []int:
		b = wire.AppendUvarint(append(b, tSliceInt), uint64(len(x)))
		for _, e := range x {
			b = wire.AppendVarint(b, int64(e))
		}
		return b, nil
	case []int64:
		b = wire.AppendUvarint(append(b, tSliceInt64), uint64(len(x)))
		for _, e := range x {
			b = wire.AppendVarint(b, e)
		}
		return b, nil
	case []float64:
		b = wire.AppendUvarint(append(b, tSliceFloat64), uint64(len(x)))
		for _, e := range x {
			b = wire.AppendFloat64(b, e)
		}
		return b, nil
	case []bool:
		b = wire.AppendUvarint(append(b, tSliceBool), uint64(len(x)))
		for _, e := range x {
			if e {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		return b, nil
	case map[string]any:
		b = wire.AppendUvarint(append(b, tMapStringAny), uint64(len(x)))
		var err error
		for k, e := range x {
			b = wire.AppendString(b, k)
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]string:
		b = wire.AppendUvarint(append(b, tMapStringString), uint64(len(x)))
		for k, e := range x {
			b = wire.AppendString(wire.AppendString(b, k), e)
		}
		return b, nil
	case map[string]int:
		b = wire.AppendUvarint(append(b, tMapStringInt), uint64(len(x)))
		for k, e := range x {
			b = wire.AppendVarint(wire.AppendString(b, k), int64(e))
		}
		return b, nil
	case map[string]bool:
		b = wire.AppendUvarint(append(b, tMapStringBool), uint64(len(x)))
		for k, e := range x {
			b = wire.AppendString(b, k)
			if e {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		return b, nil
	default:
		// gob needs a pointer to the interface; taking the address of a
		// copy, not of v, keeps every other call from moving v to the
		// heap.
		gv := v
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&gv); err != nil {
			return nil, &GobError{Type: fmt.Sprintf("%T", v), Nested: depth > 0, Err: err}
		}
		return wire.AppendBytes(append(b, tGob), buf.Bytes()), nil
	}
}

func readValue(r *wire.Reader, depth int) any {
	if depth > maxDepth {
		r.Fail(errors.New("nested too deeply"))
		return nil
	}
	switch t := r.Byte(); t {
	case tNil:
		return nil
	case tFalse:
		return false
	case tTrue:
		return true
	case tString:
		return r.String()
	case tInt:
		v := r.Varint()
		if int64(int(v)) != v {
			r.Fail(errors.New("int overflows"))
		}
		return int(v)
	case tInt8:
		v := r.Varint()
		if v < math.MinInt8 || v > math.MaxInt8 {
			r.Fail(errors.New("int8 overflows"))
		}
		return int8(v)
	case tInt16:
		v := r.Varint()
		if v < math.MinInt16 || v > math.MaxInt16 {
			r.Fail(errors.New("int16 overflows"))
		}
		return int16(v)
	case tInt32:
		v := r.Varint()
		if v < math.MinInt32 || v > math.MaxInt32 {
			r.Fail(errors.New("int32 overflows"))
		}
		return int32(v)
	case tInt64:
		return r.Varint()
	case tUint:
		v := r.Uvarint()
		if uint64(uint(v)) != v {
			r.Fail(errors.New("uint overflows"))
		}
		return uint(v)
	case tUint8:
		v := r.Uvarint()
		if v > math.MaxUint8 {
			r.Fail(errors.New("uint8 overflows"))
		}
		return uint8(v)
	case tUint16:
		v := r.Uvarint()
		if v > math.MaxUint16 {
			r.Fail(errors.New("uint16 overflows"))
		}
		return uint16(v)
	case tUint32:
		v := r.Uvarint()
		if v > math.MaxUint32 {
			r.Fail(errors.New("uint32 overflows"))
		}
		return uint32(v)
	case tUint64:
		return r.Uvarint()
	case tFloat32:
		return float32(r.Float64())
	case tFloat64:
		return r.Float64()
	case tBytes:
		return r.Bytes()
	case tTime:
		var tm time.Time
		p := r.Next(r.Count(1))
		if r.Err() == nil {
			if err := tm.UnmarshalBinary(p); err != nil {
				r.Fail(err)
			}
		}
		return tm
	case tDuration:
		return time.Duration(r.Varint())
	case tSliceAny:
		n := r.Count(1)
		s := make([]any, n)
		for i := range s {
			s[i] = readValue(r, depth+1)
		}
		return s
	case tSliceString:
		n := r.Count(1)
		s := make([]string, n)
		for i := range s {
			s[i] = r.String()
		}
		return s
	case tSliceInt:
		n := r.Count(1)
		s := make([]int, n)
		for i := range s {
			v := r.Varint()
			if int64(int(v)) != v {
				r.Fail(errors.New("int overflows"))
			}
			s[i] = int(v)
		}
		return s
	case tSliceInt64:
		n := r.Count(1)
		s := make([]int64, n)
		for i := range s {
			s[i] = r.Varint()
		}
		return s
	case tSliceFloat64:
		n := r.Count(8)
		s := make([]float64, n)
		for i := range s {
			s[i] = r.Float64()
		}
		return s
	case tSliceBool:
		n := r.Count(1)
		s := make([]bool, n)
		for i := range s {
			s[i] = readBool(r)
		}
		return s
	case tMapStringAny:
		n := r.Count(2)
		m := make(map[string]any, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			k := r.String()
			m[k] = readValue(r, depth+1)
		}
		return m
	case tMapStringString:
		n := r.Count(2)
		m := make(map[string]string, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			k := r.String()
			m[k] = r.String()
		}
		return m
	case tMapStringInt:
		n := r.Count(2)
		m := make(map[string]int, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			k := r.String()
			v := r.Varint()
			if int64(int(v)) != v {
				r.Fail(errors.New("int overflows"))
			}
			m[k] = int(v)
		}
		return m
	case tMapStringBool:
		n := r.Count(2)
		m := make(map[string]bool, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			k := r.String()
			m[k] = readBool(r)
		}
		return m
	case tGob:
		p := r.Next(r.Count(1))
		if r.Err() != nil {
			return nil
		}
		return decodeGob(r, p)
	default:
		r.Fail(fmt.Errorf("unknown type tag %d", t))
		return nil
	}
}

func readBool(r *wire.Reader) bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	default:
		r.Fail(errors.New("bad bool"))
		return false
	}
}

// decodeGob decodes a gob stream of one interface value. It first walks the
// stream's message framing and rejects any message longer than the bytes
// that remain, because gob allocates a message's buffer from its declared
// length before reading it.
func decodeGob(r *wire.Reader, p []byte) any {
	if err := checkGobFraming(p); err != nil {
		r.Fail(err)
		return nil
	}
	var v any
	if err := gob.NewDecoder(bytes.NewReader(p)).Decode(&v); err != nil {
		r.Fail(fmt.Errorf("gob: %w", err))
		return nil
	}
	return v
}

func checkGobFraming(p []byte) error {
	for len(p) > 0 {
		n, w, ok := gobUint(p)
		if !ok || n > uint64(len(p)-w) {
			return errors.New("gob message length exceeds input")
		}
		p = p[w+int(n):]
	}
	return nil
}

// gobUint reads an unsigned integer in gob's encoding: one byte if under
// 128, otherwise a byte holding the negated byte count followed by that
// many big-endian bytes.
func gobUint(p []byte) (v uint64, width int, ok bool) {
	if len(p) == 0 {
		return 0, 0, false
	}
	b := p[0]
	if b <= 0x7f {
		return uint64(b), 1, true
	}
	n := -int(int8(b))
	if n > 8 || len(p) < 1+n {
		return 0, 0, false
	}
	for _, c := range p[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + n, true
}
