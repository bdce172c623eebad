package backendtest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/tester"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// ginContribChecks run gin-contrib's own tester suite on the backend and
// pin gin-contrib's logout idiom, Options{MaxAge: -1}.
var ginContribChecks = []check{
	{"GinContribMaxAgeMinusOneLogsOut", testGinContribMaxAgeMinusOneLogsOut},
	{"GinContribTester", testGinContribTester},
}

// testGinContribTester runs gin-contrib's own tester suite on the backend
// through the adapter. Its Options check is replaced by
// testGinContribOptions: it reads the Set-Cookie by splitting the string
// at fixed positions, and its final request sends no cookie, so it could
// not fail for the reason it names.
func testGinContribTester(t *testing.T, f *factory) {
	newStore := func(t *testing.T) sessions.Store { return ginContribStore(t, f.backend(t)) }
	t.Run("GetSet", func(t *testing.T) { tester.GetSet(t, newStore) })
	t.Run("DeleteKey", func(t *testing.T) { tester.DeleteKey(t, newStore) })
	t.Run("Flashes", func(t *testing.T) { tester.Flashes(t, newStore) })
	t.Run("Clear", func(t *testing.T) { tester.Clear(t, newStore) })
	t.Run("Many", func(t *testing.T) { tester.Many(t, newStore) })
	t.Run("Options", func(t *testing.T) { testGinContribOptions(t, f) })
}

// testGinContribOptions: attributes set through gin-contrib's Options are
// written, the security attributes survive them, and MaxAge -1 is a real
// logout: the old cookie, sent again, carries nothing.
func testGinContribOptions(t *testing.T, f *factory) {
	b := f.backend(t)
	store := ginContribStore(t, b)
	store.Options(sessions.Options{Path: "/app"})
	r := gin.New()
	r.Use(sessions.Sessions("gcsession", store))
	r.GET("/app/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("key", "value")
		if err := s.Save(); err != nil {
			t.Errorf("Save: %v", err)
		}
	})
	r.GET("/app/get", func(c *gin.Context) {
		v, _ := sessions.Default(c).Get("key").(string)
		c.String(http.StatusOK, "%s", v)
	})
	r.GET("/app/expire", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Options(sessions.Options{Path: "/app", MaxAge: -1})
		if err := s.Save(); err != nil {
			t.Errorf("Save: %v", err)
		}
	})
	do := func(path string, c *http.Cookie) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
		if c != nil {
			req.AddCookie(c)
		}
		r.ServeHTTP(w, req)
		return w
	}
	set := do("/app/set", nil)
	c := findCookie(set.Result().Cookies(), "gcsession")
	if c == nil {
		t.Fatalf("no cookie from Save: %q", set.Header().Values("Set-Cookie"))
	}
	if c.Path != "/app" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie Path=%q Secure=%v HttpOnly=%v SameSite=%v; want /app, Secure, HttpOnly, Lax", c.Path, c.Secure, c.HttpOnly, c.SameSite)
	}
	if got := do("/app/get", c).Body.String(); got != "value" {
		t.Fatalf("value read back = %q, want %q", got, "value")
	}
	exp := do("/app/expire", c)
	e := findCookie(exp.Result().Cookies(), "gcsession")
	if e == nil || e.MaxAge >= 0 || e.Path != "/app" || !e.Secure {
		t.Errorf("logout cookie = %+v, want an expired cookie with Path=/app and Secure", e)
	}
	if !f.revokes() {
		return // the backend declares it cannot refuse a replayed cookie
	}
	if got := do("/app/get", c).Body.String(); got != "" {
		t.Errorf("the cookie from before MaxAge -1 still reads %q; want nothing", got)
	}
}

func testGinContribMaxAgeMinusOneLogsOut(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	stolen := cl.c
	cl.do("POST", "/gin-logout")
	if cl.c != nil {
		t.Fatal("Options{MaxAge:-1}+Save left the browser a cookie")
	}
	f.requireRevocation(t)
	if got := a.replayUser(stolen); got != "" {
		t.Fatalf("cookie replayed after Options{MaxAge:-1} is user %q", got)
	}
}

// ginContribStore serves the backend through securesession's gin-contrib
// adapter, as an application using plain sessions.Sessions would.
func ginContribStore(t *testing.T, b securesession.Backend) *securesession.GinContribStore {
	t.Helper()
	s, err := securesession.NewGinContribStore(b, securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}
