// Package backendtest is the conformance suite for securesession backends.
// A backend, ours or a third party's, runs all of it in one line:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) securesession.Backend { return newStore(t) })
//	}
//
// Every check drives real HTTP requests on loopback through a Gin router
// with the securesession middleware, and asserts what a user or an
// attacker would see: cookie attributes, anonymous replays after logout
// and rotation, refused tampered cookies, expiry on an injected clock,
// saved changes, and no races under -race. It also runs gin-contrib's own
// tester suite with the backend as a plain sessions.Store.
//
// A backend that cannot revoke sessions on the server (the cookie backend
// without a revocation checker) declares it through the contract, by
// returning securesession.ErrCannotRevoke from Delete; the checks that
// need revocation are then skipped with that reason.
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// Factory returns a fresh backend for one test. It should register any
// cleanup with t.Cleanup. Records from earlier tests may remain; the suite
// never relies on an empty store.
type Factory func(t *testing.T) securesession.Backend

// Run runs the whole conformance suite against backends made by newBackend.
func Run(t *testing.T, newBackend Factory) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	var checks []check
	checks = append(checks, coreChecks...)
	checks = append(checks, hardeningChecks...)
	checks = append(checks, headerChecks...)
	checks = append(checks, cacheChecks...)
	checks = append(checks, clearChecks...)
	checks = append(checks, rotateRevokeChecks...)
	checks = append(checks, exactUserChecks...)
	checks = append(checks, handleChecks...)
	checks = append(checks, dbscChecks...)
	checks = append(checks, malformedChecks...)
	checks = append(checks, logoutOthersChecks...)
	checks = append(checks, rememberChecks...)
	checks = append(checks, limitChecks...)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newBackend) })
	}
}

// check is one named conformance check. The lists live beside the checks
// they name: coreChecks here, hardeningChecks in hardening.go,
// headerChecks in header.go.
type check struct {
	name string
	fn   func(*testing.T, Factory)
}

var coreChecks = []check{
	{"DefaultCookieAttributes", testDefaultCookieAttributes},
	{"NoCookieOrWriteForUntouchedSession", testNoCookieOrWriteForUntouchedSession},
	{"ValuesKeepTheirTypes", testValuesKeepTheirTypes},
	{"AutoSaveWithoutSave", testAutoSaveWithoutSave},
	{"ExplicitSaveWritesOnce", testExplicitSaveWritesOnce},
	{"Flashes", testFlashes},
	{"UnknownTokenNeverAdopted", testUnknownTokenNeverAdopted},
	{"LoginRotatesAndCarriesData", testLoginRotatesAndCarriesData},
	{"FixationRefused", testFixationRefused},
	{"LoginThenSetWritesOnce", testLoginThenSetWritesOnce},
	{"RotateKillsOldCookie", testRotateKillsOldCookie},
	{"LogoutKillsOldCookie", testLogoutKillsOldCookie},
	{"LogoutExpiresCookieWithSameAttributes", testLogoutExpiresCookieWithSameAttributes},
	{"GinContribMaxAgeMinusOneLogsOut", testGinContribMaxAgeMinusOneLogsOut},
	{"LogoutEverywhere", testLogoutEverywhere},
	{"TamperedCookiesAreAnonymous", testTamperedCookiesAreAnonymous},
	{"CookieMovedToAnotherNameIsAnonymous", testCookieMovedToAnotherName},
	{"IdleTimeout", testIdleTimeout},
	{"ExpiredRecordIsDeleted", testExpiredRecordIsDeleted},
	{"WriteRacingLogoutDoesNotResurrect", testWriteRacingLogoutDoesNotResurrect},
	{"ActivityKeepsSessionAlive", testActivityKeepsSessionAlive},
	{"ActivityRefreshIsThrottled", testActivityRefreshIsThrottled},
	{"AbsoluteTimeout", testAbsoluteTimeout},
	{"ConcurrentRequests", testConcurrentRequests},
	{"GinContribTester", testGinContribTester},
}

// Clock is a manually advanced clock for timeout tests. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading now.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// counting wraps a Backend and counts the calls that write.
type counting struct {
	securesession.Backend
	mu     sync.Mutex
	writes map[string]int
}

func (c *counting) count(op string) {
	c.mu.Lock()
	c.writes[op]++
	c.mu.Unlock()
}

func (c *counting) n(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes[op]
}

func (c *counting) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.writes {
		n += v
	}
	return n
}

func (c *counting) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	c.count("create")
	return c.Backend.Create(ctx, name, rec)
}

func (c *counting) Update(ctx context.Context, name, token string, rec *securesession.Record) (string, error) {
	c.count("update")
	return c.Backend.Update(ctx, name, token, rec)
}

func (c *counting) Touch(ctx context.Context, name, token string, rec *securesession.Record) (string, error) {
	c.count("touch")
	return c.Backend.Touch(ctx, name, token, rec)
}

func (c *counting) Rotate(ctx context.Context, name, old string, rec *securesession.Record) (string, error) {
	c.count("rotate")
	return c.Backend.Rotate(ctx, name, old, rec)
}

func (c *counting) Delete(ctx context.Context, name, token string) error {
	c.count("delete")
	return c.Backend.Delete(ctx, name, token)
}

// app is a test application: the middleware over a backend, a few routes,
// and an HTTP server on loopback.
type app struct {
	t      *testing.T
	b      *counting
	clock  *Clock
	srv    *httptest.Server
	name   string
	mu     sync.Mutex
	events []securesession.Event
}

type appOption func(*securesession.Options)

func newApp(t *testing.T, f Factory, opts ...appOption) *app {
	t.Helper()
	return newAppOn(t, f(t), opts...)
}

func newAppOn(t *testing.T, b securesession.Backend, opts ...appOption) *app {
	t.Helper()
	return newAppRoutes(t, b, nil, opts...)
}

// newAppRoutes serves the suite's routes, and those that routes adds (if
// not nil), through the middleware over b.
func newAppRoutes(t *testing.T, b securesession.Backend, routes func(*gin.Engine), opts ...appOption) *app {
	t.Helper()
	a := &app{t: t, b: &counting{Backend: b, writes: map[string]int{}}, clock: NewClock()}
	o := securesession.Options{
		Now:    a.clock.Now,
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(e securesession.Event) {
			a.mu.Lock()
			a.events = append(a.events, e)
			a.mu.Unlock()
		},
	}
	for _, f := range opts {
		f(&o)
	}
	a.name = o.CookieName
	if a.name == "" {
		a.name = securesession.DefaultCookieName
		if o.Domain != "" {
			a.name = securesession.DefaultDomainCookieName
		}
	}
	mw, err := securesession.New(a.b, o)
	if err != nil {
		t.Fatalf("securesession.New: %v", err)
	}
	r := gin.New()
	r.Use(mw)
	addRoutes(r)
	if routes != nil {
		routes(r)
	}
	a.srv = httptest.NewServer(r)
	t.Cleanup(a.srv.Close)
	return a
}

func addRoutes(r *gin.Engine) {
	r.GET("/noop", func(c *gin.Context) { c.String(http.StatusOK, "noop") })
	r.GET("/get", func(c *gin.Context) {
		v := sessions.Default(c).Get(c.Query("key"))
		if v == nil {
			c.String(http.StatusOK, "<nil>")
			return
		}
		c.String(http.StatusOK, "%T:%v", v, v)
	})
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set(c.Query("key"), c.Query("val"))
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/set-nosave", func(c *gin.Context) {
		sessions.Default(c).Set(c.Query("key"), c.Query("val"))
		c.String(http.StatusOK, "ok")
	})
	r.POST("/set-redirect", func(c *gin.Context) {
		sessions.Default(c).Set(c.Query("key"), c.Query("val"))
		c.Redirect(http.StatusSeeOther, "/noop")
	})
	r.POST("/typed", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("int", 42)
		s.Set("int64", int64(-7))
		s.Set("uint8", uint8(200))
		s.Set("float", 2.5)
		s.Set("bool", true)
		s.Set("bytes", []byte{1, 2, 3})
		s.Set("strings", []string{"a", "b"})
		s.Set("map", map[string]any{"n": 1, "s": "x"})
		s.Set("time", time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
		s.Set(7, "int key")
	})
	r.GET("/typed", func(c *gin.Context) {
		s := sessions.Default(c)
		var b strings.Builder
		for _, k := range []any{"int", "int64", "uint8", "float", "bool", "bytes", "strings", "map", "time", 7} {
			fmt.Fprintf(&b, "%v=%T:%v\n", k, s.Get(k), s.Get(k))
		}
		c.String(http.StatusOK, b.String())
	})
	r.POST("/flash", func(c *gin.Context) { sessions.Default(c).AddFlash(c.Query("msg")) })
	r.GET("/flashes", func(c *gin.Context) { c.String(http.StatusOK, "%v", sessions.Default(c).Flashes()) })
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/login-role", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
			return
		}
		sessions.Default(c).Set("role", c.Query("role"))
		c.String(http.StatusOK, "ok")
	})
	r.POST("/api-login", func(c *gin.Context) {
		tok, err := securesession.LoginToken(c, c.Query("user"))
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"token": tok})
	})
	r.POST("/rotate", func(c *gin.Context) {
		if err := securesession.Rotate(c); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, securesession.ErrNoRecord) {
				code = http.StatusConflict // the session ended meanwhile
			}
			c.String(code, "rotate: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			c.String(http.StatusInternalServerError, "logout: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/logout-everywhere", func(c *gin.Context) {
		if err := securesession.LogoutEverywhere(c); err != nil {
			c.String(http.StatusInternalServerError, "logout everywhere: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/gin-logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Options(sessions.Options{MaxAge: -1})
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	whoami := func(c *gin.Context) { c.String(http.StatusOK, "user=%s", securesession.UserID(c)) }
	r.GET("/whoami", whoami)
	r.POST("/whoami", whoami)
}

// result is a finished request.
type result struct {
	status  int
	body    string
	header  http.Header
	cookies []*http.Cookie
}

// cookie returns the Set-Cookie for name in the response, or nil.
func (r *result) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (a *app) do(method, path string, cookie *http.Cookie, hdr ...string) *result {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &result{status: resp.StatusCode, body: string(body), header: resp.Header, cookies: resp.Cookies()}
}

// noRedirects is an HTTP client that returns redirects instead of
// following them, so the Set-Cookie of a redirect response is seen.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// session is a client's copy of its session cookie.
type session struct {
	a *app
	c *http.Cookie
}

func (a *app) client() *session { return &session{a: a} }

// do sends the request with the client's cookie and applies the response's
// Set-Cookie for the session, as a browser would.
func (s *session) do(method, path string) *result {
	s.a.t.Helper()
	r := s.a.do(method, path, s.c)
	if c := r.cookie(s.a.name); c != nil {
		if c.MaxAge < 0 || c.Value == "" {
			s.c = nil
		} else {
			s.c = c
		}
	}
	if r.status >= 500 {
		s.a.t.Fatalf("%s %s: status %d: %s", method, path, r.status, r.body)
	}
	return r
}

func (s *session) user() string {
	s.a.t.Helper()
	return strings.TrimPrefix(s.do("GET", "/whoami").body, "user=")
}

func (s *session) token() string {
	if s.c == nil {
		return ""
	}
	return s.c.Value
}

// replay sends a request with an old cookie and no browser state.
func (a *app) replayUser(c *http.Cookie) string {
	a.t.Helper()
	r := a.do("GET", "/whoami", c)
	if r.status != http.StatusOK {
		a.t.Fatalf("replay: status %d: %s", r.status, r.body)
	}
	return strings.TrimPrefix(r.body, "user=")
}

func (a *app) replayGet(c *http.Cookie, key string) string {
	a.t.Helper()
	r := a.do("GET", "/get?key="+key, c)
	if r.status != http.StatusOK {
		a.t.Fatalf("replay: status %d: %s", r.status, r.body)
	}
	return r.body
}

func (a *app) sawEvent(kind securesession.EventKind) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// canRevoke reports whether the backend deletes records on the server.
func canRevoke(t *testing.T, b securesession.Backend) (bool, string) {
	t.Helper()
	rec := securesession.Record{Created: time.Now(), LastSeen: time.Now(), Deadline: time.Now().Add(time.Hour), Expires: time.Now().Add(time.Hour)}
	tok, err := b.Create(context.Background(), "__Host-probe", &rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	err = b.Delete(context.Background(), "__Host-probe", tok)
	if errors.Is(err, securesession.ErrCannotRevoke) {
		return false, err.Error()
	}
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	return true, ""
}

func requireRevocation(t *testing.T, b securesession.Backend) {
	t.Helper()
	if ok, why := canRevoke(t, b); !ok {
		t.Skipf("backend declares it cannot revoke sessions on the server: %s", why)
	}
}
