package memcache

import (
	"context"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/keys"
	"github.com/gin-securesession/securesession/internal/record"
	"github.com/gin-securesession/securesession/internal/token"
	"github.com/gin-securesession/securesession/internal/wire"
)

const errPrefix = "securesession/memcache: "

// casAttempts bounds the compare-and-swap retries of one operation.
const casAttempts = 4

// genSlack is how far past the latest session deadline a user's generation
// item is kept, so that consecutive logins need not extend it each time.
const genSlack = time.Hour

// HKDF purposes of the sub-keys derived from Options.Key.
const (
	purposeIDHash = "securesession/v1 memcache id-hash"
	purposeSeal   = "securesession/v1 memcache seal"
	purposeRef    = "securesession/v1 memcache user-ref"
	purposeMask   = "securesession/v1 memcache token-mask"
	purposeHandle = "securesession/v1 memcache handle"
)

// Store is a securesession.Backend on memcached. It is also a gin-contrib
// sessions.Store, for sessions.Sessions(name, store). It does not implement
// securesession.Lister: memcached cannot enumerate a user's sessions.
//
// A Store is safe for concurrent use. It starts no goroutines and owns no
// connections: the gomemcache client does, and closing it is the caller's
// business.
type Store struct {
	client     *gomemcache.Client
	cfg        *config
	aead       cipher.AEAD
	idHash     *token.Hasher
	handleHash *token.Hasher
	refKey     []byte
	maskKey    []byte
}

var (
	_ securesession.Backend = (*Store)(nil)
)

// NewStore returns a Store that keeps sessions on client's servers. It
// fails if client is nil or opts is invalid; it does not contact the
// servers.
func NewStore(client *gomemcache.Client, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New(errPrefix + "NewStore: client is nil")
	}
	cfg, err := opts.compile()
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(keys.Derive(opts.Key, purposeSeal))
	if err != nil {
		return nil, fmt.Errorf("%sOptions.Key: %w", errPrefix, err)
	}
	s := &Store{
		client:     client,
		cfg:        cfg,
		aead:       aead,
		idHash:     token.NewHasher(keys.Derive(opts.Key, purposeIDHash)),
		handleHash: token.NewHasher(keys.Derive(opts.Key, purposeHandle)),
		refKey:     keys.Derive(opts.Key, purposeRef),
		maskKey:    keys.Derive(opts.Key, purposeMask),
	}
	return s, nil
}

// state is what Find leaves in Record.Opaque for Update.
type state struct {
	store *Store
	key   string
	cas   uint64
	ref   ref
	gen   gen
	alt   gen
}

// session is the decoded session item.
type session struct {
	ref ref
	gen gen // generation the session was stamped with (logged in only)
	alt gen // a second accepted generation, set by RevokeUser for keep
	rec securesession.Record
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

var errMalformed = fmt.Errorf("%smalformed token: %w", errPrefix, securesession.ErrInvalidToken)

func errAuth(op, what string) error {
	return fmt.Errorf("%s%s: %s item failed authentication (tampered, or copied from another key): %w", errPrefix, op, what, securesession.ErrInvalidToken)
}

func errNoRecord(op string) error {
	return fmt.Errorf("%s%s: %w", errPrefix, op, securesession.ErrNoRecord)
}

func errBackend(op string, err error) error {
	return fmt.Errorf("%s%s: %w", errPrefix, op, err)
}

func errDeadline(op string) error {
	return fmt.Errorf("%s%s: Record.Deadline is zero; a session must have an absolute deadline", errPrefix, op)
}

func isMiss(err error) bool {
	return errors.Is(err, gomemcache.ErrCacheMiss) || errors.Is(err, gomemcache.ErrNotStored)
}

func (s *Store) sealSession(key string, v *session) []byte {
	b := make([]byte, 0, 1+refLen+2*genLen+64+len(v.rec.Values)+len(v.rec.UserID)+len(v.rec.UserAgent)+len(v.rec.IP))
	b = append(b, blobVersion)
	b = append(b, v.ref[:]...)
	b = append(b, v.gen[:]...)
	b = append(b, v.alt[:]...)
	b = record.Append(b, &v.rec)
	return s.seal(b, key)
}

func (s *Store) openSession(blob []byte, key string) (*session, error) {
	pt, err := s.open(blob, key)
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(pt)
	v := new(session)
	if r.Byte() != blobVersion {
		return nil, errOpen
	}
	copy(v.ref[:], r.Next(refLen))
	copy(v.gen[:], r.Next(genLen))
	copy(v.alt[:], r.Next(genLen))
	record.Read(r, &v.rec)
	if r.Err() != nil || r.Len() != 0 {
		return nil, errOpen
	}
	return v, nil
}

func (s *Store) sealSeen(key string, lastSeen, expires time.Time) []byte {
	b := make([]byte, 0, 24)
	b = append(b, blobVersion)
	b = wire.AppendTime(b, lastSeen)
	b = wire.AppendTime(b, expires)
	return s.seal(b, key)
}

func (s *Store) openSeen(blob []byte, key string) (lastSeen, expires time.Time, err error) {
	pt, err := s.open(blob, key)
	if err != nil {
		return
	}
	r := wire.NewReader(pt)
	if r.Byte() != blobVersion {
		return time.Time{}, time.Time{}, errOpen
	}
	lastSeen, expires = r.Time(), r.Time()
	if r.Err() != nil || r.Len() != 0 {
		return time.Time{}, time.Time{}, errOpen
	}
	return lastSeen, expires, nil
}

func (s *Store) sealGen(key string, g gen, expires time.Time) []byte {
	b := make([]byte, 0, 1+genLen+10)
	b = append(b, blobVersion)
	b = append(b, g[:]...)
	b = wire.AppendTime(b, expires)
	return s.seal(b, key)
}

func (s *Store) openGen(blob []byte, key string) (g gen, expires time.Time, err error) {
	pt, err := s.open(blob, key)
	if err != nil {
		return
	}
	r := wire.NewReader(pt)
	if r.Byte() != blobVersion {
		return gen{}, time.Time{}, errOpen
	}
	copy(g[:], r.Next(genLen))
	expires = r.Time()
	if r.Err() != nil || r.Len() != 0 || g.zero() {
		return gen{}, time.Time{}, errOpen
	}
	return g, expires, nil
}

func (s *Store) checkSize(op, key string, value []byte) error {
	if n := len(key) + len(value) + itemOverhead; n > s.cfg.maxItemSize {
		return fmt.Errorf("%s%s: session item would be %d bytes, over Options.MaxItemSize (%d): %w", errPrefix, op, n, s.cfg.maxItemSize, securesession.ErrTooLarge)
	}
	return nil
}

// Find returns the record token names under the cookie name, in one
// GetMulti of the session, activity and (for a logged-in session)
// generation items. A malformed token fails with an error wrapping
// securesession.ErrInvalidToken before any network call; so does a stored
// value that fails authentication. An unknown, deleted, expired or revoked
// session is not found; a missing generation item (revoked, or evicted)
// means revoked. Any memcached error is returned as is, wrapped. Find
// writes nothing. Safe for concurrent use.
func (s *Store) Find(ctx context.Context, name, tok string) (securesession.Record, bool, error) {
	r, ok := s.tokenRef(tok)
	if !ok {
		return securesession.Record{}, false, errMalformed
	}
	if err := ctx.Err(); err != nil {
		return securesession.Record{}, false, errBackend("find", err)
	}
	ks := s.keys(name, tok, r)
	var arr [3]string
	list := append(arr[:0], ks.session, ks.seen)
	if ks.user != "" {
		list = append(list, ks.user)
	}
	items, err := s.getMulti(list)
	if err != nil {
		return securesession.Record{}, false, errBackend("find", err)
	}
	v, found, err := s.check(ks, r, items, "find")
	if err != nil || !found {
		return securesession.Record{}, false, err
	}
	rec := v.rec
	if it := items[ks.seen]; it != nil {
		last, exp, err := s.openSeen(it.Value, ks.seen)
		if err != nil {
			return securesession.Record{}, false, errAuth("find", "activity")
		}
		if last.After(rec.LastSeen) {
			rec.LastSeen = last
		}
		if exp.After(rec.Expires) {
			rec.Expires = exp
		}
		if !rec.Deadline.IsZero() && rec.Expires.After(rec.Deadline) {
			rec.Expires = rec.Deadline
		}
	}
	rec.Handle = s.handle(name, tok)
	rec.Opaque = &state{store: s, key: ks.session, cas: items[ks.session].CasID, ref: r, gen: v.gen, alt: v.alt}
	return rec, true, nil
}

// check decodes the session item in items and checks it against the
// token's user reference and, when logged in, the user's generation.
func (s *Store) check(ks keyset, r ref, items map[string]*gomemcache.Item, op string) (*session, bool, error) {
	it := items[ks.session]
	if it == nil {
		return nil, false, nil
	}
	v, err := s.openSession(it.Value, ks.session)
	if err != nil || v.ref != r {
		return nil, false, errAuth(op, "session")
	}
	if !r.zero() {
		gi := items[ks.user]
		if gi == nil {
			return nil, false, nil // revoked, or evicted: fail closed
		}
		g, _, err := s.openGen(gi.Value, ks.user)
		if err != nil {
			return nil, false, errAuth(op, "generation")
		}
		if !v.current(g) {
			return nil, false, nil
		}
	}
	return v, true, nil
}

// Create stores rec as a new session under a fresh token and returns it.
// For a logged-in record it first makes sure the user's generation item
// exists and outlives rec.Deadline. It also writes the activity item. A
// record whose Deadline has already passed is not stored: the token finds
// nothing. Safe for concurrent use.
func (s *Store) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	return s.create(ctx, "create", name, rec, nil)
}

// create stores rec under a fresh token. stamp, when not nil, is the old
// session of a same-user rotation: the new session is stamped with the
// user's current generation only if the old stamp accepts it, so a
// rotation that races a revocation cannot outlive it.
func (s *Store) create(ctx context.Context, op, name string, rec *securesession.Record, stamp *session) (string, error) {
	if rec.Deadline.IsZero() {
		return "", errDeadline(op)
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	r := s.userRef(rec.UserID)
	tok := s.newToken(r)
	ks := s.keys(name, tok, r)
	rec.Handle = s.handle(name, tok)
	rec.Opaque = nil
	now := s.cfg.now()
	exp, ok := expiration(rec.Deadline, now)
	if !ok {
		return tok, nil
	}
	v := &session{ref: r, rec: *rec}
	v.rec.Handle, v.rec.Opaque = "", nil
	if !r.zero() {
		v.gen = gen{1} // placeholder of the right size for the size check
	}
	if err := s.checkSize(op, ks.session, s.sealSession(ks.session, v)); err != nil {
		return "", err
	}
	if !r.zero() {
		g, err := s.ensureGen(op, ks.user, rec.Deadline, now)
		if err != nil {
			return "", err
		}
		if stamp != nil && !stamp.current(g) {
			return "", errNoRecord(op) // revoked since the old session was read
		}
		v.gen = g
	}
	if err := s.add(&gomemcache.Item{Key: ks.session, Value: s.sealSession(ks.session, v), Expiration: exp}); err != nil {
		return "", errBackend(op, err)
	}
	if err := s.writeSeen(op, ks.seen, rec, now, s.set); err != nil {
		return "", err
	}
	return tok, nil
}

// seenExpires is when the activity item lapses: rec.Expires, capped by
// rec.Deadline.
func seenExpires(rec *securesession.Record) time.Time {
	e := rec.Expires
	if e.IsZero() || (!rec.Deadline.IsZero() && e.After(rec.Deadline)) {
		e = rec.Deadline
	}
	return e
}

// writeSeen writes the activity item with write (Set, Add or Replace). An
// activity item whose expiry has passed is not written.
func (s *Store) writeSeen(op, key string, rec *securesession.Record, now time.Time, write func(*gomemcache.Item) error) error {
	e := seenExpires(rec)
	exp, ok := expiration(e, now)
	if !ok {
		return nil
	}
	err := write(&gomemcache.Item{Key: key, Value: s.sealSeen(key, rec.LastSeen, e), Expiration: exp})
	if err != nil && !isMiss(err) {
		return errBackend(op, err)
	}
	return err
}

// ensureGen returns the user's current generation, creating the item if
// it is missing and extending it to deadline if it would lapse earlier.
func (s *Store) ensureGen(op, key string, deadline, now time.Time) (gen, error) {
	for range casAttempts {
		it, err := s.get(key)
		if errors.Is(err, gomemcache.ErrCacheMiss) {
			g := newGen()
			ext := deadline.Add(genSlack)
			exp, _ := expiration(ext, now)
			err := s.add(&gomemcache.Item{Key: key, Value: s.sealGen(key, g, ext), Expiration: exp})
			if err == nil {
				return g, nil
			}
			if isMiss(err) {
				continue // another login created it first
			}
			return gen{}, errBackend(op, err)
		}
		if err != nil {
			return gen{}, errBackend(op, err)
		}
		g, gexp, err := s.openGen(it.Value, key)
		if err != nil {
			// Not ours or tampered: replacing it revokes whatever it
			// protected, which is the safe direction.
			g = newGen()
			gexp = time.Time{}
		}
		if !gexp.Before(deadline) {
			return g, nil
		}
		// Extend with some slack, so that the logins of the next hour do
		// not each rewrite the item.
		ext := deadline.Add(genSlack)
		it.Value = s.sealGen(key, g, ext)
		it.Expiration, _ = expiration(ext, now)
		err = s.cas(it)
		if err == nil {
			return g, nil
		}
		if !isMiss(err) && !errors.Is(err, gomemcache.ErrCASConflict) {
			return gen{}, errBackend(op, err)
		}
	}
	return gen{}, fmt.Errorf("%s%s: user generation item: gave up after %d compare-and-swap conflicts", errPrefix, op, casAttempts)
}

// load reads the session item for a write, with its CAS ID.
func (s *Store) load(op string, ks keyset, r ref) (*state, *session, error) {
	it, err := s.get(ks.session)
	if errors.Is(err, gomemcache.ErrCacheMiss) {
		return nil, nil, errNoRecord(op)
	}
	if err != nil {
		return nil, nil, errBackend(op, err)
	}
	v, err := s.openSession(it.Value, ks.session)
	if err != nil || v.ref != r {
		return nil, nil, errAuth(op, "session")
	}
	return &state{store: s, key: ks.session, cas: it.CasID, ref: r, gen: v.gen, alt: v.alt}, v, nil
}

// Update replaces the record token names with rec by compare-and-swap,
// using the CAS ID Find left in rec.Opaque (or reading it first when
// Opaque is not from Find). If the session is gone it returns an error
// wrapping securesession.ErrNoRecord and writes nothing, so a write that
// races a logout never brings the session back; if another request wrote
// in between, it re-reads and retries a bounded number of times (the last
// write wins). It does not rewrite the activity item: Find reports the
// later of the two times. If rec.UserID names another user than the one
// the token was issued for, Update ends the old session and returns a new
// token, as Rotate would. Safe for concurrent use.
func (s *Store) Update(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	const op = "update"
	r, ok := s.tokenRef(tok)
	if !ok {
		return "", errMalformed
	}
	if rec.Deadline.IsZero() {
		return "", errDeadline(op)
	}
	if s.userRef(rec.UserID) != r {
		return s.switchUser(ctx, name, tok, rec)
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	ks := s.keys(name, tok, r)
	now := s.cfg.now()
	exp, ok := expiration(rec.Deadline, now)
	if !ok {
		if err := s.deleteKeys(op, ks); err != nil {
			return "", err
		}
		return "", errNoRecord(op)
	}
	v := &session{ref: r, rec: *rec}
	v.rec.Handle, v.rec.Opaque = "", nil
	st, _ := rec.Opaque.(*state)
	if st == nil || st.store != s || st.key != ks.session || st.ref != r {
		st = nil
	}
	for attempt := 1; ; attempt++ {
		if st == nil {
			var err error
			if st, _, err = s.load(op, ks, r); err != nil {
				return "", err
			}
		}
		v.gen, v.alt = st.gen, st.alt
		val := s.sealSession(ks.session, v)
		if err := s.checkSize(op, ks.session, val); err != nil {
			return "", err
		}
		err := s.cas(&gomemcache.Item{Key: ks.session, Value: val, Expiration: exp, CasID: st.cas})
		switch {
		case err == nil:
			rec.Handle = s.handle(name, tok)
			rec.Opaque = nil // the CAS ID changed; a later write re-reads it
			return tok, nil
		case isMiss(err):
			return "", errNoRecord(op)
		case errors.Is(err, gomemcache.ErrCASConflict):
			if attempt >= casAttempts {
				return "", fmt.Errorf("%s%s: gave up after %d compare-and-swap conflicts: %w", errPrefix, op, casAttempts, err)
			}
			st = nil
			if err := ctx.Err(); err != nil {
				return "", errBackend(op, err)
			}
		default:
			return "", errBackend(op, err)
		}
	}
}

// switchUser handles an Update that changes the user: the token carries
// the user reference, so the record moves to a new token. Deleting the old
// session item is the claim: if it is already gone, the session ended and
// nothing is created.
func (s *Store) switchUser(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	const op = "update"
	if _, found, err := s.Find(ctx, name, tok); err != nil {
		return "", err
	} else if !found {
		return "", errNoRecord(op)
	}
	r, _ := s.tokenRef(tok)
	ks := s.keys(name, tok, r)
	if err := s.deleteLive(op, ks); err != nil {
		return "", err
	}
	return s.create(ctx, op, name, rec, nil)
}

// Touch records activity by rewriting only the small activity item (a
// memcached replace) with rec.LastSeen and rec.Expires; the session data is
// not rewritten. If the activity item is missing, it checks the session as
// Find does and returns an error wrapping securesession.ErrNoRecord if it
// ended. An Expires already past ends the session. On its fast path Touch
// does not read the user's generation, so a Touch that races RevokeUser
// may succeed; the session is still gone for the next Find, which checks
// the generation. Safe for concurrent use.
func (s *Store) Touch(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	const op = "touch"
	r, ok := s.tokenRef(tok)
	if !ok {
		return "", errMalformed
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	ks := s.keys(name, tok, r)
	now := s.cfg.now()
	if _, ok := expiration(seenExpires(rec), now); !ok {
		if err := s.deleteKeys(op, ks); err != nil {
			return "", err
		}
		return "", errNoRecord(op)
	}
	err := s.writeSeen(op, ks.seen, rec, now, s.replace)
	if err == nil {
		return tok, nil
	}
	if !isMiss(err) {
		return "", err
	}
	// No activity item: logged out, idle-expired, or evicted. Ask the
	// session item, then recreate the activity item if it is alive.
	if _, found, err := s.Find(ctx, name, tok); err != nil {
		return "", err
	} else if !found {
		return "", errNoRecord(op)
	}
	if err := s.writeSeen(op, ks.seen, rec, now, s.set); err != nil {
		return "", err
	}
	return tok, nil
}

// Rotate deletes the session oldToken names and then stores rec under a
// fresh token, which it returns. If the old session is already gone
// (logged out, expired) or, for a same-user rotation, was revoked since it
// was read, it returns an error wrapping securesession.ErrNoRecord and
// stores nothing. Deleting first means a failure leaves no session rather
// than two. A malformed oldToken is rejected with ErrInvalidToken. Safe for
// concurrent use.
func (s *Store) Rotate(ctx context.Context, name, oldToken string, rec *securesession.Record) (string, error) {
	const op = "rotate"
	r, ok := s.tokenRef(oldToken)
	if !ok {
		return "", errMalformed
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	ks := s.keys(name, oldToken, r)
	// A same-user rotation keeps the old session's generation stamp, so
	// that a LogoutEverywhere that ran after this request read the
	// session is not undone by the new token.
	var stamp *session
	if !r.zero() && s.userRef(rec.UserID) == r {
		if st, _ := rec.Opaque.(*state); st != nil && st.store == s && st.key == ks.session && st.ref == r {
			stamp = &session{gen: st.gen, alt: st.alt}
		} else {
			_, v, err := s.load(op, ks, r)
			if err != nil {
				return "", err
			}
			stamp = v
		}
	}
	// Deleting the old session item is the commit point: a miss means it
	// was logged out or expired since it was read, and nothing is created.
	if err := s.deleteLive(op, ks); err != nil {
		return "", err
	}
	rec.Opaque = nil
	return s.create(ctx, op, name, rec, stamp)
}

// Delete removes the session token names (session and activity items) with
// explicit memcached deletes. A session that does not exist is not an
// error; a malformed token is (securesession.ErrInvalidToken), before any
// network call. Safe for concurrent use.
func (s *Store) Delete(ctx context.Context, name, tok string) error {
	const op = "delete"
	r, ok := s.tokenRef(tok)
	if !ok {
		return errMalformed
	}
	if err := ctx.Err(); err != nil {
		return errBackend(op, err)
	}
	return s.deleteKeys(op, s.keys(name, tok, r))
}

func (s *Store) deleteKeys(op string, ks keyset) error {
	if err := s.delete(ks.session); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
		return errBackend(op, err)
	}
	if err := s.delete(ks.seen); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
		return errBackend(op, err)
	}
	return nil
}

// deleteLive deletes a session's items, as the commit point of replacing
// it: a miss on the session item means it was logged out or expired since
// it was read, reported as ErrNoRecord so that nothing replaces it.
func (s *Store) deleteLive(op string, ks keyset) error {
	if err := s.delete(ks.session); errors.Is(err, gomemcache.ErrCacheMiss) {
		return errNoRecord(op)
	} else if err != nil {
		return errBackend(op, err)
	}
	if err := s.delete(ks.seen); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
		return errBackend(op, err)
	}
	return nil
}

// RevokeUser ends every session of userID, under every cookie name, by
// replacing the user's generation item; without a session to keep it
// simply deletes it. The session keep names, if it is a live session of
// userID, is first re-stamped so that it is valid under both the old and
// the new generation, and so survives; a well-formed keep token of
// another user or of no live session keeps nothing. A malformed keep
// token (any but the zero Ref's empty one) is rejected with
// securesession.ErrInvalidToken before any network call, and nothing is
// revoked. Safe for concurrent use.
func (s *Store) RevokeUser(ctx context.Context, userID string, keep securesession.Ref) error {
	const op = "revoke user"
	if userID == "" {
		return errors.New(errPrefix + op + ": userID is empty")
	}
	kr, ok := s.tokenRef(keep.Token)
	if !ok && keep.Token != "" {
		return fmt.Errorf("%s%s: session to keep: malformed token: %w", errPrefix, op, securesession.ErrInvalidToken)
	}
	if err := ctx.Err(); err != nil {
		return errBackend(op, err)
	}
	r := s.userRef(userID)
	gk := s.genKey(r)
	revokeAll := func() error {
		if err := s.delete(gk); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
			return errBackend(op, err)
		}
		return nil
	}
	if !ok || kr != r {
		return revokeAll()
	}
	ks := s.keys(keep.Name, keep.Token, r)
	for range casAttempts {
		if err := ctx.Err(); err != nil {
			return errBackend(op, err)
		}
		items, err := s.getMulti([]string{ks.session, gk})
		if err != nil {
			return errBackend(op, err)
		}
		gi, ki := items[gk], items[ks.session]
		if gi == nil || ki == nil {
			return revokeAll() // nothing current to keep
		}
		g1, gexp, err := s.openGen(gi.Value, gk)
		if err != nil {
			return revokeAll()
		}
		v, err := s.openSession(ki.Value, ks.session)
		if err != nil || v.ref != r || !v.current(g1) {
			return revokeAll()
		}
		now := s.cfg.now()
		kexp, ok := expiration(v.rec.Deadline, now)
		if !ok {
			return revokeAll()
		}
		// Stamp keep with the new generation, keeping the current one as
		// its alternative so that it stays valid across the switch.
		g2 := newGen()
		v.gen, v.alt = g2, g1
		ki.Value, ki.Expiration = s.sealSession(ks.session, v), kexp
		switch err := s.cas(ki); {
		case err == nil:
		case errors.Is(err, gomemcache.ErrCASConflict):
			continue
		case isMiss(err):
			return revokeAll()
		default:
			return errBackend(op, err)
		}
		if v.rec.Deadline.After(gexp) {
			gexp = v.rec.Deadline
		}
		gi.Value = s.sealGen(gk, g2, gexp)
		gi.Expiration, _ = expiration(gexp, now)
		switch err := s.cas(gi); {
		case err == nil:
			return nil
		case errors.Is(err, gomemcache.ErrCASConflict):
			continue // a login extended it, or another revocation: start over
		case isMiss(err):
			return revokeAll()
		default:
			return errBackend(op, err)
		}
	}
	if err := revokeAll(); err != nil {
		return err
	}
	return fmt.Errorf("%s%s: every session was revoked, but the kept one could not be preserved after %d compare-and-swap conflicts", errPrefix, op, casAttempts)
}
