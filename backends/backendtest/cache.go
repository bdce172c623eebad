package backendtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// cacheChecks check that no cache, the browser's included, keeps a
// session's responses: whatever the backend, an authenticated response
// carries no Set-Cookie on a server backend, and must still be no-store.
var cacheChecks = []check{
	{"Cache/AuthenticatedReadIsNoStore", testCacheAuthenticatedRead},
	{"Cache/SetCookieIsNoStoreWhateverTheHandlerSets", testCacheSetCookieOverridesHandler},
	{"Cache/AnonymousPageKeepsHandlerCaching", testCacheAnonymousPage},
	{"Cache/PlainSessionsSaveIsNoStore", testCachePlainSessions},
}

// askForCaching is what a handler does that wants its response cached, by
// browsers and by a CDN.
func askForCaching(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Header("CDN-Cache-Control", "max-age=3600")
}

func cacheRoutes(r *gin.Engine) {
	r.POST("/login-then-public", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
			return
		}
		if err := sessions.Default(c).Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		askForCaching(c)
		c.String(http.StatusOK, "ok")
	})
	r.GET("/public", func(c *gin.Context) {
		askForCaching(c)
		c.String(http.StatusOK, "public")
	})
}

func requireNoStore(t *testing.T, what string, h http.Header) {
	t.Helper()
	if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("%s: Cache-Control %q, want exactly no-store", what, got)
	}
	if got := strings.Join(h.Values("Vary"), ","); !strings.Contains(got, "Cookie") {
		t.Errorf("%s: Vary %q, want it to name Cookie", what, got)
	}
	if got := h.Get("CDN-Cache-Control"); got != "" {
		t.Errorf("%s: CDN-Cache-Control %q survived: a CDN would cache the response by it", what, got)
	}
}

func testCacheAuthenticatedRead(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	r := cl.do("GET", "/whoami")
	if r.body != "user=alice" {
		t.Fatalf("GET /whoami after login: %q", r.body)
	}
	requireNoStore(t, "a logged-in user's page", r.header)
}

func testCacheSetCookieOverridesHandler(t *testing.T, f *factory) {
	a := newAppWithRoutes(t, f, cacheRoutes)
	r := a.do("POST", "/login-then-public?user=alice", nil)
	if r.cookie(a.name) == nil {
		t.Fatalf("no %s cookie: %q", a.name, r.header.Values("Set-Cookie"))
	}
	requireNoStore(t, "a response with Set-Cookie whose handler set Cache-Control: public after Save", r.header)
}

func testCacheAnonymousPage(t *testing.T, f *factory) {
	a := newAppWithRoutes(t, f, cacheRoutes)
	r := a.do("GET", "/public", nil)
	if got := r.header.Get("Cache-Control"); got != "public, max-age=3600" {
		t.Errorf("anonymous page without a session: Cache-Control %q, want the handler's", got)
	}
	if got := r.header.Get("CDN-Cache-Control"); got != "max-age=3600" {
		t.Errorf("anonymous page without a session: CDN-Cache-Control %q, want the handler's", got)
	}
}

func testCachePlainSessions(t *testing.T, f *factory) {
	const name = "plain"
	r := gin.New()
	r.Use(sessions.Sessions(name, ginContribStore(t, f.backend(t))))
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", "alice")
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Options(sessions.Options{MaxAge: -1})
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	a := &app{t: t, srv: srv, name: name}
	set := a.do("POST", "/set", nil)
	ck := set.cookie(name)
	if ck == nil {
		t.Fatalf("sessions.Sessions: Save set no cookie: %q", set.header.Values("Set-Cookie"))
	}
	requireNoStore(t, "sessions.Sessions, a response whose Save set the cookie", set.header)
	requireNoStore(t, "sessions.Sessions, a response whose Save expired the cookie", a.do("POST", "/logout", ck).header)
}
