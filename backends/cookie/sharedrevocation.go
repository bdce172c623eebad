package cookie

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
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
// about 130 bytes each on 64-bit Go 1.26 (measured: 100,000 keys hold
// 12.6 MB), plus 48 for a user entry that keeps a session.
// Entries written by other instances for sessions this one has not seen
// are skipped, so a flood of logouts elsewhere does not grow it. A store
// entry is bounded too: its key and the kept session are hashes of 33
// bytes whatever the user ID's length, with two times and a counter, and
// it may be forgotten after its Until.
//
// Requests. A request for a session whose keys are held, with fresh
// state, makes no call to the store, takes the read locks of two of 64
// shards and allocates nothing; a sync takes a shard's write lock only to
// update a key held locally, so a flood of writes elsewhere does not hold
// requests up. Keys are salted SHA-256 (192 bits, base64url) of the
// session handle and of the user ID, so the store holds neither.
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
	sem      chan struct{}
	started  bool
	cursor   uint64
	lastErr  error
	attempts atomic.Uint64

	salt     atomic.Pointer[[]byte] // nil until the first sync
	lastSync atomic.Int64           // when the last successful sync began, ns; 0 never
	epoch    atomic.Uint64          // bumped by every flush, under every shard's lock
	keys     atomic.Int64
	wlocks   atomic.Uint64 // write locks taken, for tests of the read path
	lookups  atomic.Uint64
	flushes  atomic.Uint64
	seed     maphash.Seed
	shards   [sharedShards]sharedShard

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// key is a key as held locally: a fixed array, so that a map entry needs
// no allocation of its own and a request hashes into the stack.
type key [keyLen]byte

// keyOf returns k as a key, or false if it has another length (then it
// is no key a SharedRevocation writes).
func keyOf(k string) (key, bool) {
	var out key
	if len(k) != keyLen {
		return out, false
	}
	copy(out[:], k)
	return out, true
}

type sharedShard struct {
	mu      sync.RWMutex
	known   map[key]known
	pending map[key]*pendingKey
	_       [64]byte // keep shards on separate cache lines
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
		r.shards[i].known = make(map[key]known)
		r.shards[i].pending = make(map[key]*pendingKey)
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
	// the SharedRevocation's clock; zero before the first.
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
		salt, err := r.store.Salt(ctx)
		if err != nil {
			return fmt.Errorf("%srevocation store salt: %w", errPrefix, err)
		}
		if len(salt) < 16 {
			return fmt.Errorf("%srevocation store salt: %d bytes, want at least 16", errPrefix, len(salt))
		}
		_, next, err := r.store.Changes(ctx, 0)
		if err != nil && !errors.Is(err, ErrChangesLost) {
			return fmt.Errorf("%srevocation store changes: %w", errPrefix, err)
		}
		salt = append([]byte(nil), salt...)
		r.salt.Store(&salt)
		r.cursor, r.started = next, true
		r.lastSync.Store(began)
		return nil
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
			if err := r.flushLocked(ctx); err != nil {
				return err
			}
			r.cursor = next
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

// flushLocked forgets every key held or pending and re-reads the salt:
// the store cannot say what changed. The caller holds r.sem.
func (r *SharedRevocation) flushLocked(ctx context.Context) error {
	salt, err := r.store.Salt(ctx)
	if err != nil {
		return fmt.Errorf("%srevocation store salt: %w", errPrefix, err)
	}
	if len(salt) < 16 {
		return fmt.Errorf("%srevocation store salt: %d bytes, want at least 16", errPrefix, len(salt))
	}
	salt = append([]byte(nil), salt...)
	for i := range r.shards {
		r.wlock(&r.shards[i])
	}
	for i := range r.shards {
		sh := &r.shards[i]
		r.keys.Add(-int64(len(sh.known)))
		clear(sh.known)
		clear(sh.pending)
	}
	r.salt.Store(&salt)
	r.epoch.Add(1)
	for i := range r.shards {
		r.shards[i].mu.Unlock()
	}
	r.flushes.Add(1)
	return nil
}

// apply merges a logged entry into the key's local state, if the key is
// held or pending; any other key is skipped under a read lock.
func (r *SharedRevocation) apply(e *RevocationEntry) {
	ek, ok := keyOf(e.Key)
	if !ok {
		return
	}
	sh := r.shard(&ek)
	sh.mu.RLock()
	_, held := sh.known[ek]
	_, pend := sh.pending[ek]
	sh.mu.RUnlock()
	if !held && !pend {
		return
	}
	k := fromEntry(e)
	r.wlock(sh)
	if cur, ok := sh.known[ek]; ok {
		sh.known[ek] = cur.merge(k)
	}
	if p := sh.pending[ek]; p != nil {
		p.got = p.got.merge(k)
	}
	sh.mu.Unlock()
}

// wlock write-locks sh, counting it.
func (r *SharedRevocation) wlock(sh *sharedShard) {
	r.wlocks.Add(1)
	sh.mu.Lock()
}

func (r *SharedRevocation) shard(k *key) *sharedShard {
	return &r.shards[r.shardIndex(k)]
}

func (r *SharedRevocation) shardIndex(k *key) int {
	return int(maphash.Bytes(r.seed, k[:]) % sharedShards)
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

// hashKey writes into dst the key of v ("s" for a session handle, "u" for
// a user ID): kind, then base64url of the first 192 bits of
// SHA-256(salt || kind || v). Short values are hashed from the stack.
func hashKey(dst *key, kind byte, v string, salt []byte) {
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
	dst[0] = kind
	base64.RawURLEncoding.Encode(dst[1:], sum[:keyHashLen])
}

// get returns the local state of k and whether k is held (a partial
// state among them: it may refuse, but not let in).
func (r *SharedRevocation) get(k *key) (known, bool) {
	sh := r.shard(k)
	sh.mu.RLock()
	st, ok := sh.known[*k]
	sh.mu.RUnlock()
	return st, ok
}

// lookup asks the store for the keys that are not held, marking them
// pending first so that a sync running meanwhile merges what it reads
// into them, and holds the results. It returns the states of keys, in
// order.
func (r *SharedRevocation) lookup(ctx context.Context, keys []key) ([]known, error) {
	epoch := r.register(keys)
	r.lookups.Add(1)
	names := make([]string, len(keys))
	for i := range keys {
		names[i] = string(keys[i][:])
	}
	got, err := r.store.Lookup(ctx, names)
	if err != nil {
		r.release(keys, epoch, nil)
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
	r.release(keys, epoch, out)
	return out, nil
}

// register marks keys pending and returns the epoch they belong to. It
// holds the shards of all of them at once, in shard order as a flush
// does, so that no flush comes between two of them.
func (r *SharedRevocation) register(keys []key) uint64 {
	unlock := r.lockShards(keys)
	defer unlock()
	for _, k := range keys {
		sh := r.shard(&k)
		if p := sh.pending[k]; p != nil {
			p.refs++
		} else {
			sh.pending[k] = &pendingKey{refs: 1}
		}
	}
	return r.epoch.Load() // stable: a flush holds every shard's lock
}

// release unmarks keys and, with results (out, in the order of keys),
// merges what the log said meanwhile into them and holds them, unless a
// flush came in between (it forgot the marks too).
func (r *SharedRevocation) release(keys []key, epoch uint64, out []known) {
	now := r.now()
	unlock := r.lockShards(keys)
	defer unlock()
	if r.epoch.Load() != epoch {
		return
	}
	for i, k := range keys {
		sh := r.shard(&k)
		p := sh.pending[k]
		if out != nil {
			out[i] = out[i].merge(p.got)
			out[i].partial = false
			r.holdLocked(sh, k, out[i], now)
			out[i] = sh.known[k]
		}
		if p.refs--; p.refs == 0 {
			delete(sh.pending, k)
		}
	}
}

// lockShards write-locks the shards of keys (at most two), in shard
// order, and returns the function that unlocks them.
func (r *SharedRevocation) lockShards(keys []key) func() {
	var idx [2]int
	n := 0
	for _, k := range keys[:min(len(keys), 2)] {
		i := r.shardIndex(&k)
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

// holdLocked merges k into the key's local state, adding the key (and
// evicting another, expired ones first, if the shard is full).
func (r *SharedRevocation) holdLocked(sh *sharedShard, at key, k known, now int64) {
	if cur, ok := sh.known[at]; ok {
		if !k.partial {
			cur.partial = false
		}
		sh.known[at] = cur.merge(k)
		return
	}
	if len(sh.known) >= r.perShard {
		r.evictLocked(sh, now)
	}
	sh.known[at] = k
	r.keys.Add(1)
}

// evictLocked forgets one key of a full shard: an expired entry among
// the first few, or else the first.
func (r *SharedRevocation) evictLocked(sh *sharedShard, now int64) {
	var victim key
	found, n := false, 0
	for at, k := range sh.known {
		if !found || k.present && k.until < now {
			victim, found = at, true
		}
		if k.present && k.until < now {
			break
		}
		if n++; n >= 8 {
			break
		}
	}
	if found {
		delete(sh.known, victim)
		r.keys.Add(-1)
	}
}

// remember merges this instance's own write, which the store has taken,
// into the local state: the revoking instance refuses at once.
func (r *SharedRevocation) remember(e *RevocationEntry) {
	ek, ok := keyOf(e.Key)
	if !ok {
		return
	}
	k := fromEntry(e)
	k.partial = true
	sh := r.shard(&ek)
	now := r.now()
	r.wlock(sh)
	if p := sh.pending[ek]; p != nil {
		p.got = p.got.merge(k)
	}
	r.holdLocked(sh, ek, k, now)
	sh.mu.Unlock()
}

// currentSalt returns the store's salt, syncing first if the
// SharedRevocation has not yet talked to the store.
func (r *SharedRevocation) currentSalt(ctx context.Context) ([]byte, error) {
	if s := r.salt.Load(); s != nil {
		return *s, nil
	}
	if err := r.syncFlight(ctx, r.attempts.Load()); err != nil {
		return nil, err
	}
	if s := r.salt.Load(); s != nil {
		return *s, nil
	}
	return nil, errors.New(errPrefix + "revocation store: no salt")
}

func (r *SharedRevocation) put(ctx context.Context, e RevocationEntry) error {
	if err := r.store.Put(ctx, e); err != nil {
		return fmt.Errorf("%srevocation store put: %w", errPrefix, err)
	}
	r.remember(&e)
	return nil
}

// RevokeSession implements Revocation: one Put to the store.
func (r *SharedRevocation) RevokeSession(ctx context.Context, handle string, below uint64, until time.Time) error {
	salt, err := r.currentSalt(ctx)
	if err != nil {
		return err
	}
	var sk key
	hashKey(&sk, 's', handle, salt)
	return r.put(ctx, RevocationEntry{Key: string(sk[:]), Below: below, Until: until})
}

// RevokeUser implements Revocation: one Put to the store. The session it
// keeps is stored as the key of its handle, so the store names neither.
func (r *SharedRevocation) RevokeUser(ctx context.Context, userID string, before time.Time, keep string, until time.Time) error {
	salt, err := r.currentSalt(ctx)
	if err != nil {
		return err
	}
	var uk, kk key
	hashKey(&uk, 'u', userID, salt)
	e := RevocationEntry{Key: string(uk[:]), Before: before, Until: until}
	if keep != "" {
		hashKey(&kk, 's', keep, salt)
		e.Keep = string(kk[:])
	}
	return r.put(ctx, e)
}

// Revoked implements Revocation. With fresh state and the token's keys
// held locally it makes no call to the store and takes read locks only;
// otherwise it syncs (at most one sync at a time) or looks the missing
// keys up, once.
func (r *SharedRevocation) Revoked(ctx context.Context, tok Token) (bool, error) {
	if err := r.fresh(ctx); err != nil {
		return false, err
	}
	salt := *r.salt.Load()
	var sk, uk key
	hashKey(&sk, 's', tok.Handle, salt)
	s, sOK := r.get(&sk)
	if s.present && tok.Gen < s.below {
		return true, nil
	}
	sOK = sOK && !s.partial
	if tok.UserID == "" {
		if sOK {
			return false, nil
		}
		got, err := r.lookup(ctx, []key{sk})
		if err != nil {
			return false, err
		}
		return got[0].present && tok.Gen < got[0].below, nil
	}
	hashKey(&uk, 'u', tok.UserID, salt)
	u, uOK := r.get(&uk)
	uOK = uOK && !u.partial
	if !u.present || !r.userRefuses(u, tok, &sk) {
		var missing []key
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
			}
		}
	}
	if !u.present || !r.userRefuses(u, tok, &sk) {
		return false, nil
	}
	if d := nanos(tok.Deadline); d > u.until {
		// The token's own deadline proves how long the refusal is needed.
		e := RevocationEntry{Key: string(uk[:]), Before: time.Unix(0, u.before), Keep: u.keep, Until: time.Unix(0, d)}
		if u.before == math.MinInt64 {
			e.Before = time.Time{}
		}
		if err := r.put(ctx, e); err != nil {
			return true, err
		}
	}
	return true, nil
}

// userRefuses reports whether the user entry u refuses tok, whose session
// key is sk.
func (r *SharedRevocation) userRefuses(u known, tok Token, sk *key) bool {
	return nanos(tok.Issued) <= u.before && string(sk[:]) != u.keep
}
