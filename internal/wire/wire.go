// Package wire has the small binary reader and writer that the value and
// record encodings are built from. A Reader never panics and never
// allocates more than the input can justify: every length is checked
// against the bytes that remain before anything is allocated.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// ErrMalformed is returned by a Reader for input it cannot decode.
var ErrMalformed = errors.New("malformed encoding")

// AppendUvarint appends v as an unsigned varint.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendVarint appends v as a zig-zag signed varint.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendString appends a length-prefixed string.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends a length-prefixed byte slice.
func AppendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// AppendTime appends t as Unix nanoseconds (a signed varint), 0 for the zero
// time. Monotonic clock readings and locations are dropped; times decode in
// UTC.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// AppendFloat64 appends the 8 IEEE-754 bytes of f.
func AppendFloat64(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// Reader decodes from a byte slice. After the first error every method
// returns zero values and Err reports the error.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error met, if any.
func (r *Reader) Err() error { return r.err }

// Len returns the number of bytes not yet read.
func (r *Reader) Len() int { return len(r.b) }

// Fail records err (if no error is recorded yet) and stops the reader.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.Fail(ErrMalformed)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Fail(ErrMalformed)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a zig-zag signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.Fail(ErrMalformed)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a length or element count and checks that at least
// count*minSize bytes remain, so a forged count cannot force a large
// allocation.
func (r *Reader) Count(minSize int) int {
	v := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if v > uint64(len(r.b)/minSize) {
		r.Fail(ErrMalformed)
		return 0
	}
	return int(v)
}

// Next returns the next n bytes without copying them.
func (r *Reader) Next(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.Fail(ErrMalformed)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

// String reads a length-prefixed string (copied).
func (r *Reader) String() string {
	n := r.Count(1)
	return string(r.Next(n))
}

// Bytes reads a length-prefixed byte slice (copied; never nil on success).
func (r *Reader) Bytes() []byte {
	n := r.Count(1)
	p := r.Next(n)
	if r.err != nil {
		return nil
	}
	return append(make([]byte, 0, len(p)), p...)
}

// Time reads a time written by AppendTime.
func (r *Reader) Time() time.Time {
	ns := r.Varint()
	if ns == 0 || r.err != nil {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Float64 reads 8 IEEE-754 bytes.
func (r *Reader) Float64() float64 {
	p := r.Next(8)
	if r.err != nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

// Uint32 reads 4 little-endian bytes.
func (r *Reader) Uint32() uint32 {
	p := r.Next(4)
	if r.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}
