package backendtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// rotateRevokeChecks hold every backend to "log out everywhere" (and its
// narrower forms) against a stolen session that rotates at that moment.
var rotateRevokeChecks = []check{
	{"RotationRacingRevocationLeavesNoSession", testRotationRacingRevocation},
}

// newAppWithRevocationRoutes is newAppOn with the routes of a "your
// sessions" page as well: LogoutOthers, ListSessions and RevokeSession.
func newAppWithRevocationRoutes(t *testing.T, b securesession.Backend) *app {
	t.Helper()
	a := &app{t: t, b: &counting{Backend: b, writes: map[string]int{}}, clock: testclock.New(), name: securesession.DefaultCookieName}
	var mb securesession.Backend = a.b
	if l, ok := b.(securesession.Lister); ok {
		mb = countingLister{a.b, l} // the middleware finds the Lister by type assertion
	}
	mw, err := securesession.New(mb, securesession.Options{
		Now:    a.clock.Now,
		Logger: slog.New(slog.DiscardHandler),
		OnEvent: func(e securesession.Event) {
			a.mu.Lock()
			a.events = append(a.events, e)
			a.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("securesession.New: %v", err)
	}
	r := gin.New()
	r.Use(mw)
	addRoutes(r)
	revocationRoutes(r)
	a.srv = httptest.NewServer(r)
	t.Cleanup(a.srv.Close)
	return a
}

// countingLister is a counting Backend that is also the backend's Lister.
type countingLister struct {
	*counting
	securesession.Lister
}

// listed is one entry of GET /sessions.
type listed struct {
	Handle  string `json:"handle"`
	Current bool   `json:"current"`
}

func revocationRoutes(r *gin.Engine) {
	r.POST("/logout-others", func(c *gin.Context) {
		if err := securesession.LogoutOthers(c); err != nil {
			c.String(http.StatusInternalServerError, "logout others: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.GET("/sessions", func(c *gin.Context) {
		list, err := securesession.ListSessions(c)
		if errors.Is(err, securesession.ErrCannotList) {
			c.String(http.StatusNotImplemented, "cannot list")
			return
		}
		if err != nil {
			c.String(http.StatusInternalServerError, "list: %v", err)
			return
		}
		out := make([]listed, len(list))
		for i, si := range list {
			out[i] = listed{si.Handle, si.Current}
		}
		c.JSON(http.StatusOK, out)
	})
	r.POST("/revoke", func(c *gin.Context) {
		err := securesession.RevokeSession(c, c.Query("handle"))
		var be *securesession.BackendError
		switch {
		case err == nil:
			c.String(http.StatusOK, "ok")
		case errors.Is(err, securesession.ErrNoRecord) && !errors.As(err, &be):
			c.String(http.StatusGone, "already ended")
		default:
			c.String(http.StatusInternalServerError, "revoke: %v", err)
		}
	})
}

// sessions returns the session list the client's session sees, or nil if
// the backend cannot list.
func (s *session) sessions() []listed {
	s.a.t.Helper()
	r := s.a.do("GET", "/sessions", s.c)
	if r.status == http.StatusNotImplemented {
		return nil
	}
	if r.status != http.StatusOK {
		s.a.t.Fatalf("GET /sessions: %d %s", r.status, r.body)
	}
	var out []listed
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		s.a.t.Fatalf("GET /sessions: %v in %q", err, r.body)
	}
	return out
}

// uniqueUser returns a user ID no other check uses, for backends whose
// records outlive a test (a shared memcached).
func uniqueUser(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// sent is a request sent from a goroutine other than the test's.
type sent struct {
	status int
	body   string
	cookie *http.Cookie // the response's session cookie, if any
	err    error
}

func (a *app) send(method, path string, c *http.Cookie) sent {
	req, err := http.NewRequest(method, a.srv.URL+path, nil)
	if err != nil {
		return sent{err: err}
	}
	if c != nil {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return sent{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := sent{status: resp.StatusCode, body: string(body)}
	for _, rc := range resp.Cookies() {
		if rc.Name == a.name {
			out.cookie = rc
		}
	}
	return out
}

// testRotationRacingRevocation: an attacker with a stolen copy of the
// victim's session calls a route that rotates it (securesession.Rotate)
// while the victim, on another device, logs out everywhere, logs out
// the other devices, or ends the attacker's session from the list.
// Started together, many times: whichever request wins, the attacker must
// end up with no session, by the rotated cookie or the old one, and the
// victim's kept session must stay. (On PostgreSQL the GORM backend's
// rotation, a DELETE and an INSERT, slipped past a concurrent revocation.)
func testRotationRacingRevocation(t *testing.T, f Factory) {
	const trials = 48 // 16 of each kind of revocation
	b := f(t)
	requireRevocation(t, b)
	a := newAppWithRevocationRoutes(t, b)
	user := uniqueUser("racer")
	kinds := []string{"/logout-everywhere", "/logout-others", "/revoke"}
	survived := map[string]int{}
	for i := 0; i < trials; i++ {
		kind := kinds[i%len(kinds)]
		victim, attacker := a.client(), a.client()
		victim.do("POST", "/login?user="+url.QueryEscape(user))
		attacker.do("POST", "/login?user="+url.QueryEscape(user))
		path := kind
		if kind == "/revoke" {
			list := victim.sessions()
			if list == nil {
				continue // not a Lister: LogoutEverywhere and LogoutOthers only
			}
			for _, l := range list {
				if !l.Current {
					path = "/revoke?handle=" + url.QueryEscape(l.Handle)
				}
			}
			if path == kind {
				t.Fatalf("the victim's session list %+v does not show the attacker's session", list)
			}
		}

		start := make(chan struct{})
		var wg sync.WaitGroup
		var rot, rev sent
		wg.Add(2)
		go func() { defer wg.Done(); <-start; rot = a.send("POST", "/rotate", attacker.c) }()
		go func() { defer wg.Done(); <-start; rev = a.send("POST", path, victim.c) }()
		close(start)
		wg.Wait()
		if rot.err != nil || rev.err != nil {
			t.Fatalf("trial %d: %v, %v", i, rot.err, rev.err)
		}
		if rev.status != http.StatusOK {
			t.Fatalf("trial %d: POST %s: %d %s", i, kind, rev.status, rev.body)
		}
		if rot.status != http.StatusOK && rot.status != http.StatusConflict {
			t.Fatalf("trial %d: POST /rotate: %d %s", i, rot.status, rot.body)
		}
		for _, c := range []*http.Cookie{attacker.c, rot.cookie} {
			if c != nil && c.MaxAge >= 0 && c.Value != "" && a.replayUser(c) != "" {
				survived[kind]++
				break
			}
		}
		if kind != "/logout-everywhere" {
			if got := victim.user(); got != user {
				t.Fatalf("trial %d: %s ended the victim's own session (user %q)", i, kind, got)
			}
			victim.do("POST", "/logout")
		}
	}
	if len(survived) != 0 {
		t.Errorf("sessions rotated during a revocation survived it, by kind of revocation: %v", survived)
	}
}
