package securesession_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

// revocableCookieStore is a cookie store that can end a session on the
// server, so that a replayed cookie shows whether logout happened.
func revocableCookieStore(t *testing.T) *cookie.Store {
	t.Helper()
	return newCookieStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(securesession.DefaultAbsoluteTimeout)})
}

// clearRoutes adds gin-contrib's logout idiom, and the idiom followed by a
// message for the next page.
func clearRoutes(r *gin.Engine) {
	r.POST("/clear", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		if err := s.Save(); err != nil {
			c.String(http.StatusServiceUnavailable, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "user=%s", securesession.UserID(c))
	})
	r.POST("/clear-then-flash", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		s.AddFlash("you have been logged out")
		if err := s.Save(); err != nil {
			c.String(http.StatusServiceUnavailable, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
}

func TestGinContribClearAndSaveLogsOut(t *testing.T) {
	r := router(t, revocableCookieStore(t), securesession.Options{})
	clearRoutes(r)
	login := serve(r, "POST", "/login?user=alice&role=admin", nil)
	issued := sessionCookie(t, login, securesession.DefaultCookieName)

	w := serve(r, "POST", "/clear", nil, issued)
	if w.Code != http.StatusOK || w.Body.String() != "user=" {
		t.Fatalf("Clear+Save: %d %q; want the user gone at once", w.Code, w.Body.String())
	}
	gone := sessionCookie(t, w, securesession.DefaultCookieName)
	if gone.MaxAge >= 0 || gone.Value != "" {
		t.Errorf("Clear+Save cookie Max-Age=%d value=%q; want it expired", gone.MaxAge, gone.Value)
	}
	if gone.Path != issued.Path || gone.Domain != issued.Domain || gone.Secure != issued.Secure ||
		gone.HttpOnly != issued.HttpOnly || gone.SameSite != issued.SameSite {
		t.Errorf("Clear+Save cookie attributes differ:\nissued: %s\nexpired: %s",
			login.Header().Get("Set-Cookie"), w.Header().Get("Set-Cookie"))
	}
	checkNoStore(t, "Clear+Save", sent(w))
	if got := serve(r, "GET", "/whoami", nil, issued).Body.String(); got != "user=" {
		t.Errorf("the cookie replayed after Clear+Save is %q, want anonymous", got)
	}
	if got := serve(r, "GET", "/get?key=role", nil, issued).Body.String(); got != "<nil>" {
		t.Errorf("the cookie replayed after Clear+Save still reads role %q", got)
	}
}

func TestValuesSetAfterClearStartANewAnonymousSession(t *testing.T) {
	r := router(t, revocableCookieStore(t), securesession.Options{})
	clearRoutes(r)
	r.GET("/flashes", func(c *gin.Context) { c.String(http.StatusOK, "%v", sessions.Default(c).Flashes()) })
	old := aliceCookie(t, r)

	w := serve(r, "POST", "/clear-then-flash", nil, old)
	fresh := sessionCookie(t, w, securesession.DefaultCookieName)
	if fresh.MaxAge < 0 || fresh.Value == "" || fresh.Value == old.Value {
		t.Fatalf("Clear then AddFlash: cookie Max-Age=%d, new value %v; want a new session's cookie", fresh.MaxAge, fresh.Value != old.Value)
	}
	if got := serve(r, "GET", "/whoami", nil, fresh).Body.String(); got != "user=" {
		t.Errorf("the session started after Clear is %q, want anonymous", got)
	}
	if got := serve(r, "GET", "/flashes", nil, fresh).Body.String(); got != "[you have been logged out]" {
		t.Errorf("the message set after Clear: %q", got)
	}
	if got := serve(r, "GET", "/whoami", nil, old).Body.String(); got != "user=" {
		t.Errorf("the cookie from before Clear is %q, want anonymous", got)
	}
}

// failingDelete is a backend whose Delete fails, as in an outage.
type failingDelete struct{ securesession.Backend }

func (failingDelete) Delete(context.Context, string, string) error { return errDown }

func TestClearReportsAFailedDeleteAndKeepsTheSession(t *testing.T) {
	b := revocableCookieStore(t)
	r := router(t, failingDelete{b}, securesession.Options{})
	clearRoutes(r)
	ck := aliceCookie(t, r)
	w := serve(r, "POST", "/clear", nil, ck)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("Clear+Save with a failing Delete: %d %q; want the handler to see the error", w.Code, w.Body.String())
	}
	if !strings.Contains(w.Body.String(), "backend delete") {
		t.Errorf("Save returned %q, want the *BackendError of the delete", w.Body.String())
	}
	if sc := sent(w).Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a failed Clear changed the cookie: %q", sc)
	}
	if got := serve(r, "GET", "/whoami", nil, ck).Body.String(); got != "user=alice" {
		t.Errorf("after a failed Clear the session is %q; want it as it was", got)
	}
}

func TestPlainSessionsClearAndSaveLogsOut(t *testing.T) {
	store, err := securesession.NewGinContribStore(revocableCookieStore(t), securesession.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(sessions.Sessions("s", store))
	r.POST("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", "alice")
		_ = s.Save()
	})
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%v", sessions.Default(c).Get("user")) })
	clearRoutes(r)
	login := serve(r, "POST", "/login", nil)
	issued := sessionCookie(t, login, "s")

	w := serve(r, "POST", "/clear", nil, issued)
	gone := sessionCookie(t, w, "s")
	if gone.MaxAge >= 0 || gone.Value != "" {
		t.Errorf("sessions.Sessions Clear+Save: cookie Max-Age=%d value=%q; want it expired", gone.MaxAge, gone.Value)
	}
	if gone.Path != issued.Path || gone.Secure != issued.Secure || gone.HttpOnly != issued.HttpOnly || gone.SameSite != issued.SameSite {
		t.Errorf("sessions.Sessions Clear+Save cookie attributes differ:\nissued: %s\nexpired: %s",
			login.Header().Get("Set-Cookie"), w.Header().Get("Set-Cookie"))
	}
	checkNoStore(t, "sessions.Sessions Clear+Save", sent(w))
	if got := serve(r, "GET", "/whoami", nil, issued).Body.String(); got != "user=<nil>" {
		t.Errorf("the cookie replayed after Clear+Save is %q, want an empty session", got)
	}

	// Values set after Clear go to a new session, not the old one.
	issued = sessionCookie(t, serve(r, "POST", "/login", nil), "s")
	w = serve(r, "POST", "/clear-then-flash", nil, issued)
	fresh := sessionCookie(t, w, "s")
	if fresh.MaxAge < 0 || fresh.Value == "" || fresh.Value == issued.Value {
		t.Errorf("sessions.Sessions Clear then AddFlash: Max-Age=%d, new value %v; want a new session", fresh.MaxAge, fresh.Value != issued.Value)
	}
	if got := serve(r, "GET", "/whoami", nil, issued).Body.String(); got != "user=<nil>" {
		t.Errorf("the cookie from before Clear then AddFlash is %q, want an empty session", got)
	}
}
