package securesession_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

// rqStore is the one place these tests build a backend.
func rqStore(t testing.TB) securesession.Backend {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	s, err := cookie.NewStore(cookie.Options{Keys: [][]byte{k}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rqClock is a clock the tests move by hand.
type rqClock struct{ t time.Time }

func (c *rqClock) now() time.Time          { return c.t }
func (c *rqClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newRQClock() *rqClock { return &rqClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

// rqApp is an application with a login handler that honours next, and
// the protected routes /account (RequireLogin) and /account/email
// (RequireRecentAuth of 5 minutes, with GET for the form and POST for the
// change). Each protected handler answers "reached".
func rqApp(t testing.TB, o securesession.Options, ro securesession.RequireOptions) *gin.Engine {
	t.Helper()
	o.Logger = slog.New(slog.DiscardHandler)
	mw, err := securesession.New(rqStore(t), o)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		// The credentials would be checked here.
		if err := securesession.Login(c, c.PostForm("user")); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.Redirect(http.StatusSeeOther, securesession.SafeRedirect(c.Query("next"), "/"))
	})
	r.POST("/api/login", func(c *gin.Context) {
		tok, err := securesession.LoginToken(c, "alice")
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.String(http.StatusOK, tok)
	})
	reached := func(c *gin.Context) { c.String(http.StatusOK, "reached") }
	r.GET("/account", securesession.RequireLogin(ro), reached)
	recent := securesession.RequireRecentAuth(5*time.Minute, ro)
	r.GET("/account/email", recent, reached)
	r.POST("/account/email", recent, reached)
	return r
}

// rqClient sends requests and keeps the latest session cookie, as a
// browser does.
type rqClient struct {
	t      testing.TB
	h      http.Handler
	cookie *http.Cookie
}

func (c *rqClient) do(method, target string, hdr ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	var body *strings.Reader
	if method == http.MethodPost {
		u, _ := url.Parse(target)
		body = strings.NewReader(u.Query().Encode()) // the form repeats the query, for /login
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c.cookie != nil {
		req.AddCookie(&http.Cookie{Name: c.cookie.Name, Value: c.cookie.Value})
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.Name == securesession.DefaultCookieName {
			if ck.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = ck
			}
		}
	}
	return w
}

// login logs the client in as alice through the login form.
func (c *rqClient) login() {
	c.t.Helper()
	if w := c.do("POST", "/login?user=alice"); w.Code != http.StatusSeeOther || c.cookie == nil {
		c.t.Fatalf("login: %d %q", w.Code, w.Body)
	}
}

// A browser page load, as Chrome sends it.
var navigate = []string{
	"Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Dest", "document",
	"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}

func TestRequireLoginLetsALoggedInUserThrough(t *testing.T) {
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{}, securesession.RequireOptions{})}
	c.login()
	for _, hdr := range [][]string{navigate, {"Accept", "application/json"}} {
		if w := c.do("GET", "/account", hdr...); w.Code != http.StatusOK || w.Body.String() != "reached" {
			t.Errorf("logged in, %v: %d %q", hdr, w.Code, w.Body)
		}
	}
}

func TestRequireLoginRedirectsABrowserToLoginWithNext(t *testing.T) {
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{}, securesession.RequireOptions{})}
	for _, method := range []string{"GET", "POST"} {
		w := c.do(method, "/account/email?tab=1", navigate...)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%s: status %d, want 303", method, w.Code)
		}
		if got, want := w.Header().Get("Location"), "/login?next=%2Faccount%2Femail%3Ftab%3D1"; got != want {
			t.Errorf("%s: Location %q, want %q", method, got, want)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", method, cc)
		}
		if strings.Contains(w.Body.String(), "reached") {
			t.Errorf("%s: the protected handler ran", method)
		}
	}
}

// The whole trip: the protected page, the login form, and back to the
// page the user asked for, query included.
func TestRequireLoginRoundTripsTheOriginalURL(t *testing.T) {
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{}, securesession.RequireOptions{})}
	w := c.do("GET", "/account?tab=1&x=%2F", navigate...)
	loc, _ := url.Parse(w.Header().Get("Location"))
	next := loc.Query().Get("next")
	if loc.Path != "/login" || next != "/account?tab=1&x=%2F" {
		t.Fatalf("redirected to %q, next %q", loc, next)
	}
	w = c.do("POST", "/login?user=alice&next="+url.QueryEscape(next), navigate...)
	if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != "/account?tab=1&x=%2F" {
		t.Fatalf("after login: %d to %q, want 303 to the original URL", w.Code, got)
	}
	if w = c.do("GET", w.Header().Get("Location"), navigate...); w.Body.String() != "reached" {
		t.Fatalf("back at the page: %d %q", w.Code, w.Body)
	}
}

func TestRequireLoginAnswersScriptsAndAPIClientsWith401JSON(t *testing.T) {
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{}, securesession.RequireOptions{})}
	w := c.do("GET", "/account", "Accept", "application/json")
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["code"] != "login_required" || body["error"] != "login required" || len(body) != 2 {
		t.Errorf("body %q (%v), want error and code login_required", w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	for _, h := range []string{"Location", "WWW-Authenticate"} {
		if v := w.Header().Get(h); v != "" {
			t.Errorf("%s: %q on a cookie application's 401", h, v)
		}
	}
}

// Which requests are redirected and which get the 401.
func TestRequireLoginTellsBrowserPageLoadsFromOtherClients(t *testing.T) {
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{}, securesession.RequireOptions{})}
	const (
		oldBrowser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
		ie11       = "text/html, application/xhtml+xml, image/jxr, */*"
		axios      = "application/json, text/plain, */*"
	)
	tests := []struct {
		name     string
		hdr      []string
		redirect bool
	}{
		{"navigation", navigate, true},
		{"navigation after an HTTP Basic login", append([]string{"Authorization", "Basic YTpi"}, navigate...), true},
		{"iframe navigation", []string{"Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "iframe", "Accept", "*/*"}, true},
		{"old browser without Fetch Metadata", []string{"Accept", oldBrowser}, true},
		{"IE 11", []string{"Accept", ie11}, true},
		{"text/* only", []string{"Accept", "text/*"}, true},
		{"fetch()", []string{"Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty", "Accept", "*/*"}, false},
		{"same-origin fetch asking for HTML", []string{"Sec-Fetch-Mode", "same-origin", "Accept", "text/html"}, false},
		{"XMLHttpRequest by jQuery", []string{"X-Requested-With", "XMLHttpRequest", "Accept", oldBrowser}, false},
		{"navigation with X-Requested-With", append([]string{"X-Requested-With", "XMLHttpRequest"}, navigate...), false},
		{"bearer client", []string{"Authorization", "Bearer abc", "Accept", oldBrowser}, false},
		{"axios", []string{"Accept", axios}, false},
		{"JSON preferred", []string{"Accept", "text/html;q=0.5, application/json"}, false},
		{"HTML refused", []string{"Accept", "text/html;q=0, */*"}, false},
		{"both exact, equal q", []string{"Accept", "text/html, application/json"}, false},
		{"curl", []string{"Accept", "*/*"}, false},
		{"no headers", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := c.do("GET", "/account", tt.hdr...)
			want := http.StatusUnauthorized
			if tt.redirect {
				want = http.StatusSeeOther
			}
			if w.Code != want {
				t.Errorf("status %d, want %d", w.Code, want)
			}
		})
	}
}

func TestRequireLoginChallengesBearerClientsOnly(t *testing.T) {
	h := rqApp(t, securesession.Options{AuthorizationHeader: true}, securesession.RequireOptions{})
	api := &rqClient{t: t, h: h}
	tok := api.do("POST", "/api/login").Body.String()
	if w := api.do("GET", "/account", "Authorization", "Bearer "+tok); w.Code != http.StatusOK {
		t.Fatalf("with the token: %d %q", w.Code, w.Body)
	}
	for name, tc := range map[string]struct {
		hdr  []string
		want string
	}{
		"no credentials":  {nil, "Bearer"},
		"a dead token":    {[]string{"Authorization", "Bearer " + strings.Repeat("A", len(tok))}, `Bearer error="invalid_token", error_description="the session has ended"`},
		"a cookie client": {[]string{"Sec-Fetch-Mode", "cors"}, "Bearer"},
	} {
		w := api.do("GET", "/account", tc.hdr...)
		if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || got != tc.want {
			t.Errorf("%s: %d, WWW-Authenticate %q, want 401 and %q", name, w.Code, got, tc.want)
		}
	}

	// An application without bearer tokens names no challenge.
	w := (&rqClient{t: t, h: rqApp(t, securesession.Options{}, securesession.RequireOptions{})}).do("GET", "/account", "Authorization", "Bearer "+tok)
	if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || got != "" {
		t.Errorf("bearer off: %d, WWW-Authenticate %q", w.Code, got)
	}
}

func TestRequireOptionsNameThePagesAndTheParameter(t *testing.T) {
	clk := newRQClock()
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{Now: clk.now}, securesession.RequireOptions{
		LoginPath: "/signin?lang=en", ReauthPath: "/sudo", NextParam: "return_to",
	})}
	if got, want := c.do("GET", "/account", navigate...).Header().Get("Location"), "/signin?lang=en&return_to=%2Faccount"; got != want {
		t.Errorf("login: Location %q, want %q", got, want)
	}
	c.login()
	clk.advance(6 * time.Minute)
	if got, want := c.do("GET", "/account/email", navigate...).Header().Get("Location"), "/sudo?return_to=%2Faccount%2Femail"; got != want {
		t.Errorf("reauth: Location %q, want %q", got, want)
	}
}

// A request target that SafeRedirect refuses is not carried to the login
// page, so an attacker's link cannot make the login form send the user
// off-site.
func TestRequireLoginDropsAnUnsafeNext(t *testing.T) {
	mw, err := securesession.New(rqStore(t), securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw, securesession.RequireLogin(securesession.RequireOptions{}))
	r.NoRoute(func(c *gin.Context) { c.String(http.StatusOK, "reached") })
	for _, target := range []string{"//evil.example/x", "/a\\b"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RequestURI, req.URL.Path = target, target
		for i := 0; i+1 < len(navigate); i += 2 {
			req.Header.Set(navigate[i], navigate[i+1])
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != "/login" {
			t.Errorf("%q: %d to %q, want 303 to /login with no next", target, w.Code, got)
		}
	}
}

func TestRequireLoginWithoutTheMiddlewareIs500(t *testing.T) {
	r := gin.New()
	var seen error
	r.GET("/account", func(c *gin.Context) {
		c.Next()
		seen = c.Errors.Last()
	}, securesession.RequireLogin(securesession.RequireOptions{}), func(c *gin.Context) { c.String(http.StatusOK, "reached") })
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/account", nil))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "reached") {
		t.Errorf("%d %q, want 500 without reaching the handler", w.Code, w.Body)
	}
	if !errors.Is(seen, securesession.ErrNoMiddleware) {
		t.Errorf("c.Errors has %v, want ErrNoMiddleware", seen)
	}
}

func TestRequireRecentAuthAsksForAFreshLogin(t *testing.T) {
	clk := newRQClock()
	c := &rqClient{t: t, h: rqApp(t, securesession.Options{Now: clk.now}, securesession.RequireOptions{})}
	api := []string{"Accept", "application/json"}
	code := func(w *httptest.ResponseRecorder) string {
		var body struct{ Code string }
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return body.Code
	}

	if w := c.do("GET", "/account/email", api...); w.Code != http.StatusUnauthorized || code(w) != "login_required" {
		t.Fatalf("anonymous: %d %q, want 401 login_required", w.Code, w.Body)
	}
	c.login()
	clk.advance(5 * time.Minute)
	if w := c.do("POST", "/account/email", api...); w.Code != http.StatusOK {
		t.Fatalf("login exactly 5 minutes old: %d %q, want it to pass", w.Code, w.Body)
	}
	clk.advance(time.Nanosecond)
	w := c.do("POST", "/account/email", api...)
	if w.Code != http.StatusUnauthorized || code(w) != "reauthentication_required" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("login 5m0.000000001s old: %d %q %v, want 401 reauthentication_required, no-store", w.Code, w.Body, w.Header())
	}
	if w := c.do("GET", "/account", api...); w.Code != http.StatusOK {
		t.Errorf("RequireLogin on an old login: %d, want it to pass", w.Code)
	}
	w = c.do("GET", "/account/email?step=2", navigate...)
	if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != "/login?next=%2Faccount%2Femail%3Fstep%3D2" {
		t.Errorf("browser: %d to %q, want 303 to the login page with next", w.Code, got)
	}
	c.login() // re-authenticate
	if w := c.do("POST", "/account/email", api...); w.Code != http.StatusOK {
		t.Errorf("after logging in again: %d %q", w.Code, w.Body)
	}
}

func TestRequireRecentAuthChallengesABearerClientPerRFC9470(t *testing.T) {
	clk := newRQClock()
	api := &rqClient{t: t, h: rqApp(t, securesession.Options{Now: clk.now, AuthorizationHeader: true}, securesession.RequireOptions{})}
	tok := api.do("POST", "/api/login").Body.String()
	clk.advance(10 * time.Minute)
	w := api.do("GET", "/account/email", "Authorization", "Bearer "+tok)
	want := `Bearer error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="300"`
	if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || got != want {
		t.Errorf("%d, WWW-Authenticate %q, want 401 and %q", w.Code, got, want)
	}
}

func TestRequestTimeIsTheMiddlewaresClock(t *testing.T) {
	clk := newRQClock()
	mw, _ := securesession.New(rqStore(t), securesession.Options{Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	r := gin.New()
	r.GET("/bare", func(c *gin.Context) { c.String(http.StatusOK, "%v", securesession.RequestTime(c).IsZero()) })
	r.GET("/t", mw, func(c *gin.Context) {
		first := securesession.RequestTime(c)
		clk.advance(time.Hour)
		c.String(http.StatusOK, "%s %v", first.Format(time.RFC3339), securesession.RequestTime(c).Equal(first))
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/t", nil))
	if got := w.Body.String(); got != "2026-12-01T09:00:00Z true" {
		t.Errorf("got %q, want the injected time, read once", got)
	}
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/bare", nil))
	if w.Body.String() != "true" {
		t.Errorf("without the middleware: %q, want the zero time", w.Body)
	}
}

func TestRequireConstructorsPanicOnUnsafeSettings(t *testing.T) {
	for name, f := range map[string]func(){
		"off-site LoginPath": func() {
			securesession.RequireLogin(securesession.RequireOptions{LoginPath: "https://evil.example/login"})
		},
		"protocol-relative":  func() { securesession.RequireLogin(securesession.RequireOptions{LoginPath: "//evil.example"}) },
		"relative LoginPath": func() { securesession.RequireLogin(securesession.RequireOptions{LoginPath: "login"}) },
		"off-site ReauthPath": func() {
			securesession.RequireRecentAuth(time.Minute, securesession.RequireOptions{ReauthPath: "/\\evil.example"})
		},
		"LoginPath with a #": func() { securesession.RequireLogin(securesession.RequireOptions{LoginPath: "/login#top"}) },
		"zero maxAge":        func() { securesession.RequireRecentAuth(0, securesession.RequireOptions{}) },
		"negative maxAge":    func() { securesession.RequireRecentAuth(-time.Minute, securesession.RequireOptions{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "securesession: Require") {
					t.Errorf("panic %q, want a securesession: message", msg)
				}
			}()
			f()
		})
	}
}

// The open-redirect attempts SafeRedirect must refuse: each would send a
// browser off-site, directly or after a browser's or a server's
// normalisation.
var openRedirects = []string{
	"",
	"evil.example",
	"//evil.example",
	"//evil.example/account",
	"///evil.example",
	"////evil.example",
	"/\\evil.example",
	"\\\\evil",
	"\\/evil.example",
	"/\\/evil.example",
	"/a\\b",
	"https://evil.example",
	"HTTPS://evil.example/",
	"http:evil.example",
	"http:/evil.example",
	"ftp://evil.example",
	"javascript:alert(1)",
	"JaVaScRiPt:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r\n/evil.example",
	"\t//evil.example",
	" //evil.example",
	"/ /evil.example",
	"/\x00/evil.example",
	"/\x7f/evil.example",
	"/%2F%2Fevil.example",
	"/%2f%2fevil.example",
	"%2F%2Fevil.example",
	"/%5Cevil.example",
	"/%5cevil.example",
	"/%2F/evil.example",
	"/%09/evil.example",
	"/%0d%0aSet-Cookie:%20a=b",
	"/%00",
	"/%252F%252Fevil.example",
	"/%25252F%25252Fevil.example",
	"/%2525252F%2525252Fevil.example",
	"/.//evil.example",
	"/..//evil.example",
	"/%2e//evil.example",
	"/%zz",
	"/\u00a0/evil.example",
	"/\u2215evil.example",
	"/\uff0f\uff0fevil.example",
	"/a#%zz",
	"https:\\\\evil.example",
	"/search?r=\\", // a raw backslash is refused even in the query
}

func TestSafeRedirectRefusesOpenRedirects(t *testing.T) {
	for _, next := range openRedirects {
		if got := securesession.SafeRedirect(next, "/home"); got != "/home" {
			t.Errorf("SafeRedirect(%q) = %q, want the fallback", next, got)
		}
	}
}

func TestSafeRedirectKeepsLocalPaths(t *testing.T) {
	for _, next := range []string{
		"/",
		"/account/email?tab=1",
		"/account?tab=1&x=%2F",
		"/search?q=https://example.org//x", // the query cannot change the origin
		"/a/b#section",
		"/my%20file",
		"/a%2Fb",
		"/100%25",
		"/caf%C3%A9",
		"/login?next=%2Faccount",
		"/@evil.example",
		"/;evil",
	} {
		if got := securesession.SafeRedirect(next, "/home"); got != next {
			t.Errorf("SafeRedirect(%q) = %q, want it unchanged", next, got)
		}
	}
}
