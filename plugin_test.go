package securesession_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

func newCookieStore(t testing.TB) *cookie.Store {
	t.Helper()
	return newCookieStoreWith(t, cookie.Options{})
}

// newCookieStoreWith is a cookie store configured by o, with a new key.
func newCookieStoreWith(t testing.TB, o cookie.Options) *cookie.Store {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	o.Keys = [][]byte{k}
	s, err := cookie.NewStore(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var quiet = slog.New(slog.DiscardHandler)

// router returns a Gin engine with the middleware over b and a few routes.
func router(t testing.TB, b securesession.Backend, o securesession.Options) *gin.Engine {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet
	}
	mw, err := securesession.New(b, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r := gin.New()
	r.Use(mw)
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%s", securesession.UserID(c)) })
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		sessions.Default(c).Set("role", c.Query("role"))
		c.String(http.StatusOK, "ok")
	})
	r.POST("/set", func(c *gin.Context) {
		sessions.Default(c).Set(c.Query("key"), c.Query("val"))
		c.String(http.StatusOK, "handler body")
	})
	r.GET("/get", func(c *gin.Context) { c.String(http.StatusOK, "%v", sessions.Default(c).Get(c.Query("key"))) })
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	return r
}

func serve(r http.Handler, method, target string, hdr map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func sessionCookie(t testing.TB, w *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %q", name, w.Header().Values("Set-Cookie"))
	return nil
}

func TestNewRejectsUnsafeOrContradictoryOptions(t *testing.T) {
	store := newCookieStore(t)
	tests := []struct {
		name  string
		opts  securesession.Options
		field string
	}{
		{"SameSite=None without Secure", securesession.Options{InsecureAllowHTTP: true, SameSite: http.SameSiteNoneMode}, "Options.SameSite"},
		{"__Host- with a Domain", securesession.Options{CookieName: "__Host-sid", Domain: "example.com"}, "Options.Domain"},
		{"__Host- lower-case with a Domain", securesession.Options{CookieName: "__host-sid", Domain: "example.com"}, "Options.Domain"},
		{"__Host- with a Path", securesession.Options{Path: "/app"}, "Options.Path"},
		{"__Secure- over plain HTTP", securesession.Options{CookieName: "__Secure-sid", InsecureAllowHTTP: true}, "Options.CookieName"},
		{"__Host- over plain HTTP", securesession.Options{CookieName: "__Host-sid", InsecureAllowHTTP: true}, "Options.CookieName"},
		{"Partitioned over plain HTTP", securesession.Options{Partitioned: true, InsecureAllowHTTP: true}, "Options.Partitioned"},
		{"cookie name with a space", securesession.Options{CookieName: "my session"}, "Options.CookieName"},
		{"path without slash", securesession.Options{CookieName: "sid", Path: "app"}, "Options.Path"},
		{"path with semicolon", securesession.Options{CookieName: "sid", Path: "/a;Domain=evil"}, "Options.Path"},
		{"domain with semicolon", securesession.Options{Domain: "example.com;Secure"}, "Options.Domain"},
		{"RememberAbsoluteTimeout over 400 days", securesession.Options{RememberAbsoluteTimeout: 401 * 24 * time.Hour}, "Options.RememberAbsoluteTimeout"},
		{"negative RememberAbsoluteTimeout", securesession.Options{RememberAbsoluteTimeout: -time.Hour}, "Options.RememberAbsoluteTimeout"},
		{"idle longer than absolute", securesession.Options{IdleTimeout: 2 * time.Hour, AbsoluteTimeout: time.Hour}, "Options.IdleTimeout"},
		{"negative idle", securesession.Options{IdleTimeout: -time.Second}, "Options.IdleTimeout"},
		{"negative absolute", securesession.Options{AbsoluteTimeout: -time.Second}, "Options.AbsoluteTimeout"},
		{"touch not below idle", securesession.Options{IdleTimeout: time.Minute, TouchInterval: time.Minute}, "Options.TouchInterval"},
		{"bad trusted origin", securesession.Options{TrustedOrigins: []string{"not a url"}}, "Options.TrustedOrigins"},
		{"trusted origins with protection off", securesession.Options{TrustedOrigins: []string{"https://a.example"}, InsecureDisableCrossOriginProtection: true}, "Options.TrustedOrigins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := securesession.New(store, tt.opts)
			if err == nil {
				t.Fatal("New accepted the options")
			}
			if !strings.HasPrefix(err.Error(), "securesession: ") || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	if _, err := securesession.New(nil, securesession.Options{}); err == nil {
		t.Error("New accepted a nil backend")
	}
	if _, err := securesession.New(store, securesession.Options{}); err != nil {
		t.Errorf("the zero Options must be valid: %v", err)
	}
}

func TestCookieKeysAreCheckedByNewStore(t *testing.T) {
	for _, keys := range [][][]byte{nil, {[]byte("secret")}, {make([]byte, 31)}, {bytes.Repeat([]byte{7}, 32)}} {
		if _, err := cookie.NewStore(cookie.Options{Keys: keys}); err == nil || !strings.Contains(err.Error(), "securesession/cookie: Options.Keys") {
			t.Errorf("NewStore(%d keys of len %v) = %v; want an error", len(keys), keyLens(keys), err)
		}
	}
	k := make([]byte, 32)
	rand.Read(k)
	if _, err := cookie.NewStore(cookie.Options{Keys: [][]byte{k, k}}); err == nil || !strings.Contains(err.Error(), "Options.Keys[1] repeats Options.Keys[0]") {
		t.Errorf("a repeated key must be rejected naming Options.Keys[1], got %v", err)
	}
}

func keyLens(keys [][]byte) []int {
	var n []int
	for _, k := range keys {
		n = append(n, len(k))
	}
	return n
}

// Modelled on net/http's csrf_test.go cases.
func TestCrossOriginUnsafeRequestsAreRefused(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{TrustedOrigins: []string{"https://partner.example"}})
	tests := []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"same-origin POST", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"user-typed POST", "POST", map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"cross-site POST", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site POST from a sibling subdomain", "POST", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"old browser, mismatched Origin", "POST", map[string]string{"Origin": "https://attacker.example"}, 403},
		{"old browser, matching Origin", "POST", map[string]string{"Origin": "http://example.com"}, 200},
		{"trusted origin", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example"}, 200},
		{"no browser headers (curl)", "POST", nil, 200},
		{"cross-site GET is safe", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/set?key=k&val=v"
			if tt.method == "GET" {
				path = "/whoami"
			}
			w := serve(r, tt.method, "http://example.com"+path, tt.hdr)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
			if tt.want == 403 && len(w.Header().Values("Set-Cookie")) != 0 {
				t.Error("a refused request must not create a session")
			}
		})
	}
	off := router(t, newCookieStore(t), securesession.Options{InsecureDisableCrossOriginProtection: true})
	if w := serve(off, "POST", "/set?key=k&val=v", map[string]string{"Sec-Fetch-Site": "cross-site"}); w.Code != 200 {
		t.Errorf("with InsecureDisableCrossOriginProtection a cross-site POST got %d", w.Code)
	}
}

func TestInsecureAllowHTTPDropsSecureOnlyForLoopbackHosts(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{InsecureAllowHTTP: true})
	for host, wantSecure := range map[string]bool{
		"localhost:8080": false, "127.0.0.1:8080": false, "[::1]:8080": false, "app.localhost": false,
		"example.com": true, "10.0.0.1:8080": true, "localhost.example.com": true,
	} {
		w := serve(r, "POST", "http://"+host+"/set?key=k&val=v", nil)
		c := sessionCookie(t, w, securesession.DefaultInsecureCookieName)
		if c.Secure != wantSecure {
			t.Errorf("Host %s: Secure=%v, want %v", host, c.Secure, wantSecure)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("Host %s: HttpOnly=%v SameSite=%v; dev mode must keep them", host, c.HttpOnly, c.SameSite)
		}
	}
}

func TestDomainSwitchesToSecurePrefix(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{Domain: "example.com"})
	c := sessionCookie(t, serve(r, "POST", "/set?key=k&val=v", nil), securesession.DefaultDomainCookieName)
	if c.Domain != "example.com" || !c.Secure {
		t.Errorf("Domain=%q Secure=%v", c.Domain, c.Secure)
	}
}

func TestLoginAsAnotherUserDropsThePreviousUsersData(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{})
	c := sessionCookie(t, serve(r, "POST", "/login?user=alice&role=admin", nil), securesession.DefaultCookieName)
	w := serve(r, "POST", "/login?user=bob", nil, c)
	c2 := sessionCookie(t, w, securesession.DefaultCookieName)
	if got := serve(r, "GET", "/get?key=role", nil, c2).Body.String(); got != "" {
		t.Errorf("bob inherited alice's role %q", got)
	}
}

// failing wraps a real backend and fails chosen operations, to check
// what the middleware does with an outage. The real outages are tested
// against memcached and PostgreSQL in their backends' tests.
type failing struct {
	securesession.Backend
	find, write, rotate bool
}

func (f *failing) Rotate(ctx context.Context, name, old string, rec *securesession.Record) (string, error) {
	if f.rotate {
		return "", errDown
	}
	return f.Backend.Rotate(ctx, name, old, rec)
}

func (f *failing) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	if f.rotate {
		return "", errDown
	}
	return f.Backend.Create(ctx, name, rec)
}

var errDown = errors.New("connection refused")

func (f *failing) Find(ctx context.Context, name, token string) (securesession.Record, bool, error) {
	if f.find {
		return securesession.Record{}, false, errDown
	}
	return f.Backend.Find(ctx, name, token)
}

func (f *failing) Update(ctx context.Context, name, token string, rec *securesession.Record) (string, error) {
	if f.write {
		return "", errDown
	}
	return f.Backend.Update(ctx, name, token, rec)
}

func TestBackendOutageIs503NeverASilentLogout(t *testing.T) {
	f := &failing{Backend: newCookieStore(t)}
	var events []securesession.Event
	var mu sync.Mutex
	r := router(t, f, securesession.Options{OnEvent: func(e securesession.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	c := sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)

	f.find = true
	w := serve(r, "GET", "/whoami", nil, c)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("read during an outage: status %d body %q; want 503", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "user=") {
		t.Error("the handler ran during an outage")
	}
	f.find = false

	f.write = true
	w = serve(r, "POST", "/set?key=k&val=v", nil, c)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("write during an outage: status %d; want 503", w.Code)
	}
	if strings.Contains(w.Body.String(), "handler body") {
		t.Error("the handler's 200 body went out although its session change was lost")
	}
	f.write = false

	if got := serve(r, "GET", "/whoami", nil, c).Body.String(); got != "user=alice" {
		t.Errorf("after the outage the session is %q; it must survive", got)
	}
	mu.Lock()
	defer mu.Unlock()
	var be int
	for _, e := range events {
		if e.Kind == securesession.EventBackendError {
			be++
			var target *securesession.BackendError
			if !errors.As(e.Err, &target) || !errors.Is(e.Err, errDown) {
				t.Errorf("backend error event with %v; want a *BackendError wrapping the cause", e.Err)
			}
		}
	}
	if be != 2 {
		t.Errorf("%d backend_error events, want 2", be)
	}
}

// Login writes when the session is saved; if that write fails the user is
// not logged in, the response is a 503 instead of the handler's, and the
// pre-login session is untouched.
func TestLoginBackendFailureIs503AndNotLoggedIn(t *testing.T) {
	f := &failing{Backend: newCookieStore(t)}
	r := router(t, f, securesession.Options{})
	anon := sessionCookie(t, serve(r, "POST", "/set?key=cart&val=3", nil), securesession.DefaultCookieName)
	f.rotate = true
	w := serve(r, "POST", "/login?user=alice", nil, anon)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "ok") {
		t.Fatalf("login during an outage: %d %q; want 503 without the handler's body", w.Code, w.Body)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Fatal("a failed login set a cookie")
	}
	f.rotate = false
	if got := serve(r, "GET", "/get?key=cart", nil, anon).Body.String(); got != "3" {
		t.Fatalf("the pre-login session was lost: cart=%q", got)
	}
}

func TestCustomErrorHandlerSeesTypedError(t *testing.T) {
	f := &failing{Backend: newCookieStore(t)}
	r := router(t, f, securesession.Options{ErrorHandler: func(c *gin.Context, err error) {
		var be *securesession.BackendError
		if errors.As(err, &be) {
			c.AbortWithStatusJSON(be.StatusCode(), gin.H{"error": "sessions unavailable", "op": be.Op})
			return
		}
		c.AbortWithStatus(500)
	}})
	c := sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
	f.write = true
	w := serve(r, "POST", "/set?key=k&val=v", nil, c)
	if w.Code != 503 || w.Body.String() != `{"error":"sessions unavailable","op":"update"}` {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

func TestOversizedSessionIsAnErrorBeforeHeaders(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{})
	big := strings.Repeat("x", 4000)
	w := serve(r, "POST", "/set?key=k&val="+big, nil)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d; a session too large for a cookie must fail the request", w.Code)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Error("an oversized cookie was written")
	}
	if strings.Contains(w.Body.String(), "handler body") {
		t.Error("the handler's body went out although its session was not saved")
	}
}

func TestExplicitSaveReportsTooLarge(t *testing.T) {
	mw, err := securesession.New(newCookieStore(t), securesession.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	var saveErr error
	r.POST("/", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("k", strings.Repeat("x", 4000))
		saveErr = s.Save()
		s.Delete("k") // the application recovers
		c.Status(http.StatusNoContent)
	})
	w := serve(r, "POST", "/", nil)
	if !errors.Is(saveErr, securesession.ErrTooLarge) {
		t.Errorf("Save() = %v, want ErrTooLarge", saveErr)
	}
	if w.Code != http.StatusNoContent {
		t.Errorf("status %d after the application handled the error", w.Code)
	}
}

func TestRequestFunctionsWithoutMiddleware(t *testing.T) {
	r := gin.New()
	var errs []error
	r.GET("/", func(c *gin.Context) {
		errs = append(errs, securesession.Login(c, "alice"), securesession.Logout(c), securesession.Rotate(c), securesession.LogoutEverywhere(c))
		if securesession.UserID(c) != "" {
			t.Error("UserID without middleware")
		}
	})
	serve(r, "GET", "/", nil)
	for i, err := range errs {
		if !errors.Is(err, securesession.ErrNoMiddleware) {
			t.Errorf("call %d: %v, want ErrNoMiddleware", i, err)
		}
	}
}

func TestLoginAfterBodyWrittenFails(t *testing.T) {
	mw, _ := securesession.New(newCookieStore(t), securesession.Options{Logger: quiet})
	r := gin.New()
	r.Use(mw)
	var loginErr error
	r.POST("/", func(c *gin.Context) {
		c.String(200, "too early")
		loginErr = securesession.Login(c, "alice")
	})
	w := serve(r, "POST", "/", nil)
	if !errors.Is(loginErr, securesession.ErrHeadersWritten) {
		t.Errorf("Login after the body = %v, want ErrHeadersWritten", loginErr)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Error("a cookie was set after the headers")
	}
}

func TestLogoutSendsClearSiteDataWhenAsked(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{ClearSiteData: true})
	c := sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
	w := serve(r, "POST", "/logout", nil, c)
	if got := w.Header().Get("Clear-Site-Data"); got != `"cache", "storage"` {
		t.Errorf("Clear-Site-Data = %q", got)
	}
	plain := router(t, newCookieStore(t), securesession.Options{})
	c = sessionCookie(t, serve(plain, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
	if got := serve(plain, "POST", "/logout", nil, c).Header().Get("Clear-Site-Data"); got != "" {
		t.Errorf("Clear-Site-Data sent by default: %q", got)
	}
}

func TestLogsAndEventsNeverContainTokens(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var evs bytes.Buffer
	var mu sync.Mutex
	store := newCookieStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	r := router(t, store, securesession.Options{Logger: logger, OnEvent: func(e securesession.Event) {
		mu.Lock()
		defer mu.Unlock()
		evs.WriteString(e.Session + " " + e.Reason + " " + e.UserID + " ")
		if e.Err != nil {
			evs.WriteString(e.Err.Error())
		}
	}})
	var tokens []string
	c := sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
	tokens = append(tokens, c.Value)
	serve(r, "GET", "/whoami", nil, &http.Cookie{Name: c.Name, Value: c.Value[:len(c.Value)-3] + "xyz"})
	serve(r, "GET", "/whoami", nil, &http.Cookie{Name: c.Name, Value: "forged-" + c.Value})
	serve(r, "POST", "/logout", nil, c)
	serve(r, "GET", "/whoami", nil, c)
	for _, out := range []string{logs.String(), evs.String()} {
		if out == "" {
			t.Fatal("nothing was logged; the test would pass vacuously")
		}
		for _, tok := range tokens {
			for i := 0; i+16 <= len(tok); i += 8 {
				if strings.Contains(out, tok[i:i+16]) {
					t.Fatalf("output contains part of a session token:\n%s", out)
				}
			}
		}
	}
}

// After Save returns an error the handler has answered it; the automatic
// save must not retry behind its back (storing what the handler reported
// as not stored, or replacing the handler's error response).
func TestFailedExplicitSaveIsNotRetriedAutomatically(t *testing.T) {
	f := &failing{Backend: newCookieStore(t)}
	mw, err := securesession.New(f, securesession.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/save", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("k", c.Query("v"))
		f.write = true
		err := s.Save()
		f.write = false // the backend recovers before the response goes out
		if err == nil {
			t.Error("Save succeeded during the outage")
		}
		c.String(http.StatusConflict, "not saved, try again")
	})
	r.GET("/get", func(c *gin.Context) { c.String(http.StatusOK, "%v", sessions.Default(c).Get("k")) })
	r.POST("/init", func(c *gin.Context) { sessions.Default(c).Set("k", "first") })
	c := sessionCookie(t, serve(r, "POST", "/init", nil), securesession.DefaultCookieName)
	w := serve(r, "POST", "/save?v=second", nil, c)
	if w.Code != http.StatusConflict || w.Body.String() != "not saved, try again" {
		t.Fatalf("the handler's answer to the failed Save was replaced: %d %q", w.Code, w.Body)
	}
	if len(w.Header().Values("Set-Cookie")) != 0 {
		t.Fatal("the failed save was retried and set a cookie")
	}
	if got := serve(r, "GET", "/get", nil, c).Body.String(); got != "first" {
		t.Fatalf("stored value %q; the handler was told the save failed", got)
	}
}

// failsOnce fails the first Rotate and Create, then works.
type failsOnce struct {
	securesession.Backend
	failed atomic.Bool
}

func (f *failsOnce) Rotate(ctx context.Context, name, old string, rec *securesession.Record) (string, error) {
	if f.failed.CompareAndSwap(false, true) {
		return "", errDown
	}
	return f.Backend.Rotate(ctx, name, old, rec)
}

// TestFailedRotateIsNotRetriedBehindTheHandlersAnswer: a handler calls
// Rotate, the backend fails, and the handler answers 503 as the docs say.
// The automatic save at the end of the request must not try the rotation
// again and, the outage being over, send a new cookie with that 503: the
// session stays as it was, under its old cookie.
func TestFailedRotateIsNotRetriedBehindTheHandlersAnswer(t *testing.T) {
	f := &failsOnce{Backend: newCookieStore(t)}
	f.failed.Store(true) // the login works
	r := router(t, f, securesession.Options{})
	r.POST("/rotate", func(c *gin.Context) {
		if err := securesession.Rotate(c); err != nil {
			c.String(http.StatusServiceUnavailable, "try again")
			return
		}
		c.String(http.StatusOK, "ok")
	})
	c := sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
	f.failed.Store(false) // the next Rotate fails, the one after works
	w := serve(r, "POST", "/rotate", nil, c)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("rotate: %d %q", w.Code, w.Body)
	}
	if sc := w.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("the 503 after a failed Rotate carries %q: the rotation was written behind the handler's answer", sc)
	}
	if got := serve(r, "GET", "/whoami", nil, c).Body.String(); got != "user=alice" {
		t.Fatalf("the old cookie after the failed rotation: %q; want the session as it was", got)
	}
}
