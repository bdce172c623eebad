package gorm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	"github.com/gin-securesession/securesession/internal/testservers"
)

// sharedDB opens connection pools on one fresh database, as the
// instances of a fleet would.
type sharedDB struct {
	name string
	// fresh creates a fresh database and returns how to open a pool on it.
	fresh func(t testing.TB) func() (*gormdb.DB, error)
}

var sharedDatabases = []sharedDB{
	{"sqlite", func(t testing.TB) func() (*gormdb.DB, error) {
		path := filepath.Join(t.TempDir(), "revocations.db")
		return func() (*gormdb.DB, error) { return sqlite.Open(path, quiet()) }
	}},
	{"postgres", func(t testing.TB) func() (*gormdb.DB, error) {
		dsn := testservers.Postgres(t)
		return func() (*gormdb.DB, error) { return gormdb.Open(postgres.Open(dsn), quiet()) }
	}},
	{"mariadb", func(t testing.TB) func() (*gormdb.DB, error) {
		dsn := testservers.MariaDB(t)
		return func() (*gormdb.DB, error) { return gormdb.Open(mysql.Open(dsn), quiet()) }
	}},
}

// pools opens n pools on a fresh database of d, closed when t ends.
func (d sharedDB) pools(t testing.TB, n int) []*gormdb.DB {
	t.Helper()
	open := d.fresh(t)
	dbs := make([]*gormdb.DB, n)
	for i := range dbs {
		dbs[i] = openPool(t, open)
	}
	return dbs
}

func openPool(t testing.TB, open func() (*gormdb.DB, error)) *gormdb.DB {
	t.Helper()
	db, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// eachSharedDB runs f as a subtest on SQLite, PostgreSQL and MariaDB with
// n pools on one database.
func eachSharedDB(t *testing.T, n int, f func(t *testing.T, dbs []*gormdb.DB)) {
	for _, d := range sharedDatabases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f(t, d.pools(t, n))
		})
	}
}

func newRevStore(t testing.TB, db *gormdb.DB, opts RevocationStoreOptions) *RevocationStore {
	t.Helper()
	if opts.CleanupInterval == 0 {
		opts.CleanupInterval = -1
	}
	s, err := NewRevocationStore(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// revKey returns a key shaped as a SharedRevocation makes them: kind then
// 32 base64url characters.
func revKey(kind byte, n int) string {
	return fmt.Sprintf("%c%032d", kind, n)
}

func position(t *testing.T, s *RevocationStore) uint64 {
	t.Helper()
	entries, pos, err := s.Changes(bg, 0)
	if err != nil || len(entries) != 0 || pos == 0 {
		t.Fatalf("Changes(0) = %d entries, %d, %v; want none, a position, nil", len(entries), pos, err)
	}
	return pos
}

// follow calls Changes from since until no entry comes back and returns
// every entry and the last position.
func follow(t *testing.T, s *RevocationStore, since uint64) ([]cookie.RevocationEntry, uint64) {
	t.Helper()
	var all []cookie.RevocationEntry
	for range 1000 {
		entries, next, err := s.Changes(bg, since)
		if err != nil {
			t.Fatalf("Changes(%d): %v", since, err)
		}
		if next < since {
			t.Fatalf("Changes(%d) went back to %d", since, next)
		}
		since = next
		if len(entries) == 0 {
			return all, since
		}
		all = append(all, entries...)
	}
	t.Fatal("Changes never ran dry")
	return nil, 0
}

func sameEntry(a, b cookie.RevocationEntry) bool {
	return a.Key == b.Key && a.Below == b.Below && a.Before.Equal(b.Before) && a.Keep == b.Keep && a.Until.Equal(b.Until)
}

func checkEntries(t *testing.T, what string, got, want []cookie.RevocationEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries %+v, want %d %+v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if !sameEntry(got[i], want[i]) {
			t.Fatalf("%s: entry %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func byKeyOrder(es []cookie.RevocationEntry) []cookie.RevocationEntry {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b cookie.RevocationEntry) int { return strings.Compare(a.Key, b.Key) })
	return es
}

func TestRevocationStorePutLookupChangesRoundTrip(t *testing.T) {
	eachSharedDB(t, 2, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		a := newRevStore(t, dbs[0], RevocationStoreOptions{Now: c.Now})
		b := newRevStore(t, dbs[1], RevocationStoreOptions{Now: c.Now})
		saltA, _, err := a.Salt(bg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		saltB, _, err := b.Salt(bg, time.Now())
		if err != nil || !bytes.Equal(saltA, saltB) || len(saltA) != saltLen {
			t.Fatalf("instances got salts %x and %x (%v); want one 32-byte salt", saltA, saltB, err)
		}
		p0 := position(t, b)

		now := c.Now()
		session := cookie.RevocationEntry{Key: revKey('s', 1), Below: 3, Until: now.Add(12 * time.Hour)}
		user := cookie.RevocationEntry{Key: revKey('u', 2), Before: now, Keep: revKey('s', 9), Until: now.Add(12 * time.Hour)}
		if err := a.Put(bg, session); err != nil {
			t.Fatal(err)
		}
		if err := a.Put(bg, user); err != nil {
			t.Fatal(err)
		}

		got, err := b.Lookup(bg, []string{user.Key, revKey('s', 404), session.Key})
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, "Lookup on the other instance", byKeyOrder(got), byKeyOrder([]cookie.RevocationEntry{session, user}))

		changes, next := follow(t, b, p0)
		checkEntries(t, "Changes on the other instance", changes, []cookie.RevocationEntry{session, user})
		if next <= p0 {
			t.Fatalf("Changes left the position at %d, not past %d", next, p0)
		}

		// A later write merges: Below only grows.
		if err := b.Put(bg, cookie.RevocationEntry{Key: session.Key, Below: 2, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		changes, _ = follow(t, a, next)
		checkEntries(t, "Changes after a weaker write", changes, []cookie.RevocationEntry{session})

		// Past its Until an entry is no longer looked up.
		c.Advance(12*time.Hour + time.Nanosecond)
		if got, err := a.Lookup(bg, []string{session.Key, user.Key}); err != nil || len(got) != 0 {
			t.Fatalf("Lookup after Until = %+v, %v; want nothing", got, err)
		}
	})
}

func TestRevocationStoreConcurrentPutsOfOneKeyLoseNothing(t *testing.T) {
	eachSharedDB(t, 3, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		stores := make([]*RevocationStore, len(dbs))
		for i, db := range dbs {
			stores[i] = newRevStore(t, db, RevocationStoreOptions{Now: c.Now})
		}
		p0 := position(t, stores[0])
		base := c.Now()
		key := revKey('u', 7)
		const writers = 20
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Go(func() {
				// Every field of the merge moves with i: a lost write shows.
				errs <- stores[i%len(stores)].Put(bg, cookie.RevocationEntry{
					Key: key, Below: uint64(i + 1), Before: base.Add(time.Duration(i) * time.Minute),
					Keep: revKey('s', 100+i), Until: base.Add(time.Duration(24+i) * time.Hour)})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		want := cookie.RevocationEntry{Key: key, Below: writers, Before: base.Add((writers - 1) * time.Minute),
			Keep: revKey('s', 100+writers-1), Until: base.Add((24 + writers - 1) * time.Hour)}
		for i, s := range stores {
			got, err := s.Lookup(bg, []string{key})
			if err != nil {
				t.Fatal(err)
			}
			checkEntries(t, fmt.Sprintf("Lookup on instance %d", i), got, []cookie.RevocationEntry{want})
		}
		changes, next := follow(t, stores[1], p0)
		checkEntries(t, "Changes", changes, []cookie.RevocationEntry{want})
		if next-p0 != writers {
			t.Fatalf("the position moved by %d for %d writes", next-p0, writers)
		}
	})
}

// TestRevocationStorePositionsFollowCommitOrder holds a Put between its writes
// and its commit while a second instance starts its own Put and a reader
// follows the log: the reader must not see the held entry, must not move
// past it, and once both commit must get them in the order they
// committed, the held one first.
func TestRevocationStorePositionsFollowCommitOrder(t *testing.T) {
	eachSharedDB(t, 3, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		held := newRevStore(t, dbs[0], RevocationStoreOptions{Now: c.Now})
		later := newRevStore(t, dbs[1], RevocationStoreOptions{Now: c.Now})
		reader := newRevStore(t, dbs[2], RevocationStoreOptions{Now: c.Now})
		p0 := position(t, reader)

		until := c.Now().Add(time.Hour)
		first := cookie.RevocationEntry{Key: revKey('s', 1), Below: cookie.AllTokens, Until: until}
		second := cookie.RevocationEntry{Key: revKey('s', 2), Below: cookie.AllTokens, Until: until}

		inTx, release := make(chan struct{}), make(chan struct{})
		held.hookBeforeCommit = func() error { close(inTx); <-release; return nil }
		heldDone := make(chan error, 1)
		go func() { heldDone <- held.Put(bg, first) }()
		<-inTx

		laterDone := make(chan error, 1)
		go func() { laterDone <- later.Put(bg, second) }()
		// Wait until the second Put is queued behind the first (SQLite
		// cannot say; its writers take turns on one lock anyway).
		for lockWaiters(t, dbs[2]) == 0 {
			select {
			case err := <-laterDone:
				t.Fatalf("the second Put finished (%v) while the first held its position uncommitted", err)
			default:
			}
		}

		entries, next, err := reader.Changes(bg, p0)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 || next != p0 {
			t.Fatalf("while the first Put is uncommitted, Changes = %+v, next %d (from %d); want nothing and no move", entries, next, p0)
		}
		if got, err := reader.Lookup(bg, []string{first.Key}); err != nil || len(got) != 0 {
			t.Fatalf("Lookup of the uncommitted entry = %+v, %v", got, err)
		}

		close(release)
		if err := <-heldDone; err != nil {
			t.Fatal(err)
		}
		if err := <-laterDone; err != nil {
			t.Fatal(err)
		}
		changes, _ := follow(t, reader, next)
		checkEntries(t, "Changes after both commits", changes, []cookie.RevocationEntry{first, second})
	})
}

func TestRevocationStoreAllTokensRoundTrips(t *testing.T) {
	eachSharedDB(t, 1, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		s := newRevStore(t, dbs[0], RevocationStoreOptions{Now: c.Now})
		p0 := position(t, s)
		until := c.Now().Add(time.Hour)
		want := []cookie.RevocationEntry{
			{Key: revKey('s', 1), Below: cookie.AllTokens, Until: until},
			{Key: revKey('s', 2), Below: 1 << 63, Until: until},
			{Key: revKey('s', 3), Below: 1<<63 - 1, Until: until},
			{Key: revKey('s', 4), Below: 0, Until: until},
		}
		if err := s.Put(bg, want...); err != nil {
			t.Fatal(err)
		}
		got, err := s.Lookup(bg, []string{want[0].Key, want[1].Key, want[2].Key, want[3].Key})
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, "Lookup", byKeyOrder(got), want)
		changes, _ := follow(t, s, p0)
		checkEntries(t, "Changes", changes, want)

		// AllTokens stays the maximum when merged with a smaller Below.
		if err := s.Put(bg, cookie.RevocationEntry{Key: want[0].Key, Below: 5, Until: until}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Lookup(bg, []string{want[0].Key})
		checkEntries(t, "Lookup after a smaller Below", got, want[:1])
	})
}

func TestRevocationStoreTableEmptiedOrRecreatedReportsChangesLost(t *testing.T) {
	eachSharedDB(t, 2, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		s := newRevStore(t, dbs[0], RevocationStoreOptions{Now: c.Now})
		until := c.Now().Add(time.Hour)
		salt, _, err := s.Salt(bg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(bg, cookie.RevocationEntry{Key: revKey('s', 1), Below: 1, Until: until}); err != nil {
			t.Fatal(err)
		}
		pos := position(t, s)

		// Emptied, and written to by an instance that has not noticed:
		// the write fails rather than key an entry with the old salt,
		// which the instances that have synced would never find.
		if err := dbs[1].Exec("DELETE FROM " + DefaultRevocationTable).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.Put(bg, cookie.RevocationEntry{Key: revKey('s', 2), Below: 1, Until: until}); err == nil {
			t.Fatal("Put after the table was emptied, under the old salt, succeeded")
		}
		_, next, err := s.Changes(bg, pos)
		if !errors.Is(err, cookie.ErrChangesLost) {
			t.Fatalf("Changes after the table was emptied: %v; want ErrChangesLost", err)
		}
		created := time.Unix(1_900_000_000, 5)
		newSalt, since, err := s.Salt(bg, created)
		if err != nil || bytes.Equal(newSalt, salt) {
			t.Fatalf("salt after the table was emptied: same=%v, %v; want a new one", bytes.Equal(newSalt, salt), err)
		}
		if !since.Equal(created) {
			t.Fatalf("since of the salt made again = %v, want the time Salt was given, %v", since, created)
		}
		if next != 0 {
			t.Fatalf("Changes over a table without its reserved row gave %d to start again from, want 0 (read the position after Salt)", next)
		}
		from := position(t, s)
		if err := s.Put(bg, cookie.RevocationEntry{Key: revKey('s', 2), Below: 1, Until: until}); err != nil {
			t.Fatalf("Put under the new salt: %v", err)
		}
		if got, _, err := s.Changes(bg, from); err != nil || len(got) != 1 {
			t.Fatalf("Changes from the new start: %d entries, %v; want the one Put", len(got), err)
		}

		// Recreated: dropped and made again by another instance, which
		// also writes more entries than the old position counted.
		pos = position(t, s)
		if err := dbs[1].Migrator().DropTable(DefaultRevocationTable); err != nil {
			t.Fatal(err)
		}
		other := newRevStore(t, dbs[1], RevocationStoreOptions{Now: c.Now})
		if _, _, err := other.Salt(bg, time.Now()); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := other.Put(bg, cookie.RevocationEntry{Key: revKey('s', 10+i), Below: 1, Until: until}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Changes(bg, pos); !errors.Is(err, cookie.ErrChangesLost) {
			t.Fatalf("Changes after the table was recreated: %v; want ErrChangesLost", err)
		}
		if err := s.Put(bg, cookie.RevocationEntry{Key: revKey('s', 3), Below: 1, Until: until}); err == nil {
			t.Fatal("Put after the table was recreated with another salt, under the old one, succeeded")
		}
		// A position from nowhere is lost too, never an empty answer.
		if _, _, err := s.Changes(bg, 1); !errors.Is(err, cookie.ErrChangesLost) {
			t.Fatalf("Changes(1): %v; want ErrChangesLost", err)
		}
	})
}

// TestRevocationStoreKeysAreComparedByteForByte: MariaDB's default collation
// folds case, and keys are base64url, where case matters.
func TestRevocationStoreKeysAreComparedByteForByte(t *testing.T) {
	eachSharedDB(t, 1, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		s := newRevStore(t, dbs[0], RevocationStoreOptions{Now: c.Now})
		if _, _, err := s.Salt(bg, time.Now()); err != nil {
			t.Fatal(err)
		}
		until := c.Now().Add(time.Hour)
		lower := cookie.RevocationEntry{Key: "sabcdef", Below: 1, Until: until}
		upper := cookie.RevocationEntry{Key: "sABCDEF", Below: 9, Until: until}
		if err := s.Put(bg, lower, upper); err != nil {
			t.Fatal(err)
		}
		got, err := s.Lookup(bg, []string{lower.Key})
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, "Lookup of the lower-case key", got, []cookie.RevocationEntry{lower})
		if got, _ := s.Lookup(bg, []string{"sAbCdEf"}); len(got) != 0 {
			t.Fatalf("Lookup of a key differing in case = %+v", got)
		}
	})
}

func TestRevocationStoreMalformedKeysAreRefused(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	s := newRevStore(t, db, RevocationStoreOptions{Now: c.Now})
	p0 := position(t, s)
	until := c.Now().Add(time.Hour)
	for _, key := range []string{"", "s", "!", "x123", "s" + strings.Repeat("a", 64), "sab cd", "sab\x00", "ué"} {
		err := s.Put(bg, cookie.RevocationEntry{Key: revKey('s', 1), Below: 1, Until: until}, cookie.RevocationEntry{Key: key, Below: 1, Until: until})
		if err == nil || !strings.HasPrefix(err.Error(), "securesession/gorm: revocation Put: entry 2 of 2") {
			t.Fatalf("Put of key %q: %v; want an error naming entry 2", key, err)
		}
		if strings.Contains(err.Error(), key) && key != "" && key != "s" {
			t.Fatalf("the error repeats the key: %v", err)
		}
		if got, err := s.Lookup(bg, []string{key, revKey('s', 1)}); err == nil {
			t.Fatalf("Lookup of %q = %+v; want an error", key, got)
		}
	}
	if err := s.Put(bg, cookie.RevocationEntry{Key: revKey('u', 1), Keep: strings.Repeat("k", 65), Until: until}); err == nil {
		t.Fatal("Put of a 65-byte Keep succeeded")
	}
	if changes, _ := follow(t, s, p0); len(changes) != 0 {
		t.Fatalf("refused Puts wrote %+v", changes)
	}
}

func TestRevocationStoreLookupOfManyKeys(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	s := newRevStore(t, db, RevocationStoreOptions{Now: c.Now})
	position(t, s)
	until := c.Now().Add(time.Hour)
	var want []cookie.RevocationEntry
	var keys []string
	for i := range 70 {
		keys = append(keys, revKey('s', i))
		if i%3 == 0 {
			want = append(want, cookie.RevocationEntry{Key: revKey('s', i), Below: uint64(i + 1), Until: until})
		}
	}
	if err := s.Put(bg, want...); err != nil {
		t.Fatal(err)
	}
	got, err := s.Lookup(bg, keys)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, "Lookup of 70 keys", byKeyOrder(got), want)
}

func TestRevocationStoreChangesComeInBatches(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	s := newRevStore(t, db, RevocationStoreOptions{Now: c.Now, BatchSize: 3})
	pos := position(t, s)
	until := c.Now().Add(time.Hour)
	var want []cookie.RevocationEntry
	for i := range 7 {
		e := cookie.RevocationEntry{Key: revKey('s', i), Below: 1, Until: until}
		want = append(want, e)
		if err := s.Put(bg, e); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	var all []cookie.RevocationEntry
	for {
		entries, next, err := s.Changes(bg, pos)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			break
		}
		sizes = append(sizes, len(entries))
		all = append(all, entries...)
		pos = next
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Fatalf("batches of %v, want [3 3 1]", sizes)
	}
	checkEntries(t, "Changes", all, want)
}

func TestRevocationStoreCleanupDeletesOnlyExpiredEntries(t *testing.T) {
	eachSharedDB(t, 1, func(t *testing.T, dbs []*gormdb.DB) {
		c := newClock()
		s := newRevStore(t, dbs[0], RevocationStoreOptions{Now: c.Now})
		salt, _, _ := s.Salt(bg, time.Now())
		now := c.Now()
		short := cookie.RevocationEntry{Key: revKey('s', 1), Below: 1, Until: now.Add(time.Hour)}
		long := cookie.RevocationEntry{Key: revKey('u', 1), Before: now, Until: now.Add(2 * time.Hour)}
		if err := s.Put(bg, short, long); err != nil {
			t.Fatal(err)
		}
		pos := position(t, s)
		c.Advance(time.Hour) // at Until: not yet past it
		if n, err := s.Cleanup(bg); err != nil || n != 0 {
			t.Fatalf("Cleanup at Until deleted %d, %v", n, err)
		}
		c.Advance(time.Nanosecond)
		if n, err := s.Cleanup(bg); err != nil || n != 1 {
			t.Fatalf("Cleanup past one Until deleted %d, %v; want 1", n, err)
		}
		var rows int64
		if err := dbs[0].Table(DefaultRevocationTable).Count(&rows).Error; err != nil || rows != 2 {
			t.Fatalf("%d rows left (%v); want the long entry and the reserved row", rows, err)
		}
		if got, _, _ := s.Salt(bg, time.Now()); !bytes.Equal(got, salt) {
			t.Fatal("Cleanup changed the salt")
		}
		if _, next, err := s.Changes(bg, pos); err != nil || next != pos {
			t.Fatalf("Changes after Cleanup: %d, %v; want %d", next, err, pos)
		}
		got, _ := s.Lookup(bg, []string{short.Key, long.Key})
		checkEntries(t, "Lookup after Cleanup", got, []cookie.RevocationEntry{long})
	})
}

func TestRevocationStoreSaltIsCreatedOnceByConcurrentInstances(t *testing.T) {
	eachSharedDB(t, 3, func(t *testing.T, dbs []*gormdb.DB) {
		stores := make([]*RevocationStore, len(dbs))
		for i, db := range dbs {
			stores[i] = newRevStore(t, db, RevocationStoreOptions{})
		}
		salts := make([][]byte, 9)
		var wg sync.WaitGroup
		for i := range salts {
			wg.Go(func() {
				salt, _, err := stores[i%len(stores)].Salt(bg, time.Now())
				if err != nil {
					t.Error(err)
				}
				salts[i] = salt
			})
		}
		wg.Wait()
		for _, s := range salts[1:] {
			if !bytes.Equal(s, salts[0]) || len(s) != saltLen {
				t.Fatalf("instances got different salts")
			}
		}
	})
}

func TestRevocationStoreOptionsAreChecked(t *testing.T) {
	db := openSQLite(t)
	for _, tc := range []struct {
		opts RevocationStoreOptions
		want string
	}{
		{RevocationStoreOptions{Table: "bad-name"}, "securesession/gorm: RevocationStoreOptions.Table: "},
		{RevocationStoreOptions{Table: strings.Repeat("t", 41)}, "securesession/gorm: RevocationStoreOptions.Table: "},
		{RevocationStoreOptions{BatchSize: -1}, "securesession/gorm: RevocationStoreOptions.BatchSize: "},
	} {
		if _, err := NewRevocationStore(db, tc.opts); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %q...", tc.opts, err, tc.want)
		}
	}
	if _, err := NewRevocationStore(nil, RevocationStoreOptions{}); err == nil {
		t.Error("a nil db was accepted")
	}
}

func TestRevocationStoreMethodsFailAfterClose(t *testing.T) {
	db := openSQLite(t)
	s, err := NewRevocationStore(db, RevocationStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	if _, _, err := s.Salt(ctx, time.Now()); !errors.Is(err, errRevClosed) {
		t.Fatalf("Salt after Close: %v", err)
	}
	if err := s.Put(ctx, cookie.RevocationEntry{Key: revKey('s', 1)}); !errors.Is(err, errRevClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
}

// TestRevocationStoreRowSize measures what a revoked session costs: the
// growth of the database, indexes included, for 5,000 session entries with
// 33-byte keys, as a SharedRevocation makes them. SQLite: the file's pages;
// PostgreSQL: pg_total_relation_size after VACUUM. (MariaDB's
// information_schema sizes are estimates, so it is not measured.)
func TestRevocationStoreRowSize(t *testing.T) {
	for _, d := range sharedDatabases[:2] {
		t.Run(d.name, func(t *testing.T) {
			db := d.pools(t, 1)[0]
			c := newClock()
			s := newRevStore(t, db, RevocationStoreOptions{Now: c.Now})
			if _, _, err := s.Salt(bg, time.Now()); err != nil {
				t.Fatal(err)
			}
			size := func() int64 {
				var n int64
				var err error
				if d.name == "sqlite" {
					var pages, pageSize int64
					db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
					db.Raw("PRAGMA page_count").Scan(&pages)
					err = db.Raw("PRAGMA page_size").Scan(&pageSize).Error
					n = pages * pageSize
				} else {
					db.Exec("VACUUM " + DefaultRevocationTable)
					err = db.Raw("SELECT pg_total_relation_size(?)", DefaultRevocationTable).Scan(&n).Error
				}
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := size()
			const n = 5000
			until := c.Now().Add(12 * time.Hour)
			var batch []cookie.RevocationEntry
			for i := range n {
				batch = append(batch, cookie.RevocationEntry{Key: revKey('s', i), Below: cookie.AllTokens, Until: until})
				if len(batch) == 500 {
					if err := s.Put(bg, batch...); err != nil {
						t.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			per := (size() - before) / n
			t.Logf("%s: %d bytes of database per revoked session (5,000 entries, indexes included)", d.name, per)
			if per < 60 || per > 400 {
				t.Fatalf("%d bytes per entry: outside what the columns can take (keys alone are 33 bytes, stored twice)", per)
			}
		})
	}
}

// A reserved row written before the store kept the salt's since
// (before_at 0) is read with the zero since: an upgrade refuses no
// session as older than the store.
func TestRevocationStoreReadsAReservedRowWithoutSinceAsTheZeroSince(t *testing.T) {
	eachSharedDB(t, 1, func(t *testing.T, dbs []*gormdb.DB) {
		s := newRevStore(t, dbs[0], RevocationStoreOptions{})
		created := time.Unix(1_800_000_000, 123456789)
		salt, since, err := s.Salt(bg, created)
		if err != nil {
			t.Fatal(err)
		}
		if !since.Equal(created) {
			t.Fatalf("since of a new salt = %v, want %v", since, created)
		}
		if err := dbs[0].Table(s.table).Where("entry_key = ?", metaKeyArg).Update("before_at", 0).Error; err != nil {
			t.Fatal(err)
		}
		got, since, err := newRevStore(t, dbs[0], RevocationStoreOptions{}).Salt(bg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, salt) || !since.IsZero() {
			t.Fatalf("Salt over a reserved row without since: same salt %v, since %v; want the same salt and the zero time", bytes.Equal(got, salt), since)
		}
	})
}

// An emptied table forgets every revocation; a SharedRevocation over it
// must then refuse the sessions issued before, by the salt's since, on
// its own clock. The store's clock here runs an hour behind: a reserved
// row it made again itself would carry a since an hour early, and let in
// the cookie logged out before the table was emptied.
func TestEmptiedTableRefusesTheSessionsIssuedBeforeOnTheCallersClock(t *testing.T) {
	eachSharedDB(t, 1, func(t *testing.T, dbs []*gormdb.DB) {
		app, behind := newClock(), newClock()
		behind.Advance(-time.Hour)
		store := newRevStore(t, dbs[0], RevocationStoreOptions{Now: behind.Now})
		rev, err := cookie.NewSharedRevocation(store, cookie.SharedRevocationOptions{RefreshInterval: -1, Now: app.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rev.Close() })
		tok := cookie.Token{Handle: "logged-out", UserID: "ann", Issued: app.Now(), Deadline: app.Now().Add(2 * time.Hour)}
		app.Advance(time.Minute)
		if err := rev.RevokeSession(bg, tok.Handle, cookie.AllTokens, tok.Deadline); err != nil {
			t.Fatal(err)
		}
		if err := dbs[0].Exec("DELETE FROM " + DefaultRevocationTable).Error; err != nil {
			t.Fatal(err)
		}
		app.Advance(3 * time.Second)
		behind.Advance(3 * time.Second)
		if revoked, err := rev.Revoked(bg, tok); err != nil || !revoked {
			t.Fatalf("the cookie logged out before the table was emptied: revoked %v, %v; want refused", revoked, err)
		}
	})
}
