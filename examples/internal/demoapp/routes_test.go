package demoapp_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/memory"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

// clock is a settable time source for the middleware and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// browser drives the demo router in-process, keeping the session cookie
// as a browser does.
type browser struct {
	t      *testing.T
	r      *gin.Engine
	cookie *http.Cookie
	last   *http.Cookie // the last Set-Cookie of the session cookie
}

func newBrowser(t *testing.T) (*browser, *clock) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	store, err := memory.NewStore(memory.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := demoapp.NewEngine(store, "memory", securesession.Options{InsecureAllowHTTP: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, r: r}, clk
}

func (b *browser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://127.0.0.1")
	} else {
		req = httptest.NewRequest(method, "http://127.0.0.1"+path, nil)
	}
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if b.cookie != nil {
		req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	w := httptest.NewRecorder()
	b.r.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.Name != "session" {
			continue
		}
		b.last = ck
		if ck.MaxAge < 0 || ck.Value == "" {
			b.cookie = nil
		} else {
			b.cookie = ck
		}
	}
	return w
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, to string) {
	t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != to {
		t.Fatalf("got %d to %q, want 303 to %q; body:\n%s", w.Code, w.Header().Get("Location"), to, w.Body)
	}
}

func login(remember bool) url.Values {
	v := url.Values{"username": {"demo"}, "password": {"demo-password"}}
	if remember {
		v.Set("remember", "on")
	}
	return v
}

func TestDemoRememberMeGivesAPersistentCookie(t *testing.T) {
	b, _ := newBrowser(t)
	wantRedirect(t, b.do("POST", "/login", login(true)), "/profile")
	if b.last == nil || b.last.MaxAge <= 0 {
		t.Fatalf("remembered login: session cookie %v, want a positive Max-Age", b.last)
	}
	if body := b.do("GET", "/profile", nil).Body.String(); !strings.Contains(body, `id="remembered">yes<`) {
		t.Fatalf("profile does not say the session is remembered:\n%s", body)
	}

	b, _ = newBrowser(t)
	wantRedirect(t, b.do("POST", "/login", login(false)), "/profile")
	if b.last == nil || b.last.MaxAge != 0 {
		t.Fatalf("normal login: session cookie %v, want no Max-Age", b.last)
	}
	if body := b.do("GET", "/profile", nil).Body.String(); !strings.Contains(body, `id="remembered">no`) {
		t.Fatalf("profile does not say the session is not remembered:\n%s", body)
	}
}

func TestDemoLogoutEverywhereNeedsARecentLogin(t *testing.T) {
	b, clk := newBrowser(t)
	wantRedirect(t, b.do("POST", "/login", login(true)), "/profile")
	clk.Add(demoapp.ReauthMaxAge + time.Minute)

	next := "/?next=" + url.QueryEscape("/logout-everywhere")
	wantRedirect(t, b.do("POST", "/logout-everywhere", url.Values{}), next)
	if b.cookie == nil {
		t.Fatal("the refused action ended the session")
	}
	body := b.do("GET", next, nil).Body.String()
	if !strings.Contains(body, `id="reauth"`) || !strings.Contains(body, `name="next" value="/logout-everywhere"`) {
		t.Fatalf("login form does not ask to confirm the password with next:\n%s", body)
	}

	form := login(true)
	form.Set("next", "/logout-everywhere")
	wantRedirect(t, b.do("POST", "/login", form), "/profile")
	wantRedirect(t, b.do("POST", "/logout-everywhere", url.Values{}), "/?m=logged-out-everywhere")
	if b.cookie != nil {
		t.Fatal("log out everywhere left the session cookie")
	}
}

func TestDemoLoginIgnoresAnOffSiteNext(t *testing.T) {
	for _, next := range []string{"//evil.example", "https://evil.example/", `/\evil.example`} {
		b, _ := newBrowser(t)
		form := login(false)
		form.Set("next", next)
		wantRedirect(t, b.do("POST", "/login", form), "/profile")
		if body := b.do("GET", "/?next="+url.QueryEscape(next), nil); body.Code != http.StatusSeeOther {
			t.Fatalf("next %q: login form rendered %q", next, body.Body)
		}
	}
}
