package securesession_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/memory"
)

func TestNewRefusesASessionLimitItCannotEnforce(t *testing.T) {
	mem := newMemory(t)
	for _, tc := range []struct {
		name    string
		backend securesession.Backend
		opts    securesession.Options
		want    string
	}{
		{"cookie backend", newCookieStore(t), securesession.Options{MaxSessionsPerUser: 3},
			"securesession: Options.MaxSessionsPerUser: the backend (*cookie.Store) cannot count"},
		{"negative limit", mem, securesession.Options{MaxSessionsPerUser: -1},
			"securesession: Options.MaxSessionsPerUser: -1 is negative"},
		{"refuse without a limit", mem, securesession.Options{SessionLimitPolicy: securesession.RefuseNewLogin},
			"securesession: Options.SessionLimitPolicy is RefuseNewLogin but Options.MaxSessionsPerUser is 0"},
		{"unknown policy", mem, securesession.Options{MaxSessionsPerUser: 3, SessionLimitPolicy: 7},
			"securesession: Options.SessionLimitPolicy: unknown value 7"},
	} {
		if _, err := securesession.New(tc.backend, tc.opts); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: New returned %v, want an error starting %q", tc.name, err, tc.want)
		}
	}
	if _, err := securesession.New(mem, securesession.Options{MaxSessionsPerUser: 3}); err != nil {
		t.Errorf("a limit on the memory backend: %v", err)
	}
}

// limitRouter is router over b with a limit of one session per user under
// RefuseNewLogin, recording events, and with POST /limited-login, which
// answers a refused login itself (409) and then sets "after" in the
// session that stayed, and POST /api-login, its LoginToken form.
func limitRouter(t *testing.T, b securesession.Backend, events *[]securesession.Event) *gin.Engine {
	t.Helper()
	var mu sync.Mutex
	r := router(t, b, securesession.Options{
		MaxSessionsPerUser:  1,
		SessionLimitPolicy:  securesession.RefuseNewLogin,
		AuthorizationHeader: true,
		OnEvent: func(e securesession.Event) {
			mu.Lock()
			*events = append(*events, e)
			mu.Unlock()
		},
	})
	r.POST("/limited-login", func(c *gin.Context) {
		err := securesession.Login(c, c.Query("user"))
		var be *securesession.BackendError
		switch {
		case errors.Is(err, securesession.ErrTooManySessions):
			s := sessions.Default(c)
			s.Set("after", "refused")
			c.String(http.StatusConflict, "user=%s k=%v", securesession.UserID(c), s.Get("k"))
		case errors.As(err, &be):
			c.String(be.StatusCode(), "try again later")
		case err != nil:
			c.String(http.StatusInternalServerError, "%v", err)
		default:
			c.String(http.StatusOK, "ok")
		}
	})
	r.POST("/api-login", func(c *gin.Context) {
		tok, err := securesession.LoginToken(c, c.Query("user"))
		if errors.Is(err, securesession.ErrTooManySessions) {
			c.String(http.StatusConflict, "token=%q", tok)
			return
		}
		if err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	return r
}

// TestRefusedLoginLeavesTheSessionAsItWas: Login returns
// ErrTooManySessions, and the request's session is the one from before
// Login (bob's, with his values), still usable in the same handler and
// saved as usual; no new cookie is sent, and an event says so without a
// token.
func TestRefusedLoginLeavesTheSessionAsItWas(t *testing.T) {
	var events []securesession.Event
	r := limitRouter(t, newMemory(t), &events)
	if w := serve(r, "POST", "/limited-login?user=alice", nil); w.Code != http.StatusOK {
		t.Fatalf("alice's first login: %d %s", w.Code, w.Body)
	}
	bob := sessionCookie(t, serve(r, "POST", "/login?user=bob", nil), securesession.DefaultCookieName)
	serve(r, "POST", "/set?key=k&val=bobs", nil, bob)

	w := serve(r, "POST", "/limited-login?user=alice", nil, bob)
	if w.Code != http.StatusConflict || w.Body.String() != "user=bob k=bobs" {
		t.Fatalf("refused login: %d %q; want 409 and bob's session with its values", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == securesession.DefaultCookieName && c.Value != bob.Value {
			t.Errorf("the refused login sent a new session cookie (max-age %d)", c.MaxAge)
		}
	}
	if got := serve(r, "GET", "/whoami", nil, bob).Body.String(); got != "user=bob" {
		t.Errorf("bob's cookie after the refused login: %s", got)
	}
	if got := serve(r, "GET", "/get?key=after", nil, bob).Body.String(); got != "refused" {
		t.Errorf("the value the handler set after the refusal was not saved in bob's session: %q", got)
	}
	var refused []securesession.Event
	for _, e := range events {
		if e.Kind == securesession.EventLoginRefused {
			refused = append(refused, e)
		}
	}
	if len(refused) != 1 || refused[0].UserID != "alice" || refused[0].Reason != "session limit" {
		t.Fatalf("login_refused events %+v, want one for alice", refused)
	}
	if strings.Contains(refused[0].Session, bob.Value) {
		t.Error("the event carries the session token")
	}
}

// TestRefusedLoginTokenReturnsNoToken: LoginToken under the limit returns
// ErrTooManySessions and an empty token, and sends no token header.
func TestRefusedLoginTokenReturnsNoToken(t *testing.T) {
	var events []securesession.Event
	r := limitRouter(t, newMemory(t), &events)
	if w := serve(r, "POST", "/api-login?user=alice", nil); w.Code != http.StatusOK {
		t.Fatalf("first API login: %d %s", w.Code, w.Body)
	}
	w := serve(r, "POST", "/api-login?user=alice", nil)
	if w.Code != http.StatusConflict || w.Body.String() != `token=""` {
		t.Fatalf("second API login: %d %s; want 409 and no token", w.Code, w.Body)
	}
	if h := w.Header().Get(securesession.TokenHeader); h != "" {
		t.Error("the refused API login sent a token header")
	}
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("the refused API login set cookies: %v", w.Header().Values("Set-Cookie"))
	}
}

// flakyLimiter is a memory store whose next LoginLimited fails as an
// outage would.
type flakyLimiter struct {
	*memory.Store
	fail atomic.Bool
}

func (f *flakyLimiter) LoginLimited(ctx context.Context, name, old string, rec *securesession.Record, l securesession.SessionLimit) (string, error) {
	if f.fail.Swap(false) {
		return "", errors.New("connection refused")
	}
	return f.Store.LoginLimited(ctx, name, old, rec, l)
}

// TestLoginOutageUnderRefuseIsNotRetriedBehindTheHandler: under
// RefuseNewLogin Login writes at once and returns a backend failure to
// the handler, which answers it; the automatic save must not then retry
// the login and log the user in under the handler's error page.
func TestLoginOutageUnderRefuseIsNotRetriedBehindTheHandler(t *testing.T) {
	var events []securesession.Event
	b := &flakyLimiter{Store: newMemory(t)}
	r := limitRouter(t, b, &events)
	b.fail.Store(true)
	w := serve(r, "POST", "/limited-login?user=alice", nil)
	if w.Code != http.StatusServiceUnavailable || w.Body.String() != "try again later" {
		t.Fatalf("login during an outage: %d %q; want the handler's 503", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == securesession.DefaultCookieName && c.MaxAge >= 0 && c.Value != "" {
			if got := serve(r, "GET", "/whoami", nil, c).Body.String(); got != "user=" {
				t.Fatalf("the failed login was retried behind the handler: its cookie is %s", got)
			}
		}
	}
	if w := serve(r, "POST", "/limited-login?user=alice", nil); w.Code != http.StatusOK {
		t.Errorf("login after the outage: %d %s (the failed one must not count)", w.Code, w.Body)
	}
}
