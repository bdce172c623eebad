package backendtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	"github.com/gin-securesession/securesession/internal/testclock"
)

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

// countingLister is a counting Backend that is also the backend's Lister.
type countingLister struct {
	*counting
	securesession.Lister
}

// app is a test application: the middleware over a backend, a few routes,
// and an HTTP server on loopback.
type app struct {
	t      *testing.T
	b      *counting
	clock  *testclock.Clock
	srv    *httptest.Server
	name   string
	mu     sync.Mutex
	events []securesession.Event
}

type appOption func(*securesession.Options)

func newApp(t *testing.T, f *factory, opts ...appOption) *app {
	t.Helper()
	return newAppOn(t, f.backend(t), opts...)
}

func newAppOn(t *testing.T, b securesession.Backend, opts ...appOption) *app {
	t.Helper()
	return newAppRoutes(t, b, nil, opts...)
}

// newAppWithRoutes is newApp with the extra routes that routes adds.
func newAppWithRoutes(t *testing.T, f *factory, routes func(*gin.Engine), opts ...appOption) *app {
	t.Helper()
	return newAppRoutes(t, f.backend(t), routes, opts...)
}

// newAppRoutes serves the suite's routes, and those that routes adds (if
// not nil), through the middleware over b.
func newAppRoutes(t *testing.T, b securesession.Backend, routes func(*gin.Engine), opts ...appOption) *app {
	t.Helper()
	a := &app{t: t, b: &counting{Backend: b, writes: map[string]int{}}, clock: testclock.New()}
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
	var mb securesession.Backend = a.b
	if l, ok := b.(securesession.Lister); ok {
		mb = countingLister{a.b, l} // the middleware finds the Lister by type assertion
	}
	mw, err := securesession.New(mb, o)
	if err != nil {
		t.Fatalf("securesession.New: %v", err)
	}
	r := gin.New()
	r.Use(mw)
	addRoutes(r)
	revocationRoutes(r)
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

// revocationRoutes adds the routes of a "your sessions" page:
// POST /logout-others, GET /sessions (the list as JSON) and
// POST /revoke?handle=.
func revocationRoutes(r *gin.Engine) {
	r.POST("/logout-others", func(c *gin.Context) {
		if err := securesession.LogoutOthers(c); err != nil {
			c.String(http.StatusInternalServerError, "logout others: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.GET("/sessions", func(c *gin.Context) {
		list, err := securesession.ListSessions(c)
		if errors.Is(err, securesession.ErrCannotList) {
			c.String(http.StatusNotImplemented, "cannot list")
			return
		}
		if err != nil {
			c.String(http.StatusInternalServerError, "list: %v", err)
			return
		}
		out := make([]listed, len(list))
		for i, si := range list {
			out[i] = listed{si.Handle, si.Current}
		}
		c.JSON(http.StatusOK, out)
	})
	r.POST("/revoke", func(c *gin.Context) {
		err := securesession.RevokeSession(c, c.Query("handle"))
		var be *securesession.BackendError
		switch {
		case err == nil:
			c.String(http.StatusOK, "ok")
		case errors.Is(err, securesession.ErrNoRecord) && !errors.As(err, &be):
			c.String(http.StatusGone, "already ended")
		case errors.Is(err, securesession.ErrCannotList):
			c.String(http.StatusNotImplemented, "cannot list")
		default:
			c.String(http.StatusInternalServerError, "revoke: %v", err)
		}
	})
}

// listed is one entry of GET /sessions.
type listed struct {
	Handle  string `json:"handle"`
	Current bool   `json:"current"`
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

func setCookieLine(h http.Header, name string) string {
	for _, l := range h.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
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

func (a *app) send(method, path string, c *http.Cookie) sent {
	req, err := http.NewRequest(method, a.srv.URL+path, nil)
	if err != nil {
		return sent{err: err}
	}
	if c != nil {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return sent{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := sent{status: resp.StatusCode, body: string(body)}
	for _, rc := range resp.Cookies() {
		if rc.Name == a.name {
			out.cookie = rc
		}
	}
	return out
}

// sent is a request sent from a goroutine other than the test's.
type sent struct {
	status int
	body   string
	cookie *http.Cookie // the response's session cookie, if any
	err    error
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

// sessions returns the session list the client's session sees, or nil if
// the backend cannot list.
func (s *session) sessions() []listed {
	s.a.t.Helper()
	r := s.a.do("GET", "/sessions", s.c)
	if r.status == http.StatusNotImplemented {
		return nil
	}
	if r.status != http.StatusOK {
		s.a.t.Fatalf("GET /sessions: %d %s", r.status, r.body)
	}
	var out []listed
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		s.a.t.Fatalf("GET /sessions: %v in %q", err, r.body)
	}
	return out
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

// uniqueUser returns a user ID no other check uses, for backends whose
// records outlive a test (a shared memcached).
func uniqueUser(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}
