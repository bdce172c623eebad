package securesession_test

// Benchmarks for the three requests a session layer serves, side by side
// with gin-contrib/sessions' cookie store (32-byte hash key and 32-byte
// block key, as its README recommends) and a bare Gin router:
//
//	go test -run '^$' -bench . -benchmem .
//
// Each benchmark serves the same request through a Gin router:
//   - Login: create a session holding a user ID and a role.
//   - Read: an authenticated request that reads the user ID.
//   - Write: an authenticated request that reads a counter, increments it
//     and saves.

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-contrib/sessions"
	gincookie "github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

func randKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

type benchApp struct {
	r      *gin.Engine
	cookie string // "name=value" of an authenticated session
}

func ourApp(b *testing.B, backend securesession.Backend) *benchApp {
	mw, err := securesession.New(backend, securesession.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, "alice"); err != nil {
			c.AbortWithStatus(500)
			return
		}
		sessions.Default(c).Set("role", "admin")
		c.Status(http.StatusNoContent)
	})
	r.GET("/read", func(c *gin.Context) {
		if securesession.UserID(c) == "" {
			c.AbortWithStatus(401)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/write", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		c.Status(http.StatusNoContent)
	})
	return &benchApp{r: r, cookie: loginCookie(b, r)}
}

func ginContribApp(b *testing.B, store sessions.Store) *benchApp {
	r := gin.New()
	r.Use(sessions.Sessions("session", store))
	r.POST("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", "alice")
		s.Set("role", "admin")
		if err := s.Save(); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/read", func(c *gin.Context) {
		if u, _ := sessions.Default(c).Get("user").(string); u == "" {
			c.AbortWithStatus(401)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/write", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		if err := s.Save(); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	return &benchApp{r: r, cookie: loginCookie(b, r)}
}

func bareApp(b *testing.B) *benchApp {
	r := gin.New()
	for _, m := range []string{"GET", "POST"} {
		r.Handle(m, "/login", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		r.Handle(m, "/read", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		r.Handle(m, "/write", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	}
	return &benchApp{r: r, cookie: "session=x"}
}

func loginCookie(b *testing.B, r *gin.Engine) string {
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cs := w.Result().Cookies()
	if w.Code != http.StatusNoContent || len(cs) != 1 {
		b.Fatalf("login: %d %q", w.Code, w.Header().Values("Set-Cookie"))
	}
	return cs[0].Name + "=" + cs[0].Value
}

// respond is a minimal ResponseWriter, so the benchmark measures the
// router and the session layer rather than the recorder.
type respond struct{ h http.Header }

func (w *respond) Header() http.Header         { return w.h }
func (w *respond) Write(p []byte) (int, error) { return len(p), nil }
func (w *respond) WriteHeader(int)             {}

func (a *benchApp) run(b *testing.B, method, path string, withCookie bool) {
	req := httptest.NewRequest(method, path, nil)
	if withCookie {
		req.Header.Set("Cookie", a.cookie)
	}
	w := &respond{h: make(http.Header)}
	// Check once that the request succeeds.
	rec := httptest.NewRecorder()
	check := *req
	a.r.ServeHTTP(rec, &check)
	if rec.Code != http.StatusNoContent {
		b.Fatalf("%s %s: %d", method, path, rec.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		// A fresh request each time: gorilla caches sessions in the
		// request's context and would otherwise skip decoding.
		rq := *req
		a.r.ServeHTTP(w, &rq)
	}
}

func benchAll(b *testing.B, mk func(*testing.B) *benchApp) {
	b.Run("Login", func(b *testing.B) { mk(b).run(b, "POST", "/login", false) })
	b.Run("Read", func(b *testing.B) { mk(b).run(b, "GET", "/read", true) })
	b.Run("Write", func(b *testing.B) { mk(b).run(b, "POST", "/write", true) })
}

func BenchmarkBareGin(b *testing.B) { benchAll(b, bareApp) }

func BenchmarkSecureSessionCookie(b *testing.B) {
	benchAll(b, func(b *testing.B) *benchApp {
		s, err := newCookieStoreB(b)
		if err != nil {
			b.Fatal(err)
		}
		return ourApp(b, s)
	})
}

func BenchmarkGinContribCookie(b *testing.B) {
	benchAll(b, func(b *testing.B) *benchApp {
		return ginContribApp(b, gincookie.NewStore(randKey(), randKey()))
	})
}

func newCookieStoreB(b *testing.B) (securesession.Backend, error) {
	return newCookieStore(b), nil
}
