package cookie_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/cookie/revocationtest"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// memoryFleet is a fresh MemoryStore; every client of it is the store
// itself, as every instance of a fleet reaches one shared store.
func memoryFleet(t *testing.T) revocationtest.Connect {
	m := revocationtest.NewMemoryStore()
	return func() cookie.RevocationStore { return m }
}

func TestMemoryStoreContract(t *testing.T) {
	revocationtest.Run(t, memoryFleet)
}

func TestSharedRevocationFleet(t *testing.T) {
	revocationtest.RunFleet(t, memoryFleet)
}

func TestSharedRevocationFleetOutage(t *testing.T) {
	var m *revocationtest.MemoryStore
	revocationtest.RunFleetOutage(t, func(t *testing.T) revocationtest.Connect {
		m = revocationtest.NewMemoryStore()
		return func() cookie.RevocationStore { return m }
	}, revocationtest.Outage{Down: func(*testing.T) { m.SetDown(true) }, Up: func(*testing.T) { m.SetDown(false) }})
}

func newShared(t testing.TB, store cookie.RevocationStore, o cookie.SharedRevocationOptions) *cookie.SharedRevocation {
	t.Helper()
	r, err := cookie.NewSharedRevocation(store, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// With a SharedRevocation every check of the suite runs, replays
// included, with the default options and the background refresh.
func TestConformanceWithSharedRevocation(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		rev := newShared(t, revocationtest.NewMemoryStore(), cookie.SharedRevocationOptions{})
		return newStoreWith(t, cookie.Options{Revocation: rev})
	})
}

// instance is one SharedRevocation of a test fleet on an injected clock,
// refreshed only on the request path.
func instance(t testing.TB, m *revocationtest.MemoryStore, clock *testclock.Clock) *cookie.SharedRevocation {
	t.Helper()
	return newShared(t, m, cookie.SharedRevocationOptions{RefreshInterval: -1, Now: clock.Now})
}

func revoked(t testing.TB, r *cookie.SharedRevocation, tok cookie.Token) bool {
	t.Helper()
	got, err := r.Revoked(context.Background(), tok)
	if err != nil {
		t.Fatalf("Revoked: %v", err)
	}
	return got
}

func tokenOf(clock *testclock.Clock, handle, user string) cookie.Token {
	now := clock.Now()
	return cookie.Token{Handle: handle, UserID: user, Issued: now.Add(-time.Minute), Deadline: now.Add(time.Hour)}
}

// staleness is the default MaxStaleness: advancing the clock by it makes
// the next request sync.
const staleness = 2 * time.Second

// runningStore is a MemoryStore whose salt was created a day before
// clock reads: a store that was running before the tokens of a test were
// issued, which therefore refuses none of them as older than itself.
func runningStore(clock *testclock.Clock) *revocationtest.MemoryStore {
	m := revocationtest.NewMemoryStore()
	if _, _, err := m.Salt(context.Background(), clock.Now().Add(-24*time.Hour)); err != nil {
		panic(err)
	}
	return m
}

// A flood of logouts on other instances, of sessions this instance has
// never seen, is read by its sync without growing its memory, while the
// one entry among them for a session it holds is applied.
func TestSharedFloodOfUnknownKeysLeavesLocalSizeUnchanged(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	mine := tokenOf(clock, "held-by-b", "alice")
	if revoked(t, b, mine) {
		t.Fatal("a session never revoked is refused")
	}
	held := b.Stats().Keys
	if held != 2 {
		t.Fatalf("after one token with a user B holds %d keys, want 2", held)
	}
	const flood = 100_000
	batch := make([]cookie.RevocationEntry, 0, 1000)
	until := clock.Now().Add(time.Hour)
	for i := range flood {
		batch = append(batch, cookie.RevocationEntry{Key: fmt.Sprintf("s%032d", i), Below: cookie.AllTokens, Until: until})
		if len(batch) == cap(batch) {
			if err := m.Put(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
		if i == flood/2 {
			if err := a.RevokeSession(ctx, mine.Handle, cookie.AllTokens, until); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.Advance(staleness)
	if !revoked(t, b, mine) {
		t.Fatal("the logout amid the flood was not applied by B's sync")
	}
	if got := b.Stats().Keys; got != held {
		t.Fatalf("after syncing %d revocations of sessions it never saw B holds %d keys; it held %d", flood, got, held)
	}
	if got := cookie.SharedIndexed(b); got != held {
		t.Fatalf("after the flood B indexes %d digests for the %d keys it holds", got, held)
	}
}

// Requests for sessions the instance holds take no write lock, even while
// a sync applies a flood of entries for other sessions: the sync skips an
// unknown key under a read lock.
func TestSharedReadsTakeNoWriteLock(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	live := make([]cookie.Token, 64)
	for i := range live {
		live[i] = tokenOf(clock, fmt.Sprintf("live-%d", i), fmt.Sprintf("user-%d", i))
		revoked(t, b, live[i])
	}
	gone := tokenOf(clock, "gone", "carol")
	revoked(t, b, gone)
	if err := a.RevokeSession(ctx, gone.Handle, cookie.AllTokens, gone.Deadline); err != nil {
		t.Fatal(err)
	}
	clock.Advance(staleness)
	if !revoked(t, b, gone) {
		t.Fatal("B does not refuse a session A ended")
	}
	locks := cookie.SharedWriteLocks(b)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // another instance's logouts, and B syncing them
		defer wg.Done()
		for i := range 20 {
			batch := make([]cookie.RevocationEntry, 500)
			for j := range batch {
				batch[j] = cookie.RevocationEntry{Key: fmt.Sprintf("s%08d%08d", i, j), Below: 1, Until: gone.Deadline}
			}
			if err := m.Put(ctx, batch...); err != nil {
				t.Error(err)
				return
			}
			clock.Advance(staleness)
		}
	}()
	var bad atomic.Int64
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				tok := live[(g*7+i)%len(live)]
				r, err := b.Revoked(ctx, tok)
				if err != nil || r {
					bad.Add(1)
				}
				if r, err := b.Revoked(ctx, gone); err != nil || !r {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d answers were wrong or failed while B synced a flood", n)
	}
	if got := cookie.SharedWriteLocks(b) - locks; got != 0 {
		t.Fatalf("reads of held sessions, and a sync of sessions B does not hold, took %d write locks", got)
	}
}

// A request for a session whose keys are held, with fresh state, makes
// no allocation.
func TestSharedHeldSessionCheckAllocatesNothing(t *testing.T) {
	clock := testclock.New()
	b := instance(t, runningStore(clock), clock)
	tok := tokenOf(clock, "0123456789abcdef0123456789abcdef", "alice@example.com")
	revoked(t, b, tok)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		if r, err := b.Revoked(ctx, tok); err != nil || r {
			t.Fatal("wrong answer")
		}
	}); n != 0 {
		t.Fatalf("Revoked of a held session allocates %v times per call", n)
	}
}

// A handle and a user ID spelled alike are different keys: holding the
// one does not stand for holding the other, so an instance that has seen
// only the user "dup" still looks up, and refuses, the session "dup"
// ended elsewhere, and the other way round.
func TestSharedHandleAndUserIDSpelledAlikeAreDifferentKeys(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	if revoked(t, b, tokenOf(clock, "h1", "dup-1")) || revoked(t, b, tokenOf(clock, "dup-2", "u2")) {
		t.Fatal("refused before any revocation")
	}
	session := tokenOf(clock, "dup-1", "u1") // its handle is the ID of a user B holds
	user := tokenOf(clock, "h2", "dup-2")    // its user ID is the handle of a session B holds
	if err := a.RevokeSession(ctx, session.Handle, cookie.AllTokens, session.Deadline); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeUser(ctx, user.UserID, clock.Now(), "", user.Deadline); err != nil {
		t.Fatal(err)
	}
	clock.Advance(staleness)
	if !revoked(t, b, session) {
		t.Fatal("B lets in an ended session whose handle is the ID of a user it holds")
	}
	if !revoked(t, b, user) {
		t.Fatal("B lets in a logged-out user whose ID is the handle of a session it holds")
	}
	if n, k := cookie.SharedIndexed(b), b.Stats().Keys; n != k {
		t.Fatalf("B indexes %d digests for the %d keys it holds", n, k)
	}
}

// When the store cannot say what changed (its log was trimmed, a log item
// evicted), the instance forgets everything it holds and looks each key
// up again: a revocation whose log item was lost still refuses.
func TestSharedLostLogFlushesAndLooksUpAgain(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	tok := tokenOf(clock, "lost-log", "dave")
	if revoked(t, b, tok) {
		t.Fatal("refused before any revocation")
	}
	if err := a.RevokeUser(ctx, tok.UserID, clock.Now(), "", tok.Deadline); err != nil {
		t.Fatal(err)
	}
	m.LoseLog()
	clock.Advance(staleness)
	if !revoked(t, b, tok) {
		t.Fatal("a revocation whose log item was lost is not refused after the sync that found the log lost")
	}
	st := b.Stats()
	if st.Flushes != 1 {
		t.Fatalf("Stats().Flushes = %d after one lost log, want 1", st.Flushes)
	}
	if st.Keys != 2 {
		t.Fatalf("after the flush and one token B holds %d keys, want 2", st.Keys)
	}
	if n := cookie.SharedIndexed(b); n != 2 {
		t.Fatalf("after the flush and one token B indexes %d digests, want 2", n)
	}
}

// A store that restarts empty (memcached's restart, an emptied table)
// has forgotten every revocation made before. Every session issued before
// its new salt is then refused, revoked or not: a revoked cookie must not
// come back to life, and the store cannot tell which were revoked. A
// session issued after the instance learnt of the reset is let in.
func TestSharedStoreResetRefusesEverySessionIssuedBeforeIt(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	loggedOut, live := tokenOf(clock, "logged-out", "erin"), tokenOf(clock, "live", "frank")
	if revoked(t, b, loggedOut) || revoked(t, b, live) {
		t.Fatal("refused before any revocation")
	}
	if err := a.RevokeSession(ctx, loggedOut.Handle, cookie.AllTokens, loggedOut.Deadline); err != nil {
		t.Fatal(err)
	}
	clock.Advance(staleness)
	if !revoked(t, b, loggedOut) {
		t.Fatal("the logged-out session is let in before the reset")
	}

	m.Reset()
	clock.Advance(staleness)
	if !revoked(t, b, loggedOut) {
		t.Error("after the store's reset the logged-out session is let in again")
	}
	if !revoked(t, b, live) {
		t.Error("after the store's reset a session issued before it is let in")
	}
	clock.Advance(time.Second)
	after := tokenOf(clock, "after", "gina")
	after.Issued = clock.Now()
	if revoked(t, a, after) || revoked(t, b, after) {
		t.Error("a session issued after the reset is refused")
	}
}

// The first session a Store issues over a store that has no salt yet
// (the first request of a new deployment) is not refused as older than
// the salt its own first sync then creates.
func TestFirstSessionOverANewStoreIsLetIn(t *testing.T) {
	clock := testclock.New()
	rev := instance(t, revocationtest.NewMemoryStore(), clock)
	s := newStoreWith(t, cookie.Options{Revocation: rev, Now: clock.Now})
	rec := &securesession.Record{Created: clock.Now(), LastSeen: clock.Now(), Deadline: clock.Now().Add(time.Hour), Expires: clock.Now().Add(time.Hour)}
	tok, err := s.Create(context.Background(), "sid", rec)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Millisecond)
	if _, found, err := s.Find(context.Background(), "sid", tok); err != nil || !found {
		t.Fatalf("Find of the first session: found %v, %v", found, err)
	}
}

// The race between a Lookup and the log: a write lands after the Lookup
// read the store and before it answered, and a sync applies it
// meanwhile. The key was pending, so the sync's entry is merged into the
// Lookup's stale answer; otherwise the instance would hold the key as
// never revoked and follow the log past the write for good.
func TestSharedWriteBetweenLookupReadAndReplyIsNotLost(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	tok := tokenOf(clock, "raced", "")
	other := tokenOf(clock, "other", "")
	revoked(t, b, other) // B has its position in the log
	var once sync.Once
	m.AfterLookupRead(func([]string) {
		once.Do(func() {
			if err := a.RevokeSession(ctx, tok.Handle, cookie.AllTokens, tok.Deadline); err != nil {
				t.Error(err)
			}
			clock.Advance(staleness)
			revoked(t, b, other) // syncs, reading A's write
		})
	})
	first := revoked(t, b, tok)
	m.AfterLookupRead(nil)
	if !first {
		t.Error("the request whose Lookup raced the write was let in; the sync had the write")
	}
	if !revoked(t, b, tok) {
		t.Fatal("after the race B holds the session as never revoked")
	}
}

// A user entry that refuses a token whose deadline is after the entry's
// Until is extended in the store to that deadline, as MemoryRevocation
// does: the token proves how long the refusal is needed.
func TestSharedUserEntryExtendedToTheDeadlineOfTheTokenItRefuses(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	tok := tokenOf(clock, "long", "erin")
	tok.Deadline = clock.Now().Add(48 * time.Hour)
	if err := a.RevokeUser(ctx, tok.UserID, clock.Now(), "", clock.Now().Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, b, tok) {
		t.Fatal("a session issued before LogoutEverywhere is not refused")
	}
	got, err := m.Lookup(ctx, []string{cookie.SharedKey(b, 'u', tok.UserID)})
	if err != nil || len(got) != 1 {
		t.Fatalf("Lookup of the user entry: %v, %d entries", err, len(got))
	}
	if !got[0].Until.Equal(tok.Deadline) {
		t.Fatalf("the user entry is kept until %v; the token it refused runs to %v", got[0].Until, tok.Deadline)
	}
}

// LogoutOthers keeps one session: the store holds its handle only as a
// hash, and every instance keeps exactly it.
func TestSharedKeepIsHashedAndKept(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a, b := instance(t, m, clock), instance(t, m, clock)
	ctx := context.Background()
	kept, other := tokenOf(clock, "kept-handle", "frank"), tokenOf(clock, "other-handle", "frank")
	if err := a.RevokeUser(ctx, "frank", clock.Now(), kept.Handle, kept.Deadline); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*cookie.SharedRevocation{a, b} {
		if revoked(t, r, kept) || !revoked(t, r, other) {
			t.Fatal("the kept session is refused, or the other is not")
		}
	}
	got, _ := m.Lookup(ctx, []string{cookie.SharedKey(a, 'u', "frank")})
	if len(got) != 1 || got[0].Keep != cookie.SharedKey(a, 's', kept.Handle) {
		t.Fatalf("the store holds %+v; want the kept handle's hash", got)
	}
	for _, e := range got {
		if strings.Contains(e.Key+e.Keep, "frank") || strings.Contains(e.Key+e.Keep, "kept-handle") {
			t.Fatal("the store holds a user ID or handle in clear")
		}
	}
}

// Fail closed: once the state is older than MaxStaleness and the store
// is down, Revoked is an error, never "not revoked"; the writes are
// errors too. With the store back it answers again.
func TestSharedFailsClosedWhenStale(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	b := instance(t, m, clock)
	ctx := context.Background()
	tok := tokenOf(clock, "h", "gina")
	revoked(t, b, tok)
	m.SetDown(true)
	if revoked(t, b, tok) {
		t.Fatal("refused within MaxStaleness")
	}
	clock.Advance(staleness)
	if _, err := b.Revoked(ctx, tok); !errors.Is(err, revocationtest.ErrDown) {
		t.Fatalf("stale state, store down: Revoked returned %v, want the outage", err)
	}
	if err := b.RevokeSession(ctx, tok.Handle, cookie.AllTokens, tok.Deadline); !errors.Is(err, revocationtest.ErrDown) {
		t.Fatalf("store down: RevokeSession returned %v, want the outage", err)
	}
	m.SetDown(false)
	if revoked(t, b, tok) {
		t.Fatal("refused after the outage")
	}
}

// The constructor rejects bad options, naming the field.
func TestNewSharedRevocationNamesTheField(t *testing.T) {
	m := revocationtest.NewMemoryStore()
	for _, c := range []struct {
		o     cookie.SharedRevocationOptions
		field string
	}{
		{cookie.SharedRevocationOptions{MaxStaleness: -1}, "SharedRevocationOptions.MaxStaleness"},
		{cookie.SharedRevocationOptions{MaxStaleness: time.Second, RefreshInterval: 2 * time.Second}, "SharedRevocationOptions.RefreshInterval"},
		{cookie.SharedRevocationOptions{InsecureServeStaleFor: -1}, "SharedRevocationOptions.InsecureServeStaleFor"},
		{cookie.SharedRevocationOptions{CacheSize: -1}, "SharedRevocationOptions.CacheSize"},
	} {
		_, err := cookie.NewSharedRevocation(m, c.o)
		if err == nil || !strings.HasPrefix(err.Error(), "securesession/cookie: "+c.field+": ") {
			t.Errorf("%+v: error %v, want one naming %s", c.o, err, c.field)
		}
	}
	if _, err := cookie.NewSharedRevocation(nil, cookie.SharedRevocationOptions{}); err == nil {
		t.Error("a nil store is accepted")
	}
}

// Evicting keys past CacheSize is safe: an evicted key is looked up
// again and still refused.
func TestSharedCacheSizeBoundsKeysAndEvictionIsSafe(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a := instance(t, m, clock)
	b := newShared(t, m, cookie.SharedRevocationOptions{RefreshInterval: -1, Now: clock.Now, CacheSize: 128})
	ctx := context.Background()
	gone := tokenOf(clock, "evicted", "")
	if err := a.RevokeSession(ctx, gone.Handle, cookie.AllTokens, gone.Deadline); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, b, gone) {
		t.Fatal("not refused")
	}
	for i := range 5000 {
		revoked(t, b, tokenOf(clock, fmt.Sprintf("h%d", i), ""))
	}
	if n := b.Stats().Keys; n > 128 {
		t.Fatalf("B holds %d keys with CacheSize 128", n)
	}
	if n, k := cookie.SharedIndexed(b), b.Stats().Keys; n != k {
		t.Fatalf("B indexes %d digests for the %d keys it holds: evicted keys stay in the index", n, k)
	}
	if !revoked(t, b, gone) {
		t.Fatal("a revoked session is let in after its key was evicted")
	}
}

// The local cost of a key, measured: the SharedRevocation type doc states
// it.
func TestSharedMemoryPerKey(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	const n = 100_000
	toks := make([]cookie.Token, n)
	for i := range toks {
		toks[i] = tokenOf(clock, fmt.Sprintf("%032x", i), "")
	}
	b := newShared(t, m, cookie.SharedRevocationOptions{RefreshInterval: -1, Now: clock.Now, CacheSize: 2 * n})
	revoked(t, b, toks[0])
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks[1:] {
		revoked(t, b, tok)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if k := b.Stats().Keys; k != n {
		t.Fatalf("holds %d keys, want %d", k, n)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / (n - 1)
	t.Logf("%.0f bytes of heap per key held", per)
	if per > 250 {
		t.Fatalf("%.0f bytes per key held; the doc says about 190", per)
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(toks)
}

// brokenLog is a store whose log is lost from every position, even the
// one it gives to start again from.
type brokenLog struct{ *revocationtest.MemoryStore }

func (b brokenLog) Changes(ctx context.Context, since uint64) ([]cookie.RevocationEntry, uint64, error) {
	_, next, err := b.MemoryStore.Changes(ctx, 0)
	if since == 0 || err != nil {
		return nil, next, err
	}
	return nil, next, fmt.Errorf("broken: %w", cookie.ErrChangesLost)
}

// A store that reports its log lost again from the position it just gave
// is an outage: the sync stops instead of flushing forever, and the stale
// state is not used.
func TestSharedLogLostAgainAndAgainIsAnOutage(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	b := newShared(t, brokenLog{m}, cookie.SharedRevocationOptions{RefreshInterval: -1, Now: clock.Now})
	tok := tokenOf(clock, "h", "ivan")
	revoked(t, b, tok)
	clock.Advance(staleness)
	if _, err := b.Revoked(context.Background(), tok); !errors.Is(err, cookie.ErrChangesLost) {
		t.Fatalf("Revoked over a broken log returned %v, want an error wrapping ErrChangesLost", err)
	}
	if n := b.Stats().Flushes; n != 1 {
		t.Fatalf("%d flushes in one sync, want 1", n)
	}
}

// countingStore counts the calls a SharedRevocation makes to its store
// on behalf of a request: those whose context carries onRequest.
type countingStore struct {
	cookie.RevocationStore
	calls atomic.Int64
}

type onRequest struct{}

func (c *countingStore) count(ctx context.Context) {
	if ctx.Value(onRequest{}) != nil {
		c.calls.Add(1)
	}
}

func (c *countingStore) Lookup(ctx context.Context, keys []string) ([]cookie.RevocationEntry, error) {
	c.count(ctx)
	return c.RevocationStore.Lookup(ctx, keys)
}

func (c *countingStore) Changes(ctx context.Context, since uint64) ([]cookie.RevocationEntry, uint64, error) {
	c.count(ctx)
	return c.RevocationStore.Changes(ctx, since)
}

// With the background refresh a request finds the state fresh and makes
// no round trip, and a revocation made elsewhere reaches it all the same.
// After Close (twice: it is idempotent) the request path syncs instead.
func TestSharedBackgroundRefreshKeepsRequestsOffTheStore(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	a := instance(t, m, clock)
	cs := &countingStore{RevocationStore: m}
	b, err := cookie.NewSharedRevocation(cs, cookie.SharedRevocationOptions{RefreshInterval: time.Millisecond, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	req := context.WithValue(context.Background(), onRequest{}, true)
	ask := func(tok cookie.Token) bool {
		t.Helper()
		r, err := b.Revoked(req, tok)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tok := tokenOf(clock, "bg", "judy")
	ask(tok)
	if err := a.RevokeSession(context.Background(), tok.Handle, cookie.AllTokens, tok.Deadline); err != nil {
		t.Fatal(err)
	}
	clock.Advance(staleness)
	// Wait for the goroutine's first sync on the advanced clock.
	for want := clock.Now(); b.Stats().LastSync.Before(want); {
		time.Sleep(time.Millisecond)
	}
	calls := cs.calls.Load()
	if !ask(tok) {
		t.Fatal("the background sync did not bring the revocation")
	}
	if n := cs.calls.Load() - calls; n != 0 {
		t.Fatalf("with fresh state the request made %d calls to the store", n)
	}
	for range 2 {
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	clock.Advance(staleness)
	if !ask(tok) {
		t.Fatal("after Close a revoked session is let in")
	}
	if cs.calls.Load() == calls {
		t.Fatal("after Close, with stale state, the request did not sync")
	}
}

// The cost of the request path for a session and user the instance
// holds, with fresh state: the steady state of a fleet.
func BenchmarkSharedRevokedHeldSession(b *testing.B) {
	clock := testclock.New()
	r := instance(b, runningStore(clock), clock)
	tok := tokenOf(clock, "0123456789abcdef0123456789abcdef", "alice@example.com")
	revoked(b, r, tok)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if refused, err := r.Revoked(ctx, tok); err != nil || refused {
			b.Fatal("wrong answer")
		}
	}
}

// A request that passed the salt's since check, then read no entry while
// a sync found the store reset and flushed, must still refuse a token
// issued before the reset: the entries it read are gone with the store,
// and only the new since can say so.
func TestSharedResetDuringARequestStillRefusesATokenIssuedBefore(t *testing.T) {
	clock := testclock.New()
	m := runningStore(clock)
	r := instance(t, m, clock)
	ctx := context.Background()
	old := tokenOf(clock, "issued-before", "hal")
	var fired bool
	m.AfterLookupRead(func([]string) {
		if fired {
			return
		}
		fired = true
		m.Reset()
		clock.Advance(staleness)
		// Another request on the same instance syncs, finds the log lost
		// and flushes, while the first one's lookup is in flight.
		if _, err := r.Revoked(ctx, tokenOf(clock, "other", "ivy")); err != nil {
			t.Errorf("the other request: %v", err)
		}
	})
	if !revoked(t, r, old) {
		t.Fatal("a token issued before the store's reset was let in by a request the reset overtook")
	}
	if !fired {
		t.Fatal("the lookup hook did not run: the check tested nothing")
	}
}

// An instance whose clock lags the one that created the store's salt
// still issues sessions that it and the others let in: their issue time
// is never before the salt's since.
func TestSessionsIssuedOnALaggingClockAreNotOlderThanTheSalt(t *testing.T) {
	ahead := testclock.New()
	lagging := testclock.New()
	lagging.Advance(-10 * time.Second)
	m := revocationtest.NewMemoryStore()
	creator := instance(t, m, ahead)
	revoked(t, creator, tokenOf(ahead, "first", "")) // its sync creates the salt
	rev := instance(t, m, lagging)
	s := newStoreWith(t, cookie.Options{Revocation: rev, Now: lagging.Now})
	now := lagging.Now()
	rec := &securesession.Record{UserID: "jo", Created: now, AuthTime: now, LastSeen: now, Deadline: now.Add(time.Hour), Expires: now.Add(time.Hour)}
	tok, err := s.Create(context.Background(), "sid", rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Find(context.Background(), "sid", tok); err != nil || !found {
		t.Fatalf("Find of a session issued on the lagging instance: found %v, %v", found, err)
	}
}

// bothChecked is a Revocation whose Revoked waits until two calls have
// made it: two Rotates of one token then both pass the check that it was
// not revoked before either revokes it, the race a server-side backend
// settles with one winner.
type bothChecked struct {
	cookie.Revocation
	arrived atomic.Int32
	both    chan struct{}
}

func (b *bothChecked) Revoked(ctx context.Context, tok cookie.Token) (bool, error) {
	revoked, err := b.Revocation.Revoked(ctx, tok)
	if b.arrived.Add(1) == 2 {
		close(b.both)
	}
	<-b.both
	return revoked, err
}

// Two requests that rotate one cookie at once: exactly one rotation
// succeeds and the other gets ErrNoRecord, with an in-process and with a
// shared revocation, so a thief racing the owner's rotation is not left
// holding a second live token of the session.
func TestConcurrentRotationsOfOneTokenHaveOneWinner(t *testing.T) {
	for name, rev := range map[string]func(*testclock.Clock) cookie.Revocation{
		"memory": func(*testclock.Clock) cookie.Revocation { return cookie.NewMemoryRevocation(0) },
		"shared": func(c *testclock.Clock) cookie.Revocation { return instance(t, runningStore(c), c) },
	} {
		t.Run(name, func(t *testing.T) {
			clock := testclock.New()
			now := clock.Now()
			// Create checks nothing; the two Rotates meet in Revoked.
			s := newStoreWith(t, cookie.Options{Now: clock.Now, Revocation: &bothChecked{Revocation: rev(clock), both: make(chan struct{})}})
			rec := func() *securesession.Record {
				return &securesession.Record{UserID: "kim", Created: now, AuthTime: now, LastSeen: now, Deadline: now.Add(time.Hour), Expires: now.Add(time.Hour)}
			}
			tok, err := s.Create(context.Background(), "sid", rec())
			if err != nil {
				t.Fatal(err)
			}
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { _, errs[i] = s.Rotate(context.Background(), "sid", tok, rec()) })
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, securesession.ErrNoRecord):
					t.Fatalf("the losing rotation: %v, want ErrNoRecord", err)
				}
			}
			if won != 1 {
				t.Fatalf("%d of 2 concurrent rotations of one token succeeded, want 1", won)
			}
		})
	}
}

// zeroNext is a MemoryStore whose Changes, when it reports the log lost,
// gives 0 to start again from (as the GORM store does for an emptied
// table), and whose hooks run inside Salt and inside the Changes that
// reads the current position, as another instance's writes would land
// meanwhile. Each hook runs once.
type zeroNext struct {
	*revocationtest.MemoryStore
	mu                 sync.Mutex
	onSalt, onPosition func()
	putting            chan struct{} // closed by the first Put, if not nil
	failPosition       bool          // the next Changes(0) fails, as a store gone down
}

func (z *zeroNext) Put(ctx context.Context, entries ...cookie.RevocationEntry) error {
	z.mu.Lock()
	if z.putting != nil {
		close(z.putting)
		z.putting = nil
	}
	z.mu.Unlock()
	return z.MemoryStore.Put(ctx, entries...)
}

func (z *zeroNext) take(f *func()) func() {
	z.mu.Lock()
	defer z.mu.Unlock()
	h := *f
	*f = nil
	return h
}

func (z *zeroNext) Salt(ctx context.Context, now time.Time) ([]byte, time.Time, error) {
	if h := z.take(&z.onSalt); h != nil {
		h()
	}
	return z.MemoryStore.Salt(ctx, now)
}

func (z *zeroNext) Changes(ctx context.Context, since uint64) ([]cookie.RevocationEntry, uint64, error) {
	if since == 0 {
		if h := z.take(&z.onPosition); h != nil {
			h()
		}
		z.mu.Lock()
		fail := z.failPosition
		z.failPosition = false
		z.mu.Unlock()
		if fail {
			return nil, 0, errors.New("the store went down")
		}
	}
	entries, next, err := z.MemoryStore.Changes(ctx, since)
	if errors.Is(err, cookie.ErrChangesLost) {
		next = 0
	}
	return entries, next, err
}

// newResetPair returns two instances over one running store, A through a
// zeroNext with opts (and the clock), B refreshed on its requests, and a
// session k issued after any salt a reset of the store will create, which
// neither refuses yet.
func newResetPair(t *testing.T, opts cookie.SharedRevocationOptions) (*testclock.Clock, *revocationtest.MemoryStore, *zeroNext, *cookie.SharedRevocation, *cookie.SharedRevocation, cookie.Token) {
	t.Helper()
	clock := testclock.New()
	m := runningStore(clock)
	z := &zeroNext{MemoryStore: m}
	opts.Now = clock.Now
	a, b := newShared(t, z, opts), instance(t, m, clock)
	k := cookie.Token{Handle: "k", Issued: clock.Now().Add(time.Minute), Deadline: clock.Now().Add(time.Hour)}
	if revoked(t, a, k) || revoked(t, b, k) {
		t.Fatal("refused before any revocation")
	}
	return clock, m, z, a, b, k
}

// After a reset, with a store that gives no position to start again from,
// the position is read before the new salt lets a request look a key up
// under it: a logout elsewhere between such a lookup and the position
// would otherwise never reach this instance.
func TestSharedFlushReadsThePositionBeforeLookupsUseTheNewSalt(t *testing.T) {
	// A syncs in the background and its state stays fresh meanwhile, so
	// requests go on during its sync; B syncs on its requests.
	clock, m, z, a, b, k := newResetPair(t, cookie.SharedRevocationOptions{MaxStaleness: time.Hour, RefreshInterval: time.Millisecond})
	ctx := context.Background()
	done := make(chan error, 1)
	z.mu.Lock()
	z.onPosition = func() {
		// A request on A looks k up while A's sync reads the position,
		// then B logs k out under the new salt.
		if _, err := a.Revoked(ctx, k); err != nil {
			done <- err
			return
		}
		clock.Advance(staleness)
		if _, err := b.Revoked(ctx, tokenOf(clock, "sync-b", "")); err != nil {
			done <- err
			return
		}
		done <- b.RevokeSession(ctx, k.Handle, cookie.AllTokens, k.Deadline)
	}
	z.mu.Unlock()
	m.Reset()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitForFlush(t, a)
	if !revoked(t, a, k) {
		t.Fatal("A lets in the session B logged out while A's sync read the position")
	}
}

// waitForFlush waits until r's sync has flushed once.
func waitForFlush(t *testing.T, r *cookie.SharedRevocation) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for r.Stats().Flushes == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no flush within a minute")
		}
		runtime.Gosched()
	}
}

// A logout on an instance while its sync flushes after a reset either
// fails (the caller tries again) or is written under the new salt, where
// the other instances find it: never written under the old salt, which
// names nothing in the store any more.
func TestSharedLogoutDuringAFlushIsNeverWrittenUnderTheOldSalt(t *testing.T) {
	clock, m, z, a, b, k := newResetPair(t, cookie.SharedRevocationOptions{RefreshInterval: -1})
	ctx := context.Background()
	logout := make(chan error, 1)
	putting := make(chan struct{})
	z.mu.Lock()
	z.putting = putting
	z.onSalt = func() {
		// The logout starts while A's flush reads the new salt. Without
		// the flush holding puts off it reaches the store at once, with
		// the old salt; with it, it waits for the flush to end, and this
		// bounded wait only delays the flush.
		go func() { logout <- a.RevokeSession(ctx, k.Handle, cookie.AllTokens, k.Deadline) }()
		select {
		case <-putting:
		case <-time.After(200 * time.Millisecond):
		}
	}
	z.mu.Unlock()
	m.Reset()
	clock.Advance(staleness)
	revoked(t, a, tokenOf(clock, "sync-a", "")) // A syncs and flushes
	err := <-logout
	if revoked(t, b, k) {
		return // written under the new salt
	}
	if err == nil {
		t.Fatal("the logout made during A's flush succeeded, and B, on the new salt, lets the session in")
	}
}

// A flush that installed the new salt but could not read the position
// leaves the state stale, and the sync that reads it later forgets what
// requests already past their freshness check looked up meanwhile: a
// logout elsewhere between such a lookup and that read would otherwise
// never reach this instance.
func TestSharedFlushWithoutAPositionForgetsTheLookupsMadeBeforeIt(t *testing.T) {
	clock, m, z, a, b, k := newResetPair(t, cookie.SharedRevocationOptions{RefreshInterval: -1})
	ctx := context.Background()
	m.Reset()
	z.mu.Lock()
	z.failPosition = true
	z.mu.Unlock()
	clock.Advance(staleness)
	if _, err := a.Revoked(ctx, tokenOf(clock, "sync-a", "")); err == nil {
		t.Fatal("a sync whose position read failed answered a request")
	}
	if a.Stats().Flushes != 1 {
		t.Fatalf("Flushes = %d, want the one whose position read failed", a.Stats().Flushes)
	}
	if err := cookie.SharedLookUpSession(a, k.Handle); err != nil {
		t.Fatal(err)
	}
	revoked(t, b, tokenOf(clock, "sync-b", "")) // B syncs onto the new salt
	if err := b.RevokeSession(ctx, k.Handle, cookie.AllTokens, k.Deadline); err != nil {
		t.Fatal(err)
	}
	if !revoked(t, a, k) {
		t.Fatal("A lets in the session B logged out after A's lookup and before A read the position")
	}
}
