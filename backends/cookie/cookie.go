// Package cookie is the cookie-only securesession backend: the whole
// session is sealed into the cookie with an AEAD and no server keeps any
// state.
//
// # Format
//
// A cookie value is unpadded base64url of
//
//	version (1 byte, 2) || key ID (4 bytes) || nonce (24 bytes) || ciphertext+tag
//
// sealed with XChaCha20-Poly1305 (golang.org/x/crypto/chacha20poly1305,
// random 192-bit nonces, so no practical limit on messages per key). The
// associated data binds the format label, version, key ID and cookie name,
// so a value moved to another cookie name, or re-labelled with another key
// ID, fails to open. The plaintext holds the session's random 128-bit
// handle, the time the store issued the handle, the token's generation (a
// varint counting the session's rotations), and the record: user, auth,
// created, last-seen and absolute-deadline times and the values. The
// client cannot read or extend any of it. A value is checked to be only
// base64url characters before it is decoded (Go's decoder skips CR and
// LF), so one cookie has exactly one spelling; anything else is an error
// wrapping securesession.ErrInvalidToken, from every method.
//
// # Handles
//
// Record.Handle names one user's session on one device, not one cookie:
// Rotate keeps it and bumps the generation, and only a change of user (a
// Login on an anonymous session, or as someone else) starts a session
// with a new handle. Revoking a handle therefore ends the session
// whatever its rotations, while a rotation refuses the cookies it
// superseded (the generations below the new one).
//
// # Keys
//
// Options.Keys holds one or more keys of exactly 32 random bytes. The
// first seals; all of them open. Each key's AEAD key and its 4-byte key ID are
// derived with HKDF-SHA256, so a cookie names the key that sealed it and is
// opened with that key alone (an unknown key ID is rejected without trying
// every key). A cookie opened with an older key is re-sealed under the
// first key in the same request. To rotate: put a new key first, keep the
// old one second for at least the absolute timeout, then drop it.
//
// # Revocation and the replay window
//
// A cookie-only session cannot be ended by the server on its own: Logout
// expires the cookie in the browser, but a copy taken before logout (by
// malware, a shared computer, a proxy log) stays valid until its idle or
// absolute timeout, whichever comes first (30 minutes and 12 hours by
// default). Delete and RevokeUser therefore return
// securesession.ErrCannotRevoke unless Options.Revocation is set: then Logout ends the session's handle, Rotate refuses the
// superseded cookies, and LogoutEverywhere and LogoutOthers refuse every
// session the user began until then (but the one kept, through its
// rotations), so replayed cookies are anonymous.
//
// Every revocation is kept until the sessions it refuses are past their
// absolute deadline, which the sealed record carries: a session entry
// until that session's deadline, a user entry for the longest session
// lifetime (issue to deadline) the store has sealed or opened
// (securesession.DefaultAbsoluteTimeout before it has seen one), and
// longer if it refuses a session whose deadline is later. Nothing needs
// to be configured to match the middleware's timeouts.
//
// # Revocation across a fleet
//
// NewMemoryRevocation serves a single process: behind a load balancer, a
// copy of a cookie logged out on one instance still opens on the others.
// NewSharedRevocation shares the revocations of every instance through a
// RevocationStore (memcache.NewRevocationStore, gorm.NewRevocationStore)
// without a round trip per request: each instance holds the entries of
// the sessions it has seen and follows the store's change log in the
// background. The instance that revokes refuses the copy at once, every
// other within SharedRevocationOptions.MaxStaleness (2 seconds by
// default), and an instance that has not seen the session looks it up and
// refuses it at once. When the store cannot be reached for longer than
// that bound, requests fail with a 503 rather than a silent logout or an
// answer from state older than the bound (OWASP ASVS 5.0 7.4.1). The
// store holds salted hashes, never a handle or a user ID.
//
// # Size
//
// Browsers drop cookies whose name and value exceed 4096 bytes. Save
// returns an error wrapping securesession.ErrTooLarge rather than write
// one, and an incoming cookie over that size is rejected before decoding.
// Roughly 2,900 bytes of encoded values fit; keep large data server-side.
package cookie

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/keys"
	"github.com/gin-securesession/securesession/internal/record"
	"github.com/gin-securesession/securesession/internal/wire"
)

const (
	version   = 2
	kidLen    = 4
	handleLen = 16
	headerLen = 1 + kidLen + chacha20poly1305.NonceSizeX
	minSealed = headerLen + chacha20poly1305.Overhead + handleLen
	adLabel   = "securesession/cookie/v1"
)

// Store is the cookie-only backend. It implements securesession.Backend and
// gin-contrib's sessions.Store. It is safe for concurrent use, and nothing
// about it can be changed once NewStore returns it.
type Store struct {
	keys    []sealKey // keys[0] seals
	revoker Revocation
	cache   *openCache // nil when disabled
	now     func() time.Time
	longest atomic.Int64 // the longest session lifetime sealed or opened, in ns
}

type sealKey struct {
	id   [kidLen]byte
	aead cipher.AEAD
}

var (
	_ securesession.Backend      = (*Store)(nil)
	_ interface{ Close() error } = (*Store)(nil)
)

// Options configures NewStore. The zero value is not usable only because
// Keys is required; every other field documents its default. Options is
// read once by NewStore: a Store's configuration never changes while it
// serves.
type Options struct {
	// Keys are the secrets that seal and open cookies: Keys[0] seals, and
	// every key opens (a cookie sealed under another is re-sealed under
	// Keys[0] in the same request). Each must be exactly 32 bytes from a
	// CSPRNG (openssl rand -base64 32), and no two may be equal. Required:
	// there is no default. To rotate, put a new key first and keep the old
	// one second for at least the absolute timeout (see the package doc).
	Keys [][]byte

	// Revocation makes Logout, LogoutEverywhere, LogoutOthers and Rotate
	// effective on the server: revoked sessions and superseded cookies are
	// refused even if replayed. Default nil: no revocation, so Delete and
	// RevokeUser return securesession.ErrCannotRevoke and a copied cookie
	// stays valid until it times out (the replay window, see the package
	// doc). A *MemoryRevocation serves one process; a fleet behind a load
	// balancer needs a *SharedRevocation, so that a logout on one
	// instance refuses the cookie on all of them (see the package doc). A
	// *MemoryRevocation takes Now as its clock unless its own SetClock was
	// called, and a *SharedRevocation unless its options set Now.
	Revocation Revocation

	// CacheSize is how many recently opened or sealed cookies the store
	// remembers, so that the requests of a session between two writes
	// skip decryption. Only cookies the store sealed or authenticated are
	// remembered, each as exactly what opening it yields, revocation is
	// still checked on every request, and memory is bounded by CacheSize
	// times the cookie size (at most 4 KiB each). Default DefaultCacheSize
	// (when zero); a negative value disables the cache.
	CacheSize int

	// Now is the store's clock, which stamps the issue time used by
	// revocation, as Options.Now of the middleware and of the other
	// backends is theirs; give both the same clock. Default time.Now. It is
	// called concurrently and must be safe for that.
	Now func() time.Time
}

const errPrefix = "securesession/cookie: "

// NewStore returns a cookie store configured by opts (see Options). An
// error names the field at fault.
func NewStore(opts Options) (*Store, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New(errPrefix + "Options.Keys: at least one 32-byte key is required")
	}
	s := &Store{now: opts.Now, revoker: opts.Revocation}
	if s.now == nil {
		s.now = time.Now
	}
	for i, k := range opts.Keys {
		field := fmt.Sprintf("Options.Keys[%d]", i)
		if err := keys.Check(field, k); err != nil {
			return nil, errors.New(errPrefix + err.Error())
		}
		aead, err := chacha20poly1305.NewX(keys.Derive(k, "securesession/v1 cookie aead"))
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", errPrefix, field, err)
		}
		var sk sealKey
		copy(sk.id[:], keys.Derive(k, "securesession/v1 cookie key-id"))
		sk.aead = aead
		for j, prev := range s.keys {
			if prev.id == sk.id {
				return nil, fmt.Errorf("%s%s repeats Options.Keys[%d]", errPrefix, field, j)
			}
		}
		s.keys = append(s.keys, sk)
	}
	switch {
	case opts.CacheSize == 0:
		s.cache = newOpenCache(DefaultCacheSize)
	case opts.CacheSize > 0:
		s.cache = newOpenCache(opts.CacheSize)
	}
	if c, ok := s.revoker.(interface{ adoptClock(func() time.Time) }); ok {
		c.adoptClock(s.now)
	}
	return s, nil
}

// Close releases nothing: the Store starts no goroutine and holds no
// connection (a Revocation it was given is the application's to close).
// It exists so that every backend has the same lifecycle.
func (s *Store) Close() error { return nil }

// state is what Find leaves in Record.Opaque: the identity of the token
// inside the sealed cookie.
type state struct {
	handle [handleLen]byte
	hex    string    // handle in hex: Record.Handle
	issued time.Time // when the session (its handle) began, on the store's clock
	gen    uint64    // rotations since then
}

func (st *state) token(rec *securesession.Record) Token {
	return Token{Handle: st.hex, Gen: st.gen, UserID: rec.UserID, Issued: st.issued, Deadline: rec.Deadline}
}

// b64 is strict: a non-canonical encoding (stray bits in the last
// character) is rejected. Strict mode still skips '\r' and '\n', so open
// rejects those first; together they give one cookie exactly one
// spelling.
var b64 = base64.RawURLEncoding.Strict()

// revocationErr reports that the Revocation could not answer: an outage,
// never an anonymous session.
func revocationErr(op string, err error) error {
	return fmt.Errorf("securesession/cookie: %s: revocation store: %w", op, err)
}

// invalid rejects a token as untrusted input: an *InvalidTokenError with
// its reason (for the middleware's event), wrapped with detail.
func invalid(reason securesession.RejectReason, detail string) error {
	return fmt.Errorf("securesession/cookie: %s: %w", detail, securesession.InvalidToken(reason))
}

// open authenticates and decodes tok into a cache entry (not yet in the
// cache). With keep, the entry's key is a copy of tok. Any byte outside
// the base64url alphabet is rejected before the payload is used: the
// strict decoder refuses every other byte but CR and LF, which it would
// skip, so those are refused first. It never panics and allocates at most
// a small constant times len(tok).
func (s *Store) open(name, tok string, keep bool) (*cached, error) {
	if len(name)+1+len(tok) > securesession.MaxCookieSize {
		return nil, invalid(securesession.RejectOversized, "oversized cookie")
	}
	if len(tok) < b64.EncodedLen(minSealed) {
		return nil, invalid(securesession.RejectMalformed, "truncated cookie")
	}
	if strings.IndexByte(tok, '\r') >= 0 || strings.IndexByte(tok, '\n') >= 0 {
		return nil, invalid(securesession.RejectMalformed, "malformed cookie")
	}
	// A pooled buffer holds the copy of tok that the decoder reads, the
	// decoded bytes, which the AEAD opens in place, and the associated
	// data (a stack array would escape through the cipher.AEAD
	// interface). Nothing in it outlives this call: the entry copies what
	// it keeps.
	dec := b64.DecodedLen(len(tok))
	bp := getBuf(len(tok) + dec + adLen(name))
	defer putBuf(bp)
	buf := *bp
	src := buf[:copy(buf, tok)]
	raw := buf[len(tok) : len(tok)+dec]
	n, err := b64.Decode(raw, src)
	if err != nil || n < minSealed {
		return nil, invalid(securesession.RejectMalformed, "malformed cookie")
	}
	raw = raw[:n]
	if raw[0] != version {
		return nil, invalid(securesession.RejectUnknownVersion, "unknown cookie version")
	}
	ki := -1
	for i := range s.keys {
		if string(s.keys[i].id[:]) == string(raw[1:1+kidLen]) {
			ki = i
			break
		}
	}
	if ki < 0 {
		return nil, invalid(securesession.RejectUnknownKey, "unknown key ID")
	}
	ad := appendAD(buf[len(tok)+dec:len(tok)+dec], raw[1:1+kidLen], name)
	plain, err := s.keys[ki].aead.Open(raw[headerLen:headerLen], raw[1+kidLen:headerLen], raw[headerLen:], ad)
	if err != nil {
		return nil, invalid(securesession.RejectTampered, "tampered cookie")
	}
	e := &cached{name: name, ki: ki}
	st, rec := &e.st, &e.rec
	r := wire.NewReader(plain)
	copy(st.handle[:], r.Next(handleLen))
	st.issued = r.Time()
	st.gen = r.Uvarint()
	var f record.Fields
	record.ReadFields(r, &f)
	if r.Err() != nil || r.Len() != 0 {
		return nil, invalid(securesession.RejectMalformed, "malformed payload")
	}
	// The strings share one allocation (the key, the handle in hex, the
	// user ID and the client info), and Values and Binding another.
	var b strings.Builder
	if !keep {
		tok = ""
	}
	b.Grow(len(tok) + 2*handleLen + len(f.UserID) + len(f.UserAgent) + len(f.IP))
	b.WriteString(tok)
	var hx [2 * handleLen]byte
	hex.Encode(hx[:], st.handle[:])
	b.Write(hx[:])
	b.Write(f.UserID)
	b.Write(f.UserAgent)
	b.Write(f.IP)
	all := b.String()
	i := 0
	next := func(n int) string { i += n; return all[i-n : i] }
	e.tok = next(len(tok))
	st.hex = next(len(hx))
	rec.UserID = next(len(f.UserID))
	rec.UserAgent = next(len(f.UserAgent))
	rec.IP = next(len(f.IP))
	rec.AuthTime, rec.Created, rec.LastSeen, rec.Deadline, rec.Expires = f.AuthTime, f.Created, f.LastSeen, f.Deadline, f.Expires
	rec.Values, rec.Binding = copyPair(f.Values, f.Binding)
	rec.Handle = st.hex
	s.observe(st, rec)
	return e, nil
}

// copyPair copies v and b into one allocation, each nil when empty and
// capped so that appending to one never writes over the other.
func copyPair(v, b []byte) ([]byte, []byte) {
	if len(v)+len(b) == 0 {
		return nil, nil
	}
	both := make([]byte, len(v)+len(b))
	copy(both, v)
	copy(both[len(v):], b)
	var cv, cb []byte
	if len(v) > 0 {
		cv = both[:len(v):len(v)]
	}
	if len(b) > 0 {
		cb = both[len(v):]
	}
	return cv, cb
}

// observe records the lifetime of a session the store sealed or opened:
// a revocation of a user must be kept at least that long (see retention).
func (s *Store) observe(st *state, rec *securesession.Record) {
	d := int64(rec.Deadline.Sub(st.issued))
	for {
		cur := s.longest.Load()
		if d <= cur || s.longest.CompareAndSwap(cur, d) {
			return
		}
	}
}

// retention is how long a revocation of a user must be kept: the longest
// lifetime, from issue to absolute deadline, of any session the store has
// sealed or opened, or securesession.DefaultAbsoluteTimeout before it has
// seen one.
func (s *Store) retention() time.Duration {
	if d := s.longest.Load(); d > 0 {
		return time.Duration(d)
	}
	return securesession.DefaultAbsoluteTimeout
}

// bufPool holds the scratch buffers of open and seal, which never
// outlive the call. Only buffers of up to maxPooled bytes are kept: a
// cookie, its decoding and its associated data fit, while the buffer of
// a session too large for a cookie is left to the garbage collector.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 3 * securesession.MaxCookieSize

// getBuf returns a buffer of length n, from the pool when it is small
// enough, to be given back with putBuf once nothing refers to it.
func getBuf(n int) *[]byte {
	if n > maxPooled {
		b := make([]byte, n)
		return &b
	}
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, n, max(n, 512))
	}
	*bp = (*bp)[:n]
	return bp
}

func putBuf(bp *[]byte) {
	if cap(*bp) <= maxPooled {
		bufPool.Put(bp)
	}
}

func adLen(name string) int { return len(adLabel) + 2 + kidLen + len(name) }

func appendAD(b, kid []byte, name string) []byte {
	b = append(b, adLabel...)
	b = append(b, 0, version)
	b = append(b, kid...)
	return append(b, name...)
}

// seal returns the cookie value for rec as the token st. With fresh, st
// is the first token of a new session: its handle is drawn here, in the
// same read from crypto/rand as the nonce, and its hex shares the
// cookie's allocation. The record is encoded straight into a pooled
// buffer that the AEAD seals in place and that also holds the base64
// encoding, so the cookie costs one allocation: the string.
func (s *Store) seal(name string, st *state, rec *securesession.Record, fresh bool) (string, error) {
	k := &s.keys[0]
	// buf is [ header | plaintext, sealed in place | base64 | AD ]. The
	// associated data goes in it too: a stack array would escape through
	// the cipher.AEAD interface anyway.
	rawCap := headerLen + plainSize(rec) + chacha20poly1305.Overhead
	encCap := b64.EncodedLen(rawCap)
	bp := getBuf(rawCap + encCap + adLen(name))
	defer putBuf(bp)
	buf := *bp
	ad := appendAD(buf[rawCap+encCap:rawCap+encCap], k.id[:], name)
	buf[0] = version
	copy(buf[1:], k.id[:])
	var plain []byte
	if fresh {
		// The nonce and the handle are adjacent: one read fills both.
		rand.Read(buf[1+kidLen : headerLen+handleLen])
		copy(st.handle[:], buf[headerLen:])
		plain = buf[headerLen : headerLen+handleLen : rawCap-chacha20poly1305.Overhead]
	} else {
		rand.Read(buf[1+kidLen : headerLen])
		plain = append(buf[headerLen:headerLen:rawCap-chacha20poly1305.Overhead], st.handle[:]...)
	}
	plain = wire.AppendTime(plain, st.issued)
	plain = wire.AppendUvarint(plain, st.gen)
	plain = record.Append(plain, rec)
	if size := len(name) + 1 + b64.EncodedLen(headerLen+len(plain)+chacha20poly1305.Overhead); size > securesession.MaxCookieSize {
		return "", fmt.Errorf("securesession/cookie: cookie %q would be %d bytes, over the %d-byte limit browsers enforce: %w",
			name, size, securesession.MaxCookieSize, securesession.ErrTooLarge)
	}
	sealed := k.aead.Seal(buf[headerLen:headerLen:rawCap], buf[1+kidLen:headerLen], plain, ad)
	// Seal worked in place unless plainSize fell short (it is a bound, so
	// it never does); either way the cookie is the header followed by the
	// sealed payload.
	raw := append(buf[:headerLen:rawCap], sealed...)
	enc := buf[rawCap : rawCap : rawCap+encCap]
	enc = b64.AppendEncode(enc, raw)
	var tok string
	if fresh {
		var hx [2 * handleLen]byte
		hex.Encode(hx[:], st.handle[:])
		var b strings.Builder
		b.Grow(len(enc) + len(hx))
		b.Write(enc)
		b.Write(hx[:])
		both := b.String()
		tok, st.hex = both[:len(enc)], both[len(enc):]
	} else {
		tok = string(enc)
	}
	rec.Handle = st.hex
	s.observe(st, rec)
	return tok, nil
}

// plainSize bounds the plaintext seal writes for rec: the handle, three
// varints and the record (each length and time a varint of at most 10
// bytes).
func plainSize(rec *securesession.Record) int {
	return handleLen + 2*10 + 11*10 + len(rec.UserID) + len(rec.UserAgent) + len(rec.IP) + len(rec.Values) + len(rec.Binding)
}

// remember caches tok, just sealed from rec as st, as exactly what
// opening it would yield: the times as the wire keeps them, Values and
// Binding copied (nil when empty), Handle set, and neither Reissue nor
// Opaque, which Find sets on every request. Caching the token the response
// sets, rather than the one the request carried, is what lets the read
// after a write skip the AEAD; revocation is still checked on every Find.
//
// It returns the token's state as the cache keeps it (a copy of st when the
// cache is disabled), for Record.Opaque.
func (s *Store) remember(name, tok string, st *state, rec *securesession.Record) *state {
	if s.cache == nil {
		c := *st
		return &c
	}
	e := &cached{name: name, rec: *rec, st: *st}
	r := &e.rec
	r.Handle = st.hex
	r.AuthTime = wireTime(r.AuthTime)
	r.Created = wireTime(r.Created)
	r.LastSeen = wireTime(r.LastSeen)
	r.Deadline = wireTime(r.Deadline)
	r.Expires = wireTime(r.Expires)
	r.Values, r.Binding = copyPair(rec.Values, rec.Binding)
	r.Reissue, r.Opaque = false, nil
	s.cache.put(tok, e)
	return &e.st
}

// wireTime is t as wire.AppendTime and wire.Reader.Time round-trip it:
// nanoseconds in UTC without a monotonic reading, and the zero time for
// the zero time or the Unix epoch.
func wireTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	ns := t.UnixNano()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// newState returns the first token of a new session, to be sealed with
// fresh set, which draws its handle. The issue time is kept as the wire
// keeps it, so that the state a write leaves (and caches) is the one
// opening its cookie gives.
func newState(now time.Time) state {
	return state{issued: wireTime(now)}
}

// stateFor returns the identity of the token, from the Opaque that Find
// left or by opening token again.
func (s *Store) stateFor(name, token string, rec *securesession.Record) (*state, error) {
	if st, ok := rec.Opaque.(*state); ok {
		return st, nil
	}
	e, err := s.openKnown(name, token)
	if err != nil {
		return nil, err
	}
	return &e.st, nil
}

// Find opens the cookie. A malformed, truncated, oversized or tampered
// value, an unknown version or key ID all give an error wrapping
// securesession.ErrInvalidToken. A revoked session, or a token that a
// rotation superseded (with a Revocation configured), is not found. A
// cookie sealed under an older key is returned with Reissue set.
func (s *Store) Find(ctx context.Context, name, token string) (securesession.Record, bool, error) {
	var (
		rec securesession.Record
		st  *state
		ki  int
	)
	e := s.cachedOpen(name, token)
	if e == nil {
		var err error
		if e, err = s.open(name, token, s.cache != nil); err != nil {
			return securesession.Record{}, false, err
		}
		if s.cache != nil {
			s.cache.put(e.tok, e)
		}
	}
	rec, st, ki = e.rec, &e.st, e.ki
	if s.revoker != nil {
		revoked, err := s.revoker.Revoked(ctx, st.token(&rec))
		if err != nil {
			return securesession.Record{}, false, revocationErr("find", err)
		}
		if revoked {
			return securesession.Record{}, false, nil
		}
	}
	rec.Reissue = ki > 0
	rec.Opaque = st
	return rec, true, nil
}

// openKnown is open, answered from the cache when token is there (an
// entry is exactly what opening would yield). It does not add to the
// cache: only Find, for a request's cookie, and the writes, for the
// cookie they set, do.
func (s *Store) openKnown(name, token string) (*cached, error) {
	if e := s.cachedOpen(name, token); e != nil {
		return e, nil
	}
	return s.open(name, token, false)
}

func (s *Store) cachedOpen(name, token string) *cached {
	if s.cache == nil || len(token) < b64.EncodedLen(minSealed) {
		return nil
	}
	return s.cache.get(name, token)
}

// issueTime is the issue time of a session begun or logged in again now:
// the Store's clock, or with a SharedRevocation the store's salt's since
// if that is later (an instance whose clock lags the one that created the
// salt would otherwise issue sessions that are refused as older than it).
// A SharedRevocation that has never synced syncs first, so that the salt
// exists and its since is known; a store that cannot be reached then is
// an error.
func (s *Store) issueTime(ctx context.Context) (time.Time, error) {
	now := s.now()
	r, ok := s.revoker.(*SharedRevocation)
	if !ok {
		return now, nil
	}
	if err := r.beforeIssue(ctx); err != nil {
		return time.Time{}, err
	}
	return r.notBeforeSalt(now), nil
}

// Create seals rec as the first token of a new session, under a new
// random handle. With a SharedRevocation that has never synced, it syncs
// first (see SharedRevocation, Resets), and a store that cannot be
// reached fails it with an error.
func (s *Store) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	issued, err := s.issueTime(ctx)
	if err != nil {
		return "", revocationErr("create", err)
	}
	st := newState(issued)
	tok, err := s.seal(name, &st, rec, true)
	if err == nil {
		rec.Opaque = s.remember(name, tok, &st, rec)
	}
	return tok, err
}

// Update re-seals rec as the same token (same handle and generation).
// With a Revocation configured it returns securesession.ErrNoRecord for a
// revoked session.
func (s *Store) Update(ctx context.Context, name, token string, rec *securesession.Record) (string, error) {
	st, err := s.stateFor(name, token, rec)
	if err != nil {
		return "", err
	}
	if s.revoker != nil {
		revoked, err := s.revoker.Revoked(ctx, st.token(rec))
		if err != nil {
			return "", revocationErr("update", err)
		}
		if revoked {
			return "", fmt.Errorf("securesession/cookie: %w", securesession.ErrNoRecord)
		}
	}
	tok, err := s.seal(name, st, rec, false)
	if err == nil {
		s.remember(name, tok, st, rec)
	}
	return tok, err
}

// Touch re-seals rec with its new last-seen time; for a cookie there is no
// cheaper way.
func (s *Store) Touch(ctx context.Context, name, token string, rec *securesession.Record) (string, error) {
	return s.Update(ctx, name, token, rec)
}

// Rotate seals rec as a new token. A rotation of the same user keeps the
// session's handle, so Record.Handle is stable and a LogoutOthers that
// kept the session still keeps it, and bumps the generation. A rotation
// that is not a new authentication (same auth time) also keeps the issue
// time, so a revocation of the user that races it still covers the new
// cookie; a re-login of the same user takes a new issue time. A change of
// user (a Login on an anonymous session, or as someone else) starts a new
// session with a new handle.
//
// With a Revocation configured Rotate first checks that the old token was
// not revoked (securesession.ErrNoRecord if it was) and then revokes it:
// the generations below the new one when the handle is kept, the whole
// old session when it is not. The pre-rotation cookie is then refused
// while the rotated session goes on. Of two Rotates of one token at once
// (two requests with one cookie), the one whose revocation comes second
// gets securesession.ErrNoRecord (see ErrSuperseded), as on a server-side
// backend. Without a Revocation the old cookie
// stays valid until its timeouts (the replay window).
func (s *Store) Rotate(ctx context.Context, name, oldToken string, rec *securesession.Record) (string, error) {
	oe, err := s.openKnown(name, oldToken)
	if err != nil {
		return "", err
	}
	old, ost := &oe.rec, &oe.st
	issued, err := s.issueTime(ctx)
	if err != nil {
		return "", revocationErr("rotate", err)
	}
	var st state
	below := uint64(AllTokens)
	fresh := rec.UserID != old.UserID || ost.gen >= AllTokens-1
	if !fresh {
		st = state{handle: ost.handle, hex: ost.hex, issued: ost.issued, gen: ost.gen + 1}
		if !rec.AuthTime.Equal(old.AuthTime) {
			st.issued = wireTime(issued)
		}
		below = st.gen
	} else {
		st = newState(issued)
	}
	if s.revoker != nil {
		revoked, err := s.revoker.Revoked(ctx, ost.token(old))
		if err != nil {
			return "", revocationErr("rotate", err)
		}
		if revoked {
			return "", fmt.Errorf("securesession/cookie: rotate: %w", securesession.ErrNoRecord)
		}
		if err := s.revoker.RevokeSession(ctx, old.Handle, below, old.Deadline); err != nil {
			if errors.Is(err, ErrSuperseded) {
				// Another request rotated (or logged out) this token first.
				return "", fmt.Errorf("securesession/cookie: rotate: %w: %w", securesession.ErrNoRecord, err)
			}
			return "", revocationErr("rotate", err)
		}
	}
	tok, err := s.seal(name, &st, rec, fresh)
	if err == nil {
		rec.Opaque = s.remember(name, tok, &st, rec)
	}
	return tok, err
}

// Delete ends the session token belongs to, whatever its rotations,
// through the configured Revocation. Without one it returns an error
// wrapping securesession.ErrCannotRevoke.
func (s *Store) Delete(ctx context.Context, name, token string) error {
	if s.revoker == nil {
		return fmt.Errorf("securesession/cookie: cookie-only sessions stay valid until they expire; configure Options.Revocation: %w", securesession.ErrCannotRevoke)
	}
	e, err := s.openKnown(name, token)
	if err != nil {
		if errors.Is(err, securesession.ErrInvalidToken) {
			return nil // nothing we issued: nothing to revoke
		}
		return err
	}
	if err := s.revoker.RevokeSession(ctx, e.rec.Handle, AllTokens, e.rec.Deadline); err != nil {
		return revocationErr("delete", err)
	}
	return nil
}

// RevokeUser revokes every session of userID begun until now except the
// one keep names, whatever its rotations, through the configured
// Revocation. A keep that is malformed, does not open, or names a session
// already revoked keeps nothing. The revocation is kept for the longest
// session lifetime the store has sealed or opened (at least
// securesession.DefaultAbsoluteTimeout before it has seen any), and
// longer for any session it refuses whose deadline is later. Without a
// Revocation it returns an error wrapping securesession.ErrCannotRevoke.
func (s *Store) RevokeUser(ctx context.Context, userID string, keep securesession.Ref) error {
	if s.revoker == nil {
		return fmt.Errorf("securesession/cookie: cannot revoke the sessions of a user without Options.Revocation: %w", securesession.ErrCannotRevoke)
	}
	keepHandle := ""
	if keep.Token != "" {
		if e, err := s.openKnown(keep.Name, keep.Token); err == nil && e.rec.UserID == userID {
			revoked, err := s.revoker.Revoked(ctx, e.st.token(&e.rec))
			if err != nil {
				return revocationErr("revoke user", err)
			}
			if !revoked {
				keepHandle = e.rec.Handle
			}
		}
	}
	// The sessions issued so far, on a lagging clock included (issueTime).
	now, err := s.issueTime(ctx)
	if err != nil {
		return revocationErr("revoke user", err)
	}
	if err := s.revoker.RevokeUser(ctx, userID, now, keepHandle, now.Add(s.retention())); err != nil {
		return revocationErr("revoke user", err)
	}
	return nil
}
