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
	rec.UserID = r.String()
	rec.AuthTime = r.Time()
	rec.Created = r.Time()
	rec.LastSeen = r.Time()
	rec.Deadline = r.Time()
	rec.Expires = r.Time()
	rec.UserAgent = r.String()
	rec.IP = r.String()
	if v := r.Bytes(); len(v) > 0 {
		rec.Values = v
	} else {
		rec.Values = nil
	}
	rec.Binding = nil
	if r.Len() > 0 {
		// An empty Binding is never written, so one here is malformed:
		// each record has exactly one encoding.
		if rec.Binding = r.Bytes(); len(rec.Binding) == 0 && r.Err() == nil {
			r.Fail(wire.ErrMalformed)
		}
	}
}
