package gorm

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testservers"
)

var (
	evict3  = securesession.SessionLimit{Max: 3}
	refuse3 = securesession.SessionLimit{Max: 3, Refuse: true}
)

// liveOf returns the handles ListUser lists for user.
func liveOf(t *testing.T, s *Store, user string) map[string]bool {
	t.Helper()
	list, err := s.ListUser(bg, user)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, si := range list {
		out[si.Handle] = true
	}
	return out
}

// loginN logs user in n times, a minute apart on c, and returns the tokens
// and handles, least recently seen first.
func loginN(t *testing.T, s *Store, c *clock, user string, n int) (toks, handles []string) {
	t.Helper()
	for range n {
		rec := newRecord(c.Now(), user, "")
		tok, err := s.LoginLimited(bg, "sid", "", rec, evict3)
		if err != nil {
			t.Fatal(err)
		}
		toks, handles = append(toks, tok), append(handles, rec.Handle)
		c.Advance(time.Minute)
	}
	return toks, handles
}

// A login whose pre-login session ended meanwhile gets ErrNoRecord, and
// the eviction it had made in the same transaction is rolled back: the
// user's three sessions are all still there for the middleware's retry
// as a new session to choose from. So when the request had read the
// pre-login session first: Find left its row in Record.Opaque, which the
// login trusts instead of reading the row again.
func TestLoginOverAnEndedSessionEvictsNothing(t *testing.T) {
	for name, afterFind := range map[string]bool{"token only": false, "ended after its Find": true} {
		t.Run(name, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db *gormdb.DB) {
				c := newClock()
				s := newStore(t, db, Options{Now: c.Now})
				_, handles := loginN(t, s, c, "alice", 3)
				pre, err := s.Create(bg, "sid", newRecord(c.Now(), "", "cart"))
				if err != nil {
					t.Fatal(err)
				}
				rec := newRecord(c.Now(), "alice", "")
				if afterFind {
					found, ok, err := s.Find(bg, "sid", pre)
					if err != nil || !ok {
						t.Fatalf("Find of the pre-login session: %v, %v", ok, err)
					}
					rec.Handle, rec.Opaque = found.Handle, found.Opaque
				}
				if err := s.Delete(bg, "sid", pre); err != nil {
					t.Fatal(err)
				}
				if _, err := s.LoginLimited(bg, "sid", pre, rec, evict3); !errors.Is(err, securesession.ErrNoRecord) {
					t.Fatalf("login over a deleted session: %v, want ErrNoRecord", err)
				}
				live := liveOf(t, s, "alice")
				for _, h := range handles {
					if !live[h] {
						t.Errorf("the failed login ended session %s: live %v", h, live)
					}
				}
				if len(live) != 3 {
					t.Errorf("%d live sessions after the failed login, want the 3 before it", len(live))
				}
			})
		})
	}
}

// A refused login writes nothing: no row, and the pre-login session stays
// under its token with its values.
func TestRefusedLoginLeavesEveryRowAsItWas(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		loginN(t, s, c, "alice", 3)
		pre, err := s.Create(bg, "sid", newRecord(c.Now(), "", "cart"))
		if err != nil {
			t.Fatal(err)
		}
		rows := countRows(t, s)
		_, err = s.LoginLimited(bg, "sid", pre, newRecord(c.Now(), "alice", ""), refuse3)
		if !errors.Is(err, securesession.ErrTooManySessions) {
			t.Fatalf("fourth login: %v, want ErrTooManySessions", err)
		}
		if !strings.HasPrefix(err.Error(), "securesession/gorm: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
		if got := countRows(t, s); got != rows {
			t.Errorf("%d rows after the refused login, %d before", got, rows)
		}
		rec, found, err := s.Find(bg, "sid", pre)
		if err != nil || !found || rec.UserID != "" || string(rec.Values) != "cart" {
			t.Errorf("the pre-login session after the refusal: found %v, user %q, values %q, err %v", found, rec.UserID, rec.Values, err)
		}
	})
}

// Sessions past their expiry count for nothing, even before the sweeper
// removes them: Find would not return them, so they are not sessions.
func TestExpiredSessionsDoNotCountAgainstTheLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		loginN(t, s, c, "alice", 3)
		c.Advance(31 * time.Minute) // past the idle timeout of the three
		rec := newRecord(c.Now(), "alice", "")
		if _, err := s.LoginLimited(bg, "sid", "", rec, refuse3); err != nil {
			t.Fatalf("login with only expired sessions: %v", err)
		}
		if live := liveOf(t, s, "alice"); len(live) != 1 || !live[rec.Handle] {
			t.Errorf("live sessions %v, want only the new one", live)
		}
	})
}

// The evicted session is the least recently seen: its token finds
// nothing, its handle is no longer listed or revocable, and the lock row
// does not show as a session anywhere.
func TestEvictedSessionIsGoneEverywhere(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		toks, handles := loginN(t, s, c, "alice", 3)
		// The first session is used again: the second is now the least
		// recently seen.
		first := newRecord(c.Now(), "alice", "")
		if _, err := s.Touch(bg, "sid", toks[0], first); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
		rec := newRecord(c.Now(), "alice", "")
		if _, err := s.LoginLimited(bg, "sid", "", rec, evict3); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find(bg, "sid", toks[1]); found || err != nil {
			t.Errorf("the least recently seen session is still found (err %v)", err)
		}
		want := map[string]bool{handles[0]: true, handles[2]: true, rec.Handle: true}
		if live := liveOf(t, s, "alice"); fmt.Sprint(live) != fmt.Sprint(want) {
			t.Errorf("live sessions %v, want %v", live, want)
		}
		if err := s.RevokeHandle(bg, "alice", handles[1]); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("RevokeHandle of the evicted session: %v, want ErrNoRecord", err)
		}
		if n := countRows(t, s); n != 3 {
			t.Errorf("the sessions table holds %d rows, want 3 (the lock row lives elsewhere)", n)
		}
	})
}

// RevokeUser and the sweeper leave the user's lock row alone, and a login
// after them still counts correctly.
func TestLimitHoldsAfterRevokeUserAndCleanup(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		loginN(t, s, c, "alice", 3)
		if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour)
		if _, err := s.Cleanup(bg); err != nil {
			t.Fatal(err)
		}
		var locks int64
		if err := s.db.Table(s.limits.table).Count(&locks).Error; err != nil {
			t.Fatal(err)
		}
		if locks != 1 {
			t.Errorf("%d lock rows, want alice's one", locks)
		}
		loginN(t, s, c, "alice", 3)
		if _, err := s.LoginLimited(bg, "sid", "", newRecord(c.Now(), "alice", ""), refuse3); !errors.Is(err, securesession.ErrTooManySessions) {
			t.Errorf("fourth login after the revocation: %v, want ErrTooManySessions", err)
		}
	})
}

// Twenty concurrent logins of one user, each over its own anonymous
// session, with a limit of 3: every pre-login token is dead afterwards and
// exactly three sessions live, under both policies.
func TestConcurrentLoginsOverAnonymousSessionsKeepTheLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) { burstKeepsTheLimit(t, newStore(t, db, Options{})) })
}

// The same burst on PostgreSQL whose default isolation is SERIALIZABLE,
// as some deployments set it. Under that default a lock-row UPDATE that
// waited for another login's commit failed with a serialization error
// (SQLSTATE 40001), and a burst of 20 failed some logins even with the
// retry; the login's transaction now runs READ COMMITTED, so a login
// queued on the lock takes it in turn.
func TestConcurrentLoginsKeepTheLimitUnderSerializableDefault(t *testing.T) {
	db := openPostgresDSN(t, testservers.Postgres(t)+" default_transaction_isolation=serializable")
	s := newStore(t, db, Options{})
	burstKeepsTheLimit(t, s)
	loginsQueuedOnTheLockAllSucceed(t, s, db)
	lockRowInsertQueuedOnTheRowSucceeds(t, s, db)
}

// lockRowInsertQueuedOnTheRowSucceeds: the insert that makes sure a
// user's lock row exists, queued on the held row, must find it and do
// nothing at its first attempt, not fail with a serialization error as it
// does under a SERIALIZABLE snapshot.
func lockRowInsertQueuedOnTheRowSucceeds(t *testing.T, s *Store, db *gormdb.DB) {
	uk := userKey("insert-queued")
	for i, err := range queueOnHeldLockRow(t, s, db, uk, 1, func() error { return s.ensureLockRow(bg, uk) }) {
		if err != nil {
			t.Errorf("insert %d, queued on the held lock row: %v", i, err)
		}
	}
}

// loginsQueuedOnTheLockAllSucceed: 20 logins of one user queued on the
// held lock row must each take it in turn at their first attempt: a
// waiting UPDATE under a REPEATABLE READ or SERIALIZABLE snapshot fails
// instead, and 20 logins retried in step lose to one another more often
// than the retry allows.
func loginsQueuedOnTheLockAllSucceed(t *testing.T, s *Store, db *gormdb.DB) {
	const n = 20
	uk := userKey("queued")
	login := func() error {
		_, err := s.LoginLimited(bg, "sid", "", newRecord(time.Now(), "queued", ""), evict3)
		return err
	}
	for i, err := range queueOnHeldLockRow(t, s, db, uk, n, login) {
		if err != nil {
			t.Errorf("login %d, queued on the user's lock: %v", i, err)
		}
	}
	if live := liveOf(t, s, "queued"); len(live) != 3 {
		t.Errorf("%d live sessions after %d queued logins, want 3", len(live), n)
	}
}

// queueOnHeldLockRow holds the lock row uk (created first) in a
// transaction of its own, updated, runs op n times at once with the
// store's retry off, and once all n wait on the row (PostgreSQL's
// pg_stat_activity) commits and returns their errors. An op that ends
// while the row is held, or a minute without all n waiting, fails the
// test after the row is let go, so that none stays queued until the test
// binary times out.
func queueOnHeldLockRow(t *testing.T, s *Store, db *gormdb.DB, uk string, n int, op func() error) []error {
	t.Helper()
	if err := s.ensureLockRow(bg, uk); err != nil {
		t.Fatal(err)
	}
	s.noRetry = true
	defer func() { s.noRetry = false }()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	holder, err := sqlDB.BeginTx(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.ExecContext(bg, "UPDATE "+s.table+limitsSuffix+" SET logins = logins + 1 WHERE user_key = $1", uk); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, n)
	var (
		wg       sync.WaitGroup
		finished atomic.Int32
	)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer finished.Add(1)
			errs[i] = op()
		}()
	}
	stop := func(format string, args ...any) {
		holder.Rollback()
		wg.Wait()
		t.Fatalf(format, append(args, errs)...)
	}
	deadline := time.Now().Add(time.Minute)
	for waiting := 0; waiting < n; {
		if finished.Load() > 0 {
			stop("an operation ended while the lock row was held: %v")
		}
		if time.Now().After(deadline) {
			stop("after a minute %d of %d operations wait on the lock row: %v", waiting, n)
		}
		if err := sqlDB.QueryRowContext(bg, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return errs
}

func burstKeepsTheLimit(t *testing.T, s *Store) {
	for _, limit := range []securesession.SessionLimit{evict3, refuse3} {
		user := fmt.Sprintf("burst-%v", limit.Refuse)
		pre := make([]string, 20)
		for i := range pre {
			var err error
			if pre[i], err = s.Create(bg, "sid", newRecord(time.Now(), "", "cart")); err != nil {
				t.Fatal(err)
			}
		}
		errs := make([]error, len(pre))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, tok := range pre {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.LoginLimited(bg, "sid", tok, newRecord(time.Now(), user, "cart"), limit)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
				if _, found, _ := s.Find(bg, "sid", pre[i]); found {
					t.Errorf("refuse %v: the pre-login token of a successful login still finds a session", limit.Refuse)
				}
			case limit.Refuse && errors.Is(err, securesession.ErrTooManySessions):
			default:
				t.Fatalf("refuse %v: login %d: %v", limit.Refuse, i, err)
			}
		}
		if limit.Refuse && ok != 3 {
			t.Errorf("%d logins succeeded under RefuseNewLogin, want 3", ok)
		}
		if live := liveOf(t, s, user); len(live) != 3 {
			t.Errorf("refuse %v: %d live sessions after 20 concurrent logins, want 3", limit.Refuse, len(live))
		}
	}
}

// A malformed pre-login token is refused before any statement, and a
// Store made with DisableAutoMigrate on a database without the lock table
// fails the login with an error naming the table, never a panic or a
// session beyond the limit.
func TestLoginLimitedRefusesMalformedTokenAndMissingLockTable(t *testing.T) {
	db := openSQLite(t)
	s := newStore(t, db, Options{})
	if _, err := s.LoginLimited(bg, "sid", "not-a-token", newRecord(time.Now(), "alice", ""), evict3); !errors.Is(err, securesession.ErrInvalidToken) {
		t.Errorf("malformed pre-login token: %v, want ErrInvalidToken", err)
	}
	if err := db.Migrator().DropTable(s.limits.table); err != nil {
		t.Fatal(err)
	}
	bare := newStore(t, db, Options{DisableAutoMigrate: true})
	_, err := bare.LoginLimited(bg, "sid", "", newRecord(time.Now(), "alice", ""), evict3)
	if err == nil || !strings.Contains(err.Error(), s.limits.table) {
		t.Errorf("login without the lock table: %v, want an error naming %s", err, s.limits.table)
	}
	if n := countRows(t, s); n != 0 {
		t.Errorf("the failed login left %d rows", n)
	}
}
