package securesession_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// cacheRouter is router with a fixed clock (so a read never re-seals the
// cookie) and routes whose handlers set their own caching headers.
func cacheRouter(t *testing.T, o securesession.Options) *gin.Engine {
	t.Helper()
	now := time.Now()
	o.Now = func() time.Time { return now }
	r := router(t, newCookieStore(t), o)
	public := func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.Header("CDN-Cache-Control", "max-age=600")
		c.Header("Surrogate-Control", "max-age=600")
	}
	// An early Login + Save, then the handler asks for caching.
	r.POST("/login-then-public", func(c *gin.Context) {
		if err := securesession.Login(c, "alice"); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		if err := sessions.Default(c).Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		public(c)
		c.String(http.StatusOK, "welcome")
	})
	// An anonymous visitor's cart, saved early, then cached.
	r.POST("/cart-then-public", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("cart", "1 book")
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		public(c)
		c.String(http.StatusOK, "added")
	})
	// A page that shows the user and asks for caching.
	r.GET("/me-public", func(c *gin.Context) {
		user := securesession.UserID(c)
		public(c)
		c.String(http.StatusOK, "user=%s", user)
	})
	// A handler that never uses the session, as a static file does.
	r.GET("/static", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.String(http.StatusOK, "body { color: black }")
	})
	// A page with no body: gin sends the headers after the handlers.
	r.GET("/me-empty", func(c *gin.Context) {
		_ = securesession.UserID(c)
		c.Status(http.StatusNoContent)
	})
	return r
}

// sent returns the response headers as they went out, not as the handler
// left the map afterwards.
func sent(w *httptest.ResponseRecorder) http.Header { return w.Result().Header }

func checkNoStore(t *testing.T, what string, h http.Header) {
	t.Helper()
	if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("%s: Cache-Control %q, want exactly no-store", what, got)
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Cookie") {
		t.Errorf("%s: Vary %q, want it to name Cookie", what, h.Values("Vary"))
	}
	for _, k := range []string{"CDN-Cache-Control", "Surrogate-Control"} {
		if v := h.Get(k); v != "" {
			t.Errorf("%s: %s: %q survived; a CDN would cache the response by it", what, k, v)
		}
	}
}

func aliceCookie(t *testing.T, r http.Handler) *http.Cookie {
	t.Helper()
	return sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
}

func TestAuthenticatedReadOnlyResponseIsNoStore(t *testing.T) {
	r := cacheRouter(t, securesession.Options{})
	ck := aliceCookie(t, r)
	w := serve(r, "GET", "/whoami", nil, ck)
	if w.Body.String() != "user=alice" {
		t.Fatalf("GET /whoami: %q, want alice's page", w.Body.String())
	}
	if sc := sent(w).Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("a read-only request set %q; the check needs a response without Set-Cookie", sc)
	}
	checkNoStore(t, "authenticated read-only response", sent(w))

	w = serve(r, "GET", "/me-empty", nil, ck)
	checkNoStore(t, "authenticated response without a body", sent(w))
}

func TestSetCookieResponseIsNoStoreWhateverTheHandlerSets(t *testing.T) {
	r := cacheRouter(t, securesession.Options{})
	for _, path := range []string{"/login-then-public", "/cart-then-public"} {
		w := serve(r, "POST", path, nil)
		if len(sent(w).Values("Set-Cookie")) == 0 {
			t.Fatalf("POST %s set no cookie", path)
		}
		checkNoStore(t, "POST "+path+" (Save, then Cache-Control: public)", sent(w))
	}
}

func TestLoggedInPageIsNoStoreEvenIfTheHandlerSetsPublic(t *testing.T) {
	r := cacheRouter(t, securesession.Options{})
	w := serve(r, "GET", "/me-public", nil, aliceCookie(t, r))
	if w.Body.String() != "user=alice" {
		t.Fatalf("GET /me-public: %q", w.Body.String())
	}
	checkNoStore(t, "logged-in page with Cache-Control: public", sent(w))
}

func TestHandlerCachingIsKeptWhereNoSessionIsUsed(t *testing.T) {
	r := cacheRouter(t, securesession.Options{})
	ck := aliceCookie(t, r)
	for _, tc := range []struct {
		name   string
		path   string
		cookie *http.Cookie
		want   string
	}{
		{"anonymous public page", "/me-public", nil, "public, max-age=3600"},
		{"static file for a logged-in user", "/static", ck, "public, max-age=31536000, immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if tc.cookie != nil {
				cookies = append(cookies, tc.cookie)
			}
			h := sent(serve(r, "GET", tc.path, nil, cookies...))
			if got := h.Get("Cache-Control"); got != tc.want {
				t.Errorf("Cache-Control %q, want the handler's %q", got, tc.want)
			}
			if v := h.Values("Vary"); len(v) != 0 {
				t.Errorf("Vary %q added to a response that does not depend on the session", v)
			}
		})
	}
}

func TestInsecureAllowCachingAuthenticatedNeverCachesSetCookie(t *testing.T) {
	r := cacheRouter(t, securesession.Options{InsecureAllowCachingAuthenticated: true})
	ck := aliceCookie(t, r)

	h := sent(serve(r, "GET", "/me-public", nil, ck))
	if got := h.Get("Cache-Control"); got != "public, max-age=3600" {
		t.Errorf("with the opt-out, the handler's Cache-Control became %q", got)
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Cookie") {
		t.Errorf("with the opt-out, Vary %q does not name Cookie", h.Values("Vary"))
	}
	checkNoStore(t, "opt-out, handler set no Cache-Control", sent(serve(r, "GET", "/whoami", nil, ck)))
	for _, path := range []string{"/login-then-public", "/cart-then-public"} {
		checkNoStore(t, "opt-out, POST "+path, sent(serve(r, "POST", path, nil)))
	}
	checkNoStore(t, "opt-out, logout", sent(serve(r, "POST", "/logout", nil, ck)))
}

func TestPlainSessionsSaveMarksResponseNoStore(t *testing.T) {
	store, err := securesession.NewGinContribStore(newCookieStore(t), securesession.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(sessions.Sessions("s", store))
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", "alice")
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Options(sessions.Options{MaxAge: -1})
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	w := serve(r, "POST", "/set", nil)
	checkNoStore(t, "plain sessions.Sessions, Save", sent(w))
	checkNoStore(t, "plain sessions.Sessions, logout", sent(serve(r, "POST", "/logout", nil, sessionCookie(t, w, "s"))))
}

// TestFailedSaveAnswerIsNoStoreWhateverTheHandlerSet: when the automatic
// save of an anonymous visitor's first values fails (no user, no
// Set-Cookie: nothing else makes the response private), the error page is written in place of the handler's answer,
// before the usual caching rules would run; it must still be no-store with
// Vary: Cookie and without the CDN-targeted fields the handler set, or a
// CDN would keep the error (and any Set-Cookie on it) for everyone.
func TestFailedSaveAnswerIsNoStoreWhateverTheHandlerSet(t *testing.T) {
	f := &failing{Backend: newCookieStore(t), rotate: true} // an anonymous visitor's first save fails
	r := router(t, f, securesession.Options{})
	r.POST("/set-public", func(c *gin.Context) {
		sessions.Default(c).Set("k", "v")
		c.Header("Cache-Control", "public, max-age=3600")
		c.Header("CDN-Cache-Control", "max-age=600")
		c.Header("Surrogate-Control", "max-age=600")
		c.String(http.StatusOK, "saved")
	})
	w := serve(r, "POST", "/set-public", nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 from the failed save", w.Code)
	}
	h := w.Header()
	if got := h.Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("Cache-Control %q, want exactly no-store", got)
	}
	for _, k := range []string{"CDN-Cache-Control", "Surrogate-Control"} {
		if v := h.Get(k); v != "" {
			t.Errorf("%s: %q survived on the error answer", k, v)
		}
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Cookie") {
		t.Errorf("Vary %q lacks Cookie", h.Values("Vary"))
	}
}
