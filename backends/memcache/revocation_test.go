package memcache

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	sscookie "github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/internal/testservers"
)

func newRevStore(t testing.TB, c *gomemcache.Client, opts RevocationStoreOptions) *RevocationStore {
	t.Helper()
	s, err := NewRevocationStore(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Salt(bg, time.Now()); err != nil {
		t.Fatalf("Salt: %v", err)
	}
	return s
}

// revKey returns a fresh entry key of the SharedRevocation's shape: the
// kind, then 24 hashed bytes (192 bits) in base64url.
func revKey(kind byte) string {
	b := make([]byte, 24)
	rand.Read(b)
	return string(kind) + base64.RawURLEncoding.EncodeToString(b)
}

func mustPosition(t *testing.T, s *RevocationStore) uint64 {
	t.Helper()
	_, pos, err := s.Changes(bg, 0)
	if err != nil {
		t.Fatalf("Changes(0): %v", err)
	}
	if pos == 0 {
		t.Fatal("Changes(0) returned position 0")
	}
	return pos
}

func mustPut(t *testing.T, s *RevocationStore, entries ...sscookie.RevocationEntry) {
	t.Helper()
	if err := s.Put(bg, entries...); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func sameEntries(t *testing.T, what string, got, want []sscookie.RevocationEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d: %+v", what, len(got), len(want), got)
	}
	for i := range got {
		if !sameEntry(&got[i], &want[i]) {
			t.Errorf("%s: entry %d is %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestRevocationStorePutThenLookupAndChangesReturnTheEntries(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	a := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	b := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	now := clk.Now()
	pos := mustPosition(t, b)

	sess := sscookie.RevocationEntry{Key: revKey('s'), Below: sscookie.AllTokens, Until: now.Add(time.Hour)}
	user := sscookie.RevocationEntry{Key: revKey('u'), Before: now.Add(-time.Minute), Keep: "skept-handle_1", Until: now.Add(2 * time.Hour)}
	mustPut(t, a, sess, user)

	got, err := b.Lookup(bg, []string{revKey('s'), user.Key, sess.Key})
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	sameEntries(t, "Lookup", got, []sscookie.RevocationEntry{user, sess})

	changes, next, err := b.Changes(bg, pos)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	sameEntries(t, "Changes", changes, []sscookie.RevocationEntry{sess, user})
	if next != pos+2 {
		t.Errorf("Changes returned next %d, want %d", next, pos+2)
	}
	changes, again, err := b.Changes(bg, next)
	if err != nil || len(changes) != 0 || again != next {
		t.Errorf("Changes(next) = %d entries, %d, %v; want none, %d, nil", len(changes), again, err, next)
	}

	// A later write to the key merges: the session's below only grows.
	mustPut(t, a, sscookie.RevocationEntry{Key: sess.Key, Below: 3, Until: now.Add(3 * time.Hour)})
	want := sess
	want.Until = now.Add(3 * time.Hour)
	got, err = b.Lookup(bg, []string{sess.Key})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "Lookup after a weaker write", got, []sscookie.RevocationEntry{want})
	changes, _, err = b.Changes(bg, next)
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "Changes after a weaker write", changes, []sscookie.RevocationEntry{want})
}

func TestRevocationStoreSaltIsCreatedOnceAndSharedByEveryInstance(t *testing.T) {
	m := testServer(t)
	stores := make([]*RevocationStore, 8)
	for i := range stores {
		s, err := NewRevocationStore(newClient(t, m.Addr()), RevocationStoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	salts := make([][]byte, len(stores))
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { salts[i], _, errs[i] = s.Salt(bg, time.Now()) })
	}
	wg.Wait()
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("Salt %d: %v", i, errs[i])
		}
		if len(salts[i]) != 2+8+saltLen || string(salts[i]) != string(salts[0]) {
			t.Fatalf("instance %d got another salt (%d bytes) than instance 0", i, len(salts[i]))
		}
	}
}

// TestRevocationStoreConcurrentPutsOfOneKeyLoseNoWrite has 3 clients, as 3
// instances of a fleet, make 20 writes at once to one session entry and
// one user entry: the stored entries are the merge of all 20, and the log
// holds 20 writes of each whose merge is the same.
func TestRevocationStoreConcurrentPutsOfOneKeyLoseNoWrite(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	var stores [3]*RevocationStore
	for i := range stores {
		stores[i] = newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	}
	pos := mustPosition(t, stores[0])
	now := clk.Now()
	sk, uk := revKey('s'), revKey('u')
	const writers = 20
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			errs <- stores[i%3].Put(bg,
				sscookie.RevocationEntry{Key: sk, Below: uint64(i + 1), Until: now.Add(time.Duration(writers-i) * time.Minute)},
				sscookie.RevocationEntry{Key: uk, Before: now.Add(time.Duration(i) * time.Second), Keep: "skeep" + strconv.Itoa(i), Until: now.Add(time.Hour)})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	want := []sscookie.RevocationEntry{
		{Key: uk, Before: now.Add((writers - 1) * time.Second), Keep: "skeep" + strconv.Itoa(writers-1), Until: now.Add(time.Hour)},
		{Key: sk, Below: writers, Until: now.Add(writers * time.Minute)},
	}
	got, err := stores[1].Lookup(bg, []string{uk, sk})
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "Lookup", got, want)

	var log []sscookie.RevocationEntry
	for next := pos; ; {
		batch, n, err := stores[2].Changes(bg, next)
		if err != nil {
			t.Fatalf("Changes(%d): %v", next, err)
		}
		if len(batch) == 0 {
			if n != pos+2*writers {
				t.Fatalf("log ends at %d, want %d (one position per write)", n, pos+2*writers)
			}
			break
		}
		log, next = append(log, batch...), n
	}
	merged := map[string]sscookie.RevocationEntry{}
	for _, e := range log {
		if old, ok := merged[e.Key]; ok {
			e = old.Merge(e)
		}
		merged[e.Key] = e
	}
	if len(log) != 2*writers {
		t.Fatalf("log holds %d writes, want %d", len(log), 2*writers)
	}
	sameEntries(t, "merged log", []sscookie.RevocationEntry{merged[uk], merged[sk]}, want)
}

// TestRevocationStoreChangesWaitsForALogItemInFlight: a writer that has
// taken its position but not yet written its log item is waited for, for
// logGrace, and a later write is not returned before it; after that the
// log is lost.
func TestRevocationStoreChangesWaitsForALogItemInFlight(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	w := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	r := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, r)
	now := clk.Now()

	// A writer between its incr and its set.
	if out, err := m.Command("incr " + w.seqKey + " 1"); err != nil || len(out) != 1 || out[0] != strconv.FormatUint(pos+1, 10) {
		t.Fatalf("incr: %q, %v", out, err)
	}
	later := sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: now.Add(time.Hour)}
	mustPut(t, w, later) // takes pos+2
	for range 2 {
		got, next, err := r.Changes(bg, pos)
		if err != nil || len(got) != 0 || next != pos {
			t.Fatalf("Changes with pos+1 in flight = %d entries, next %d, %v; want none, %d, nil", len(got), next, err, pos)
		}
		clk.Advance(logGrace / 2)
	}
	// The writer finishes: both are returned, in order.
	inflight := sscookie.RevocationEntry{Key: revKey('u'), Before: now, Until: now.Add(time.Hour)}
	if err := w.conn.set(&gomemcache.Item{Key: w.logKey(pos + 1), Value: logValue(pos+1, now, &inflight), Expiration: 600}); err != nil {
		t.Fatal(err)
	}
	got, next, err := r.Changes(bg, pos)
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "Changes after the late write", got, []sscookie.RevocationEntry{inflight, later})
	if next != pos+2 {
		t.Errorf("next = %d, want %d", next, pos+2)
	}

	// A writer that never finishes: waited for logGrace, then lost.
	if _, err := m.Command("incr " + w.seqKey + " 1"); err != nil {
		t.Fatal(err)
	}
	if got, n, err := r.Changes(bg, next); err != nil || len(got) != 0 || n != next {
		t.Fatalf("Changes with the newest item in flight = %d entries, next %d, %v; want none, %d, nil", len(got), n, err, next)
	}
	clk.Advance(logGrace + time.Second)
	_, n, err := r.Changes(bg, next)
	if !errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes after the grace: %v, want ErrChangesLost", err)
	}
	if n != next+1 {
		t.Errorf("ErrChangesLost came with next %d, want the counter, %d", n, next+1)
	}
}

// TestRevocationStoreChangesReportsAGapInTheMiddleAsLost: a log item that
// is gone while a later one was written longer than the grace ago cannot
// be in flight; nor can one far behind the counter.
func TestRevocationStoreChangesReportsAGapInTheMiddleAsLost(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	now := clk.Now()
	for range 3 {
		mustPut(t, s, sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: now.Add(time.Hour)})
	}
	clk.Advance(logGrace + time.Second)
	if err := s.conn.delete(s.logKey(pos + 2)); err != nil {
		t.Fatal(err)
	}
	got, next, err := s.Changes(bg, pos)
	if !errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes over a gap: %d entries, %v; want ErrChangesLost", len(got), err)
	}
	if len(got) != 0 || next != pos+3 {
		t.Errorf("ErrChangesLost came with %d entries and next %d, want none and %d", len(got), next, pos+3)
	}
	if got, n, err := s.Changes(bg, next); err != nil || len(got) != 0 || n != next {
		t.Errorf("Changes from the position given with ErrChangesLost = %d, %d, %v", len(got), n, err)
	}

	// Far behind the counter, a gap is lost at once, grace or not.
	if _, err := m.Command(fmt.Sprintf("incr %s %d", s.seqKey, logInflight+1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Changes(bg, next); !errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes over %d missing positions: %v, want ErrChangesLost", logInflight, err)
	}
}

func TestRevocationStoreLogItemsExpiredAfterRetentionAreLost(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	for range 2 {
		mustPut(t, s, sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: clk.Now().Add(time.Hour)})
	}
	// What an expiry does, without waiting for one.
	for p := pos + 1; p <= pos+2; p++ {
		if err := s.conn.delete(s.logKey(p)); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing after them tells whether they are in flight, so they are
	// waited for, for the grace only.
	clk.Advance(DefaultLogRetention)
	if got, next, err := s.Changes(bg, pos); err != nil || len(got) != 0 || next != pos {
		t.Fatalf("Changes right after the log expired = %d entries, %d, %v; want none, %d, nil", len(got), next, err, pos)
	}
	clk.Advance(logGrace + time.Second)
	if _, _, err := s.Changes(bg, pos); !errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes after the log expired: %v, want ErrChangesLost", err)
	}
}

// TestRevocationStoreRestartIsChangesLostNeverAnEmptyLog: while memcached
// is down every call is an outage; once it is back, empty, Changes says
// the log is lost (never "nothing changed"), Put and Lookup under the old
// salt are refused, and Salt gives the new salt.
func TestRevocationStoreRestartIsChangesLostNeverAnEmptyLog(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	other := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	old, _, err := s.Salt(bg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pos := mustPosition(t, s)
	e := sscookie.RevocationEntry{Key: revKey('s'), Below: sscookie.AllTokens, Until: clk.Now().Add(time.Hour)}
	mustPut(t, s, e)

	m.Stop()
	if _, _, err := s.Changes(bg, pos); err == nil || errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes while memcached is down: %v, want an outage error", err)
	}
	if err := s.Put(bg, e); err == nil {
		t.Fatal("Put while memcached is down succeeded")
	}
	if _, err := s.Lookup(bg, []string{e.Key}); err == nil {
		t.Fatal("Lookup while memcached is down succeeded")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}

	// Another instance comes first and makes a new salt.
	salt, _, err := other.Salt(bg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if string(salt) == string(old) {
		t.Fatal("the salt survived a restart")
	}
	mustPut(t, other, sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: clk.Now().Add(time.Hour)})

	_, next, err := s.Changes(bg, pos+1)
	if !errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes after the restart: %v, want ErrChangesLost", err)
	}
	if err := s.Put(bg, e); err == nil || errors.Is(err, sscookie.ErrChangesLost) {
		t.Errorf("Put under the old salt: %v, want an outage error", err)
	}
	if _, err := s.Lookup(bg, []string{e.Key}); err == nil {
		t.Error("Lookup under the old salt succeeded")
	}
	if got, _, err := s.Salt(bg, time.Now()); err != nil || string(got) != string(salt) {
		t.Fatalf("Salt after the restart: %v, want the new salt", err)
	}
	if got, n, err := s.Changes(bg, next); err != nil || len(got) != 0 || n != next {
		t.Fatalf("Changes from the position given with ErrChangesLost = %d, %d, %v", len(got), n, err)
	}
	mustPut(t, s, e)
	if got, err := other.Lookup(bg, []string{e.Key}); err != nil || len(got) != 1 {
		t.Fatalf("Lookup after the restart = %d entries, %v", len(got), err)
	}
}

// TestRevocationStoreCounterLostAloneIsChangesLost: a counter evicted
// while the salt survives restarts at a random multiple of 2^32, so an
// instance's position is never taken for a current one.
func TestRevocationStoreCounterLostAloneIsChangesLost(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	if pos < 1<<51 || pos >= 1<<52 || pos%(1<<32) != 0 {
		t.Fatalf("a new counter starts at %d, want a multiple of 2^32 in [2^51, 2^52)", pos)
	}
	mustPut(t, s, sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: clk.Now().Add(time.Hour)})
	if err := s.conn.delete(s.seqKey); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustPut(t, s, sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: clk.Now().Add(time.Hour)})
	}
	if _, _, err := s.Changes(bg, pos+1); !errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes after the counter was lost: %v, want ErrChangesLost", err)
	}
}

func TestRevocationStoreMalformedItemsAreErrorsNamingTheItem(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	e := sscookie.RevocationEntry{Key: revKey('s'), Below: 2, Until: clk.Now().Add(time.Hour)}
	mustPut(t, s, e)
	good := entryValue(&e)
	other := sscookie.RevocationEntry{Key: revKey('s'), Below: 2, Until: e.Until}
	for _, bad := range [][]byte{
		nil,
		[]byte("garbage"),
		good[:len(good)-1],
		append(good[:len(good):len(good)], 0),
		append([]byte{tagEntryValue, revVersion + 1}, good[2:]...),
		logValue(pos+1, clk.Now(), &e), // a log value in an entry item
		entryValue(&other),             // another key's entry
	} {
		if err := s.conn.set(&gomemcache.Item{Key: s.entryKey(e.Key), Value: bad, Expiration: 600}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Lookup(bg, []string{e.Key}); err == nil || !strings.Contains(err.Error(), "entry item") {
			t.Errorf("Lookup of %q: %v, want an error naming the entry item", bad, err)
		}
		if err := s.Put(bg, e); err == nil || !strings.Contains(err.Error(), "entry item") {
			t.Errorf("Put over %q: %v, want an error naming the entry item", bad, err)
		}
	}

	lv := logValue(pos+1, clk.Now(), &e)
	for _, bad := range [][]byte{[]byte("garbage"), lv[:len(lv)-2], logValue(pos+2, clk.Now(), &e), good} {
		if err := s.conn.set(&gomemcache.Item{Key: s.logKey(pos + 1), Value: bad, Expiration: 600}); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Changes(bg, pos)
		if !errors.Is(err, sscookie.ErrChangesLost) || !strings.Contains(err.Error(), "log item") {
			t.Errorf("Changes over log value %q: %v, want ErrChangesLost naming the log item", bad, err)
		}
	}

	if err := s.conn.set(&gomemcache.Item{Key: s.seqKey, Value: []byte("not a number")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Changes(bg, pos); err == nil || !strings.Contains(err.Error(), "counter item") {
		t.Errorf("Changes over a malformed counter: %v, want an error naming the counter item", err)
	}
	if err := s.conn.set(&gomemcache.Item{Key: s.saltKey, Value: []byte("short")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Salt(bg, time.Now()); err == nil || !strings.Contains(err.Error(), "salt item") {
		t.Errorf("Salt of 5 bytes: %v, want an error naming the salt item", err)
	}
}

func TestRevocationStoreEntryExpiresAtUntilAbsoluteBeyond30Days(t *testing.T) {
	m := testServer(t)
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{})
	now := time.Now()
	near := sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: now.Add(time.Hour)}
	far := sscookie.RevocationEntry{Key: revKey('u'), Before: now, Until: now.Add(60 * 24 * time.Hour)}
	pos := mustPosition(t, s)
	mustPut(t, s, near, far)
	got, err := s.Lookup(bg, []string{near.Key, far.Key})
	if err != nil {
		t.Fatal(err)
	}
	// Sent as 60 days of relative seconds, memcached would read a date in
	// 1970 and drop the item at once.
	sameEntries(t, "Lookup", got, []sscookie.RevocationEntry{near, far})
	for _, c := range []struct {
		key  string
		want time.Duration
	}{
		{s.entryKey(near.Key), time.Hour},
		{s.entryKey(far.Key), 60 * 24 * time.Hour},
		{s.logKey(pos + 1), DefaultLogRetention},
		{s.logKey(pos + 2), DefaultLogRetention},
	} {
		left := itemTTL(t, m.Command, c.key)
		if d := left - c.want; d < -5*time.Second || d > 5*time.Second {
			t.Errorf("%s expires in %v, want %v", c.key, left, c.want)
		}
	}
	for _, k := range []string{s.saltKey, s.seqKey} {
		if left := itemTTL(t, m.Command, k); left != -time.Second {
			t.Errorf("%s expires in %v, want never", k, left)
		}
	}

	// An entry whose Until has passed is not written; a zero Until is
	// refused.
	past := sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: now.Add(-time.Second)}
	mustPut(t, s, past)
	if got, err := s.Lookup(bg, []string{past.Key}); err != nil || len(got) != 0 {
		t.Errorf("Lookup of an expired entry = %d, %v; want none", len(got), err)
	}
	if err := s.Put(bg, sscookie.RevocationEntry{Key: revKey('s'), Below: 1}); err == nil || !strings.Contains(err.Error(), "RevocationEntry.Until") {
		t.Errorf("Put with a zero Until: %v, want an error naming RevocationEntry.Until", err)
	}
}

// itemTTL returns what memcached's meta get says is left of key's
// expiry, -1s for none.
func itemTTL(t *testing.T, command func(string) ([]string, error), key string) time.Duration {
	t.Helper()
	out, err := command("mg " + key + " t")
	if err != nil || len(out) != 1 {
		t.Fatalf("mg %s t: %q, %v", key, out, err)
	}
	v, ok := strings.CutPrefix(out[0], "HD t")
	n, err := strconv.Atoi(v)
	if !ok || err != nil {
		t.Fatalf("mg %s t: %q", key, out[0])
	}
	return time.Duration(n) * time.Second
}

func TestRevocationStoreRefusesBadEntriesBeforeSendingAnything(t *testing.T) {
	m := testServer(t)
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{})
	until := time.Now().Add(time.Hour)
	for _, e := range []sscookie.RevocationEntry{
		{Key: "", Until: until},
		{Key: "s", Until: until},
		{Key: "x" + revKey('s')[1:], Until: until},
		{Key: "s has spaces", Until: until},
		{Key: "s" + strings.Repeat("A", maxRevKey), Until: until},
		{Key: revKey('u'), Keep: "no spaces allowed", Until: until},
		{Key: revKey('u'), Keep: strings.Repeat("k", maxRevKey+1), Until: until},
	} {
		if err := s.Put(bg, e); err == nil || !strings.Contains(err.Error(), "RevocationEntry.") {
			t.Errorf("Put(%q, keep %q): %v, want an error naming the field", e.Key, e.Keep, err)
		}
		if e.Key != "" && !sscookie.ValidRevocationKey(e.Key) {
			if _, err := s.Lookup(bg, []string{e.Key}); err == nil {
				t.Errorf("Lookup(%q) succeeded", e.Key)
			}
		}
	}
	lines, err := m.Command("lru_crawler metadump all")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if k, ok := strings.CutPrefix(l, "key="); ok {
			k, _, _ = strings.Cut(k, " ")
			if k, _ = url.QueryUnescape(k); k != s.saltKey {
				t.Errorf("an invalid entry reached memcached: %s", k)
			}
		}
	}
}

func TestNewRevocationStoreNamesTheBadOption(t *testing.T) {
	c := gomemcache.New("127.0.0.1:1")
	for _, tc := range []struct {
		opts  RevocationStoreOptions
		field string
	}{
		{RevocationStoreOptions{Prefix: "has space"}, "RevocationStoreOptions.Prefix"},
		{RevocationStoreOptions{Prefix: strings.Repeat("p", MaxPrefixLen+1)}, "RevocationStoreOptions.Prefix"},
		{RevocationStoreOptions{LogRetention: time.Second}, "RevocationStoreOptions.LogRetention"},
		{RevocationStoreOptions{LogRetention: -time.Minute}, "RevocationStoreOptions.LogRetention"},
		{RevocationStoreOptions{BatchSize: -1}, "RevocationStoreOptions.BatchSize"},
		{RevocationStoreOptions{BatchSize: MaxBatchSize + 1}, "RevocationStoreOptions.BatchSize"},
	} {
		_, err := NewRevocationStore(c, tc.opts)
		if err == nil || !strings.HasPrefix(err.Error(), errPrefix+tc.field) {
			t.Errorf("NewRevocationStore(%+v): %v, want an error naming %s", tc.opts, err, tc.field)
		}
	}
	if _, err := NewRevocationStore(nil, RevocationStoreOptions{}); err == nil {
		t.Error("NewRevocationStore(nil) succeeded")
	}
	s, err := NewRevocationStore(c, RevocationStoreOptions{Prefix: strings.Repeat("p", MaxPrefixLen)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.entryKey(strings.Repeat("s", maxRevKey))); n > maxKeyLen {
		t.Errorf("the longest entry key is %d bytes", n)
	}
}

// TestRevocationStoreLookupSpansBatches: more keys than BatchSize go out
// in several GetMultis, and every entry comes back.
func TestRevocationStoreLookupSpansBatches(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{BatchSize: 3, Now: clk.Now})
	var keys []string
	var want []sscookie.RevocationEntry
	for i := range 8 {
		e := sscookie.RevocationEntry{Key: revKey('s'), Below: uint64(i + 1), Until: clk.Now().Add(time.Hour)}
		mustPut(t, s, e)
		keys = append(keys, e.Key, revKey('u'))
		want = append(want, e)
	}
	got, err := s.Lookup(bg, keys)
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "Lookup", got, want)
}

// TestRevocationStoreMemoryPerRevokedSession pins what RevocationStore's
// doc says: a revoked session is an entry item and a log item of 156
// bytes each, as memcached counts them, and a user's of 187.
func TestRevocationStoreMemoryPerRevokedSession(t *testing.T) {
	m := testServer(t)
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{})
	pos := mustPosition(t, s)
	until := time.Now().Add(12 * time.Hour)
	sess := sscookie.RevocationEntry{Key: revKey('s'), Below: sscookie.AllTokens, Until: until}
	user := sscookie.RevocationEntry{Key: revKey('u'), Before: time.Now(), Keep: revKey('s')[:len(revKey('s'))-1], Until: until}
	mustPut(t, s, sess)
	mustPut(t, s, user)
	for _, c := range []struct {
		what, key string
		want      int
	}{
		{"a session's entry item", s.entryKey(sess.Key), 156},
		{"a session's log item", s.logKey(pos + 1), 156},
		{"a user's entry item", s.entryKey(user.Key), 187},
		{"a user's log item", s.logKey(pos + 2), 187},
	} {
		out, err := m.Command("me " + c.key)
		if err != nil || len(out) != 1 {
			t.Fatalf("me %s: %q, %v", c.key, out, err)
		}
		size := -1
		for _, f := range strings.Fields(out[0]) {
			if v, ok := strings.CutPrefix(f, "size="); ok {
				size, _ = strconv.Atoi(v)
			}
		}
		if size != c.want {
			t.Errorf("%s takes %d bytes in memcached, RevocationStore's doc says %d", c.what, size, c.want)
		}
	}
}

// TestRevocationStorePutLogsWhatItMergedBeforeAFailure: a Put whose
// second entry fails still logs the first, which it has written, so that
// no instance holding that key misses it.
func TestRevocationStorePutLogsWhatItMergedBeforeAFailure(t *testing.T) {
	m := testServer(t)
	clk := newClock()
	s := newRevStore(t, newClient(t, m.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	good := sscookie.RevocationEntry{Key: revKey('s'), Below: 1, Until: clk.Now().Add(time.Hour)}
	bad := sscookie.RevocationEntry{Key: revKey('u'), Before: clk.Now(), Until: clk.Now().Add(time.Hour)}
	if err := s.conn.set(&gomemcache.Item{Key: s.entryKey(bad.Key), Value: []byte("garbage"), Expiration: 600}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(bg, good, bad); err == nil {
		t.Fatal("Put over a malformed entry item succeeded")
	}
	got, next, err := s.Changes(bg, pos)
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, "Changes after the failed Put", got, []sscookie.RevocationEntry{good})
	if next != pos+1 {
		t.Errorf("next = %d, want %d", next, pos+1)
	}
}

// TestRevocationStoreSaltAndCounterShareOneServer: with several servers,
// the two items every sync reads live on one, whatever the prefix, so a
// sync depends on one server.
func TestRevocationStoreSaltAndCounterShareOneServer(t *testing.T) {
	addrs := []string{"127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213", "127.0.0.1:11214", "127.0.0.1:11215"}
	c := gomemcache.New(addrs...)
	servers := map[string]bool{}
	for i := range 40 {
		s, err := NewRevocationStore(c, RevocationStoreOptions{Prefix: fmt.Sprintf("app%d:", i)})
		if err != nil {
			t.Fatal(err)
		}
		salt, seq := serverOf(t, addrs, s.saltKey), serverOf(t, addrs, s.seqKey)
		if salt != seq {
			t.Fatalf("prefix %q: the salt is on %s, the counter on %s", s.prefix, salt, seq)
		}
		servers[salt] = true
	}
	if len(servers) < 2 {
		t.Errorf("40 prefixes put their salt on %d server(s): the check proves nothing", len(servers))
	}
}

// FuzzRevocationValues: whatever bytes an item holds, parsing never
// panics, and what parses re-encodes to a value that parses to the same
// entry (varints need not be minimal, so the bytes may differ).
func FuzzRevocationValues(f *testing.F) {
	e := sscookie.RevocationEntry{Key: revKey('u'), Before: time.Now(), Keep: "skept", Until: time.Now().Add(time.Hour)}
	f.Add(entryValue(&e), uint64(7))
	f.Add(logValue(7, time.Now(), &e), uint64(7))
	f.Add([]byte("1234"), uint64(0))
	f.Add([]byte{}, uint64(1))
	f.Fuzz(func(t *testing.T, v []byte, pos uint64) {
		r := wireKey(v)
		if got, ok := parseEntryValue(v, r); ok {
			again, ok := parseEntryValue(entryValue(&got), r)
			if !ok || !sameEntry(&again, &got) {
				t.Fatalf("entry %+v parsed from %x does not survive re-encoding", got, v)
			}
		}
		if got, written, ok := parseLogValue(v, pos); ok {
			again, w, ok := parseLogValue(logValue(pos, written, &got), pos)
			if !ok || !sameEntry(&again, &got) || !w.Equal(written) {
				t.Fatalf("log entry %+v parsed from %x does not survive re-encoding", got, v)
			}
		}
		parseSeq(v)
	})
}

// wireKey is the key an entry value names, or "" when it names none, so
// that the fuzzer's entry values can parse.
func wireKey(v []byte) string {
	if len(v) < 3 {
		return ""
	}
	n := int(v[2])
	if n >= 0x80 || len(v) < 3+n {
		return ""
	}
	return string(v[3 : 3+n])
}

// TestRevocationStoreRoundTrips pins the commands each operation sends, as
// the RevocationStore doc counts them, through the proxy on the one
// server (each command is one round trip).
func TestRevocationStoreRoundTrips(t *testing.T) {
	m := testServer(t)
	p := newProxy(t, m.Addr())
	clk := newClock()
	s := newRevStore(t, newClient(t, p.Addr()), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	until := clk.Now().Add(time.Hour)
	k := revKey('s')
	for _, c := range []struct {
		op   string
		do   func() error
		want string
	}{
		{"Put of a new key", func() error { return s.Put(bg, sscookie.RevocationEntry{Key: k, Below: 1, Until: until}) }, "gets add incr set"},
		{"Put that changes a key", func() error { return s.Put(bg, sscookie.RevocationEntry{Key: k, Below: 2, Until: until}) }, "gets cas incr set"},
		{"Put that changes nothing", func() error { return s.Put(bg, sscookie.RevocationEntry{Key: k, Below: 1, Until: until}) }, "gets incr set"},
		{"Lookup", func() error { _, err := s.Lookup(bg, []string{k, revKey('u')}); return err }, "gets"},
		{"Changes with writes to read", func() error { _, _, err := s.Changes(bg, pos); return err }, "gets gets"},
		{"Changes with nothing new", func() error { _, _, err := s.Changes(bg, pos+3); return err }, "gets"},
		{"Salt", func() error { _, _, err := s.Salt(bg, time.Now()); return err }, "gets"},
	} {
		p.Take()
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		if got := strings.Join(verbs(p.Take()), " "); got != c.want {
			t.Errorf("%s sends %q, want %q", c.op, got, c.want)
		}
	}
}

// TestRevocationStoreServerDownIsAnOutageNeverAMiss: with entries spread
// over three servers, a Lookup of a key whose server is down fails; it
// never reports the key unrevoked. A down salt server fails Changes.
func TestRevocationStoreServerDownIsAnOutageNeverAMiss(t *testing.T) {
	ms := []*testservers.Memcached{testServer(t), testServer(t), testServer(t)}
	addrs := []string{ms[0].Addr(), ms[1].Addr(), ms[2].Addr()}
	clk := newClock()
	s := newRevStore(t, newClient(t, addrs...), RevocationStoreOptions{Now: clk.Now})
	pos := mustPosition(t, s)
	saltServer := serverOf(t, addrs, s.saltKey)
	var k string
	for k = revKey('s'); serverOf(t, addrs, s.entryKey(k)) == saltServer; k = revKey('s') {
	}
	mustPut(t, s, sscookie.RevocationEntry{Key: k, Below: sscookie.AllTokens, Until: clk.Now().Add(time.Hour)})
	for _, m := range ms {
		if m.Addr() == serverOf(t, addrs, s.entryKey(k)) {
			m.Stop()
		}
	}
	if got, err := s.Lookup(bg, []string{k}); err == nil {
		t.Fatalf("Lookup with the entry's server down = %d entries, no error", len(got))
	}
	for _, m := range ms {
		if m.Addr() == saltServer {
			m.Stop()
		}
	}
	if _, _, err := s.Changes(bg, pos); err == nil || errors.Is(err, sscookie.ErrChangesLost) {
		t.Fatalf("Changes with the salt's server down: %v, want an outage error", err)
	}
}

// A salt item written before the store kept the salt's since (the bare
// 32 bytes) is still this store's salt, with the zero since: an upgrade
// refuses no session as older than the store.
func TestRevocationStoreReadsABareSaltWithTheZeroSince(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	bare := bytes.Repeat([]byte{7}, 32)
	if err := c.Set(&gomemcache.Item{Key: DefaultRevocationPrefix + "salt", Value: bare}); err != nil {
		t.Fatal(err)
	}
	s, err := NewRevocationStore(c, RevocationStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	salt, since, err := s.Salt(bg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(salt, bare) || !since.IsZero() {
		t.Fatalf("Salt over a bare salt item = %x, since %v; want the item's bytes and the zero time", salt, since)
	}
	if _, err := s.Lookup(bg, []string{"s" + strings.Repeat("A", 32)}); err != nil {
		t.Fatalf("Lookup after reading the bare salt: %v", err)
	}
}

// The salt a store hashes with is the whole salt item, as a version that
// kept no since reads it: during a rolling deploy or a rollback both
// versions name every key alike, so a logout on one is refused by the
// other.
func TestRevocationStoreSaltIsTheWholeSaltItem(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s, err := NewRevocationStore(c, RevocationStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	salt, since, err := s.Salt(bg, time.Unix(1_800_000_000, 42))
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.Get(DefaultRevocationPrefix + "salt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(salt, it.Value) {
		t.Fatalf("Salt returned %d bytes; an older version hashes with the whole %d-byte item", len(salt), len(it.Value))
	}
	if !since.Equal(time.Unix(1_800_000_000, 42)) {
		t.Fatalf("since = %v", since)
	}
}
