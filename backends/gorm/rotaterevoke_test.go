package gorm

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
)

// A revocation races a rotation: an attacker holding a stolen cookie calls
// a route that rotates the session while the victim logs out everywhere
// (RevokeUser with no keep), logs out the other devices (RevokeUser keeping
// the victim's session) or ends that one session from the list shown
// before the rotation (RevokeHandle). Whichever wins, the attacker must
// not be left with a live session.
type revocation struct {
	name string
	// revoke ends the attacker's session; victim is the victim's own token
	// and handle the attacker's session's handle as the victim's session
	// list showed it before the rotation.
	revoke func(s *Store, victim, handle string) error
	// keepsVictim is whether the victim's own session must survive.
	keepsVictim bool
}

var revocations = []revocation{
	{"RevokeUser", func(s *Store, _, _ string) error {
		return s.RevokeUser(bg, "alice", securesession.Ref{})
	}, false},
	{"RevokeUserKeepingAnother", func(s *Store, victim, _ string) error {
		return s.RevokeUser(bg, "alice", securesession.Ref{Name: "sid", Token: victim})
	}, true},
	{"RevokeHandle", func(s *Store, _, handle string) error {
		err := s.RevokeHandle(bg, "alice", handle)
		if errors.Is(err, securesession.ErrNoRecord) {
			return nil // "already ended": whether it really had is checked below
		}
		return err
	}, true},
}

// rotationTrial is one attacker session and one victim session of alice.
type rotationTrial struct {
	attacker, victim string // tokens
	handle           string // the attacker's session's handle, as listed
}

func newRotationTrial(t *testing.T, s *Store) rotationTrial {
	t.Helper()
	var tr rotationTrial
	var err error
	if tr.victim, err = s.Create(bg, "sid", newRecord(s.now(), "alice", "victim")); err != nil {
		t.Fatal(err)
	}
	rec := newRecord(s.now(), "alice", "attacker")
	if tr.attacker, err = s.Create(bg, "sid", rec); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListUser(bg, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, si := range list {
		if si.Handle == rec.Handle {
			tr.handle = si.Handle
		}
	}
	if tr.handle == "" {
		t.Fatal("ListUser does not list the attacker's session")
	}
	return tr
}

// outcome checks a finished trial: rotated is the token the rotation
// returned ("" if it failed). It reports whether the attacker kept a live
// session, and fails the test if the victim's session was wrongly ended.
func (tr rotationTrial) outcome(t *testing.T, s *Store, rv revocation, rotated string) (survived bool) {
	t.Helper()
	if alive(t, s, "sid", tr.attacker) != 0 {
		t.Fatal("the pre-rotation token still works")
	}
	if rotated != "" && alive(t, s, "sid", rotated) != 0 {
		survived = true
	}
	if got := alive(t, s, "sid", tr.victim); rv.keepsVictim && got != 1 {
		t.Fatal("the kept session was revoked")
	} else if !rv.keepsVictim && got != 0 {
		t.Fatal("the victim's own session survived RevokeUser")
	}
	return survived
}

// lockWaiters counts the sessions of db's database that wait for a row
// lock; -1 where the database cannot tell (SQLite, whose writers take
// turns on one database-wide lock).
func lockWaiters(t *testing.T, db *gormdb.DB) int {
	t.Helper()
	var q string
	switch db.Dialector.Name() {
	case "postgres":
		q = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
	case "mysql":
		// InnoDB refreshes innodb_trx only when it has not been read for
		// 100ms: a tight loop would read the same stale copy forever.
		<-time.After(110 * time.Millisecond)
		q = "SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p" +
			" ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()"
	default:
		return -1
	}
	var n int
	if err := db.Raw(q).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRevocationWaitingOnARotationEndsTheRotatedSession is the
// deterministic interleaving: the rotation has written but not committed
// (Rotate runs its statement in a transaction while the hook is set, and
// the hook pauses it there), the revocation starts and waits for the
// rotation's row lock, and only then does the rotation commit. With a
// rotation that deleted the old row and inserted a new one, PostgreSQL's
// revocation skipped the deleted row and never saw the inserted one.
func TestRevocationWaitingOnARotationEndsTheRotatedSession(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		for _, rv := range revocations {
			t.Run(rv.name, func(t *testing.T) {
				s := newStore(t, db, Options{})
				tr := newRotationTrial(t, s)
				paused, resume := make(chan struct{}), make(chan struct{})
				s.hookInRotation = func() error { close(paused); <-resume; return nil }
				var rotated string
				var rotateErr error
				done := make(chan struct{})
				go func() {
					defer close(done)
					rotated, rotateErr = s.Rotate(bg, "sid", tr.attacker, newRecord(s.now(), "alice", "attacker"))
				}()
				<-paused
				revoked := make(chan error, 1)
				go func() { revoked <- rv.revoke(s, tr.victim, tr.handle) }()
				// Wait until the revocation is blocked on the rotation's
				// lock (SQLite cannot say; there the revocation cannot
				// start its write before the rotation commits anyway).
				for lockWaiters(t, db) == 0 {
					select {
					case err := <-revoked:
						t.Fatalf("the revocation finished (%v) while the rotation held its row uncommitted", err)
					default:
					}
				}
				close(resume)
				<-done
				if err := <-revoked; err != nil {
					t.Fatalf("revocation: %v", err)
				}
				if rotateErr != nil {
					t.Fatalf("Rotate: %v", rotateErr)
				}
				if tr.outcome(t, s, rv, rotated) {
					t.Errorf("%s waited for the rotation, returned success, and the rotated session is still live", rv.name)
				}
			})
		}
	})
}

// TestRotationRacingRevocationLeavesNoLiveSession runs the natural race
// many times on each database: a Rotate and a revocation started together,
// then the attacker's tokens are tried. No trial may leave a live session.
func TestRotationRacingRevocationLeavesNoLiveSession(t *testing.T) {
	const trials = 210 // 70 of each kind of revocation
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		s := newStore(t, db, Options{})
		survivors := map[string]int{}
		rotationsWon := 0
		for i := 0; i < trials; i++ {
			rv := revocations[i%len(revocations)]
			tr := newRotationTrial(t, s)
			start := make(chan struct{})
			var wg sync.WaitGroup
			var rotated string
			var rotateErr, revokeErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				rotated, rotateErr = s.Rotate(bg, "sid", tr.attacker, newRecord(s.now(), "alice", "attacker"))
			}()
			go func() {
				defer wg.Done()
				<-start
				revokeErr = rv.revoke(s, tr.victim, tr.handle)
			}()
			close(start)
			wg.Wait()
			if revokeErr != nil {
				t.Fatalf("trial %d: %s: %v", i, rv.name, revokeErr)
			}
			switch {
			case rotateErr == nil:
				rotationsWon++
			case errors.Is(rotateErr, securesession.ErrNoRecord):
				rotated = ""
			default:
				t.Fatalf("trial %d: Rotate: %v", i, rotateErr)
			}
			if tr.outcome(t, s, rv, rotated) {
				survivors[rv.name]++
			}
			if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s, %d trials: the rotation found its row in %d, the revocation got there first in %d; survivors %v",
			db.Dialector.Name(), trials, rotationsWon, trials-rotationsWon, survivors)
		if len(survivors) != 0 {
			t.Errorf("sessions survived a revocation that raced their rotation: %s", fmt.Sprint(survivors))
		}
	})
}
