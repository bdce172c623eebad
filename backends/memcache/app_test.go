package memcache

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// stateApp serves the middleware over b on loopback, with routes that
// answer with the session's state ("user=<id>;val=<value>"): GET /state,
// POST /login?user=, /set?val=, /logout and /logout-everywhere. A failed
// session call answers 503 for a backend error, 500 otherwise.
func stateApp(t *testing.T, b securesession.Backend) *httptest.Server {
	t.Helper()
	return stateAppWith(t, b, securesession.Options{})
}

// stateAppWith is stateApp with middleware options (a clock, say).
func stateAppWith(t *testing.T, b securesession.Backend, opts securesession.Options) *httptest.Server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	opts.Logger = slog.New(slog.DiscardHandler)
	mw, err := securesession.New(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	state := func(c *gin.Context) {
		v, _ := sessions.Default(c).Get("val").(string)
		c.String(http.StatusOK, "user=%s;val=%s", securesession.UserID(c), v)
	}
	fail := func(c *gin.Context, err error) {
		code := http.StatusInternalServerError
		if be := (*securesession.BackendError)(nil); errors.As(err, &be) {
			code = be.StatusCode()
		}
		c.String(code, "%v", err)
	}
	r.GET("/state", state)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			fail(c, err)
			return
		}
		state(c)
	})
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("val", c.Query("val"))
		if err := s.Save(); err != nil {
			fail(c, err)
			return
		}
		state(c)
	})
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			fail(c, err)
			return
		}
		state(c)
	})
	r.POST("/logout-everywhere", func(c *gin.Context) {
		if err := securesession.LogoutEverywhere(c); err != nil {
			fail(c, err)
			return
		}
		state(c)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// browser is one client of a stateApp: a user, its cookie and the value it
// last stored.
type browser struct {
	url, user, cookie, val string
}

func (b *browser) send(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: securesession.DefaultCookieName, Value: b.cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == securesession.DefaultCookieName {
			if resp.StatusCode >= 500 {
				t.Errorf("%s: %s %s answered %d with a Set-Cookie", b.user, method, path, resp.StatusCode)
			}
			b.cookie = c.Value
			if c.MaxAge < 0 {
				b.cookie = ""
			}
		}
	}
	return resp.StatusCode, string(body)
}

// login logs the user in afresh; it may run on any goroutine.
func (b *browser) login(t *testing.T) {
	t.Helper()
	b.cookie, b.val = "", ""
	if code, body := b.send(t, "POST", "/login?user="+b.user); code != http.StatusOK || body != "user="+b.user+";val=" || b.cookie == "" {
		t.Errorf("login %s: %d %q", b.user, code, body)
	}
}
