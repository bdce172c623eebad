package record

import (
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/wire"
)

// TestBindingIsOptionalAndLast: an unbound record encodes as it did
// before Binding existed, so stored sessions keep decoding, and a bound
// one round-trips its Binding byte for byte.
func TestBindingIsOptionalAndLast(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	rec := securesession.Record{UserID: "alice", Created: now, Deadline: now.Add(time.Hour), Values: []byte{9}}
	unbound := Append(nil, &rec)
	// The encoding of the same record without the Binding field: what an
	// older version wrote.
	var old []byte
	old = wire.AppendString(old, rec.UserID)
	for _, t := range []time.Time{rec.AuthTime, rec.Created, rec.LastSeen, rec.Deadline, rec.Expires} {
		old = wire.AppendTime(old, t)
	}
	old = wire.AppendString(old, "")
	old = wire.AppendString(old, "")
	old = wire.AppendBytes(old, rec.Values)
	if string(unbound) != string(old) {
		t.Fatalf("an unbound record's encoding changed:\n%x\n%x", unbound, old)
	}

	rec.Binding = []byte("binding\x00bytes")
	var got securesession.Record
	r := wire.NewReader(Append(nil, &rec))
	Read(r, &got)
	if r.Err() != nil || r.Len() != 0 || string(got.Binding) != string(rec.Binding) {
		t.Fatalf("bound record: %v, %d left, Binding %q", r.Err(), r.Len(), got.Binding)
	}

	// An explicitly empty Binding is not an encoding Append makes.
	r = wire.NewReader(append(old, 0))
	Read(r, &got)
	if r.Err() == nil {
		t.Fatal("accepted an empty Binding field")
	}
}
