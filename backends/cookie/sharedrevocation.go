package cookie

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SharedRevocationOptions configures NewSharedRevocation. The zero value
// is usable: every field documents its default.
type SharedRevocationOptions struct {
	// MaxStaleness bounds how long a revocation made on another instance
	// can go unnoticed here: a request is never answered from local state
	// whose last successful sync with the store began longer ago than
	// this. The instance that revokes refuses at once. Default 2s; it must
	// not be negative.
	MaxStaleness time.Duration

	// RefreshInterval is how often a background goroutine follows the
	// store's change log, so that requests find the state fresh and make
	// no round trip. Default MaxStaleness/2 (when zero); it must not exceed
	// MaxStaleness. A negative value starts no goroutine: the state is
	// then refreshed by the request that finds it older than MaxStaleness.
	RefreshInterval time.Duration

	// InsecureServeStaleFor is how long past MaxStaleness the local state
	// keeps answering while the store cannot be reached. Default 0: fail
	// closed, so that a request the state is too old to answer gets an
	// error (which the middleware answers with 503), never "not revoked".
	// A positive value trades the propagation bound for availability: a
	// revocation made elsewhere during an outage can go unnoticed for
	// MaxStaleness plus this.
	InsecureServeStaleFor time.Duration

	// CacheSize is the most keys (sessions and users) held locally.
	// Evicting a key is always safe: the next request that needs it looks
	// it up again. Default DefaultSharedCacheSize (when zero); it must not
	// be negative.
	CacheSize int

	// Now is the clock MaxStaleness is measured on. Default: the clock of
	// the Store the SharedRevocation is given to (its Options.Now), as for
	// MemoryRevocation, or time.Now before it is given to one. It is
	// called concurrently and must be safe for that.
	Now func() time.Time
}

// DefaultSharedCacheSize is SharedRevocationOptions.CacheSize's default.
const DefaultSharedCacheSize = 100_000

const (
	defaultMaxStaleness = 2 * time.Second
	sharedShards        = 64
	// keyHashLen is the bytes of salted SHA-256 kept in a key: 192 bits.
	keyHashLen = 24
	// keyLen is a key's length: its kind byte and the base64url hash.
	keyLen = 1 + (keyHashLen*8+5)/6
	// maxSyncPages bounds the Changes calls of one sync, so that a flood
	// of writes cannot keep it going forever; a sync that stops there
	// keeps its progress but does not count as fresh.
	maxSyncPages = 10_000
)

// SharedRevocation is a Revocation shared by every instance of a fleet
// through a RevocationStore, so that a cookie copied before logout is
// refused on every instance, not only the one that logged it out.
//
// Propagation. The instance that revokes refuses at once: it merges its
// own writes into its local state as soon as the store has taken them.
// Another instance refuses within MaxStaleness: it never answers from
// state whose last successful sync began longer ago than that. In
// between, an instance that had already seen the session may still
// accept a copy of its cookie; one that had not looks the session up in
// the store and refuses it at once. That window is the price of making no
// round trip per request; with the default options it is 2 seconds.
//
// Failure. When the store cannot be reached and the state is older than
// MaxStaleness, Revoked returns an error, which the Store and the
// middleware turn into a 503: never an anonymous session (a silent
// logout) and never an answer from state older than the bound, unless
// InsecureServeStaleFor allows it. A request for a session this instance
// has not seen needs the store, so it fails during an outage whatever the
// options.
//
// Memory. Locally it holds, for each session and user it has seen, the
// merged entry or the fact that there is none, at most CacheSize keys:
// about 190 bytes each on 64-bit Go 1.26 with the Store's 32-byte
// handles (measured: 100,000 keys hold 19 MB; a user ID costs its own
// length in place of the handle's 32 bytes), plus 48 for a user entry
// that keeps a session. Entries written by other instances for sessions
// this one has not seen are skipped, so a flood of logouts elsewhere does
// not grow it. A store entry is bounded too: its key and the kept session
// are hashes of 33 bytes whatever the user ID's length, with two times
// and a counter, and it may be forgotten after its Until.
//
// Requests. A request for a session whose keys are held, with fresh
// state, makes no call to the store, takes the read locks of two of 64
// shards, allocates nothing and hashes nothing: the local state is keyed
// by the plain handle and user ID, and only what is said to the store is
// hashed (a token issued before its user's LogoutOthers, whose handle is
// compared with the kept one, is the exception). A sync takes a shard's
// write lock only to update a key held locally, so a flood of writes
// elsewhere does not hold requests up. The store's keys are salted
// SHA-256 (192 bits, base64url) of the session handle and of the user
// ID, so the store holds neither.
//
// Resets. A store holds no revocation made before its salt was created
// (RevocationStore.Salt's since): a memcached that restarted empty, a
// table emptied. Every token issued before the salt is therefore refused,
// revoked or not: the users of those sessions log in again, and no cookie
// logged out before a reset comes back to life. Turning a
// SharedRevocation on over a new store refuses, for the same reason, the
// sessions issued before; the Store's first new session waits for this
// instance's first sync (a store that is down then gets it an error), so
// that no session is issued before the salt exists.
//
// It is safe for concurrent use. Close stops its background goroutine.
type SharedRevocation struct {
	store      RevocationStore
	maxStale   int64 // ns
	serveStale int64 // ns
	refresh    time.Duration
	perShard   int

	clock    atomic.Pointer[func() time.Time]
	clockSet bool

	// sem is the single flight of syncs; the fields after it are
	// guarded by holding it.
	sem          chan struct{}
	started      bool
	cursor       uint64
	needPosition bool // a flush installed a new salt but could not read the position
	lastErr      error
	attempts     atomic.Uint64

	salt     atomic.Pointer[[]byte] // nil until the first sync
	putMu    sync.RWMutex           // held for reading by each put, for writing by a flush
	since    atomic.Int64           // the salt's since, ns: tokens issued before it are refused
	lastSync atomic.Int64           // when the last successful sync began, ns; 0 never, or since a flush that could not read the position
	epoch    atomic.Uint64          // bumped by every flush, under every shard's lock
	keys     atomic.Int64
	wlocks   atomic.Uint64 // write locks taken, for tests of the read path
	lookups  atomic.Uint64
	flushes  atomic.Uint64
	seed     maphash.Seed
	shards   [sharedShards]sharedShard
	index    [sharedShards]indexShard

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// key is a key as the store names it: its kind byte and the base64url
// of its digest.
type key [keyLen]byte

// digest is the salted SHA-256 of a handle or user ID, cut to 192 bits:
// how the index names a key, in fewer bytes than its base64url.
type digest [keyHashLen]byte

// digestOf parses a key the store holds: its kind and digest, or false
// if it is no key a SharedRevocation writes.
func digestOf(k string) (byte, digest, bool) {
	var d digest
	if len(k) != keyLen || k[0] != 's' && k[0] != 'u' {
		return 0, d, false
	}
	var buf [keyLen - 1]byte
	copy(buf[:], k[1:])
	n, err := base64.RawURLEncoding.Decode(d[:], buf[:])
	return k[0], d, err == nil && n == keyHashLen
}

// local names a key as it is held: its kind and the plain handle or user
// ID, so that a request finds its state without hashing anything.
type local struct {
	kind byte
	v    string
}

// sharedShard holds the local state of the keys whose plain handle or
// user ID falls in it.
type sharedShard struct {
	mu       sync.RWMutex
	sessions map[string]known // by handle
	users    map[string]known // by user ID
	pending  map[local]*pendingKey
	_        [64]byte // keep shards on separate cache lines
}

func (sh *sharedShard) held(kind byte) map[string]known {
	if kind == 'u' {
		return sh.users
	}
	return sh.sessions
}

// indexShard maps the digests of the keys held or pending, whatever
// their shard, back to their plain handle or user ID: how an entry read
// from the log finds the local state it is about. It is written only
// under the lock of that key's sharedShard, taken first.
type indexShard struct {
	mu       sync.RWMutex
	sessions map[digest]string
	users    map[digest]string
	_        [64]byte
}

func (ix *indexShard) names(kind byte) map[digest]string {
	if kind == 'u' {
		return ix.users
	}
	return ix.sessions
}

// known is the local state of one key. Times are Unix nanoseconds.
type known struct {
	keep   string // the session key of the handle a user entry keeps
	before int64
	until  int64
	below  uint64
	// present: the store has an entry (else the key is known absent).
	present bool
	// partial: only this instance's own writes are known, not the
	// store's entry: it may refuse, but not accepting needs a Lookup.
	partial bool
}

// pendingKey collects what the log says about a key while its Lookup is
// in flight.
type pendingKey struct {
	refs int
	got  known
}

var _ Revocation = (*SharedRevocation)(nil)

// NewSharedRevocation returns a SharedRevocation over store configured by
// opts (see SharedRevocationOptions). It makes no call to the store: the
// first request does, and a store that is down then gets that request an
// error. Unless RefreshInterval is negative it starts a goroutine, which
// Close stops. An error names the field at fault.
func NewSharedRevocation(store RevocationStore, opts SharedRevocationOptions) (*SharedRevocation, error) {
	const p = errPrefix + "SharedRevocationOptions."
	if store == nil {
		return nil, errors.New(errPrefix + "NewSharedRevocation: the RevocationStore is nil")
	}
	switch {
	case opts.MaxStaleness < 0:
		return nil, fmt.Errorf("%sMaxStaleness: %v is negative", p, opts.MaxStaleness)
	case opts.MaxStaleness == 0:
		opts.MaxStaleness = defaultMaxStaleness
	}
	switch {
	case opts.RefreshInterval == 0:
		opts.RefreshInterval = max(opts.MaxStaleness/2, time.Millisecond)
	case opts.RefreshInterval > opts.MaxStaleness:
		return nil, fmt.Errorf("%sRefreshInterval: %v is longer than MaxStaleness (%v), so requests would sync themselves", p, opts.RefreshInterval, opts.MaxStaleness)
	}
	if opts.InsecureServeStaleFor < 0 {
		return nil, fmt.Errorf("%sInsecureServeStaleFor: %v is negative", p, opts.InsecureServeStaleFor)
	}
	switch {
	case opts.CacheSize < 0:
		return nil, fmt.Errorf("%sCacheSize: %d is negative", p, opts.CacheSize)
	case opts.CacheSize == 0:
		opts.CacheSize = DefaultSharedCacheSize
	}
	r := &SharedRevocation{
		store:      store,
		maxStale:   int64(opts.MaxStaleness),
		serveStale: int64(opts.InsecureServeStaleFor),
		refresh:    opts.RefreshInterval,
		perShard:   max(1, (opts.CacheSize+sharedShards-1)/sharedShards),
		sem:        make(chan struct{}, 1),
		seed:       maphash.MakeSeed(),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	now := opts.Now
	if now != nil {
		r.clockSet = true
	} else {
		now = time.Now
	}
	r.clock.Store(&now)
	for i := range r.shards {
		r.shards[i].sessions = make(map[string]known)
		r.shards[i].users = make(map[string]known)
		r.shards[i].pending = make(map[local]*pendingKey)
		r.index[i].sessions = make(map[digest]string)
		r.index[i].users = make(map[digest]string)
	}
	if r.refresh > 0 {
		go r.run()
	} else {
		close(r.done)
	}
	return r, nil
}

// adoptClock is how a Store shares its clock, unless Options.Now chose one.
// The time of the last sync, read on the old clock, then means nothing:
// the next request syncs.
func (r *SharedRevocation) adoptClock(now func() time.Time) {
	if !r.clockSet {
		r.clock.Store(&now)
		r.lastSync.Store(0)
	}
}

func (r *SharedRevocation) now() int64 { return nanos((*r.clock.Load())()) }

// Close stops the background goroutine and waits for it. It does not
// close the RevocationStore, which is the application's. Revoked keeps
// working after Close, syncing on the request path as with a negative
// RefreshInterval. Close is idempotent and always returns nil.
func (r *SharedRevocation) Close() error {
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
	return nil
}

func (r *SharedRevocation) run() {
	defer close(r.done)
	t := time.NewTicker(r.refresh)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.maxStale))
		_ = r.syncFlight(ctx, r.attempts.Load())
		cancel()
	}
}

// SharedRevocationStats is a snapshot of a SharedRevocation, for
// monitoring.
type SharedRevocationStats struct {
	// Keys is the number of sessions and users held locally.
	Keys int
	// LastSync is when the last successful sync with the store began, on
	// the SharedRevocation's clock; zero before the first, and after a
	// flush that could not read the log's position until a sync does.
	LastSync time.Time
	// Lookups counts the Lookup calls made for keys not held locally.
	Lookups uint64
	// Flushes counts the times the store lost its change log
	// (ErrChangesLost) and the local state was forgotten.
	Flushes uint64
}

// Stats returns counters about r. It takes no lock.
func (r *SharedRevocation) Stats() SharedRevocationStats {
	st := SharedRevocationStats{Keys: int(r.keys.Load()), Lookups: r.lookups.Load(), Flushes: r.flushes.Load()}
	if ns := r.lastSync.Load(); ns != 0 {
		st.LastSync = time.Unix(0, ns)
	}
	return st
}

// fresh makes sure the local state may answer now: synced within
// MaxStaleness, or, if the store cannot be reached, within
// MaxStaleness plus InsecureServeStaleFor.
func (r *SharedRevocation) fresh(ctx context.Context) error {
	seen := r.attempts.Load()
	if r.within(r.maxStale) {
		return nil
	}
	err := r.syncFlight(ctx, seen)
	if err == nil || r.within(r.maxStale+r.serveStale) {
		return nil
	}
	return err
}

// within reports whether the last successful sync began less than d ago.
// A clock that went back since counts as stale.
func (r *SharedRevocation) within(d int64) bool {
	last := r.lastSync.Load()
	age := r.now() - last
	return last != 0 && age >= 0 && age < d
}

// syncFlight runs one sync at a time. A caller that waited for another's
// sync (attempts moved past seen) takes its outcome if the state is fresh
// or the sync failed, rather than calling the store again.
func (r *SharedRevocation) syncFlight(ctx context.Context, seen uint64) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%srevocation sync: %w", errPrefix, ctx.Err())
	}
	defer func() { <-r.sem }()
	if r.attempts.Load() != seen {
		// Another request's cancellation is not an outage: sync again.
		if r.lastErr != nil && !errors.Is(r.lastErr, context.Canceled) && !errors.Is(r.lastErr, context.DeadlineExceeded) {
			return r.lastErr
		}
		if r.within(r.maxStale) {
			return nil
		}
	}
	err := r.syncLocked(ctx)
	r.lastErr = err
	r.attempts.Add(1)
	return err
}

// syncLocked follows the store's change log to its end, applying each
// entry to the keys held or pending locally. The caller holds r.sem.
func (r *SharedRevocation) syncLocked(ctx context.Context) error {
	began := r.now()
	if !r.started {
		salt, since, err := r.readSalt(ctx)
		if err != nil {
			return err
		}
		_, next, err := r.store.Changes(ctx, 0)
		if err != nil && !errors.Is(err, ErrChangesLost) {
			return fmt.Errorf("%srevocation store changes: %w", errPrefix, err)
		}
		r.since.Store(since)
		r.salt.Store(&salt)
		r.cursor, r.started = next, true
		r.lastSync.Store(began)
		return nil
	}
	if r.needPosition {
		// A flush could not read the position: read it now, and forget
		// what requests looked up before it, which a write between their
		// lookup and this read would otherwise leave stale for good.
		_, next, err := r.store.Changes(ctx, 0)
		if err != nil {
			return fmt.Errorf("%srevocation store changes: %w", errPrefix, err)
		}
		r.forgetLocked(r.salt.Load(), r.since.Load())
		r.cursor, r.needPosition = next, false
	}
	lost := false
	for range maxSyncPages {
		entries, next, err := r.store.Changes(ctx, r.cursor)
		if errors.Is(err, ErrChangesLost) {
			if lost {
				// The position the store just gave to start again from
				// is lost too: the store is broken, not merely trimmed.
				return fmt.Errorf("%srevocation store changes: lost twice in one sync: %w", errPrefix, err)
			}
			lost = true
			if r.cursor, err = r.flushLocked(ctx, next); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%srevocation store changes: %w", errPrefix, err)
		}
		lost = false
		if len(entries) == 0 {
			r.cursor = max(r.cursor, next)
			r.lastSync.Store(began)
			return nil
		}
		for i := range entries {
			r.apply(&entries[i])
		}
		r.cursor = next
	}
	return fmt.Errorf("%srevocation sync: the change log grows faster than it can be read", errPrefix)
}

// readSalt returns a copy of the store's salt, creating it if the store
// has none, and its since in nanoseconds.
func (r *SharedRevocation) readSalt(ctx context.Context) ([]byte, int64, error) {
	salt, since, err := r.store.Salt(ctx, (*r.clock.Load())())
	if err != nil {
		return nil, 0, fmt.Errorf("%srevocation store salt: %w", errPrefix, err)
	}
	if len(salt) < 16 {
		return nil, 0, fmt.Errorf("%srevocation store salt: %d bytes, want at least 16", errPrefix, len(salt))
	}
	if since.IsZero() {
		return bytes.Clone(salt), math.MinInt64, nil
	}
	return bytes.Clone(salt), nanos(since), nil
}

// flushLocked forgets every key held or pending and re-reads the salt:
// the store cannot say what changed. It returns the position to follow
// the log from: next, the one the store gave with ErrChangesLost, or, if
// that is 0, the current position, read before the new salt lets any
// request look a key up under it (a write between such a lookup and the
// position would be missed for good). The caller holds r.sem. No put runs
// meanwhile (r.putMu): a write hashed with the old salt would name
// nothing once the store holds the new one.
func (r *SharedRevocation) flushLocked(ctx context.Context, next uint64) (uint64, error) {
	r.putMu.Lock()
	defer r.putMu.Unlock()
	salt, since, err := r.readSalt(ctx)
	if err != nil {
		return r.cursor, err
	}
	var posErr error
	if next == 0 {
		if _, next, posErr = r.store.Changes(ctx, 0); posErr != nil {
			posErr = fmt.Errorf("%srevocation store changes: %w", errPrefix, posErr)
		}
	}
	r.forgetLocked(&salt, since)
	if posErr != nil {
		// The new salt is installed, so that no put goes on with the old
		// one, but the position is not known: the state is stale until a
		// sync reads it (requests wait for that sync), and what requests
		// look up meanwhile is forgotten again then.
		r.lastSync.Store(0)
		r.needPosition = true
	}
	r.flushes.Add(1)
	return next, posErr
}

// forgetLocked forgets every key held or pending and installs salt and
// since, under every shard's lock; lookups in flight then find their
// epoch gone and keep nothing. The caller holds r.sem.
func (r *SharedRevocation) forgetLocked(salt *[]byte, since int64) {
	for i := range r.shards {
		r.wlock(&r.shards[i])
	}
	for i := range r.index {
		r.wlockIndex(&r.index[i])
	}
	for i := range r.shards {
		sh, ix := &r.shards[i], &r.index[i]
		r.keys.Add(-int64(len(sh.sessions) + len(sh.users)))
		clear(sh.sessions)
		clear(sh.users)
		clear(sh.pending)
		clear(ix.sessions)
		clear(ix.users)
	}
	r.since.Store(since)
	r.salt.Store(salt)
	r.epoch.Add(1)
	for i := range r.index {
		r.index[i].mu.Unlock()
	}
	for i := range r.shards {
		r.shards[i].mu.Unlock()
	}
}

// apply merges a logged entry into the key's local state, if the key is
// held or pending; any other key is skipped under a read lock of the
// index.
func (r *SharedRevocation) apply(e *RevocationEntry) {
	kind, d, ok := digestOf(e.Key)
	if !ok {
		return
	}
	ix := r.indexOf(&d)
	ix.mu.RLock()
	v, ok := ix.names(kind)[d]
	ix.mu.RUnlock()
	if !ok {
		return
	}
	// The key may be forgotten before the write lock: merging into
	// nothing is then a no-op, and a key held again since was looked up
	// with this entry's digest, so the entry is its own.
	k, lk := fromEntry(e), local{kind, v}
	sh := r.shard(lk)
	r.wlock(sh)
	held := sh.held(kind)
	if cur, ok := held[v]; ok {
		held[v] = cur.merge(k)
	}
	if p := sh.pending[lk]; p != nil {
		p.got = p.got.merge(k)
	}
	sh.mu.Unlock()
}

// wlock write-locks sh, counting it.
func (r *SharedRevocation) wlock(sh *sharedShard) {
	r.wlocks.Add(1)
	sh.mu.Lock()
}

// wlockIndex write-locks ix, counting it.
func (r *SharedRevocation) wlockIndex(ix *indexShard) {
	r.wlocks.Add(1)
	ix.mu.Lock()
}

func (r *SharedRevocation) shard(k local) *sharedShard {
	return &r.shards[r.shardIndex(k)]
}

// shardIndex places a key by its plain handle or user ID, so that a
// request finds it without the salted hash.
func (r *SharedRevocation) shardIndex(k local) int {
	return int((maphash.String(r.seed, k.v) + uint64(k.kind)) % sharedShards)
}

func (r *SharedRevocation) indexOf(d *digest) *indexShard {
	return &r.index[maphash.Bytes(r.seed, d[:])%sharedShards]
}

func fromEntry(e *RevocationEntry) known {
	return known{keep: e.Keep, before: nanos(e.Before), until: nanos(e.Until), below: e.Below, present: true}
}

// merge mirrors RevocationEntry.Merge on local state.
func (k known) merge(n known) known {
	if !k.present {
		n.partial = n.partial && k.partial
		return n
	}
	if !n.present {
		k.partial = k.partial && n.partial
		return k
	}
	out := k
	out.below = max(k.below, n.below)
	out.until = max(k.until, n.until)
	switch {
	case n.before > k.before:
		out.before, out.keep = n.before, n.keep
	case n.before == k.before && n.keep != k.keep:
		out.keep = ""
	}
	out.partial = k.partial && n.partial
	return out
}

// digestKey returns the digest of v ("s" for a session handle, "u" for a
// user ID): the first 192 bits of SHA-256(salt || kind || v). Short
// values are hashed from the stack.
func digestKey(kind byte, v string, salt []byte) digest {
	var buf [192]byte
	var in []byte
	if n := len(salt) + 1 + len(v); n <= len(buf) {
		in = buf[:0]
	} else {
		in = make([]byte, 0, n)
	}
	in = append(in, salt...)
	in = append(in, kind)
	in = append(in, v...)
	sum := sha256.Sum256(in)
	return digest(sum[:keyHashLen])
}

// storeKey returns the key the store names d of kind by: kind, then the
// base64url of d.
func storeKey(kind byte, d *digest) string {
	var k key
	k[0] = kind
	base64.RawURLEncoding.Encode(k[1:], d[:])
	return string(k[:])
}

// get returns the local state of k and whether k is held (a partial
// state among them: it may refuse, but not let in). It hashes nothing.
func (r *SharedRevocation) get(k local) (known, bool) {
	sh := r.shard(k)
	sh.mu.RLock()
	st, ok := sh.held(k.kind)[k.v]
	sh.mu.RUnlock()
	return st, ok
}

// lookup asks the store for the keys that are not held, marking them
// pending first so that a sync running meanwhile merges what it reads
// into them, and holds the results. It returns the states of keys, in
// order. It rewrites the values of keys (see register).
func (r *SharedRevocation) lookup(ctx context.Context, keys []local) ([]known, error) {
	ds := make([]digest, len(keys))
	epoch := r.register(keys, ds)
	r.lookups.Add(1)
	names := make([]string, len(keys))
	for i := range keys {
		names[i] = storeKey(keys[i].kind, &ds[i])
	}
	got, err := r.store.Lookup(ctx, names)
	if err != nil {
		r.release(keys, ds, epoch, nil)
		return nil, fmt.Errorf("%srevocation store lookup: %w", errPrefix, err)
	}
	out := make([]known, len(keys))
	for i := range got {
		for j, k := range names {
			if got[i].Key == k {
				out[j] = out[j].merge(fromEntry(&got[i]))
			}
		}
	}
	r.release(keys, ds, epoch, out)
	return out, nil
}

// register marks keys pending, indexes their digests (written into ds,
// in order, on the salt of the epoch) and returns the epoch they belong
// to. It holds the shards of all of them at once, in shard order as a
// flush does, so that no flush comes between two of them. It sets each
// key's value to the copy the SharedRevocation keeps, so that the
// request's memory is not kept.
func (r *SharedRevocation) register(keys []local, ds []digest) uint64 {
	unlock := r.lockShards(keys)
	defer unlock()
	salt := *r.salt.Load() // stable: a flush holds every shard's lock
	for i := range keys {
		ds[i] = digestKey(keys[i].kind, keys[i].v, salt)
		keys[i].v = r.indexLocked(keys[i], &ds[i])
		sh := r.shard(keys[i])
		if p := sh.pending[keys[i]]; p != nil {
			p.refs++
		} else {
			sh.pending[keys[i]] = &pendingKey{refs: 1}
		}
	}
	return r.epoch.Load()
}

// indexLocked maps d to k, if it is not yet, and returns the copy of k's
// value the index holds. The caller holds k's shard's write lock.
func (r *SharedRevocation) indexLocked(k local, d *digest) string {
	ix := r.indexOf(d)
	ix.mu.RLock()
	v, ok := ix.names(k.kind)[*d]
	ix.mu.RUnlock()
	if ok {
		return v
	}
	v = strings.Clone(k.v)
	r.wlockIndex(ix)
	ix.names(k.kind)[*d] = v
	ix.mu.Unlock()
	return v
}

// unindexLocked forgets d, the digest of k, unless k is held or pending.
// The caller holds k's shard's write lock.
func (r *SharedRevocation) unindexLocked(sh *sharedShard, k local, d *digest) {
	if _, ok := sh.held(k.kind)[k.v]; ok {
		return
	}
	if sh.pending[k] != nil {
		return
	}
	ix := r.indexOf(d)
	r.wlockIndex(ix)
	delete(ix.names(k.kind), *d)
	ix.mu.Unlock()
}

// release unmarks keys (whose digests are ds) and, with results (out, in
// the order of keys), merges what the log said meanwhile into them and
// holds them, unless a flush came in between (it forgot the marks and
// the index too).
func (r *SharedRevocation) release(keys []local, ds []digest, epoch uint64, out []known) {
	now := r.now()
	unlock := r.lockShards(keys)
	defer unlock()
	if r.epoch.Load() != epoch {
		return
	}
	for i, k := range keys {
		sh := r.shard(k)
		p := sh.pending[k]
		if out != nil {
			out[i] = out[i].merge(p.got)
			out[i].partial = false
			r.holdLocked(sh, k, out[i], now)
			out[i] = sh.held(k.kind)[k.v]
		}
		if p.refs--; p.refs == 0 {
			delete(sh.pending, k)
			r.unindexLocked(sh, k, &ds[i])
		}
	}
}

// lockShards write-locks the shards of keys (at most two), in shard
// order, and returns the function that unlocks them.
func (r *SharedRevocation) lockShards(keys []local) func() {
	var idx [2]int
	n := 0
	for _, k := range keys[:min(len(keys), 2)] {
		i := r.shardIndex(k)
		if n == 1 && idx[0] == i {
			continue
		}
		idx[n] = i
		n++
	}
	if n == 2 && idx[1] < idx[0] {
		idx[0], idx[1] = idx[1], idx[0]
	}
	for _, i := range idx[:n] {
		r.wlock(&r.shards[i])
	}
	return func() {
		for _, i := range idx[:n] {
			r.shards[i].mu.Unlock()
		}
	}
}

// holdLocked merges st into the local state of k, adding k (and evicting
// another key, expired ones first, if the shard is full). The caller has
// indexed k, and holds its shard's write lock.
func (r *SharedRevocation) holdLocked(sh *sharedShard, k local, st known, now int64) {
	held := sh.held(k.kind)
	if cur, ok := held[k.v]; ok {
		if !st.partial {
			cur.partial = false
		}
		held[k.v] = cur.merge(st)
		return
	}
	if len(sh.sessions)+len(sh.users) >= r.perShard {
		r.evictLocked(sh, now)
	}
	held[k.v] = st
	r.keys.Add(1)
}

// evictLocked forgets one key of a full shard, of the kind it holds more
// of: an expired entry among the first few, or else the first. It hashes
// the key to drop it from the index.
func (r *SharedRevocation) evictLocked(sh *sharedShard, now int64) {
	kind := byte('s')
	if len(sh.users) > len(sh.sessions) {
		kind = 'u'
	}
	held := sh.held(kind)
	var victim string
	found, n := false, 0
	for v, st := range held {
		if !found || st.present && st.until < now {
			victim, found = v, true
		}
		if st.present && st.until < now {
			break
		}
		if n++; n >= 8 {
			break
		}
	}
	if !found {
		return
	}
	delete(held, victim)
	r.keys.Add(-1)
	d := digestKey(kind, victim, *r.salt.Load()) // stable: a flush holds every shard's lock
	r.unindexLocked(sh, local{kind, victim}, &d)
}

// remember merges this instance's own write of k, whose digest is d,
// into the local state once the store has taken it: the revoking instance
// refuses at once. The caller holds r.putMu for reading, so the salt d
// was hashed with is still the current one.
func (r *SharedRevocation) remember(k local, d digest, e *RevocationEntry) {
	st := fromEntry(e)
	st.partial = true
	sh := r.shard(k)
	now := r.now()
	r.wlock(sh)
	defer sh.mu.Unlock()
	if p := sh.pending[k]; p != nil {
		p.got = p.got.merge(st)
	}
	k.v = r.indexLocked(k, &d)
	r.holdLocked(sh, k, st, now)
}

// currentSalt returns the store's salt, syncing first if the
// SharedRevocation has not yet talked to the store.
func (r *SharedRevocation) currentSalt(ctx context.Context) (*[]byte, error) {
	if s := r.salt.Load(); s != nil {
		return s, nil
	}
	if err := r.syncFlight(ctx, r.attempts.Load()); err != nil {
		return nil, err
	}
	if s := r.salt.Load(); s != nil {
		return s, nil
	}
	return nil, errors.New(errPrefix + "revocation store: no salt")
}

// put writes e, the entry of k whose digest on salt is d, to the store,
// and remembers it.
func (r *SharedRevocation) put(ctx context.Context, k local, d digest, salt *[]byte, e RevocationEntry) error {
	r.putMu.RLock()
	defer r.putMu.RUnlock()
	if r.salt.Load() != salt {
		// A flush came in since e was hashed: its key names nothing in
		// the store as it is now.
		return errSaltReplaced
	}
	if err := r.store.Put(ctx, e); err != nil {
		return fmt.Errorf("%srevocation store put: %w", errPrefix, err)
	}
	r.remember(k, d, &e)
	return nil
}

// RevokeSession implements Revocation: one Put to the store.
func (r *SharedRevocation) RevokeSession(ctx context.Context, handle string, below uint64, until time.Time) error {
	return r.write(ctx, func(salt []byte) (local, digest, RevocationEntry) {
		d := digestKey('s', handle, salt)
		return local{'s', handle}, d, RevocationEntry{Key: storeKey('s', &d), Below: below, Until: until, Claim: below != AllTokens}
	})
}

// RevokeUser implements Revocation: one Put to the store. The session it
// keeps is stored as the key of its handle, so the store names neither.
func (r *SharedRevocation) RevokeUser(ctx context.Context, userID string, before time.Time, keep string, until time.Time) error {
	return r.write(ctx, func(salt []byte) (local, digest, RevocationEntry) {
		d := digestKey('u', userID, salt)
		e := RevocationEntry{Key: storeKey('u', &d), Before: before, Until: until}
		if keep != "" {
			kd := digestKey('s', keep, salt)
			e.Keep = storeKey('s', &kd)
		}
		return local{'u', userID}, d, e
	})
}

// write puts the entry entry builds on the current salt, building it
// again on the new salt if a flush replaced the salt meanwhile (once: a
// second reset during one write is an outage).
func (r *SharedRevocation) write(ctx context.Context, entry func(salt []byte) (local, digest, RevocationEntry)) error {
	var err error
	for range 2 {
		var salt *[]byte
		if salt, err = r.currentSalt(ctx); err != nil {
			return err
		}
		k, d, e := entry(*salt)
		if err = r.put(ctx, k, d, salt, e); !errors.Is(err, errSaltReplaced) {
			return err
		}
	}
	return err
}

// errSaltReplaced is put's error when a flush installed a new salt after
// the entry was hashed with the old one.
var errSaltReplaced = errors.New(errPrefix + "revocation store: reset while writing; try again")

// beforeIssue syncs once if this instance has never synced, so that the
// store's salt exists before the Store issues a session: a session issued
// before the salt was created would be refused as older than the store
// (see RevocationStore.Salt). Once synced it takes no lock and makes no
// call.
func (r *SharedRevocation) beforeIssue(ctx context.Context) error {
	if r.salt.Load() != nil {
		return nil
	}
	return r.fresh(ctx)
}

// issuedBeforeSalt reports whether a token issued at issued predates the
// store's salt (see RevocationStore.Salt), which refuses it whatever the
// entries say. Revoked asks before it reads any entry and again before it
// lets a token in: a flush that came in between cleared the entries it
// read, and stored the new since before it let go of them.
func (r *SharedRevocation) issuedBeforeSalt(issued time.Time) bool {
	return nanos(issued) < r.since.Load()
}

// notBeforeSalt returns now, or the store's salt's since if that is
// later.
func (r *SharedRevocation) notBeforeSalt(now time.Time) time.Time {
	if since := r.since.Load(); since > nanos(now) && since != math.MinInt64 {
		return time.Unix(0, since)
	}
	return now
}

// Revoked implements Revocation. With fresh state and the token's keys
// held locally it makes no call to the store, takes read locks only and
// hashes nothing (unless a user entry refuses sessions issued before the
// token was: then the handle is hashed to compare it with the one the
// entry keeps); otherwise it syncs (at most one sync at a time) or looks
// the missing keys up, once.
func (r *SharedRevocation) Revoked(ctx context.Context, tok Token) (bool, error) {
	if err := r.fresh(ctx); err != nil {
		return false, err
	}
	if r.issuedBeforeSalt(tok.Issued) {
		return true, nil
	}
	salt := r.salt.Load()
	sk, uk := local{'s', tok.Handle}, local{'u', tok.UserID}
	s, sOK := r.get(sk)
	if s.present && tok.Gen < s.below {
		return true, nil
	}
	sOK = sOK && !s.partial
	if tok.UserID == "" {
		if sOK {
			return r.issuedBeforeSalt(tok.Issued), nil
		}
		got, err := r.lookup(ctx, []local{sk})
		if err != nil {
			return false, err
		}
		return got[0].present && tok.Gen < got[0].below || r.issuedBeforeSalt(tok.Issued), nil
	}
	u, uOK := r.get(uk)
	uOK = uOK && !u.partial
	refused := u.present && userRefuses(u, tok, *salt)
	if !refused {
		var missing []local
		if !sOK {
			missing = append(missing, sk)
		}
		if !uOK {
			missing = append(missing, uk)
		}
		if len(missing) > 0 {
			got, err := r.lookup(ctx, missing)
			if err != nil {
				return false, err
			}
			if !sOK {
				s, got = got[0], got[1:]
				if s.present && tok.Gen < s.below {
					return true, nil
				}
			}
			if !uOK {
				u = got[0]
				refused = u.present && userRefuses(u, tok, *salt)
			}
		}
	}
	if !refused {
		return r.issuedBeforeSalt(tok.Issued), nil
	}
	if d := nanos(tok.Deadline); d > u.until {
		// The token's own deadline proves how long the refusal is needed.
		ud := digestKey('u', tok.UserID, *salt)
		e := RevocationEntry{Key: storeKey('u', &ud), Before: time.Unix(0, u.before), Keep: u.keep, Until: time.Unix(0, d)}
		if u.before == math.MinInt64 {
			e.Before = time.Time{}
		}
		if err := r.put(ctx, uk, ud, salt, e); err != nil {
			return true, err
		}
	}
	return true, nil
}

// userRefuses reports whether the user entry u refuses tok. Only a token
// issued at or before the entry's Before needs its handle hashed, to
// compare it with the session the entry keeps.
func userRefuses(u known, tok Token, salt []byte) bool {
	if nanos(tok.Issued) > u.before {
		return false
	}
	if u.keep == "" {
		return true
	}
	d := digestKey('s', tok.Handle, salt)
	return !keyIs(u.keep, 's', &d)
}

// keyIs reports whether k is the store key of d of kind, without
// building it.
func keyIs(k string, kind byte, d *digest) bool {
	var want key
	want[0] = kind
	base64.RawURLEncoding.Encode(want[1:], d[:])
	return k == string(want[:])
}
