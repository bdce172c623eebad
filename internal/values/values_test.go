package values

import (
	"bytes"
	"encoding/gob"
	"errors"
	"reflect"
	"testing"
	"time"
)

type custom struct {
	A string
	B int
}

func init() { gob.Register(custom{}) }

func TestRoundTripKeepsGoTypes(t *testing.T) {
	in := map[any]any{
		"nil": nil, "t": true, "f": false, "s": "héllo", "empty": "",
		"int": 42, "neg": -1 << 40, "i8": int8(-8), "i16": int16(-16), "i32": int32(-32), "i64": int64(-64),
		"uint": uint(1), "u8": uint8(255), "u16": uint16(65535), "u32": uint32(1 << 31), "u64": uint64(1 << 63),
		"f32": float32(1.5), "f64": 3.25, "bytes": []byte{0, 1, 2}, "nobytes": []byte{},
		"dur":  90 * time.Second,
		"time": time.Date(2026, 11, 24, 12, 30, 0, 5, time.FixedZone("X", 3600)),
		"any":  []any{1, "two", []any{3.0, nil}, map[string]any{"deep": true}},
		"ss":   []string{"a", ""}, "is": []int{-1, 0, 1}, "i64s": []int64{1 << 50}, "fs": []float64{0.5}, "bs": []bool{true, false},
		"msa": map[string]any{"n": 1, "s": "x"}, "mss": map[string]string{"k": "v"}, "msi": map[string]int{"k": -3}, "msb": map[string]bool{"y": true},
		"gob": custom{A: "a", B: 2},
		7:     "int key", true: "bool key",
	}
	enc, err := Encode(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		got := out[k]
		if tv, ok := v.(time.Time); ok {
			if gt, ok := got.(time.Time); !ok || !gt.Equal(tv) {
				t.Errorf("%v: got %#v, want %#v", k, got, v)
			}
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%v: got %#v (%T), want %#v (%T)", k, got, got, v, v)
		}
	}
	if len(out) != len(in) {
		t.Errorf("%d keys, want %d", len(out), len(in))
	}
}

func TestEmptyMapEncodesToNothing(t *testing.T) {
	enc, err := Encode(nil, map[any]any{})
	if err != nil || len(enc) != 0 {
		t.Fatalf("Encode(empty) = %v, %v", enc, err)
	}
	m, err := Decode(nil)
	if err != nil || m == nil || len(m) != 0 {
		t.Fatalf("Decode(nil) = %v, %v", m, err)
	}
}

func TestCommonTypesDoNotUseGob(t *testing.T) {
	enc, err := Encode(nil, map[any]any{"user": "alice"})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{version, 1, tString, 4, 'u', 's', 'e', 'r', tString, 5, 'a', 'l', 'i', 'c', 'e'}
	if !bytes.Equal(enc, want) {
		t.Fatalf("encoding = %v, want the compact form %v", enc, want)
	}
	enc, _ = Encode(nil, map[any]any{"n": 3, "roles": []string{"admin"}, "m": map[string]any{"x": 1.5}})
	if bytes.IndexByte(enc, tGob) >= 0 && bytes.Contains(enc, []byte("interface")) {
		t.Fatalf("built-in types fell back to gob: %q", enc)
	}
}

func TestUnregisteredTypeIsAClearError(t *testing.T) {
	type unregistered struct{ X chan int }
	_, err := Encode(nil, map[any]any{"k": unregistered{}})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("gob.Register")) {
		t.Fatalf("got %v; want an error that says to call gob.Register", err)
	}
}

func TestMalformedInputIsAnError(t *testing.T) {
	valid, _ := Encode(nil, map[any]any{"k": []any{"v", 1}})
	for name, in := range map[string][]byte{
		"bad version":   {9, 0},
		"count too big": {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"truncated":     valid[:len(valid)-1],
		"trailing":      append(append([]byte(nil), valid...), 0),
		"unknown tag":   {1, 1, tString, 1, 'k', 200},
		"slice key":     {1, 1, tSliceString, 0, tNil},
		"int8 overflow": {1, 1, tInt8, 0xfe, 0x03, tNil},
		"bad bool":      {1, 1, tSliceBool, 1, 7, tNil},
		"gob too long":  {1, 1, tString, 1, 'k', tGob, 3, 0x7f, 0, 0},
	} {
		if _, err := Decode(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestDeepNestingRejected(t *testing.T) {
	var v any = "leaf"
	for i := 0; i < maxDepth+5; i++ {
		v = []any{v}
	}
	if _, err := Encode(nil, map[any]any{"k": v}); err == nil {
		t.Fatal("Encode accepted nesting deeper than maxDepth")
	}
	in := []byte{1, 1, tString, 1, 'k'}
	for i := 0; i < 10000; i++ {
		in = append(in, tSliceAny, 1)
	}
	in = append(in, tNil)
	if _, err := Decode(in); !errors.Is(err, ErrMalformed) {
		t.Fatalf("deep input: %v", err)
	}
}

// FuzzDecode: never a panic, allocation bounded by the input, and
// everything that decodes re-encodes and decodes to the same values.
func FuzzDecode(f *testing.F) {
	seeds := []map[any]any{
		{"user": "alice", "n": 1},
		{"any": []any{1, "x", map[string]any{"y": []string{"z"}}}, 3: 4.5},
		{"t": time.Unix(1, 2).UTC(), "b": []byte("xyz"), "g": custom{"a", 1}},
	}
	for _, s := range seeds {
		enc, err := Encode(nil, s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add([]byte{1, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Decode(in)
		if err != nil {
			return
		}
		enc, err := Encode(nil, m)
		if err != nil {
			t.Fatalf("decoded values do not re-encode: %v", err)
		}
		m2, err := Decode(enc)
		if err != nil || len(m2) != len(m) {
			t.Fatalf("re-encoded values do not decode: %v", err)
		}
	})
}

func BenchmarkEncodeDecode(b *testing.B) {
	m := map[any]any{"user": "alice", "role": "admin", "n": 3}
	b.ReportAllocs()
	for b.Loop() {
		enc, _ := Encode(nil, m)
		Decode(enc)
	}
}

// TestEncodeOfScalarsIsOneAllocation pins the encoder's cost on the hot
// path of every save: a map of strings and numbers is encoded into one
// buffer sized up front, and encoding a value never moves it to the heap.
func TestEncodeOfScalarsIsOneAllocation(t *testing.T) {
	m := map[any]any{"user": "alice", "role": "admin", "n": 41, "ratio": 0.5, "ok": true, "big": 1 << 40}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := Encode(nil, m); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatalf("Encode allocated %v times, want 1", n)
	}
}
