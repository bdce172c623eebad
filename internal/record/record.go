// Package record encodes a securesession.Record as one blob, for the
// backends that keep a session as a single opaque value (the cookie
// backend seals it; the memcache backend stores it). Handle, Reissue and
// Opaque are not encoded: they belong to the backend.
//
// Binding is the last field and is written only when it is non-empty, so
// an encoding made before the field existed decodes unchanged (with a nil
// Binding) and an unbound record encodes exactly as it always did: no
// version bump was needed.
package record

import (
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/wire"
)

// Append appends the encoding of rec to b.
func Append(b []byte, rec *securesession.Record) []byte {
	b = wire.AppendString(b, rec.UserID)
	b = wire.AppendTime(b, rec.AuthTime)
	b = wire.AppendTime(b, rec.Created)
	b = wire.AppendTime(b, rec.LastSeen)
	b = wire.AppendTime(b, rec.Deadline)
	b = wire.AppendTime(b, rec.Expires)
	b = wire.AppendString(b, rec.UserAgent)
	b = wire.AppendString(b, rec.IP)
	b = wire.AppendBytes(b, rec.Values)
	if len(rec.Binding) > 0 {
		b = wire.AppendBytes(b, rec.Binding)
	}
	return b
}

// Read decodes a record written by Append from r into rec. The record
// must be the last thing in r: an optional Binding is whatever follows the
// values. Check r.Err() afterwards.
func Read(r *wire.Reader, rec *securesession.Record) {
	var f Fields
	ReadFields(r, &f)
	rec.UserID = string(f.UserID)
	rec.AuthTime, rec.Created, rec.LastSeen, rec.Deadline, rec.Expires = f.AuthTime, f.Created, f.LastSeen, f.Deadline, f.Expires
	rec.UserAgent = string(f.UserAgent)
	rec.IP = string(f.IP)
	rec.Values, rec.Binding = nil, nil
	if len(f.Values) > 0 {
		rec.Values = append(make([]byte, 0, len(f.Values)), f.Values...)
	}
	if len(f.Binding) > 0 {
		rec.Binding = append(make([]byte, 0, len(f.Binding)), f.Binding...)
	}
}

// Fields is a record as ReadFields decodes it: the times, and the strings
// and byte fields as slices of the input, not copied, so that a caller can
// copy them all into one allocation. A field that is empty is nil or
// empty.
type Fields struct {
	UserID, UserAgent, IP, Values, Binding         []byte
	AuthTime, Created, LastSeen, Deadline, Expires time.Time
}

// ReadFields decodes a record written by Append from r into f, without
// copying: f's slices alias r's input and are valid only as long as it
// is. It accepts exactly the encodings Read accepts. Check r.Err()
// afterwards.
func ReadFields(r *wire.Reader, f *Fields) {
	f.UserID = r.Next(r.Count(1))
	f.AuthTime = r.Time()
	f.Created = r.Time()
	f.LastSeen = r.Time()
	f.Deadline = r.Time()
	f.Expires = r.Time()
	f.UserAgent = r.Next(r.Count(1))
	f.IP = r.Next(r.Count(1))
	f.Values = r.Next(r.Count(1))
	f.Binding = nil
	if r.Len() > 0 {
		// An empty Binding is never written, so one here is malformed:
		// each record has exactly one encoding.
		if f.Binding = r.Next(r.Count(1)); len(f.Binding) == 0 && r.Err() == nil {
			r.Fail(wire.ErrMalformed)
		}
	}
}
