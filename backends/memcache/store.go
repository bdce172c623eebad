package memcache

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/keys"
	"github.com/gin-securesession/securesession/internal/token"
)

// casAttempts bounds the compare-and-swap retries of one operation.
const casAttempts = 4

// genSlack is the least time a user's generation item is kept past the
// deadline of the session that last extended it. A login extends it to
// the new session's deadline plus the longer of genSlack and the
// session's lifetime, so that the logins of the following lifetime need
// not extend it again.
const genSlack = time.Hour

// HKDF purposes of the sub-keys derived from Options.Key.
const (
	purposeIDHash = "securesession/v1 memcache id-hash"
	purposeSeal   = "securesession/v1 memcache seal"
	purposeRef    = "securesession/v1 memcache user-ref"
	purposeMask   = "securesession/v1 memcache token-mask"
)

// Store is a securesession.Backend on memcached. memcached cannot
// enumerate its keys, so each logged-in user's sessions are also listed
// in a per-user index item, through which Store implements
// securesession.Lister and securesession.SessionLimiter (see the package
// documentation). Any Store also serves gin-contrib's sessions.Sessions
// through securesession.NewGinContribStore.
//
// A Store is safe for concurrent use. It starts no goroutines; the
// connections are the gomemcache client's (see Close).
type Store struct {
	client   *gomemcache.Client
	cfg      *config
	aead     cipher.AEAD
	idHash   *token.Hasher
	refHash  *keyedHash
	maskHash *keyedHash
}

var _ securesession.Backend = (*Store)(nil)

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
	return &Store{
		client:   client,
		cfg:      cfg,
		aead:     aead,
		idHash:   token.NewHasher(keys.Derive(opts.Key, purposeIDHash)),
		refHash:  newKeyedHash(keys.Derive(opts.Key, purposeRef)),
		maskHash: newKeyedHash(keys.Derive(opts.Key, purposeMask)),
	}, nil
}

// Close closes the idle connections the gomemcache client holds (its
// Client.Close). gomemcache documents that a client stays usable after
// Close, so a client shared with other code is not broken: it dials
// again when next used. Call it after the server has stopped serving.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return errBackend("close", err)
	}
	return nil
}

// state is what Find leaves in Record.Opaque for the writes that follow
// in the same request: the session item as read, and its CAS ID.
type state struct {
	store *Store
	key   string
	cas   uint64
	v     *session
}

// stateFor returns the state in opaque if Find left it for this session.
func (s *Store) stateFor(opaque any, ks keyset) *state {
	if st, _ := opaque.(*state); st != nil && st.store == s && st.key == ks.session {
		return st
	}
	return nil
}

// checkSize refuses a session item over Options.MaxItemSize, before it is
// sealed or anything is sent.
func (s *Store) checkSize(op, key string, plaintextLen int) error {
	if n := len(key) + sealedExtra + plaintextLen + itemOverhead; n > s.cfg.maxItemSize {
		return fmt.Errorf("%s%s: session item would be %d bytes, over Options.MaxItemSize (%d): %w", errPrefix, op, n, s.cfg.maxItemSize, securesession.ErrTooLarge)
	}
	return nil
}

// Find returns the record token names under the cookie name, in one
// GetMulti of the session item and, for a logged-in session, the user's
// generation item, which live on one server. A malformed token fails with
// an error wrapping securesession.ErrInvalidToken before any network call;
// so does a stored value that fails authentication. An unknown, deleted,
// expired or revoked session is not found; a missing generation item
// (revoked, or evicted) means revoked. Any memcached error is returned,
// wrapped. Find writes nothing. Safe for concurrent use.
func (s *Store) Find(ctx context.Context, name, tok string) (securesession.Record, bool, error) {
	r, err := s.parseToken(tok)
	if err != nil {
		return securesession.Record{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return securesession.Record{}, false, errBackend("find", err)
	}
	ks := s.keys(name, tok, r)
	var arr [2]string
	list := append(arr[:0], ks.session)
	if ks.user != "" {
		list = append(list, ks.user)
	}
	items, err := s.getMulti(list)
	if err != nil {
		return securesession.Record{}, false, errBackend("find", err)
	}
	it := items[ks.session]
	if it == nil {
		return securesession.Record{}, false, nil
	}
	v, err := s.openSession(it.Value, ks.session)
	if err != nil {
		return securesession.Record{}, false, errStored("find", "session", err)
	}
	if v.ref != r {
		return securesession.Record{}, false, errStored("find", "session", errOpen)
	}
	if !r.zero() {
		gi := items[ks.user]
		if gi == nil {
			return securesession.Record{}, false, nil // revoked, or evicted: fail closed
		}
		g, _, err := s.openGen(gi.Value, ks.user)
		if err != nil {
			return securesession.Record{}, false, errStored("find", "generation", err)
		}
		if !v.current(g) {
			return securesession.Record{}, false, nil
		}
	}
	rec := v.rec
	rec.Handle = v.handle.String()
	rec.Opaque = &state{store: s, key: ks.session, cas: it.CasID, v: v}
	return rec, true, nil
}

// Create stores rec as a new session under a fresh token and returns it,
// with a fresh random rec.Handle. For a logged-in record it reads the
// user's generation to stamp the session with, together with the user's
// index (one GetMulti; creating the generation item for a user who has
// none, or extending it past rec.Deadline, costs one more command), adds
// the session item, then records it in the index by one compare-and-swap
// (an add for a user with no index): three round trips for a returning
// user. A record whose Deadline has already passed is not stored: the
// token finds nothing. Safe for concurrent use.
func (s *Store) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	return s.create(ctx, "create", name, rec, newHandle(), nil, "", securesession.SessionLimit{})
}

// create stores rec under a fresh token, with Handle h. old, when not
// empty, is the key of the session item a rotation replaces, and stamp,
// when not nil, is that session if it is the same user's: the new session
// is stamped with the user's current generation only if the old stamp
// accepts it, so a rotation that races a revocation cannot outlive it.
// A logged-in session is then recorded in the user's index under limit
// (see enter; the zero limit for none). Last, the old item is deleted:
// the commit point of a rotation, so that a RevokeHandle always finds the
// session under one of its two items (see the package documentation). If
// anything fails after the new item was added, it is removed again. The
// session is encoded and sealed once.
func (s *Store) create(ctx context.Context, op, name string, rec *securesession.Record, h handle, stamp *session, old string, limit securesession.SessionLimit) (string, error) {
	if rec.Deadline.IsZero() {
		return "", errDeadline(op)
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	r := s.userRef(rec.UserID)
	tok := s.newToken(r)
	ks := s.keys(name, tok, r)
	rec.Handle, rec.Opaque = h.String(), nil
	now := s.cfg.now()
	exp, ok := expiration(sessionExpires(rec), now)
	if !ok {
		// Ended already: nothing to store.
		if err := s.retire(op, old); err != nil {
			return "", err
		}
		return tok, nil
	}
	v := &session{ref: r, handle: h, rec: *rec}
	v.rec.Handle, v.rec.Opaque, v.rec.Reissue = "", nil, false
	pt := v.plaintext() // gen is zero until stamped below
	if err := s.checkSize(op, ks.session, len(pt)); err != nil {
		return "", err
	}
	var g gen
	var ix *gomemcache.Item
	if !r.zero() {
		var err error
		if g, ix, err = s.ensureGen(op, ks.user, s.indexKey(r), rec.Deadline, now); err != nil {
			return "", err
		}
		if stamp != nil && !stamp.current(g) {
			return "", errNoRecord(op) // revoked since the old session was read
		}
		copy(pt[genOff:], g[:])
	}
	if err := s.add(&gomemcache.Item{Key: ks.session, Value: seal(s.aead, pt, ks.session), Expiration: exp}); err != nil {
		return "", errBackend(op, err)
	}
	err := error(nil)
	if !r.zero() {
		e := s.entryFor(ks.session, h, rec)
		if stamp != nil {
			e.prev = old[len(s.cfg.prefix):]
		}
		err = s.enter(ctx, op, r, g, ix, e, limit)
	}
	if err == nil {
		err = s.retire(op, old)
	}
	if err != nil {
		// The login or rotation gives up: its session must not stay
		// behind, unlisted and uncounted. A failure of this delete leaves
		// an item whose token nobody holds, which lapses on its own.
		_ = s.delete(ks.session)
		return "", err
	}
	return tok, nil
}

// retire deletes the session item a rotation replaces (none if old is
// empty). A miss means the session ended since it was read (logged out,
// revoked, expired): an error wrapping securesession.ErrNoRecord.
func (s *Store) retire(op, old string) error {
	if old == "" {
		return nil
	}
	switch err := s.delete(old); {
	case errors.Is(err, gomemcache.ErrCacheMiss):
		return errNoRecord(op)
	case err != nil:
		return errBackend(op, err)
	}
	return nil
}

// genUntil is how long a login keeps the user's generation item: past
// deadline by the longer of genSlack and the session's lifetime.
func genUntil(deadline, now time.Time) time.Time {
	return deadline.Add(max(genSlack, deadline.Sub(now)))
}

// ensureGen returns the user's current generation, creating the item if
// it is missing and extending it if it would lapse before deadline, and
// the user's index item (nil if missing), read with it in one GetMulti:
// the two live on one server.
func (s *Store) ensureGen(op, key, indexKey string, deadline, now time.Time) (gen, *gomemcache.Item, error) {
	for range casAttempts {
		items, err := s.getMulti([]string{key, indexKey})
		if err != nil {
			return gen{}, nil, errBackend(op, err)
		}
		it, ix := items[key], items[indexKey]
		if it == nil {
			g := newGen()
			ext := genUntil(deadline, now)
			exp, _ := expiration(ext, now)
			err := s.add(&gomemcache.Item{Key: key, Value: s.sealGen(key, g, ext), Expiration: exp})
			if err == nil {
				return g, ix, nil
			}
			if isMiss(err) {
				continue // another login created it first
			}
			return gen{}, nil, errBackend(op, err)
		}
		g, gexp, err := s.openGen(it.Value, key)
		if err != nil {
			// Not ours or tampered: replacing it revokes whatever it
			// protected, which is the safe direction.
			g = newGen()
			gexp = time.Time{}
		}
		if !gexp.Before(deadline) {
			return g, ix, nil
		}
		ext := genUntil(deadline, now)
		it.Value = s.sealGen(key, g, ext)
		it.Expiration, _ = expiration(ext, now)
		err = s.cas(it)
		if err == nil {
			return g, ix, nil
		}
		if !isMiss(err) && !errors.Is(err, gomemcache.ErrCASConflict) {
			return gen{}, nil, errBackend(op, err)
		}
	}
	return gen{}, nil, fmt.Errorf("%s%s: user generation item: gave up after %d compare-and-swap conflicts", errPrefix, op, casAttempts)
}

// load reads the session item for a write, with its CAS ID.
func (s *Store) load(op string, ks keyset, r ref) (*state, error) {
	it, err := s.get(ks.session)
	if errors.Is(err, gomemcache.ErrCacheMiss) {
		return nil, errNoRecord(op)
	}
	if err != nil {
		return nil, errBackend(op, err)
	}
	v, err := s.openSession(it.Value, ks.session)
	if err != nil {
		return nil, errStored(op, "session", err)
	}
	if v.ref != r {
		return nil, errStored(op, "session", errOpen)
	}
	return &state{store: s, key: ks.session, cas: it.CasID, v: v}, nil
}

// rewrite replaces the session item by compare-and-swap with what next
// makes of the stored session, starting from the CAS ID Find left in st
// (or reading the item first when st is nil). If the session is gone it
// returns an error wrapping securesession.ErrNoRecord and writes nothing;
// after a conflicting write it re-reads and tries again, a bounded number
// of times.
func (s *Store) rewrite(ctx context.Context, op string, ks keyset, r ref, st *state, next func(stored *session) *session) (*session, error) {
	for attempt := 1; ; attempt++ {
		if st == nil {
			var err error
			if st, err = s.load(op, ks, r); err != nil {
				return nil, err
			}
		}
		v := next(st.v)
		exp, ok := expiration(sessionExpires(&v.rec), s.cfg.now())
		if !ok {
			return nil, s.expire(op, ks)
		}
		pt := v.plaintext()
		if err := s.checkSize(op, ks.session, len(pt)); err != nil {
			return nil, err
		}
		err := s.cas(&gomemcache.Item{Key: ks.session, Value: seal(s.aead, pt, ks.session), Expiration: exp, CasID: st.cas})
		switch {
		case err == nil:
			return v, nil
		case isMiss(err):
			return nil, errNoRecord(op)
		case errors.Is(err, gomemcache.ErrCASConflict):
			if attempt >= casAttempts {
				return nil, fmt.Errorf("%s%s: gave up after %d compare-and-swap conflicts: %w", errPrefix, op, casAttempts, err)
			}
			st = nil
			if err := ctx.Err(); err != nil {
				return nil, errBackend(op, err)
			}
		default:
			return nil, errBackend(op, err)
		}
	}
}

// expire deletes a session whose new expiry has already passed and
// returns ErrNoRecord: it ended.
func (s *Store) expire(op string, ks keyset) error {
	if err := s.delete(ks.session); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
		return errBackend(op, err)
	}
	return errNoRecord(op)
}

// Update replaces the record token names with rec by compare-and-swap,
// using the CAS ID Find left in rec.Opaque (or reading it first when
// Opaque is not from Find): one round trip after Find. If the session is
// gone it returns an error wrapping securesession.ErrNoRecord and writes
// nothing, so a write that races a logout never brings the session back;
// if another request wrote in between, it re-reads and retries a bounded
// number of times (the last write wins). If rec.UserID names another user
// than the one the token was issued for, Update moves the session to a
// new token, as Rotate does. Safe for concurrent use.
func (s *Store) Update(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	const op = "update"
	r, err := s.parseToken(tok)
	if err != nil {
		return "", err
	}
	if rec.Deadline.IsZero() {
		return "", errDeadline(op)
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	ks := s.keys(name, tok, r)
	if s.userRef(rec.UserID) != r {
		return s.move(ctx, op, name, ks, r, rec, securesession.SessionLimit{})
	}
	if _, ok := expiration(sessionExpires(rec), s.cfg.now()); !ok {
		return "", s.expire(op, ks)
	}
	v, err := s.rewrite(ctx, op, ks, r, s.stateFor(rec.Opaque, ks), func(stored *session) *session {
		v := &session{ref: r, gen: stored.gen, alt: stored.alt, handle: stored.handle, rec: *rec}
		v.rec.Handle, v.rec.Opaque, v.rec.Reissue = "", nil, false
		return v
	})
	if err != nil {
		return "", err
	}
	rec.Handle = v.handle.String()
	rec.Opaque = nil // the CAS ID changed; a later write re-reads it
	return tok, nil
}

// Touch records activity: it rewrites the stored session item with the
// later of its times and rec.LastSeen and rec.Expires, by one
// compare-and-swap with the CAS ID Find left in rec.Opaque; the item's
// memcached expiry moves with the idle timeout. The values written are
// the stored ones, never rec's, so a Touch that races an Update re-reads
// and cannot undo it. If the session is gone (logged out, revoked by
// RevokeHandle's delete, expired) it returns an error wrapping
// securesession.ErrNoRecord and writes nothing. An Expires already past
// ends the session. Touch does not read the user's generation: a Touch
// that races RevokeUser may succeed, and the session is still gone for
// the next Find, which checks it. Safe for concurrent use.
func (s *Store) Touch(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	const op = "touch"
	r, err := s.parseToken(tok)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	ks := s.keys(name, tok, r)
	if rec.Deadline.IsZero() {
		return "", errDeadline(op)
	}
	if _, ok := expiration(sessionExpires(rec), s.cfg.now()); !ok {
		return "", s.expire(op, ks)
	}
	v, err := s.rewrite(ctx, op, ks, r, s.stateFor(rec.Opaque, ks), func(stored *session) *session {
		v := *stored
		if rec.LastSeen.After(v.rec.LastSeen) {
			v.rec.LastSeen = rec.LastSeen
		}
		if rec.Expires.After(v.rec.Expires) {
			v.rec.Expires = rec.Expires
		}
		v.rec.Expires = sessionExpires(&v.rec)
		return &v
	})
	if err != nil {
		return "", err
	}
	rec.Handle = v.handle.String()
	rec.Opaque = nil
	return tok, nil
}

// Rotate stores rec under a fresh token, which it returns, with the same
// Handle as the session oldToken names, updates that session's entry in
// the user's index, and then deletes the old session item. If the old
// session is already gone (logged out, expired, revoked by RevokeHandle)
// or, for a same-user rotation, was revoked since it was read, it returns
// an error wrapping securesession.ErrNoRecord and removes the new item
// again, so nothing stays stored. Deleting the old item last means a
// concurrent RevokeHandle always finds the session under its old item or
// its new one. After Find it costs what Create costs and the delete. A
// malformed oldToken is rejected with securesession.ErrInvalidToken. Safe
// for concurrent use.
func (s *Store) Rotate(ctx context.Context, name, oldToken string, rec *securesession.Record) (string, error) {
	const op = "rotate"
	r, err := s.parseToken(oldToken)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	return s.move(ctx, op, name, s.keys(name, oldToken, r), r, rec, securesession.SessionLimit{})
}

// move stores rec under a fresh token with the same Handle as the session
// ks names, recorded in the index under limit (the zero limit for none),
// and then ends that session (see create). A same-user move keeps the old
// session's generation stamp, so that a RevokeUser that ran after this
// request read the session is not undone by the new token. A refused
// login ends nothing: the old session stays as it was.
func (s *Store) move(ctx context.Context, op, name string, ks keyset, r ref, rec *securesession.Record, limit securesession.SessionLimit) (string, error) {
	st := s.stateFor(rec.Opaque, ks)
	if st == nil {
		var err error
		if st, err = s.load(op, ks, r); err != nil {
			return "", err
		}
	}
	var stamp *session
	if !r.zero() && s.userRef(rec.UserID) == r {
		stamp = st.v
	}
	rec.Opaque = nil
	return s.create(ctx, op, name, rec, st.v.handle, stamp, ks.session, limit)
}

// Delete removes the session token names: one memcached delete of its
// item. A session that does not exist is not an error; a malformed token
// is (securesession.ErrInvalidToken), before any network call. Safe for
// concurrent use.
func (s *Store) Delete(ctx context.Context, name, tok string) error {
	const op = "delete"
	r, err := s.parseToken(tok)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return errBackend(op, err)
	}
	if err := s.delete(s.keys(name, tok, r).session); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
		return errBackend(op, err)
	}
	return nil
}

// RevokeUser ends every session of userID, under every cookie name, by
// replacing the user's generation item with a fresh one: one memcached
// set. The session keep names, if it is a live session of userID, is
// first re-stamped so that it is valid under both the old and the new
// generation, and so survives; a well-formed keep token of another user
// or of no live session keeps nothing. A malformed keep token (any but
// the zero Ref's empty one) is rejected with
// securesession.ErrInvalidToken before any network call, and nothing is
// revoked. Safe for concurrent use.
func (s *Store) RevokeUser(ctx context.Context, userID string, keep securesession.Ref) error {
	const op = "revoke user"
	if userID == "" {
		return errors.New(errPrefix + op + ": userID is empty")
	}
	var kr ref
	if keep.Token != "" {
		var err error
		if kr, err = s.parseToken(keep.Token); err != nil {
			return fmt.Errorf("%s%s: session to keep: %w", errPrefix, op, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return errBackend(op, err)
	}
	r := s.userRef(userID)
	gk := s.genKey(r)
	revokeAll := func() error {
		// A fresh generation rather than a delete, so that the user's
		// next login finds the item and need not extend it (one round
		// trip fewer). Nothing is stamped with it yet, so its expiry only
		// bounds that saving: it is what a login with the default
		// absolute timeout would give it.
		now := s.cfg.now()
		until := genUntil(now.Add(securesession.DefaultAbsoluteTimeout), now)
		exp, _ := expiration(until, now)
		if err := s.set(&gomemcache.Item{Key: gk, Value: s.sealGen(gk, newGen(), until), Expiration: exp}); err != nil {
			return errBackend(op, err)
		}
		return nil
	}
	if keep.Token == "" || kr != r {
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
		kexp, ok := expiration(sessionExpires(&v.rec), now)
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
