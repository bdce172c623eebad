package backendtest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// revocationChecks pin LogoutEverywhere and LogoutOthers, alone and racing
// a rotation of the session they end.
var revocationChecks = []check{
	{"LogoutEverywhere", testLogoutEverywhere},
	{"LogoutOthersThenRotateKeepsOwnSession", testLogoutOthersThenRotate},
	{"RotationRacingRevocationLeavesNoSession", testRotationRacingRevocation},
	{"RotateRacingLogoutEverywhereDoesNotResurrect", testRotateRacingLogoutEverywhere},
}

func testLogoutEverywhere(t *testing.T, f *factory) {
	a := newApp(t, f)
	laptop, phone, other := a.client(), a.client(), a.client()
	laptop.do("POST", "/login?user=alice")
	phone.do("POST", "/login?user=alice")
	other.do("POST", "/login?user=bob")
	phoneCookie := phone.c
	r := a.do("POST", "/logout-everywhere", laptop.c)
	if !f.revokes() {
		if r.status != http.StatusInternalServerError || !strings.Contains(r.body, "cannot revoke") {
			t.Fatalf("LogoutEverywhere on a backend that cannot revoke: status %d %q; want the ErrCannotRevoke error", r.status, r.body)
		}
		f.requireRevocation(t)
	}
	if r.status != http.StatusOK {
		t.Fatalf("LogoutEverywhere: %d %s", r.status, r.body)
	}
	if got := a.replayUser(phoneCookie); got != "" {
		t.Fatalf("alice's other session survives LogoutEverywhere as %q", got)
	}
	if got := other.user(); got != "bob" {
		t.Fatalf("bob's session was affected by alice's LogoutEverywhere: user %q", got)
	}
	// Alice can log in again afterwards.
	phone.c = nil
	phone.do("POST", "/login?user=alice")
	if got := phone.user(); got != "alice" {
		t.Fatalf("new login after LogoutEverywhere: user %q", got)
	}
}

// testLogoutOthersThenRotate: after a password change the application
// calls LogoutOthers and then, as a privilege change, Rotate. The other
// device is logged out; this one stays logged in across the rotation and
// the requests after it, with its values, while the cookie it held before
// the rotation is anonymous. (The cookie backend with a revocation store
// logged the user out: the rotated cookie kept the old issue time and only
// the pre-rotation handle was exempt from the user's revocation.)
func testLogoutOthersThenRotate(t *testing.T, f *factory) {
	b := f.backend(t)
	f.requireRevocation(t)
	a := newAppOn(t, b)
	const user = "dora-logout-others"
	mine, other := a.client(), a.client()
	mine.do("POST", "/login?user="+user)
	mine.do("POST", "/set?key=k&val=mine")
	other.do("POST", "/login?user="+user)
	if mine.user() != user || other.user() != user {
		t.Fatal("setup: both devices should be logged in")
	}

	if r := mine.do("POST", "/logout-others"); r.status != http.StatusOK {
		t.Fatalf("LogoutOthers: %d %s", r.status, r.body)
	}
	if got := other.user(); got != "" {
		t.Fatalf("after LogoutOthers the other device is still logged in as %q", got)
	}
	if got := mine.user(); got != user {
		t.Fatalf("LogoutOthers logged out its own session (user %q)", got)
	}

	beforeRotate := mine.c
	if r := mine.do("POST", "/rotate"); r.status != http.StatusOK {
		t.Fatalf("Rotate after LogoutOthers: %d %s", r.status, r.body)
	}
	if got := mine.user(); got != user {
		t.Fatalf("after LogoutOthers then Rotate the user's own session is anonymous (user %q)", got)
	}
	if got := a.replayUser(beforeRotate); got != "" {
		t.Fatalf("the cookie from before the rotation still reads user %q", got)
	}
	for i := 0; i < 3; i++ {
		a.clock.Advance(2 * time.Minute)
		if got := mine.do("GET", "/get?key=k").body; got != "string:mine" {
			t.Fatalf("request %d after the rotation: value %q, want string:mine", i, got)
		}
		if r := mine.do("POST", "/rotate"); r.status != http.StatusOK {
			t.Fatalf("rotation %d after LogoutOthers: %d %s", i+2, r.status, r.body)
		}
		if got := mine.user(); got != user {
			t.Fatalf("rotation %d after LogoutOthers logged the user out (user %q)", i+2, got)
		}
	}
	if got := other.user(); got != "" {
		t.Fatalf("the other device came back as %q", got)
	}
}

// testRotationRacingRevocation: an attacker with a stolen copy of the
// victim's session calls a route that rotates it (securesession.Rotate)
// while the victim, on another device, logs out everywhere, logs out
// the other devices, or ends the attacker's session from the list.
// Started together, many times: whichever request wins, the attacker must
// end up with no session, by the rotated cookie or the old one, and the
// victim's kept session must stay. (On PostgreSQL the GORM backend's
// rotation, a DELETE and an INSERT, slipped past a concurrent revocation.)
func testRotationRacingRevocation(t *testing.T, f *factory) {
	const trials = 48 // 16 of each kind of revocation
	b := f.backend(t)
	f.requireRevocation(t)
	a := newAppOn(t, b)
	user := uniqueUser("racer")
	kinds := []string{"/logout-everywhere", "/logout-others", "/revoke"}
	survived := map[string]int{}
	for i := 0; i < trials; i++ {
		kind := kinds[i%len(kinds)]
		victim, attacker := a.client(), a.client()
		victim.do("POST", "/login?user="+url.QueryEscape(user))
		attacker.do("POST", "/login?user="+url.QueryEscape(user))
		path := kind
		if kind == "/revoke" {
			list := victim.sessions()
			if list == nil {
				continue // not a Lister: LogoutEverywhere and LogoutOthers only
			}
			for _, l := range list {
				if !l.Current {
					path = "/revoke?handle=" + url.QueryEscape(l.Handle)
				}
			}
			if path == kind {
				t.Fatalf("the victim's session list %+v does not show the attacker's session", list)
			}
		}

		start := make(chan struct{})
		var wg sync.WaitGroup
		var rot, rev sent
		wg.Add(2)
		go func() { defer wg.Done(); <-start; rot = a.send("POST", "/rotate", attacker.c) }()
		go func() { defer wg.Done(); <-start; rev = a.send("POST", path, victim.c) }()
		close(start)
		wg.Wait()
		if rot.err != nil || rev.err != nil {
			t.Fatalf("trial %d: %v, %v", i, rot.err, rev.err)
		}
		if rev.status != http.StatusOK {
			t.Fatalf("trial %d: POST %s: %d %s", i, kind, rev.status, rev.body)
		}
		if rot.status != http.StatusOK && rot.status != http.StatusConflict {
			t.Fatalf("trial %d: POST /rotate: %d %s", i, rot.status, rot.body)
		}
		for _, c := range []*http.Cookie{attacker.c, rot.cookie} {
			if c != nil && c.MaxAge >= 0 && c.Value != "" && a.replayUser(c) != "" {
				survived[kind]++
				break
			}
		}
		if kind != "/logout-everywhere" {
			if got := victim.user(); got != user {
				t.Fatalf("trial %d: %s ended the victim's own session (user %q)", i, kind, got)
			}
			victim.do("POST", "/logout")
		}
	}
	if len(survived) != 0 {
		t.Errorf("sessions rotated during a revocation survived it, by kind of revocation: %v", survived)
	}
}

// revokeBeforeRotate calls RevokeUser for the session's user just before
// each Rotate: the interleaving of a Rotate that races a LogoutEverywhere
// on another device, made deterministic.
type revokeBeforeRotate struct {
	securesession.Backend
	user string
}

func (b *revokeBeforeRotate) Rotate(ctx context.Context, name, old string, rec *securesession.Record) (string, error) {
	if err := b.Backend.RevokeUser(ctx, b.user, securesession.Ref{}); err != nil {
		return "", err
	}
	return b.Backend.Rotate(ctx, name, old, rec)
}

// testRotateRacingLogoutEverywhere: securesession.Rotate on a session that
// a concurrent LogoutEverywhere revoked between the request's Find and its
// Rotate must not re-create the session under a new token. (It did, while
// the Backend contract let Rotate succeed when the old record was gone;
// found by this check.)
func testRotateRacingLogoutEverywhere(t *testing.T, f *factory) {
	b := f.backend(t)
	f.requireRevocation(t)
	a := newAppOn(t, &revokeBeforeRotate{Backend: b, user: "alice"})
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	r := cl.do("POST", "/rotate")
	if r.status != http.StatusConflict {
		t.Fatalf("rotate of a revoked session: %d %s; want 409 (ErrNoRecord)", r.status, r.body)
	}
	if got := cl.user(); got != "" {
		t.Fatalf("after a revocation that ran before the Rotate wrote, the rotated cookie is logged in as %q: the session came back", got)
	}
}
