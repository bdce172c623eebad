package securesession_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/memory"
	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

// The behaviours of remembered sessions that every backend shares are in
// backends/backendtest/remember.go; these are the middleware's own.

const day = 24 * time.Hour

// rmStore is a memory store on the test clock.
func rmStore(t testing.TB, clock *rqClock) *memory.Store {
	t.Helper()
	s, err := memory.NewStore(memory.Options{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rmRouter is router with the test clock and the routes of these tests:
// /login?remember=1 logs in with RememberMe, /rotate rotates, /remembered
// answers "user=... remembered=...", and /maxage?s=N sets Session.Options
// MaxAge to N and saves.
func rmRouter(t testing.TB, b securesession.Backend, clock *rqClock, o securesession.Options) *gin.Engine {
	t.Helper()
	o.Now = clock.now
	r := router(t, b, o)
	r.POST("/login-remember", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user"), securesession.RememberMe()); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/api/login-remember", func(c *gin.Context) {
		tok, err := securesession.LoginToken(c, c.Query("user"), securesession.RememberMe())
		if err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, tok)
	})
	r.POST("/rotate", func(c *gin.Context) {
		if err := securesession.Rotate(c); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	state := func(c *gin.Context) {
		c.String(http.StatusOK, "user=%s remembered=%v", securesession.UserID(c), securesession.Remembered(c))
	}
	r.GET("/remembered", state)
	r.POST("/maxage", func(c *gin.Context) {
		s := sessions.Default(c)
		var n int
		for _, ch := range c.Query("s") {
			n = n*10 + int(ch-'0')
		}
		s.Options(sessions.Options{MaxAge: n})
		s.Set("touched", c.Query("s"))
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	return r
}

// rmBrowser keeps the session cookie as a browser does, including whether
// it is persistent (the conformance check restarts the browser).
type rmBrowser struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
	last   *http.Cookie // the Set-Cookie of the last response, if any
}

func (b *rmBrowser) do(method, target string, hdr ...string) string {
	b.t.Helper()
	req := httptest.NewRequest(method, "https://example.com"+target, nil) // over TLS, as a browser keeps Secure cookies
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if b.cookie != nil {
		req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, req)
	if w.Code >= 500 {
		b.t.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
	}
	b.last = nil
	for _, ck := range w.Result().Cookies() {
		if ck.Name == securesession.DefaultCookieName {
			b.last = ck
			if ck.MaxAge < 0 || ck.Value == "" {
				b.cookie = nil
			} else {
				b.cookie = ck
			}
		}
	}
	return w.Body.String()
}

func (b *rmBrowser) state() string { b.t.Helper(); return b.do("GET", "/remembered") }

func TestNewRejectsRememberTimeoutsItCannotHonour(t *testing.T) {
	store := newCookieStore(t)
	tests := []struct {
		name   string
		opts   securesession.Options
		fields []string
	}{
		{"remembered idle longer than remembered absolute",
			securesession.Options{RememberIdleTimeout: 31 * day},
			[]string{"Options.RememberIdleTimeout", "Options.RememberAbsoluteTimeout"}},
		{"remembered absolute not longer than absolute",
			securesession.Options{AbsoluteTimeout: 2 * day, RememberIdleTimeout: day, RememberAbsoluteTimeout: 2 * day},
			[]string{"Options.RememberAbsoluteTimeout", "Options.AbsoluteTimeout"}},
		{"the default remembered absolute not longer than absolute",
			securesession.Options{IdleTimeout: day, AbsoluteTimeout: 60 * day},
			[]string{"Options.RememberAbsoluteTimeout", "Options.AbsoluteTimeout", "the default"}},
		{"remembered absolute not longer than the bound absolute",
			securesession.Options{DeviceBinding: &securesession.DeviceBinding{BoundIdleTimeout: day, BoundAbsoluteTimeout: 30 * day}},
			[]string{"Options.RememberAbsoluteTimeout", "Options.DeviceBinding.BoundAbsoluteTimeout"}},
		{"remembered absolute over the cookie lifetime",
			securesession.Options{RememberAbsoluteTimeout: securesession.MaxCookieLifetime + time.Second},
			[]string{"Options.RememberAbsoluteTimeout", "MaxCookieLifetime"}},
		{"negative remembered idle",
			securesession.Options{RememberIdleTimeout: -time.Hour},
			[]string{"Options.RememberIdleTimeout"}},
		{"touch interval not below the remembered idle",
			securesession.Options{IdleTimeout: 2 * time.Hour, TouchInterval: time.Hour, RememberIdleTimeout: time.Hour},
			[]string{"Options.TouchInterval", "Options.RememberIdleTimeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := securesession.New(store, tt.opts)
			if err == nil {
				t.Fatal("New accepted the options")
			}
			for _, f := range tt.fields {
				if !strings.HasPrefix(err.Error(), "securesession: ") || !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
		})
	}
	ok := securesession.Options{RememberIdleTimeout: 400 * day, RememberAbsoluteTimeout: securesession.MaxCookieLifetime}
	if _, err := securesession.New(store, ok); err != nil {
		t.Errorf("400-day remembered timeouts must be valid: %v", err)
	}
}

func TestRememberedSessionHasMaxAgeUntilItsDeadline(t *testing.T) {
	clock := newRQClock()
	b := &rmBrowser{t: t, h: rmRouter(t, rmStore(t, clock), clock, securesession.Options{})}
	b.do("POST", "/login-remember?user=alice")
	if want := int(securesession.DefaultRememberAbsoluteTimeout / time.Second); b.last == nil || b.last.MaxAge != want {
		t.Fatalf("login cookie %v; want Max-Age=%d", b.last, want)
	}
	if got := b.state(); got != "user=alice remembered=true" {
		t.Fatalf("after a remembered login: %q", got)
	}
	// A value change a day later: a server backend keeps the token, so no
	// new cookie is needed; the browser's Max-Age still ends at the deadline.
	clock.advance(day)
	b.do("POST", "/set?key=k&val=v")
	if b.last != nil {
		t.Errorf("a value change sent %v; the token did not change", b.last)
	}
	// A rotation re-sends the cookie, with the rest of the session's life.
	b.do("POST", "/rotate")
	if want := int((securesession.DefaultRememberAbsoluteTimeout - day) / time.Second); b.last == nil || b.last.MaxAge != want {
		t.Fatalf("rotated cookie %v; want Max-Age=%d", b.last, want)
	}
}

func TestLoginWithoutRememberMeMakesTheSessionNormalAgain(t *testing.T) {
	clock := newRQClock()
	b := &rmBrowser{t: t, h: rmRouter(t, rmStore(t, clock), clock, securesession.Options{})}
	b.do("POST", "/login-remember?user=alice")
	b.do("POST", "/login?user=alice") // a re-authentication without the checkbox
	if b.last == nil || b.last.MaxAge != 0 {
		t.Fatalf("cookie after a normal login %v; want a browser-session cookie", b.last)
	}
	if got := b.state(); got != "user=alice remembered=false" {
		t.Fatalf("after a normal login: %q", got)
	}
	clock.advance(31 * time.Minute)
	if got := b.state(); got != "user= remembered=false" {
		t.Errorf("31 idle minutes after a normal login: %q; want anonymous", got)
	}
}

func TestRememberedBearerSessionGetsTheRememberedTimeouts(t *testing.T) {
	clock := newRQClock()
	r := rmRouter(t, rmStore(t, clock), clock, securesession.Options{AuthorizationHeader: true})
	b := &rmBrowser{t: t, h: r}
	tok := b.do("POST", "/api/login-remember?user=alice")
	if b.last != nil {
		t.Fatalf("an API login set a cookie: %v", b.last)
	}
	bearer := []string{"Authorization", "Bearer " + tok}
	clock.advance(6 * day)
	if got := b.do("GET", "/remembered", bearer...); got != "user=alice remembered=true" {
		t.Fatalf("after 6 idle days: %q", got)
	}
	clock.advance(7*day + time.Second)
	if got := b.do("GET", "/remembered", bearer...); got != "user= remembered=false" {
		t.Errorf("after 7 idle days: %q; want anonymous", got)
	}
}

// Records are trusted, but their times are still bounded by the
// configuration: a record that claims a longer life than any class allows
// (written by an older configuration, another application, or a bug) ends
// when the longest configured timeout says so.
func TestStoredTimesCannotOutliveTheConfiguredTimeouts(t *testing.T) {
	clock := newRQClock()
	store := rmStore(t, clock)
	b := &rmBrowser{t: t, h: rmRouter(t, store, clock, securesession.Options{})}
	now := clock.now()
	rec := securesession.Record{UserID: "alice", AuthTime: now, Created: now, LastSeen: now,
		Deadline: now.Add(300 * day), Expires: now.Add(300 * day)}
	tok, err := store.Create(context.Background(), securesession.DefaultCookieName, &rec)
	if err != nil {
		t.Fatal(err)
	}
	b.cookie = &http.Cookie{Name: securesession.DefaultCookieName, Value: tok}
	clock.advance(7*day - time.Minute)
	if got := b.state(); got != "user=alice remembered=true" {
		t.Fatalf("within the remembered idle timeout: %q", got)
	}
	clock.advance(7*day + time.Minute)
	if got := b.state(); got != "user= remembered=false" {
		t.Fatalf("7 idle days after the last request: %q; want anonymous", got)
	}

	// With activity: refused at Created + RememberAbsoluteTimeout.
	now = clock.now()
	rec = securesession.Record{UserID: "alice", AuthTime: now, Created: now, LastSeen: now,
		Deadline: now.Add(300 * day), Expires: now.Add(300 * day)}
	if tok, err = store.Create(context.Background(), securesession.DefaultCookieName, &rec); err != nil {
		t.Fatal(err)
	}
	b.cookie = &http.Cookie{Name: securesession.DefaultCookieName, Value: tok}
	for range 4 {
		clock.advance(6 * day)
		if got := b.state(); got != "user=alice remembered=true" {
			t.Fatalf("at %v, active: %q", clock.now().Sub(now), got)
		}
	}
	clock.advance(6 * day)
	if got := b.state(); got != "user= remembered=false" {
		t.Fatalf("30 days after the login: %q; want anonymous", got)
	}
}

func TestShorterNormalTimeoutsApplyToExistingSessions(t *testing.T) {
	clock := newRQClock()
	store := rmStore(t, clock)
	before := rmRouter(t, store, clock, securesession.Options{})
	after := rmRouter(t, store, clock, securesession.Options{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 4 * time.Hour})

	b := &rmBrowser{t: t, h: before}
	b.do("POST", "/login?user=alice")
	b.h = after
	clock.advance(11 * time.Minute)
	if got := b.state(); got != "user= remembered=false" {
		t.Errorf("11 idle minutes under a 10-minute IdleTimeout: %q; want anonymous", got)
	}

	b = &rmBrowser{t: t, h: before}
	b.do("POST", "/login?user=alice")
	b.h = after
	for range 26 {
		clock.advance(9 * time.Minute)
		if got := b.state(); got != "user=alice remembered=false" {
			t.Fatalf("active, under the new timeouts: %q", got)
		}
	}
	clock.advance(9 * time.Minute) // 4h03m after the login
	if got := b.state(); got != "user= remembered=false" {
		t.Errorf("past a 4-hour AbsoluteTimeout: %q; want anonymous", got)
	}
}

// Lengthening the remembered timeouts keeps existing remembered sessions
// remembered: the longer idle timeout applies from their next request,
// but their absolute deadline stays the one they were issued; the longer
// one applies to logins from then on.
func TestLongerRememberTimeoutsKeepExistingSessionsRemembered(t *testing.T) {
	clock := newRQClock()
	store := rmStore(t, clock)
	before := rmRouter(t, store, clock, securesession.Options{})
	after := rmRouter(t, store, clock, securesession.Options{RememberIdleTimeout: 30 * day, RememberAbsoluteTimeout: 90 * day})

	b := &rmBrowser{t: t, h: before}
	b.do("POST", "/login-remember?user=alice")
	b.h = after
	clock.advance(6 * day)
	if got := b.state(); got != "user=alice remembered=true" {
		t.Fatalf("6 idle days, under longer remembered timeouts: %q", got)
	}
	clock.advance(20 * day)
	if got := b.state(); got != "user=alice remembered=true" {
		t.Fatalf("20 idle days after a request under a 30-day RememberIdleTimeout: %q", got)
	}
	clock.advance(5 * day)
	if got := b.state(); got != "user= remembered=false" {
		t.Errorf("31 days after the login: %q; the session keeps the 30-day deadline it was issued", got)
	}
	b.do("POST", "/login-remember?user=alice")
	if want := 90 * 24 * 3600; b.last == nil || b.last.MaxAge != want {
		t.Errorf("a new remembered login: cookie %v; want Max-Age=%d", b.last, want)
	}
	clock.advance(20 * day)
	if got := b.state(); got != "user=alice remembered=true" {
		t.Errorf("a new remembered login, 20 idle days: %q", got)
	}
}

func TestSessionOptionsMaxAgeStopsAtTheSessionsDeadline(t *testing.T) {
	clock := newRQClock()
	var logs bytes.Buffer
	o := securesession.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	b := &rmBrowser{t: t, h: rmRouter(t, rmStore(t, clock), clock, o)}
	const month = 30 * 24 * 3600

	b.do("POST", "/login?user=alice")
	b.do("POST", "/maxage?s=3600")
	if b.last == nil || b.last.MaxAge != 3600 {
		t.Fatalf("MaxAge 3600 on a normal session: cookie %v; want Max-Age=3600", b.last)
	}
	if logs.Len() != 0 {
		t.Errorf("a MaxAge within the session's life logged %q", logs.String())
	}
	b.do("POST", "/maxage?s=2592000")
	if want := 12 * 3600; b.last == nil || b.last.MaxAge != want {
		t.Fatalf("MaxAge of 30 days on a normal session: cookie %v; want Max-Age=%d (its deadline)", b.last, want)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "RememberMe") {
		t.Errorf("logs after a MaxAge past the deadline: %q; want one warning naming RememberMe", logs.String())
	}
	b.do("POST", "/maxage?s=2592000")
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings after the second request; want the one", n)
	}
	clock.advance(31 * time.Minute)
	if got := b.state(); got != "user= remembered=false" {
		t.Errorf("MaxAge must not lengthen the session: after 31 idle minutes %q", got)
	}

	b = &rmBrowser{t: t, h: b.h}
	b.do("POST", "/login-remember?user=alice")
	b.do("POST", "/maxage?s=86400")
	if b.last == nil || b.last.MaxAge != 86400 {
		t.Fatalf("MaxAge of a day on a remembered session: cookie %v; want Max-Age=86400", b.last)
	}
	b.do("POST", "/rotate") // a request that does not set MaxAge sends the default
	if b.last == nil || b.last.MaxAge != month {
		t.Fatalf("the next cookie of a remembered session: %v; want the default Max-Age=%d", b.last, month)
	}
}

// The gin-contrib adapter has no Login: its sessions are normal, and a
// MaxAge is still capped at their deadline.
func TestGinContribStoreKeepsTheNormalTimeouts(t *testing.T) {
	clock := newRQClock()
	store, err := securesession.NewGinContribStore(rmStore(t, clock), securesession.Options{Logger: quiet, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	store.Options(sessions.Options{MaxAge: 30 * 24 * 3600})
	r := gin.New()
	r.Use(sessions.Sessions(securesession.DefaultCookieName, store))
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("k", "v")
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
		}
	})
	r.GET("/get", func(c *gin.Context) { c.String(http.StatusOK, "%v", sessions.Default(c).Get("k")) })
	b := &rmBrowser{t: t, h: r}
	b.do("POST", "/set")
	if want := 12 * 3600; b.last == nil || b.last.MaxAge != want {
		t.Fatalf("cookie %v; want Max-Age=%d (the absolute timeout)", b.last, want)
	}
	clock.advance(29 * time.Minute)
	if got := b.do("GET", "/get"); got != "v" {
		t.Fatalf("after 29 idle minutes: %q", got)
	}
	clock.advance(2 * time.Minute) // reading saved nothing: 31 idle minutes
	if got := b.do("GET", "/get"); got != "<nil>" {
		t.Errorf("after 31 idle minutes: %q; want a new session", got)
	}
}

// A remembered session whose browser binds it to the device (DBSC) keeps
// the remembered timeouts, even where the bound ones are shorter.
func TestRememberedSessionKeepsItsTimeoutsWhenItsDeviceBinds(t *testing.T) {
	bs := newBoundServer(t, securesession.Options{
		DeviceBinding: &securesession.DeviceBinding{BoundIdleTimeout: time.Hour, BoundAbsoluteTimeout: 2 * day, Cookie: dbsc.BoundCookie{Lifetime: time.Hour}},
	})
	bs.srv.Config.Handler.(*gin.Engine).POST("/login-remember", func(c *gin.Context) {
		securesession.Login(c, "alice", securesession.RememberMe())
	})
	hc := bs.client()
	res, _ := get(t, hc, "POST", bs.srv.URL+"/login-remember")
	dev, err := dbsctest.NewClient(dbsc.ES256)
	if err != nil {
		t.Fatal(err)
	}
	sess, _, err := dev.Register(context.Background(), hc, bs.srv.URL, res.Header.Get(dbsc.HeaderRegistration))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{6 * day, 6 * day} { // past the bound idle and absolute timeouts
		bs.now = bs.now.Add(step)
		if _, err := dev.Refresh(context.Background(), hc, sess); err != nil {
			t.Fatalf("refresh after %v: %v", step, err)
		}
		if _, body := get(t, hc, "GET", bs.srv.URL+"/whoami"); body != "alice true" {
			t.Fatalf("a bound remembered session after %v idle: %q, want alive and bound", step, body)
		}
	}
	bs.now = bs.now.Add(securesession.DefaultRememberIdleTimeout + time.Second)
	dev.Refresh(context.Background(), hc, sess) // refused or not, the session has ended
	if _, body := get(t, hc, "GET", bs.srv.URL+"/whoami"); body != " false" {
		t.Errorf("a bound remembered session past the remembered idle timeout: %q, want anonymous", body)
	}
}
