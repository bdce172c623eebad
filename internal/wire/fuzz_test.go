package wire

import (
	"github.com/gin-securesession/securesession/internal/fuzzalloc"
	"testing"
	"time"
)

// run drives a Reader over data with the operations named by prog, one
// per byte, until the program ends or the reader fails.
func run(prog, data []byte) *Reader {
	r := NewReader(data)
	for _, op := range prog {
		switch op % 10 {
		case 0:
			r.Byte()
		case 1:
			r.Uvarint()
		case 2:
			r.Varint()
		case 3:
			r.Count(int(op>>4) + 1)
		case 4:
			r.Next(int(op >> 4))
		case 5:
			_ = r.String()
		case 6:
			r.Bytes()
		case 7:
			r.Time()
		case 8:
			r.Float64()
		case 9:
			r.Uint32()
		}
		if r.Err() != nil {
			break
		}
	}
	return r
}

// FuzzReader: no sequence of reads panics on any input, a failed reader
// stays failed, Len never grows, and a Reader never allocates more than a
// small multiple of its input (a forged length cannot force a large
// allocation).
func FuzzReader(f *testing.F) {
	var enc []byte
	enc = AppendString(enc, "alice")
	enc = AppendTime(enc, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	enc = AppendBytes(enc, []byte{1, 2, 3})
	enc = AppendVarint(enc, -7)
	enc = AppendFloat64(enc, 2.5)
	f.Add([]byte{5, 7, 6, 2, 8}, enc)
	f.Add([]byte{5}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}) // 2^63-ish length
	f.Add([]byte{6}, []byte{0x80, 0x80, 0x80, 0x80, 0x04})                         // 1 GiB length, no bytes
	f.Add([]byte{1, 1, 1}, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{3, 0x13, 0xf3}, []byte{100, 1, 2})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, prog, data []byte) {
		if len(prog) > 64 {
			prog = prog[:64]
		}
		var r *Reader
		n := fuzzalloc.Bytes(func() { r = run(prog, data) })
		// A Reader copies at most its input (String, Bytes) once per
		// read; anything beyond a few KiB for a bounded program means a
		// length was trusted.
		if limit := uint64(2*len(data)+512)*uint64(len(prog)+1) + 4096; n > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes (limit %d)", len(data), n, limit)
		}
		if r.Len() > len(data) {
			t.Fatalf("Len %d > input %d", r.Len(), len(data))
		}
		if r.Err() != nil {
			if r.Len() != 0 {
				t.Fatal("a failed reader still has bytes")
			}
			if r.Byte() != 0 || r.String() != "" || r.Bytes() != nil || !r.Time().IsZero() {
				t.Fatal("a failed reader returned a value")
			}
		}
	})
}

// FuzzRoundTrip: what the Append functions write, the Reader reads back
// exactly, with nothing left over.
func FuzzRoundTrip(f *testing.F) {
	f.Add("alice", []byte{1, 2}, int64(1795521600000000000), int64(-3), uint64(1<<40), 2.5)
	f.Add("", []byte{}, int64(0), int64(0), uint64(0), 0.0)
	f.Fuzz(func(t *testing.T, s string, p []byte, ns, v int64, u uint64, fl float64) {
		var b []byte
		b = AppendString(b, s)
		b = AppendBytes(b, p)
		b = AppendTime(b, time.Unix(0, ns))
		b = AppendVarint(b, v)
		b = AppendUvarint(b, u)
		b = AppendFloat64(b, fl)
		r := NewReader(b)
		gs, gp, gt, gv, gu, gf := r.String(), r.Bytes(), r.Time(), r.Varint(), r.Uvarint(), r.Float64()
		if r.Err() != nil || r.Len() != 0 {
			t.Fatalf("err %v, %d bytes left", r.Err(), r.Len())
		}
		if gs != s || string(gp) != string(p) || gv != v || gu != u || (gf != fl && fl == fl) {
			t.Fatal("round trip changed a value")
		}
		if ns == 0 && !gt.IsZero() || ns != 0 && gt.UnixNano() != ns {
			t.Fatalf("time %d came back as %v", ns, gt)
		}
	})
}
