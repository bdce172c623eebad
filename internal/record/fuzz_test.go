package record

import (
	"github.com/gin-securesession/securesession/internal/fuzzalloc"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/wire"
)

func sameRecord(a, b *securesession.Record) bool {
	return a.UserID == b.UserID && a.AuthTime.Equal(b.AuthTime) && a.Created.Equal(b.Created) &&
		a.LastSeen.Equal(b.LastSeen) && a.Deadline.Equal(b.Deadline) && a.Expires.Equal(b.Expires) &&
		a.UserAgent == b.UserAgent && a.IP == b.IP && string(a.Values) == string(b.Values) &&
		string(a.Binding) == string(b.Binding)
}

// FuzzRead: no input panics or allocates more than a small multiple of its
// size, and whatever decodes re-encodes to a record that decodes the same.
func FuzzRead(f *testing.F) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	rec := securesession.Record{
		UserID: "alice", AuthTime: now, Created: now, LastSeen: now,
		Deadline: now.Add(12 * time.Hour), Expires: now.Add(30 * time.Minute),
		UserAgent: "Mozilla/5.0", IP: "192.0.2.1", Values: []byte{1, 2, 3},
	}
	f.Add(Append(nil, &rec))
	bound := rec
	bound.Binding = []byte{1, 2, 3, 4}
	f.Add(Append(nil, &bound))
	f.Add(Append(nil, &securesession.Record{}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		var got securesession.Record
		var r *wire.Reader
		n := fuzzalloc.Bytes(func() {
			r = wire.NewReader(in)
			Read(r, &got)
		})
		if limit := uint64(4*len(in)) + 4096; n > limit {
			t.Fatalf("decoding %d bytes allocated %d (limit %d)", len(in), n, limit)
		}
		// ReadFields, which the cookie backend uses, accepts exactly
		// what Read accepts and yields the same fields.
		var f Fields
		rf := wire.NewReader(in)
		ReadFields(rf, &f)
		if (rf.Err() == nil) != (r.Err() == nil) || rf.Len() != r.Len() {
			t.Fatalf("ReadFields: %v with %d left, Read: %v with %d left", rf.Err(), rf.Len(), r.Err(), r.Len())
		}
		if r.Err() == nil {
			fromFields := securesession.Record{
				UserID: string(f.UserID), AuthTime: f.AuthTime, Created: f.Created, LastSeen: f.LastSeen,
				Deadline: f.Deadline, Expires: f.Expires, UserAgent: string(f.UserAgent), IP: string(f.IP),
				Values: f.Values, Binding: f.Binding,
			}
			if !sameRecord(&got, &fromFields) {
				t.Fatalf("ReadFields and Read differ:\n%+v\n%+v", fromFields, got)
			}
		}
		if r.Err() != nil {
			return
		}
		enc := Append(nil, &got)
		var again securesession.Record
		r2 := wire.NewReader(enc)
		Read(r2, &again)
		if r2.Err() != nil || r2.Len() != 0 {
			t.Fatalf("re-encoded record does not decode: %v", r2.Err())
		}
		if !sameRecord(&got, &again) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", got, again)
		}
	})
}
