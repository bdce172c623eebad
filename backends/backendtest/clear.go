package backendtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// clearChecks check gin-contrib's logout idiom, session.Clear() followed
// by Save, which must log the user out as Logout does, under the
// middleware and under plain sessions.Sessions.
var clearChecks = []check{
	{"Clear/ClearAndSaveLogsOut", testClearAndSaveLogsOut},
	{"Clear/ValuesAfterClearStartANewAnonymousSession", testValuesAfterClear},
	{"Clear/PlainSessionsClearAndSaveLogsOut", testPlainSessionsClear},
}

func clearRoutes(r *gin.Engine) {
	r.POST("/clear", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/clear-then-set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		s.Set(c.Query("key"), c.Query("val"))
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
}

// requireExpiredLike fails unless the response expires the cookie that
// issued named, with the attributes issued had.
func requireExpiredLike(t *testing.T, what string, r *result, issued *http.Cookie, rawIssued string) {
	t.Helper()
	gone := r.cookie(issued.Name)
	if gone == nil {
		t.Fatalf("%s sent no Set-Cookie for %q", what, issued.Name)
	}
	if gone.MaxAge >= 0 || gone.Value != "" {
		t.Errorf("%s: cookie Max-Age=%d value=%q; want expired and empty", what, gone.MaxAge, gone.Value)
	}
	if gone.Path != issued.Path || gone.Domain != issued.Domain || gone.Secure != issued.Secure ||
		gone.HttpOnly != issued.HttpOnly || gone.SameSite != issued.SameSite || gone.Partitioned != issued.Partitioned {
		t.Errorf("%s: the expiring cookie's attributes differ from the issued cookie's:\nissued:  %s\nexpired: %s", what, rawIssued, setCookieLine(r.header, issued.Name))
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, got)
	}
}

func testClearAndSaveLogsOut(t *testing.T, f *factory) {
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
			a := newAppWithRoutes(t, f, clearRoutes, tc.opt)
			r := a.do("POST", "/login?user=alice", nil)
			issued := r.cookie(a.name)
			if issued == nil {
				t.Fatalf("no cookie %q issued", a.name)
			}
			rawIssued := setCookieLine(r.header, a.name)
			if r := a.do("POST", "/set?key=secret&val=s3", issued); r.cookie(a.name) != nil {
				issued = r.cookie(a.name) // the cookie backend re-seals
			}
			r = a.do("POST", "/clear", issued)
			if r.status != http.StatusOK {
				t.Fatalf("Clear+Save: %d %s", r.status, r.body)
			}
			requireExpiredLike(t, "Clear+Save", r, issued, rawIssued)
			if !a.sawEvent(securesession.EventLoggedOut) {
				t.Error("Clear+Save emitted no logged_out event")
			}
			f.requireRevocation(t)
			if got := a.replayUser(issued); got != "" {
				t.Fatalf("cookie replayed after Clear+Save is user %q, want anonymous", got)
			}
			if got := a.replayGet(issued, "secret"); got != "<nil>" {
				t.Fatalf("cookie replayed after Clear+Save still reads %q", got)
			}
			if _, found, _ := a.b.Find(context.Background(), a.name, issued.Value); found {
				t.Fatal("the server record survives Clear+Save")
			}
		})
	}
}

func testValuesAfterClear(t *testing.T, f *factory) {
	a := newAppWithRoutes(t, f, clearRoutes)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	old := cl.c
	r := cl.do("POST", "/clear-then-set?key=note&val=bye")
	fresh := r.cookie(a.name)
	if fresh == nil || fresh.MaxAge < 0 || fresh.Value == "" || fresh.Value == old.Value {
		t.Fatalf("Clear then Set: Set-Cookie %q; want a new session's cookie", r.header.Values("Set-Cookie"))
	}
	if got := cl.user(); got != "" {
		t.Errorf("the session started after Clear is user %q, want anonymous", got)
	}
	if got := cl.do("GET", "/get?key=note").body; got != "string:bye" {
		t.Errorf("the value set after Clear reads %q", got)
	}
	f.requireRevocation(t)
	if got := a.replayUser(old); got != "" {
		t.Errorf("the cookie from before Clear is user %q, want anonymous", got)
	}
}

func testPlainSessionsClear(t *testing.T, f *factory) {
	const name = "plain"
	b := f.backend(t)
	r := gin.New()
	r.Use(sessions.Sessions(name, ginContribStore(t, b)))
	r.POST("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", "alice")
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "save: %v", err)
		}
	})
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%v", sessions.Default(c).Get("user")) })
	clearRoutes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	a := &app{t: t, srv: srv, name: name}

	r1 := a.do("POST", "/login", nil)
	issued := r1.cookie(name)
	if issued == nil {
		t.Fatalf("sessions.Sessions: no cookie: %q", r1.header.Values("Set-Cookie"))
	}
	requireExpiredLike(t, "sessions.Sessions Clear+Save", a.do("POST", "/clear", issued), issued, setCookieLine(r1.header, name))
	f.requireRevocation(t)
	if got := a.do("GET", "/whoami", issued).body; !strings.HasSuffix(got, "<nil>") {
		t.Errorf("under sessions.Sessions the cookie replayed after Clear+Save reads %q, want no user", got)
	}
	if _, found, _ := b.Find(context.Background(), name, issued.Value); found {
		t.Error("under sessions.Sessions the server record survives Clear+Save")
	}
}
