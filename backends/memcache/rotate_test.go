package memcache

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// TestRotateRacingRevokeUserNeverLeavesALiveSession holds a same-user
// Rotate at each of its steps on the wire (before the old session item is
// deleted, before the user's generation is read and before the new
// session item is written), runs RevokeUser for
// the user there (log out everywhere, or log out the others keeping a
// second session), and lets the rotation finish. Whatever the rotation
// returns, neither the old token nor a new one finds a session, then or
// after the user logs in again; the kept session survives.
func TestRotateRacingRevokeUserNeverLeavesALiveSession(t *testing.T) {
	steps := []struct{ name, verb string }{
		{"before the old session is deleted", "delete"},
		{"before the generation is read", "gets"},
		{"before the new session is written", "add"},
	}
	for _, keep := range []bool{false, true} {
		for _, step := range steps {
			name := "log out everywhere " + step.name
			if keep {
				name = "log out the others " + step.name
			}
			t.Run(name, func(t *testing.T) {
				s, p, c := proxied(t, Options{})
				c.Timeout = 10 * time.Second // the paused command waits for the revocation
				now := time.Now()
				old := mustCreate(t, s, cookie, newRecord(now, "alice", "v"))
				var keepRef securesession.Ref
				if keep {
					keepRef = securesession.Ref{Name: cookie, Token: mustCreate(t, s, cookie, newRecord(now, "alice", "kept"))}
				}
				rec := mustFind(t, s, cookie, old) // the rotating request's read
				rec.Values = []byte("rotated")

				reached, release := p.Pause(step.verb)
				defer release()
				type result struct {
					tok string
					err error
				}
				done := make(chan result, 1)
				go func() {
					tok, err := s.Rotate(bg, cookie, old, &rec)
					done <- result{tok, err}
				}()
				select {
				case <-reached:
				case <-time.After(5 * time.Second):
					t.Fatalf("Rotate sent no %q", step.verb)
				}
				if err := s.RevokeUser(bg, "alice", keepRef); err != nil {
					t.Fatalf("RevokeUser: %v", err)
				}
				release()
				res := <-done
				if res.err != nil && !errors.Is(res.err, securesession.ErrNoRecord) {
					t.Fatalf("Rotate: %v; want a token or ErrNoRecord", res.err)
				}
				check := func(when string) {
					t.Helper()
					for what, tok := range map[string]string{"old": old, "rotated": res.tok} {
						if tok == "" {
							continue
						}
						if got, found, err := s.Find(bg, cookie, tok); found || err != nil {
							t.Fatalf("%s: the %s token finds user %q (err %v): the session outlived the revocation", when, what, got.UserID, err)
						}
					}
					if keep {
						if got := mustFind(t, s, cookie, keepRef.Token); string(got.Values) != "kept" {
							t.Fatalf("%s: kept session values %q", when, got.Values)
						}
					}
				}
				check("after the race")
				mustFind(t, s, cookie, mustCreate(t, s, cookie, newRecord(now, "alice", "again")))
				check("after a new login")
				t.Logf("Rotate returned err=%v", res.err)
			})
		}
	}
}

// TestRotateRacingRevokeUserLoop runs a same-user Rotate and a RevokeUser
// of that user truly concurrently, many times: no rotated token ever finds
// a session.
func TestRotateRacingRevokeUserLoop(t *testing.T) {
	m := testServer(t)
	s := newTestStore(t, newClient(t, m.Addr()), Options{})
	const trials = 200
	var survivors, rotated int
	for range trials {
		now := time.Now()
		old := mustCreate(t, s, cookie, newRecord(now, "alice", "v"))
		rec := mustFind(t, s, cookie, old)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var tok string
		var rerr, verr error
		wg.Go(func() {
			<-start
			tok, rerr = s.Rotate(bg, cookie, old, &rec)
		})
		wg.Go(func() {
			<-start
			verr = s.RevokeUser(bg, "alice", securesession.Ref{})
		})
		close(start)
		wg.Wait()
		if verr != nil {
			t.Fatalf("RevokeUser: %v", verr)
		}
		switch {
		case errors.Is(rerr, securesession.ErrNoRecord):
		case rerr != nil:
			t.Fatalf("Rotate: %v", rerr)
		default:
			rotated++
			if _, found, err := s.Find(bg, cookie, tok); found || err != nil {
				survivors++
			}
		}
		mustNotFind(t, s, cookie, old)
	}
	t.Logf("%d trials: %d rotations returned a token, %d refused (ErrNoRecord); %d rotated sessions survived", trials, rotated, trials-rotated, survivors)
	if survivors != 0 {
		t.Fatalf("%d of %d rotated sessions outlived a concurrent RevokeUser", survivors, trials)
	}
}
