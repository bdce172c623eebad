// Package revocationtest holds the shared test suites of
// cookie.RevocationStore implementations, and MemoryStore, an in-process
// store for tests. A store runs all of them in a few lines:
//
//	func TestRevocationStore(t *testing.T) {
//		revocationtest.Run(t, newStore)
//		revocationtest.RunFleet(t, newStore)
//		revocationtest.RunFleetOutage(t, newStore, revocationtest.Outage{Down: stopServer, Up: startServer})
//	}
//
// where newStore starts a fresh shared store for one test and returns a
// Connect that opens a new client onto it. Run checks the store's
// contract directly (merging, atomic concurrent writes, the change log and
// its paging, the lookup-then-follow invariant, the salt). RunFleet runs
// three instances of an application, each with its own cookie.Store and
// cookie.SharedRevocation over its own client, behind real HTTP, and
// checks that a logout, a LogoutEverywhere, a LogoutOthers and a rotation
// on one instance refuse the replayed cookies on the others within
// MaxStaleness. RunFleetOutage checks that an unreachable store gets a
// logged-in request a 503, never a silent logout, and that service comes
// back by itself.
package revocationtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/backends/cookie"
)

// Connect opens a new client onto one shared store: every client of one
// Connect sees the same entries, as the instances of a fleet do.
type Connect func() cookie.RevocationStore

// Factory starts a fresh, empty shared store for one test and returns how
// to connect to it. It should register any cleanup with t.Cleanup.
type Factory func(t *testing.T) Connect

type storeCheck struct {
	name string
	fn   func(t *testing.T, connect Connect)
}

var storeChecks = []storeCheck{
	{"SaltIsSharedAndStable", testSaltIsSharedAndStable},
	{"LookupLeavesOutAbsentKeys", testLookupLeavesOutAbsentKeys},
	{"PutMergesSessionEntries", testPutMergesSessionEntries},
	{"PutMergesUserEntries", testPutMergesUserEntries},
	{"PutOfSeveralEntries", testPutOfSeveralEntries},
	{"TimesKeepNanoseconds", testTimesKeepNanoseconds},
	{"LongestKey", testLongestKey},
	{"MalformedKeysAreRefused", testMalformedKeysAreRefused},
	{"ConcurrentPutsOfOneKeyLoseNothing", testConcurrentPutsLoseNothing},
	{"ClaimedGenerationIsTakenOnce", testClaimedGenerationIsTakenOnce},
	{"ChangesZeroIsThePositionOnly", testChangesZeroIsThePositionOnly},
	{"ChangesReturnTheMergedEntry", testChangesReturnTheMergedEntry},
	{"ChangesPageUntilEmpty", testChangesPageUntilEmpty},
	{"WritesOfOneClientReachAnother", testWritesReachAnotherClient},
	{"LookupThenFollowMissesNoWrite", testLookupThenFollowMissesNoWrite},
}

// Run checks the RevocationStore contract against stores made by fresh.
func Run(t *testing.T, fresh Factory) {
	t.Helper()
	for _, c := range storeChecks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, fresh(t)) })
	}
}

var ctx = context.Background()

// randomKey returns a key of kind ('s' or 'u') shaped as a
// SharedRevocation's: kind then 32 base64url characters.
func randomKey(kind byte) string {
	b := make([]byte, 24)
	rand.Read(b)
	return string(kind) + base64.RawURLEncoding.EncodeToString(b)
}

// base is a time with nanoseconds, in UTC, as the cookie store stamps. It
// is an hour after the suite starts, so that a store on the real clock
// (memcached expires items at their Until) keeps every entry the checks
// write, whatever the day they run.
var base = time.Now().UTC().Truncate(time.Second).Add(time.Hour + 123456789)

func put(t *testing.T, s cookie.RevocationStore, e ...cookie.RevocationEntry) {
	t.Helper()
	if err := s.Put(ctx, e...); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func lookup(t *testing.T, s cookie.RevocationStore, keys ...string) map[string]cookie.RevocationEntry {
	t.Helper()
	got, err := s.Lookup(ctx, keys)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	m := make(map[string]cookie.RevocationEntry)
	for _, e := range got {
		if _, dup := m[e.Key]; dup {
			t.Fatalf("Lookup returned key %q twice", e.Key)
		}
		m[e.Key] = e
	}
	for k := range m {
		found := false
		for _, want := range keys {
			found = found || k == want
		}
		if !found {
			t.Fatalf("Lookup returned key %q, which was not asked for", k)
		}
	}
	return m
}

func lookupOne(t *testing.T, s cookie.RevocationStore, key string) cookie.RevocationEntry {
	t.Helper()
	e, ok := lookup(t, s, key)[key]
	if !ok {
		t.Fatalf("Lookup(%q): no entry after a Put", key)
	}
	return e
}

// same compares two entries as the SharedRevocation reads them: Before
// and Keep only for user entries, times to the nanosecond.
func same(got, want cookie.RevocationEntry) error {
	if got.Key != want.Key || got.Below != want.Below || !got.Until.Equal(want.Until) {
		return fmt.Errorf("got {Key %q Below %d Until %v}, want {Key %q Below %d Until %v}",
			got.Key, got.Below, got.Until, want.Key, want.Below, want.Until)
	}
	if want.Key[0] == 'u' && (!got.Before.Equal(want.Before) || got.Keep != want.Keep) {
		return fmt.Errorf("%q: got {Before %v Keep %q}, want {Before %v Keep %q}", want.Key, got.Before, got.Keep, want.Before, want.Keep)
	}
	return nil
}

func wantEntry(t *testing.T, got, want cookie.RevocationEntry) {
	t.Helper()
	if err := same(got, want); err != nil {
		t.Fatal(err)
	}
}

// follow reads the change log from since until no entry comes back and
// returns the entries and the last position.
func follow(t *testing.T, s cookie.RevocationStore, since uint64) ([]cookie.RevocationEntry, uint64) {
	t.Helper()
	var all []cookie.RevocationEntry
	for range 100_000 {
		got, next, err := s.Changes(ctx, since)
		if err != nil {
			t.Fatalf("Changes(%d): %v", since, err)
		}
		if len(got) == 0 {
			return all, since
		}
		if next <= since {
			t.Fatalf("Changes(%d) returned %d entries and next %d, not after it", since, len(got), next)
		}
		all = append(all, got...)
		since = next
	}
	t.Fatal("Changes never ran out of entries")
	return nil, 0
}

func position(t *testing.T, s cookie.RevocationStore) uint64 {
	t.Helper()
	got, next, err := s.Changes(ctx, 0)
	if err != nil {
		t.Fatalf("Changes(0): %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("Changes(0) returned %d entries, want the position only", len(got))
	}
	if next == 0 {
		t.Fatal("Changes(0) returned position 0, which asks for the position again")
	}
	return next
}

// The salt and its since are created by the first Salt, with since the
// time that call passed, to the nanosecond; every later call, on any
// client and whatever time it passes, returns both unchanged.
func testSaltIsSharedAndStable(t *testing.T, connect Connect) {
	a, b := connect(), connect()
	created := base.Add(-time.Hour + 987654321)
	sa, since, err := a.Salt(ctx, created)
	if err != nil {
		t.Fatal(err)
	}
	if len(sa) < 16 {
		t.Fatalf("salt of %d bytes, want at least 16", len(sa))
	}
	if !since.Equal(created) {
		t.Fatalf("since of a new salt = %v, want the time its Salt call passed, %v", since, created)
	}
	put(t, a, cookie.RevocationEntry{Key: randomKey('s'), Below: 1, Until: base})
	for i, s := range []cookie.RevocationStore{a, b, connect()} {
		got, gotSince, err := s.Salt(ctx, base.Add(time.Duration(i+1)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(sa) {
			t.Fatalf("client %d reads another salt than the first", i)
		}
		if !gotSince.Equal(created) {
			t.Fatalf("client %d reads since %v, want %v", i, gotSince, created)
		}
	}
}

func testLookupLeavesOutAbsentKeys(t *testing.T, connect Connect) {
	s := connect()
	if got := lookup(t, s); len(got) != 0 {
		t.Fatalf("Lookup of no keys returned %d entries", len(got))
	}
	present, absent := randomKey('s'), randomKey('u')
	put(t, s, cookie.RevocationEntry{Key: present, Below: 2, Until: base})
	got := lookup(t, s, absent, present, randomKey('s'))
	if len(got) != 1 {
		t.Fatalf("Lookup of one present and two absent keys returned %d entries", len(got))
	}
	wantEntry(t, got[present], cookie.RevocationEntry{Key: present, Below: 2, Until: base})
}

func testPutMergesSessionEntries(t *testing.T, connect Connect) {
	s := connect()
	k := randomKey('s')
	put(t, s, cookie.RevocationEntry{Key: k, Below: 3, Until: base.Add(time.Hour)})
	put(t, s, cookie.RevocationEntry{Key: k, Below: 2, Until: base})
	wantEntry(t, lookupOne(t, s, k), cookie.RevocationEntry{Key: k, Below: 3, Until: base.Add(time.Hour)})
	put(t, s, cookie.RevocationEntry{Key: k, Below: cookie.AllTokens, Until: base.Add(2 * time.Hour)})
	wantEntry(t, lookupOne(t, s, k), cookie.RevocationEntry{Key: k, Below: cookie.AllTokens, Until: base.Add(2 * time.Hour)})
	put(t, s, cookie.RevocationEntry{Key: k, Below: 5, Until: base})
	wantEntry(t, lookupOne(t, s, k), cookie.RevocationEntry{Key: k, Below: cookie.AllTokens, Until: base.Add(2 * time.Hour)})
}

func testPutMergesUserEntries(t *testing.T, connect Connect) {
	s := connect()
	k := randomKey('u')
	k1, k2, k3 := randomKey('s'), randomKey('s'), randomKey('s')
	writes := []cookie.RevocationEntry{
		{Key: k, Before: base, Keep: k1, Until: base.Add(12 * time.Hour)},
		{Key: k, Before: base.Add(-time.Minute), Keep: k2, Until: base.Add(time.Hour)},      // older: ignored but Until
		{Key: k, Before: base.Add(time.Second), Keep: k3, Until: base.Add(time.Hour)},       // newer: replaces Before and Keep
		{Key: k, Before: base.Add(time.Second), Keep: k1, Until: base.Add(13 * time.Hour)},  // tie, other Keep: keeps none
		{Key: k, Before: base.Add(time.Second), Keep: k2, Until: base.Add(-13 * time.Hour)}, // tie again: still none
	}
	var want cookie.RevocationEntry
	for i, w := range writes {
		put(t, s, w)
		if i == 0 {
			want = w
		} else {
			want = want.Merge(w)
		}
		if err := same(lookupOne(t, s, k), want); err != nil {
			t.Fatalf("after write %d: %v", i, err)
		}
	}
	if want.Keep != "" || !want.Until.Equal(base.Add(13*time.Hour)) {
		t.Fatalf("the suite's own expectation is wrong: %+v", want)
	}
}

func testPutOfSeveralEntries(t *testing.T, connect Connect) {
	s := connect()
	sk, uk := randomKey('s'), randomKey('u')
	put(t, s,
		cookie.RevocationEntry{Key: sk, Below: 1, Until: base},
		cookie.RevocationEntry{Key: uk, Before: base, Until: base.Add(time.Hour)},
		cookie.RevocationEntry{Key: sk, Below: 4, Until: base.Add(-time.Hour)},
	)
	got := lookup(t, s, sk, uk)
	wantEntry(t, got[sk], cookie.RevocationEntry{Key: sk, Below: 4, Until: base})
	wantEntry(t, got[uk], cookie.RevocationEntry{Key: uk, Before: base, Until: base.Add(time.Hour)})
}

// A user entry refuses the sessions issued at or before Before: a store
// that rounds it to microseconds lets in a session issued in the same
// microsecond before the logout.
func testTimesKeepNanoseconds(t *testing.T, connect Connect) {
	s := connect()
	k := randomKey('u')
	before := base.Add(987 * time.Nanosecond)
	until := base.Add(time.Hour + time.Nanosecond)
	put(t, s, cookie.RevocationEntry{Key: k, Before: before, Until: until})
	got := lookupOne(t, s, k)
	if !got.Before.Equal(before) || !got.Until.Equal(until) {
		t.Fatalf("stored Before %v Until %v, read back %v and %v", before, until, got.Before, got.Until)
	}
	// Far future deadlines and the zero time survive too.
	far := time.Date(2262, 1, 1, 0, 0, 0, 1, time.UTC)
	sk := randomKey('s')
	put(t, s, cookie.RevocationEntry{Key: sk, Below: 1, Until: far})
	if got := lookupOne(t, s, sk); !got.Until.Equal(far) {
		t.Fatalf("Until %v read back as %v", far, got.Until)
	}
}

func testLongestKey(t *testing.T, connect Connect) {
	s := connect()
	b := make([]byte, 47)
	rand.Read(b)
	k := "u" + base64.RawURLEncoding.EncodeToString(b)[:63]
	keep := "s" + base64.RawURLEncoding.EncodeToString(b)[:63]
	put(t, s, cookie.RevocationEntry{Key: k, Before: base, Keep: keep, Until: base})
	wantEntry(t, lookupOne(t, s, k), cookie.RevocationEntry{Key: k, Before: base, Keep: keep, Until: base})
}

// A Put whose Key or Keep, or a Lookup whose key, is not shaped as a
// SharedRevocation makes them (ValidRevocationKey, ValidRevocationKeep)
// fails, and stores nothing.
func testMalformedKeysAreRefused(t *testing.T, connect Connect) {
	s := connect()
	good, keep := randomKey('u'), randomKey('s')
	long := "u" + strings.Repeat("A", cookie.MaxRevocationKeyLen)
	for name, e := range map[string]cookie.RevocationEntry{
		"key without a kind":  {Key: "xAAAA", Below: 1, Until: base},
		"key not base64url":   {Key: "sAA/A", Below: 1, Until: base},
		"key too long":        {Key: long, Below: 1, Until: base},
		"keep of a user":      {Key: good, Before: base, Keep: randomKey('u'), Until: base},
		"keep not base64url":  {Key: good, Before: base, Keep: "s a b", Until: base},
		"keep too long":       {Key: good, Before: base, Keep: "s" + long[1:], Until: base},
		"keep without a kind": {Key: good, Before: base, Keep: "A" + keep[2:], Until: base},
	} {
		if err := s.Put(ctx, e); err == nil {
			t.Errorf("Put of an entry with a %s succeeded", name)
		}
	}
	if got, err := s.Lookup(ctx, []string{good}); err != nil || len(got) != 0 {
		t.Fatalf("after refused Puts, Lookup of the key = %v, %v; want nothing stored", got, err)
	}
	for _, k := range []string{"", "s", "xAAAA", "sAA/A", long} {
		if _, err := s.Lookup(ctx, []string{good, k}); err == nil {
			t.Errorf("Lookup of the malformed key %q succeeded", k)
		}
	}
}

// Several clients write one key at once, each a different Below, Before
// and Until: the stored entry is the merge of them all, and so is the
// last entry the log reports for the key.
func testConcurrentPutsLoseNothing(t *testing.T, connect Connect) {
	const clients, writes = 4, 25
	sk, uk := randomKey('s'), randomKey('u')
	start := position(t, connect())
	keeps := make([]string, clients*writes)
	for i := range keeps {
		keeps[i] = randomKey('s')
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		s := connect()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range writes {
				n := c*writes + w
				err := s.Put(ctx,
					cookie.RevocationEntry{Key: sk, Below: uint64(n + 1), Until: base.Add(time.Duration(n) * time.Second)},
				)
				if err == nil {
					err = s.Put(ctx, cookie.RevocationEntry{Key: uk, Before: base.Add(time.Duration(n) * time.Millisecond), Keep: keeps[n], Until: base.Add(-time.Duration(n) * time.Second)})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last := clients*writes - 1
	wantS := cookie.RevocationEntry{Key: sk, Below: uint64(last + 1), Until: base.Add(time.Duration(last) * time.Second)}
	wantU := cookie.RevocationEntry{Key: uk, Before: base.Add(time.Duration(last) * time.Millisecond), Keep: keeps[last], Until: base}
	got := lookup(t, connect(), sk, uk)
	wantEntry(t, got[sk], wantS)
	wantEntry(t, got[uk], wantU)
	entries, _ := follow(t, connect(), start)
	var ls, lu cookie.RevocationEntry
	for _, e := range entries {
		switch e.Key {
		case sk:
			ls = e
		case uk:
			lu = e
		}
	}
	if ls.Key == "" || lu.Key == "" {
		t.Fatal("the log does not report the concurrent writes")
	}
	wantEntry(t, ls, wantS)
	wantEntry(t, lu, wantU)
}

func testChangesZeroIsThePositionOnly(t *testing.T, connect Connect) {
	s := connect()
	put(t, s, cookie.RevocationEntry{Key: randomKey('s'), Below: 1, Until: base})
	p := position(t, s)
	if got, _ := follow(t, s, p); len(got) != 0 {
		t.Fatalf("from the current position the log reports %d old entries", len(got))
	}
	k := randomKey('s')
	put(t, s, cookie.RevocationEntry{Key: k, Below: 7, Until: base})
	got, _ := follow(t, s, p)
	if len(got) != 1 {
		t.Fatalf("after one Put the log reports %d entries, want 1", len(got))
	}
	wantEntry(t, got[0], cookie.RevocationEntry{Key: k, Below: 7, Until: base})
	if p2 := position(t, s); p2 <= p {
		t.Fatalf("position %d after a Put is not after %d", p2, p)
	}
}

func testChangesReturnTheMergedEntry(t *testing.T, connect Connect) {
	s := connect()
	k := randomKey('s')
	put(t, s, cookie.RevocationEntry{Key: k, Below: 5, Until: base.Add(time.Hour)})
	p := position(t, s)
	put(t, s, cookie.RevocationEntry{Key: k, Below: 3, Until: base})
	got, _ := follow(t, s, p)
	if len(got) == 0 {
		t.Fatal("a Put that changed nothing is not in the log; it must be, merged")
	}
	wantEntry(t, got[len(got)-1], cookie.RevocationEntry{Key: k, Below: 5, Until: base.Add(time.Hour)})
}

func testChangesPageUntilEmpty(t *testing.T, connect Connect) {
	s := connect()
	p := position(t, s)
	const n = 1000
	want := make(map[string]bool, n)
	batch := make([]cookie.RevocationEntry, 0, 50)
	for i := range n {
		k := randomKey('s')
		want[k] = true
		batch = append(batch, cookie.RevocationEntry{Key: k, Below: uint64(i + 1), Until: base})
		if len(batch) == cap(batch) {
			put(t, s, batch...)
			batch = batch[:0]
		}
	}
	got, end := follow(t, connect(), p)
	seen := make(map[string]bool, n)
	for _, e := range got {
		if !want[e.Key] {
			t.Fatalf("the log reports key %q, never written", e.Key)
		}
		seen[e.Key] = true
	}
	if len(seen) != n {
		t.Fatalf("following the log from before %d writes reports %d of them", n, len(seen))
	}
	if more, _ := follow(t, s, end); len(more) != 0 {
		t.Fatalf("after the end the log reports %d more entries", len(more))
	}
	// Entries in log order: one key written twice is reported last as the
	// merge of both.
	k := randomKey('s')
	put(t, s, cookie.RevocationEntry{Key: k, Below: 1, Until: base})
	put(t, s, cookie.RevocationEntry{Key: k, Below: 9, Until: base})
	got, _ = follow(t, s, end)
	if len(got) == 0 || got[len(got)-1].Below != 9 {
		t.Fatalf("the log's last entry for a key written twice is %+v, want Below 9", got)
	}
}

func testWritesReachAnotherClient(t *testing.T, connect Connect) {
	a, b := connect(), connect()
	p := position(t, b)
	k := randomKey('u')
	put(t, a, cookie.RevocationEntry{Key: k, Before: base, Until: base.Add(time.Hour)})
	wantEntry(t, lookupOne(t, b, k), cookie.RevocationEntry{Key: k, Before: base, Until: base.Add(time.Hour)})
	got, _ := follow(t, b, p)
	if len(got) != 1 || got[0].Key != k {
		t.Fatalf("another client's log reports %+v, want the one Put", got)
	}
}

// Readers that take a position, look a key up and then follow the log
// from that position, while writers keep writing the key, end with the
// key's final entry: a write the Lookup missed is in the log after the
// position.
func testLookupThenFollowMissesNoWrite(t *testing.T, connect Connect) {
	const writers, writes, readers = 3, 40, 6
	k := randomKey('s')
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	stop := make(chan struct{})
	for w := range writers {
		s := connect()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range writes {
				if err := s.Put(ctx, cookie.RevocationEntry{Key: k, Below: uint64(w*writes + i + 1), Until: base}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	type view struct {
		s     cookie.RevocationStore
		pos   uint64
		state cookie.RevocationEntry
	}
	views := make([]*view, readers)
	var rg sync.WaitGroup
	for i := range views {
		v := &view{s: connect()}
		views[i] = v
		rg.Add(1)
		go func() {
			defer rg.Done()
			_, next, err := v.s.Changes(ctx, 0)
			if err != nil {
				errs <- err
				return
			}
			v.pos = next
			got, err := v.s.Lookup(ctx, []string{k})
			if err != nil {
				errs <- err
				return
			}
			v.state = cookie.RevocationEntry{Key: k}
			for _, e := range got {
				v.state = v.state.Merge(e)
			}
			<-stop
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	final := lookupOne(t, connect(), k)
	for i, v := range views {
		entries, _ := follow(t, v.s, v.pos)
		for _, e := range entries {
			if e.Key == k {
				v.state = v.state.Merge(e)
			}
		}
		if v.state.Below != final.Below {
			t.Fatalf("reader %d: looked up, then followed the log, and ends with Below %d; the store holds %d", i, v.state.Below, final.Below)
		}
	}
	if final.Below != writers*writes {
		t.Fatalf("the store holds Below %d after writes up to %d", final.Below, writers*writes)
	}
}

// A claimed session entry (a rotation) is written only over a stored
// Below under its own: of several clients claiming one generation at
// once exactly one succeeds and the others get ErrSuperseded, and a
// logout (AllTokens) or a later generation refuses every claim below it.
// What is stored never says Claim.
func testClaimedGenerationIsTakenOnce(t *testing.T, connect Connect) {
	k := randomKey('s')
	claim := func(s cookie.RevocationStore, below uint64) error {
		return s.Put(ctx, cookie.RevocationEntry{Key: k, Below: below, Until: base, Claim: true})
	}
	const clients = 8
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		s := connect()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = claim(s, 3)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, cookie.ErrSuperseded):
			t.Fatalf("claim %d of generation 3: %v, want nil or ErrSuperseded", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent claims of one generation succeeded, want exactly 1", won, clients)
	}
	s := connect()
	for _, below := range []uint64{2, 3} {
		if err := claim(s, below); !errors.Is(err, cookie.ErrSuperseded) {
			t.Fatalf("claim of generation %d over a stored 3: %v, want ErrSuperseded", below, err)
		}
	}
	if err := claim(s, 4); err != nil {
		t.Fatalf("claim of generation 4 over a stored 3: %v", err)
	}
	got := lookup(t, s, k)[k]
	if got.Below != 4 || got.Claim {
		t.Fatalf("stored entry after the claims: Below %d, Claim %v; want 4, false", got.Below, got.Claim)
	}
	put(t, s, cookie.RevocationEntry{Key: k, Below: cookie.AllTokens, Until: base})
	if err := claim(s, 5); !errors.Is(err, cookie.ErrSuperseded) {
		t.Fatalf("claim over a logged-out session: %v, want ErrSuperseded", err)
	}
	put(t, s, cookie.RevocationEntry{Key: k, Below: cookie.AllTokens, Until: base})
}
