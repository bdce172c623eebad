package backendtest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// lifecycleChecks follow a session through login, rotation and logout:
// each issues a fresh token and the old cookie, replayed, is anonymous.
var lifecycleChecks = []check{
	{"UnknownTokenNeverAdopted", testUnknownTokenNeverAdopted},
	{"LoginRotatesAndCarriesData", testLoginRotatesAndCarriesData},
	{"FixationRefused", testFixationRefused},
	{"LoginThenSetWritesOnce", testLoginThenSetWritesOnce},
	{"RotateKillsOldCookie", testRotateKillsOldCookie},
	{"LogoutKillsOldCookie", testLogoutKillsOldCookie},
	{"WriteRacingLogoutDoesNotResurrect", testWriteRacingLogoutDoesNotResurrect},
}

func testUnknownTokenNeverAdopted(t *testing.T, f *factory) {
	a := newApp(t, f)
	// Valid-looking values of several shapes; none was issued.
	planted := []string{
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"attacker-chosen-session-id",
		strings.Repeat("A", 64),
	}
	for _, p := range planted {
		c := &http.Cookie{Name: a.name, Value: p}
		if got := a.replayUser(c); got != "" {
			t.Fatalf("planted cookie %q is user %q", p, got)
		}
		r := a.do("POST", "/set?key=k&val=v", c)
		nc := r.cookie(a.name)
		if nc == nil || nc.Value == p {
			t.Fatalf("a Set with a planted cookie must issue a fresh token; got %v", nc)
		}
		if _, found, err := a.b.Find(context.Background(), a.name, p); found || (err != nil && !isInvalid(err)) {
			t.Fatalf("after a Set, the planted value is found=%v err=%v; want nothing stored for it", found, err)
		}
	}
}

func testLoginRotatesAndCarriesData(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set?key=cart&val=3-items")
	pre := cl.c
	cl.do("POST", "/login?user=alice")
	if cl.token() == "" || cl.token() == pre.Value {
		t.Fatal("Login did not issue a new token")
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("after Login, user = %q, want alice", got)
	}
	if got := cl.do("GET", "/get?key=cart").body; got != "string:3-items" {
		t.Fatalf("after Login, cart = %q, want the pre-login value carried over", got)
	}
	if !f.revokes() {
		t.Logf("skipping the pre-login replay check: %s", f.noRevocation)
		return
	}
	if got := a.replayUser(pre); got != "" {
		t.Fatalf("pre-login cookie replayed after Login is user %q, want anonymous", got)
	}
	if got := a.replayGet(pre, "cart"); got != "<nil>" {
		t.Fatalf("pre-login cookie replayed after Login still reads %q", got)
	}
}

func testFixationRefused(t *testing.T, f *factory) {
	a := newApp(t, f)
	attacker := a.client()
	attacker.do("POST", "/set?key=k&val=planted")
	// The victim's browser is made to carry the attacker's cookie, then
	// the victim logs in.
	victim := &session{a: a, c: attacker.c}
	victim.do("POST", "/login?user=victim")
	if victim.token() == attacker.token() {
		t.Fatal("Login kept the planted token: session fixation")
	}
	if got := victim.user(); got != "victim" {
		t.Fatalf("victim user = %q", got)
	}
	f.requireRevocation(t)
	if got := a.replayUser(attacker.c); got != "" {
		t.Fatalf("attacker's planted cookie is logged in as %q after the victim's login", got)
	}
}

// A handler that logs in and then stores more values costs one backend
// write, not a create followed by an update.
func testLoginThenSetWritesOnce(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set?key=cart&val=1")
	before := a.b.total()
	cl.do("POST", "/login-role?user=alice&role=admin")
	if n := a.b.total() - before; n != 1 {
		t.Errorf("Login followed by Set made %d backend writes (%v), want 1", n, a.b.writes)
	}
	if got := cl.do("GET", "/get?key=role").body; got != "string:admin" {
		t.Fatalf("role after login = %q", got)
	}
	if got := cl.do("GET", "/get?key=cart").body; got != "string:1" {
		t.Fatalf("cart after login = %q", got)
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("user after login = %q", got)
	}
}

func testRotateKillsOldCookie(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	old := cl.c
	cl.do("POST", "/rotate")
	if cl.token() == old.Value {
		t.Fatal("Rotate kept the token")
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("after Rotate, user = %q, want alice", got)
	}
	f.requireRevocation(t)
	if got := a.replayUser(old); got != "" {
		t.Fatalf("pre-rotation cookie is user %q, want anonymous", got)
	}
}

func testLogoutKillsOldCookie(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	cl.do("POST", "/set?key=secret&val=s3")
	stolen := cl.c
	r := cl.do("POST", "/logout")
	if cl.c != nil {
		t.Fatalf("Logout left the browser a cookie: %q", r.header.Values("Set-Cookie"))
	}
	if got := cl.user(); got != "" {
		t.Fatalf("after Logout, user = %q", got)
	}
	f.requireRevocation(t)
	if got := a.replayUser(stolen); got != "" {
		t.Fatalf("cookie replayed after Logout is user %q, want anonymous", got)
	}
	if got := a.replayGet(stolen, "secret"); got != "<nil>" {
		t.Fatalf("cookie replayed after Logout still reads %q", got)
	}
	if _, found, _ := a.b.Find(context.Background(), a.name, stolen.Value); found {
		t.Fatal("the server record survives Logout")
	}
}

// A request that read the session before a logout and writes after it
// must not bring the session back (the write gets ErrNoRecord from the
// backend, and the middleware expires the cookie instead of re-creating).
func testWriteRacingLogoutDoesNotResurrect(t *testing.T, f *factory) {
	b := f.backend(t)
	f.requireRevocation(t)
	loaded, release := make(chan struct{}), make(chan struct{})
	a := newAppOn(t, b)
	a.srv.Config.Handler.(*gin.Engine).POST("/slow-set", func(c *gin.Context) {
		s := sessions.Default(c)
		_ = s.Get("k") // the session is loaded
		close(loaded)
		<-release // a logout happens meanwhile
		s.Set("k", "after-logout")
		c.String(http.StatusOK, "ok")
	})
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	stolen := cl.c
	done := make(chan *result)
	go func() { done <- a.do("POST", "/slow-set", stolen) }()
	<-loaded
	if r := a.do("POST", "/logout", stolen); r.status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	close(release)
	r := <-done
	if r.status >= 500 {
		t.Fatalf("the racing write failed with %d (%s); a session ended meanwhile is not an outage", r.status, r.body)
	}
	if c := r.cookie(a.name); c != nil && c.Value != "" && c.MaxAge >= 0 {
		if got := a.replayUser(c); got != "" {
			t.Fatalf("the racing write issued a new cookie for user %q", got)
		}
	}
	if got := a.replayUser(stolen); got != "" {
		t.Fatalf("the session came back after logout as %q", got)
	}
	if got := a.replayGet(stolen, "k"); got != "<nil>" {
		t.Fatalf("the racing write resurrected the session's data: %q", got)
	}
}
