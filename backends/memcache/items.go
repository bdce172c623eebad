package memcache

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/record"
	"github.com/gin-securesession/securesession/internal/wire"
)

// The two kinds of item and what their sealed values hold.
//
// Session item, under keys(name, token).session:
//
//	version || ref[16] || gen[16] || alt[16] || handle[16] || record
//
// ref is the user reference the token carries; gen the user's generation
// the session was stamped with, alt a second accepted generation (set by
// RevokeUser for the session it keeps), both zero when anonymous; handle
// the session's random Handle, assigned at Create and carried by Rotate;
// record the internal/record encoding of the Record (times, user, client
// info, values).
//
// Generation item, under genKey(ref):
//
//	version || gen[16] || expires
//
// where expires is the expiry the item was last written with.
const (
	genLen    = 16
	handleLen = 16
	genOff    = 1 + refLen // offset of gen in a session plaintext
	sessHead  = genOff + 2*genLen + handleLen
)

type gen [genLen]byte

func (g *gen) zero() bool { return *g == gen{} }

func newGen() gen {
	var g gen
	for g.zero() {
		rand.Read(g[:])
	}
	return g
}

// handle is a session's Handle: random, so that it names the session and
// not a token, and no token can be derived from it.
type handle [handleLen]byte

func newHandle() handle {
	var h handle
	rand.Read(h[:])
	return h
}

func (h *handle) String() string { return hex.EncodeToString(h[:]) }

// parseHandle reads a handle as String writes it, and only so: lowercase
// hex of handleLen bytes. Another spelling of a handle (uppercase) is not
// one, so that a caller comparing handles as strings, as the middleware
// does to tell the current session from the others, never meets a second
// name for the same session.
func parseHandle(hs string) (h handle, ok bool) {
	if len(hs) != 2*handleLen {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(hs)); err != nil || h.String() != hs {
		return h, false
	}
	return h, true
}

// session is a decoded session item.
type session struct {
	ref    ref
	gen    gen // generation the session was stamped with (logged in only)
	alt    gen // a second accepted generation, set by RevokeUser for keep
	handle handle
	rec    securesession.Record
}

// current reports whether the session's stamp matches the user's current
// generation g.
func (v *session) current(g gen) bool {
	if g.zero() {
		return false
	}
	return (!v.gen.zero() && subtle.ConstantTimeCompare(v.gen[:], g[:]) == 1) ||
		(!v.alt.zero() && subtle.ConstantTimeCompare(v.alt[:], g[:]) == 1)
}

// plaintext encodes v. Handle, Opaque and Reissue of v.rec are not
// encoded; the gen bytes sit at genOff, so that a caller can stamp the
// encoding after measuring it.
func (v *session) plaintext() []byte {
	r := &v.rec
	b := make([]byte, 0, sessHead+64+len(r.UserID)+len(r.UserAgent)+len(r.IP)+len(r.Values))
	b = append(b, blobVersion)
	b = append(b, v.ref[:]...)
	b = append(b, v.gen[:]...)
	b = append(b, v.alt[:]...)
	b = append(b, v.handle[:]...)
	return record.Append(b, r)
}

func (s *Store) sealSession(key string, v *session) []byte {
	return seal(s.aead, v.plaintext(), key)
}

// openSession opens a session item's value in place (blob is overwritten).
func (s *Store) openSession(blob []byte, key string) (*session, error) {
	r, err := openReader(s.aead, blob, key)
	if err != nil {
		return nil, err
	}
	v := new(session)
	copy(v.ref[:], r.Next(refLen))
	copy(v.gen[:], r.Next(genLen))
	copy(v.alt[:], r.Next(genLen))
	copy(v.handle[:], r.Next(handleLen))
	record.Read(r, &v.rec)
	if r.Err() != nil || r.Len() != 0 {
		return nil, errOpen
	}
	return v, nil
}

func (s *Store) sealGen(key string, g gen, expires time.Time) []byte {
	b := make([]byte, 0, 1+genLen+10)
	b = append(b, blobVersion)
	b = append(b, g[:]...)
	b = wire.AppendTime(b, expires)
	return seal(s.aead, b, key)
}

// openGen opens a generation item's value in place (blob is overwritten).
func (s *Store) openGen(blob []byte, key string) (g gen, expires time.Time, err error) {
	r, err := openReader(s.aead, blob, key)
	if err != nil {
		return gen{}, time.Time{}, err
	}
	copy(g[:], r.Next(genLen))
	expires = r.Time()
	if r.Err() != nil || r.Len() != 0 || g.zero() {
		return gen{}, time.Time{}, errOpen
	}
	return g, expires, nil
}

// sessionExpires is when a session item lapses: rec.Expires (the idle
// timeout), capped by rec.Deadline; rec.Deadline when Expires is zero.
func sessionExpires(rec *securesession.Record) time.Time {
	e := rec.Expires
	if e.IsZero() || e.After(rec.Deadline) {
		e = rec.Deadline
	}
	return e
}
