package gorm

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// requestApp is a Gin router with the middleware on a Store whose SQLite
// statements and keyed hashes are counted.
type requestApp struct {
	t      *testing.T
	router *gin.Engine
	log    *statementLog
	hashes atomic.Int64
	clock  *clock
}

func newRequestApp(t *testing.T) *requestApp {
	gin.SetMode(gin.TestMode)
	db, log := openCountingSQLite(t)
	a := &requestApp{t: t, log: log, clock: newClock()}
	s := newStore(t, db, Options{Now: a.clock.Now})
	s.hookOnHash = func() { a.hashes.Add(1) }
	mw, err := securesession.New(s, securesession.Options{Now: a.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	ok := func(c *gin.Context, err error) {
		if err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.Status(http.StatusNoContent)
	}
	r.POST("/login/:user", func(c *gin.Context) { ok(c, securesession.Login(c, c.Param("user"))) })
	r.GET("/read", func(c *gin.Context) {
		if securesession.UserID(c) == "" {
			c.Status(http.StatusUnauthorized)
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
	r.POST("/logout", func(c *gin.Context) { ok(c, securesession.Logout(c)) })
	r.POST("/logout-everywhere", func(c *gin.Context) { ok(c, securesession.LogoutEverywhere(c)) })
	r.GET("/list", func(c *gin.Context) {
		list, err := securesession.ListSessions(c)
		if err == nil && len(list) == 0 {
			c.Status(http.StatusNotFound)
			return
		}
		ok(c, err)
	})
	a.router = r
	log.take() // the migration
	return a
}

// do sends one request with cookie (a "name=value" pair, or ""), and
// returns the cookie the browser keeps afterwards, the statements the
// request ran and the keyed hashes it computed.
func (a *requestApp) do(method, path, cookie string) (next string, sqls []string, hashes int64) {
	a.t.Helper()
	a.log.take()
	a.hashes.Store(0)
	req := httptest.NewRequest(method, "https://app.example"+path, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	a.router.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent {
		a.t.Fatalf("%s %s: status %d %s", method, path, w.Code, w.Body)
	}
	next = cookie
	for _, sc := range w.Result().Cookies() {
		if sc.Name != securesession.DefaultCookieName {
			continue
		}
		next = ""
		if sc.MaxAge >= 0 && sc.Value != "" {
			next = sc.Name + "=" + sc.Value
		}
	}
	return next, a.log.take(), a.hashes.Load()
}

// TestStatementsPerRequestKind pins, through the middleware, exactly the
// statements each kind of request sends to the database and the keyed
// hashes of tokens it computes: a change that adds a round trip, or
// hashes a token twice, fails here.
func TestStatementsPerRequestKind(t *testing.T) {
	a := newRequestApp(t)
	type want struct {
		verbs  []string
		hashes int64
	}
	check := func(kind string, sqls []string, hashes int64, w want) {
		t.Helper()
		if got := verbs(sqls); !slices.Equal(got, w.verbs) {
			t.Errorf("%s: statements %v, want %v: %q", kind, got, w.verbs, sqls)
		}
		if hashes != w.hashes {
			t.Errorf("%s: %d keyed hashes of a token, want %d", kind, hashes, w.hashes)
		}
	}

	// A login with no session: one INSERT under the new token's hash.
	cookie, sqls, h := a.do("POST", "/login/alice", "")
	check("login, new session", sqls, h, want{[]string{"INSERT"}, 1})
	if cookie == "" {
		t.Fatal("login set no cookie")
	}

	// A read: one SELECT; nothing is written before the touch interval.
	_, sqls, h = a.do("GET", "/read", cookie)
	check("read", sqls, h, want{[]string{"SELECT"}, 1})

	// A write: the SELECT and one UPDATE of the three columns that
	// changed, by the handle and the hash the SELECT found.
	_, sqls, h = a.do("POST", "/write", cookie)
	check("write", sqls, h, want{[]string{"SELECT", "UPDATE"}, 1})
	sets(t, "write", sqls, "data", "last_seen", "expires_at")

	// A read after the touch interval records the activity: one UPDATE.
	a.clock.Advance(2 * time.Minute)
	_, sqls, h = a.do("GET", "/read", cookie)
	check("touch", sqls, h, want{[]string{"SELECT", "UPDATE"}, 1})
	sets(t, "touch", sqls, "last_seen", "expires_at")

	// The session list: the SELECT of the session, one SELECT of the list.
	_, sqls, h = a.do("GET", "/list", cookie)
	check("list", sqls, h, want{[]string{"SELECT", "SELECT"}, 1})

	// A login over that session rotates it in place: the SELECT and one
	// UPDATE; the second hash is the new token's.
	rotated, sqls, h := a.do("POST", "/login/alice", cookie)
	check("login over a session", sqls, h, want{[]string{"SELECT", "UPDATE"}, 2})
	if rotated == cookie || rotated == "" {
		t.Fatal("login over a session kept its token")
	}

	// Logout: the SELECT and one DELETE. Delete is not handed the
	// Record, so it hashes the token again.
	_, sqls, h = a.do("POST", "/logout", rotated)
	check("logout", sqls, h, want{[]string{"SELECT", "DELETE"}, 2})

	// Log out everywhere: the SELECT, RevokeUser's DELETE of every
	// session of the user (this one included), and the middleware's
	// Delete of its own token, which then matches nothing.
	phone, _, _ := a.do("POST", "/login/alice", "")
	laptop, _, _ := a.do("POST", "/login/alice", "")
	_, sqls, h = a.do("POST", "/logout-everywhere", laptop)
	check("log out everywhere", sqls, h, want{[]string{"SELECT", "DELETE"}, 1}) // RevokeUser ends this session too
	if !strings.HasPrefix(phone, securesession.DefaultCookieName+"=") {
		t.Fatalf("phone cookie %q", phone)
	}
	req := httptest.NewRequest("GET", "https://app.example/read", nil)
	req.Header.Set("Cookie", phone)
	w := httptest.NewRecorder()
	a.router.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("the phone's session survived log out everywhere: status %d", w.Code)
	}
}

// sets checks that the request's last statement is an UPDATE, by handle,
// of exactly cols.
func sets(t *testing.T, kind string, sqls []string, cols ...string) {
	t.Helper()
	if len(sqls) == 0 {
		return
	}
	q := sqls[len(sqls)-1]
	_, set, _ := strings.Cut(q, " SET ")
	set, where, _ := strings.Cut(set, " WHERE ")
	var got []string
	for _, a := range strings.Split(set, ",") {
		col, _, _ := strings.Cut(strings.TrimSpace(a), " ")
		got = append(got, col)
	}
	if !slices.Equal(got, cols) {
		t.Errorf("%s: UPDATE sets %v, want only %v: %q", kind, got, cols, q)
	}
	if !strings.HasPrefix(where, "handle = ") {
		t.Errorf("%s: UPDATE not by handle: %q", kind, q)
	}
}
