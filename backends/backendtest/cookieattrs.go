package backendtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession"
)

// cookieChecks pin the attributes of the session cookie as issued and as
// expired, and that an untouched session sets no cookie and writes
// nothing.
var cookieChecks = []check{
	{"DefaultCookieAttributes", testDefaultCookieAttributes},
	{"NoCookieOrWriteForUntouchedSession", testNoCookieOrWriteForUntouchedSession},
	{"LogoutExpiresCookieWithSameAttributes", testLogoutExpiresCookieWithSameAttributes},
}

func testDefaultCookieAttributes(t *testing.T, f *factory) {
	a := newApp(t, f)
	r := a.do("POST", "/set?key=k&val=v", nil)
	c := r.cookie(securesession.DefaultCookieName)
	if c == nil {
		t.Fatalf("no %s cookie in %q", securesession.DefaultCookieName, r.header.Values("Set-Cookie"))
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie attributes: Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q; want Secure, HttpOnly, Lax, Path=/, no Domain",
			c.Secure, c.HttpOnly, c.SameSite, c.Path, c.Domain)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie has Max-Age=%d Expires=%v; want a browser-session cookie", c.MaxAge, c.Expires)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := strings.Join(r.header.Values("Vary"), ","); !strings.Contains(got, "Cookie") {
		t.Errorf("Vary = %q, want it to name Cookie", got)
	}
	if n := len(r.header.Values("Set-Cookie")); n != 1 {
		t.Errorf("%d Set-Cookie headers, want 1", n)
	}
}

func testNoCookieOrWriteForUntouchedSession(t *testing.T, f *factory) {
	a := newApp(t, f)
	for _, path := range []string{"/noop", "/get?key=k", "/whoami", "/flashes"} {
		r := a.do("GET", path, nil)
		if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("GET %s without a session set %q; want no cookie", path, sc)
		}
	}
	if n := a.b.total(); n != 0 {
		t.Errorf("anonymous requests caused %d backend writes (%v); want none", n, a.b.writes)
	}
	// A handler that sets and deletes the same key leaves nothing to store.
	cl := a.client()
	cl.do("POST", "/set?key=k&val=v")
	if cl.c == nil {
		t.Fatal("no cookie after a Set")
	}
	before := a.b.total()
	r := a.do("GET", "/noop", cl.c)
	if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a request that never touched its session set %q", sc)
	}
	if n := a.b.total() - before; n != 0 {
		t.Errorf("a request that never touched its session caused %d backend writes", n)
	}
}

func testLogoutExpiresCookieWithSameAttributes(t *testing.T, f *factory) {
	for _, tc := range []struct {
		name string
		opt  appOption
	}{
		{"default", func(*securesession.Options) {}},
		{"domain", func(o *securesession.Options) { o.Domain = "example.test" }},
		{"strict-partitioned", func(o *securesession.Options) {
			o.SameSite = http.SameSiteStrictMode
			o.Partitioned = true
		}},
		{"path", func(o *securesession.Options) { o.CookieName = "sid"; o.Path = "/app" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, f, tc.opt)
			r := a.do("POST", "/login?user=alice", nil)
			issued := r.cookie(a.name)
			if issued == nil {
				t.Fatalf("no cookie %q issued", a.name)
			}
			rawIssued := setCookieLine(r.header, a.name)
			if tc.name == "strict-partitioned" && (!issued.Partitioned || issued.SameSite != http.SameSiteStrictMode) {
				t.Fatalf("options not applied to the issued cookie: %s", rawIssued)
			}
			r = a.do("POST", "/logout", issued)
			gone := r.cookie(a.name)
			if gone == nil {
				t.Fatalf("Logout sent no Set-Cookie for %q", a.name)
			}
			if gone.MaxAge >= 0 || gone.Value != "" {
				t.Errorf("logout cookie Max-Age=%d value=%q; want expired and empty", gone.MaxAge, gone.Value)
			}
			if gone.Path != issued.Path || gone.Domain != issued.Domain || gone.Secure != issued.Secure ||
				gone.HttpOnly != issued.HttpOnly || gone.SameSite != issued.SameSite || gone.Partitioned != issued.Partitioned {
				t.Errorf("logout cookie attributes differ from the issued cookie:\nissued: %s\nlogout: %s", rawIssued, setCookieLine(r.header, a.name))
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("logout Cache-Control = %q, want no-store", got)
			}
		})
	}
}
