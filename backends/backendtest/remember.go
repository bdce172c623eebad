package backendtest

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// rememberChecks hold the backend to keeping a remembered session ("remember
// me", Login with RememberMe) in its class with no field of its own: the
// record's stored times carry the class, through writes, rotations and the
// cookie backend's re-seals, and the middleware enforces the remembered
// timeouts from them.
var rememberChecks = []check{
	{"Remember/SurvivesIdleAndBrowserRestart", testRememberSurvivesIdleAndBrowserRestart},
	{"Remember/EndsAfterItsOwnIdleTimeout", testRememberEndsAfterItsOwnIdleTimeout},
	{"Remember/EndsAfterItsOwnAbsoluteTimeout", testRememberEndsAfterItsOwnAbsoluteTimeout},
	{"Remember/RotateKeepsTheClass", testRememberRotateKeepsTheClass},
	{"Remember/LogoutEverywhereEndsRememberedSessions", testRememberLogoutEverywhere},
	{"Remember/ShorterTimeoutsApplyToExistingSessions", testRememberShorterTimeouts},
}

const day = 24 * time.Hour

func rememberRoutes(r *gin.Engine) {
	r.POST("/login-remember", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user"), securesession.RememberMe()); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
}

// newRememberApp is newApp over b with the remember routes.
func newRememberApp(t *testing.T, b securesession.Backend, opts ...appOption) *app {
	t.Helper()
	return newAppRoutes(t, b, rememberRoutes, opts...)
}

// rememberLogin logs a new client in as user with RememberMe and checks
// that the cookie is persistent until the remembered deadline.
func (a *app) rememberLogin(user string) *session {
	a.t.Helper()
	cl := a.client()
	r := cl.do("POST", "/login-remember?user="+url.QueryEscape(user))
	if r.status != http.StatusOK || cl.c == nil {
		a.t.Fatalf("remembered login: %d %s", r.status, r.body)
	}
	if want := int(securesession.DefaultRememberAbsoluteTimeout / time.Second); cl.c.MaxAge != want {
		a.t.Fatalf("remembered login: cookie Max-Age=%d, want %d (RememberAbsoluteTimeout)", cl.c.MaxAge, want)
	}
	return cl
}

// restartBrowser drops the client's cookie unless it is persistent, as a
// browser does when it closes.
func (s *session) restartBrowser() {
	if s.c != nil && s.c.MaxAge <= 0 && s.c.Expires.IsZero() {
		s.c = nil
	}
}

func testRememberSurvivesIdleAndBrowserRestart(t *testing.T, f *factory) {
	a := newRememberApp(t, f.backend(t))
	user := uniqueUser("remember")
	remembered := a.rememberLogin(user)
	normal := a.client()
	normal.do("POST", "/login?user="+url.QueryEscape(user))
	if normal.c == nil || normal.c.MaxAge != 0 || !normal.c.Expires.IsZero() {
		t.Fatalf("a login without RememberMe: cookie %v; want a browser-session cookie", normal.c)
	}
	normalCookie := normal.c

	a.clock.Advance(31 * time.Minute)
	remembered.restartBrowser()
	normal.restartBrowser()
	if normal.c != nil {
		t.Fatal("the browser kept a browser-session cookie across a restart")
	}
	if got := remembered.user(); got != user {
		t.Fatalf("a remembered session after 31 idle minutes and a browser restart: user %q, want %q", got, user)
	}
	if got := a.replayUser(normalCookie); got != "" {
		t.Fatalf("a normal session after 31 idle minutes is user %q; want anonymous", got)
	}

	// A write that re-issues the token (the cookie backend re-seals on
	// every write) sends a cookie that is still persistent, to the same
	// deadline.
	a.clock.Advance(day)
	r := remembered.do("POST", "/set?key=k&val=v")
	if c := r.cookie(a.name); c != nil {
		left := securesession.DefaultRememberAbsoluteTimeout - day - 31*time.Minute
		if want := int(left / time.Second); c.MaxAge < want-1 || c.MaxAge > want+1 {
			t.Errorf("a re-issued cookie has Max-Age=%d, want %d (the rest of the session's life)", c.MaxAge, want)
		}
	}
	remembered.restartBrowser()
	if got := remembered.do("GET", "/get?key=k").body; got != "string:v" {
		t.Errorf("after a write and a browser restart: %q, want string:v", got)
	}
}

func testRememberEndsAfterItsOwnIdleTimeout(t *testing.T, f *factory) {
	a := newRememberApp(t, f.backend(t))
	user := uniqueUser("remember")
	cl := a.rememberLogin(user)
	a.clock.Advance(securesession.DefaultRememberIdleTimeout - time.Minute)
	if got := cl.user(); got != user {
		t.Fatalf("just within the remembered idle timeout: user %q, want %q", got, user)
	}
	a.clock.Advance(securesession.DefaultRememberIdleTimeout - time.Minute)
	if got := cl.user(); got != user {
		t.Fatalf("active, again within the remembered idle timeout: user %q, want %q", got, user)
	}
	old := cl.c
	a.clock.Advance(securesession.DefaultRememberIdleTimeout + time.Second)
	if got := a.replayUser(old); got != "" {
		t.Fatalf("past the remembered idle timeout the session is still user %q", got)
	}
	if !a.sawEvent(securesession.EventExpiredIdle) {
		t.Error("no expired_idle event")
	}
}

func testRememberEndsAfterItsOwnAbsoluteTimeout(t *testing.T, f *factory) {
	a := newRememberApp(t, f.backend(t))
	user := uniqueUser("remember")
	cl := a.rememberLogin(user)
	var elapsed time.Duration
	for elapsed+6*day < securesession.DefaultRememberAbsoluteTimeout {
		a.clock.Advance(6 * day)
		elapsed += 6 * day
		if got := cl.user(); got != user {
			t.Fatalf("active, %v after the login: user %q, want %q", elapsed, got, user)
		}
	}
	a.clock.Advance(securesession.DefaultRememberAbsoluteTimeout - elapsed + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("past the remembered absolute timeout the session is still user %q", got)
	}
	if !a.sawEvent(securesession.EventExpiredAbsolute) {
		t.Error("no expired_absolute event")
	}
}

func testRememberRotateKeepsTheClass(t *testing.T, f *factory) {
	a := newRememberApp(t, f.backend(t))
	user := uniqueUser("remember")
	cl := a.rememberLogin(user)
	a.clock.Advance(day)
	before := cl.c
	if r := cl.do("POST", "/rotate"); r.status != http.StatusOK || cl.c == nil || cl.c.Value == before.Value {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	// The deadline does not restart: the new cookie lives for the rest.
	if want := int((securesession.DefaultRememberAbsoluteTimeout - day) / time.Second); cl.c.MaxAge < want-1 || cl.c.MaxAge > want+1 {
		t.Fatalf("rotated cookie Max-Age=%d, want %d", cl.c.MaxAge, want)
	}
	a.clock.Advance(6 * day)
	cl.restartBrowser()
	if got := cl.user(); got != user {
		t.Fatalf("a rotated remembered session after 6 idle days and a browser restart: user %q, want %q", got, user)
	}
	old := cl.c
	a.clock.Advance(securesession.DefaultRememberIdleTimeout + time.Second)
	if got := a.replayUser(old); got != "" {
		t.Fatalf("a rotated remembered session past its idle timeout is still user %q", got)
	}
}

func testRememberLogoutEverywhere(t *testing.T, f *factory) {
	b := f.backend(t)
	f.requireRevocation(t)
	a := newRememberApp(t, b)
	user := uniqueUser("remember")
	laptop, phone := a.rememberLogin(user), a.rememberLogin(user)
	a.clock.Advance(3 * day)
	phoneCookie := phone.c
	if r := laptop.do("POST", "/logout-everywhere"); r.status != http.StatusOK {
		t.Fatalf("LogoutEverywhere: %d %s", r.status, r.body)
	}
	if got := a.replayUser(phoneCookie); got != "" {
		t.Fatalf("a remembered session survives LogoutEverywhere as %q", got)
	}
	a.clock.Advance(day)
	if got := a.replayUser(phoneCookie); got != "" {
		t.Fatalf("a remembered session is back a day after LogoutEverywhere as %q", got)
	}
}

// testRememberShorterTimeouts: the application shortens the remembered
// timeouts; sessions issued before the change obey the new ones at once.
func testRememberShorterTimeouts(t *testing.T, f *factory) {
	b := f.backend(t)
	before := newRememberApp(t, b)
	after := newRememberApp(t, b, func(o *securesession.Options) {
		o.Now = before.clock.Now
		o.RememberIdleTimeout = day
		o.RememberAbsoluteTimeout = 3 * day
	})
	user := uniqueUser("remember")

	idle := before.rememberLogin(user)
	idle.a = after
	before.clock.Advance(day + time.Minute)
	if got := idle.user(); got != "" {
		t.Fatalf("idle for a day and a minute under a 1-day RememberIdleTimeout: user %q; want anonymous", got)
	}

	active := before.rememberLogin(user)
	active.a = after
	for range 3 {
		before.clock.Advance(20 * time.Hour)
		if got := active.user(); got != user {
			t.Fatalf("active under the shorter timeouts: user %q, want %q", got, user)
		}
	}
	before.clock.Advance(20 * time.Hour) // 80 hours after the login
	if got := active.user(); got != "" {
		t.Fatalf("80 hours after the login under a 3-day RememberAbsoluteTimeout: user %q; want anonymous", got)
	}
}
