package backendtest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// limitChecks hold a SessionLimiter to Options.MaxSessionsPerUser: the
// limit as a user sees it under both policies, and exact under concurrent
// logins. They are skipped for a backend that is not a SessionLimiter.
var limitChecks = []check{
	{"LoginBeyondLimitEndsLeastRecentlyUsed", testLoginBeyondLimitEndsLeastRecentlyUsed},
	{"LoginBeyondLimitIsRefusedUntilALogout", testLoginBeyondLimitIsRefusedUntilALogout},
	{"ReLoginOverOwnSessionIsNotANewSession", testReLoginOverOwnSessionIsNotANewSession},
	{"SessionLimitIsPerUser", testSessionLimitIsPerUser},
	{"ConcurrentLoginsEvictDownToTheLimit", testConcurrentLoginsEvictDownToTheLimit},
	{"ConcurrentLoginsBeyondTheLimitAreRefused", testConcurrentLoginsBeyondTheLimitAreRefused},
	{"LoginLimitedRefusesNoUserAndNoLimit", testLoginLimitedRefusesNoUserAndNoLimit},
}

// tooManySessions is what the test application answers to a refused login.
const tooManySessions = "you are logged in on too many devices: log out on one of them, then try again"

func requireLimiter(t *testing.T, b securesession.Backend) {
	t.Helper()
	if _, ok := b.(securesession.SessionLimiter); !ok {
		t.Skip("backend does not implement securesession.SessionLimiter")
	}
}

// newLimitApp serves the suite's routes and POST /limited-login through
// the middleware over b itself (so that it finds the SessionLimiter), with
// MaxSessionsPerUser max under policy. The idle timeout is an hour and
// activity is recorded once a minute, so that a check can make one session
// the most recently used by advancing the clock.
func newLimitApp(t *testing.T, b securesession.Backend, max int, policy securesession.SessionLimitPolicy) *app {
	t.Helper()
	requireLimiter(t, b)
	a := &app{t: t, b: &counting{Backend: b, writes: map[string]int{}}, clock: testclock.New(), name: securesession.DefaultCookieName}
	mw, err := securesession.New(b, securesession.Options{
		Now:                a.clock.Now,
		Logger:             slog.New(slog.DiscardHandler),
		IdleTimeout:        time.Hour,
		TouchInterval:      time.Minute,
		MaxSessionsPerUser: max,
		SessionLimitPolicy: policy,
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
	r.POST("/limited-login", func(c *gin.Context) {
		err := securesession.Login(c, c.Query("user"))
		switch {
		case errors.Is(err, securesession.ErrTooManySessions):
			c.String(http.StatusConflict, tooManySessions)
		case err != nil:
			c.String(http.StatusInternalServerError, "login: %v", err)
		default:
			c.String(http.StatusOK, "user=%s", securesession.UserID(c))
		}
	})
	a.srv = httptest.NewServer(r)
	t.Cleanup(a.srv.Close)
	return a
}

// login logs the client in as user through POST /limited-login and
// returns the response.
func (s *session) login(user string) *result {
	s.a.t.Helper()
	return s.do("POST", "/limited-login?user="+url.QueryEscape(user))
}

// loggedIn logs in a fresh client as user, which must succeed.
func (a *app) loggedIn(user string) *session {
	a.t.Helper()
	s := a.client()
	if r := s.login(user); r.status != http.StatusOK || s.c == nil {
		a.t.Fatalf("login of %s: %d %s", user, r.status, r.body)
	}
	return s
}

// liveSessions counts the cookies among cookies that the application
// still takes as user's session, and checks that a Lister lists as many.
func (a *app) liveSessions(user string, cookies []*http.Cookie) int {
	a.t.Helper()
	n := 0
	for _, c := range cookies {
		if c != nil && a.replayUser(c) == user {
			n++
		}
	}
	if l, ok := a.b.Backend.(securesession.Lister); ok {
		list, err := l.ListUser(context.Background(), user)
		if err != nil {
			a.t.Fatalf("ListUser: %v", err)
		}
		if len(list) != n {
			a.t.Errorf("ListUser lists %d live sessions of %s; %d of its cookies still work", len(list), user, n)
		}
	}
	return n
}

// testLoginBeyondLimitEndsLeastRecentlyUsed: with a limit of 3 and the
// default policy, a fourth login ends the session used longest ago (not
// the oldest login: the first device was used since), and leaves the
// other three working.
func testLoginBeyondLimitEndsLeastRecentlyUsed(t *testing.T, f *factory) {
	a := newLimitApp(t, f.backend(t), 3, securesession.EvictLeastRecentlyUsed)
	user := uniqueUser("lru")
	laptop := a.loggedIn(user)
	a.clock.Advance(time.Minute)
	phone := a.loggedIn(user)
	a.clock.Advance(time.Minute)
	tablet := a.loggedIn(user)
	a.clock.Advance(5 * time.Minute)
	if got := laptop.user(); got != user { // recorded activity: the phone is now the least recently used
		t.Fatalf("laptop: user %q, want %s", got, user)
	}
	a.clock.Advance(time.Minute)
	desktop := a.loggedIn(user)

	if got := a.replayUser(phone.c); got != "" {
		t.Errorf("the least recently used session (the phone) survived the fourth login as %q", got)
	}
	for name, s := range map[string]*session{"laptop": laptop, "tablet": tablet, "desktop": desktop} {
		if got := a.replayUser(s.c); got != user {
			t.Errorf("%s: user %q after the fourth login, want %s", name, got, user)
		}
	}
	if n := a.liveSessions(user, []*http.Cookie{laptop.c, phone.c, tablet.c, desktop.c}); n != 3 {
		t.Errorf("%d live sessions, want 3", n)
	}
}

// testLoginBeyondLimitIsRefusedUntilALogout: under RefuseNewLogin a fourth
// login gets the application's answer (409 here) and no new cookie, the
// pre-login session keeps its values, the three sessions stay, an event
// says so; after a logout on one device the login succeeds.
func testLoginBeyondLimitIsRefusedUntilALogout(t *testing.T, f *factory) {
	a := newLimitApp(t, f.backend(t), 3, securesession.RefuseNewLogin)
	user := uniqueUser("refuse")
	devices := []*session{a.loggedIn(user), a.loggedIn(user), a.loggedIn(user)}

	fourth := a.client()
	fourth.do("POST", "/set?key=cart&val=socks")
	pre := fourth.c
	if pre == nil {
		t.Fatal("setup: the anonymous session got no cookie")
	}
	r := fourth.login(user)
	if r.status != http.StatusConflict || r.body != tooManySessions {
		t.Fatalf("fourth login: %d %q, want 409 %q", r.status, r.body, tooManySessions)
	}
	if c := r.cookie(a.name); c != nil {
		t.Errorf("the refused login sent a session cookie (max-age %d)", c.MaxAge)
	}
	if got := fourth.user(); got != "" {
		t.Errorf("after the refused login the session is logged in as %q", got)
	}
	if got := a.replayGet(pre, "cart"); got != "string:socks" {
		t.Errorf("after the refused login the pre-login session holds cart=%s, want string:socks", got)
	}
	for i, d := range devices {
		if got := d.user(); got != user {
			t.Errorf("device %d: user %q after the refused login, want %s", i, got, user)
		}
	}
	if !a.sawEvent(securesession.EventLoginRefused) {
		t.Error("no EventLoginRefused for the refused login")
	}

	devices[0].do("POST", "/logout")
	if r := fourth.login(user); r.status != http.StatusOK {
		t.Fatalf("login after a logout elsewhere: %d %s", r.status, r.body)
	}
	if fourth.c == nil || fourth.c.Value == pre.Value {
		t.Fatal("the login after a logout elsewhere did not rotate the session")
	}
	if got := fourth.user(); got != user {
		t.Errorf("after the login: user %q, want %s", got, user)
	}
	if got := a.replayGet(fourth.c, "cart"); got != "string:socks" {
		t.Errorf("the login dropped the pre-login values: cart=%s", got)
	}
	if got := a.replayUser(pre); got != "" {
		t.Errorf("the pre-login cookie is still a session, of %q", got)
	}
	cookies := []*http.Cookie{fourth.c}
	for _, d := range devices {
		cookies = append(cookies, d.c)
	}
	if n := a.liveSessions(user, cookies); n != 3 {
		t.Errorf("%d live sessions, want 3", n)
	}
}

// testReLoginOverOwnSessionIsNotANewSession: logging in again on a device
// that holds one of the user's sessions (a re-authentication) replaces it
// and counts as none: at the limit, under either policy, it is neither
// refused nor ends the user's other session.
func testReLoginOverOwnSessionIsNotANewSession(t *testing.T, f *factory) {
	b := f.backend(t)
	for _, policy := range []securesession.SessionLimitPolicy{securesession.EvictLeastRecentlyUsed, securesession.RefuseNewLogin} {
		a := newLimitApp(t, b, 2, policy)
		user := uniqueUser("relogin")
		mine := a.loggedIn(user)
		a.clock.Advance(time.Minute)
		other := a.loggedIn(user)
		a.clock.Advance(time.Minute)
		before := mine.c
		if r := mine.login(user); r.status != http.StatusOK {
			t.Fatalf("policy %d: re-login at the limit: %d %s", policy, r.status, r.body)
		}
		if mine.c == nil || mine.c.Value == before.Value {
			t.Fatalf("policy %d: the re-login did not rotate the session", policy)
		}
		if got := a.replayUser(before); got != "" {
			t.Errorf("policy %d: the cookie from before the re-login is still a session of %q", policy, got)
		}
		if got := other.user(); got != user {
			t.Errorf("policy %d: the re-login ended the user's other session (user %q)", policy, got)
		}
		if n := a.liveSessions(user, []*http.Cookie{before, mine.c, other.c}); n != 2 {
			t.Errorf("policy %d: %d live sessions, want 2", policy, n)
		}
	}
}

// testSessionLimitIsPerUser: with a limit of 1, one user's login neither
// ends nor is refused because of another user's session, under either
// policy.
func testSessionLimitIsPerUser(t *testing.T, f *factory) {
	b := f.backend(t)
	for _, policy := range []securesession.SessionLimitPolicy{securesession.EvictLeastRecentlyUsed, securesession.RefuseNewLogin} {
		a := newLimitApp(t, b, 1, policy)
		alice, bob := uniqueUser("alice"), uniqueUser("bob")
		as := a.loggedIn(alice)
		bs := a.loggedIn(bob)
		if got := as.user(); got != alice {
			t.Errorf("policy %d: bob's login ended alice's session (user %q)", policy, got)
		}
		if got := bs.user(); got != bob {
			t.Errorf("policy %d: bob: user %q, want %s", policy, got, bob)
		}
	}
}

// concurrentLogins starts n logins of user at once, each from a fresh
// client, and returns their answers.
func (a *app) concurrentLogins(user string, n int) []sent {
	a.t.Helper()
	out := make([]sent, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = a.send("POST", "/limited-login?user="+url.QueryEscape(user), nil)
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range out {
		if r.err != nil {
			a.t.Fatalf("login %d: %v", i, r.err)
		}
	}
	return out
}

// testConcurrentLoginsEvictDownToTheLimit: 20 logins of one user at once,
// with a limit of 3: every login succeeds and exactly 3 sessions are left
// (a limit checked apart from the login's write lets them all through).
func testConcurrentLoginsEvictDownToTheLimit(t *testing.T, f *factory) {
	a := newLimitApp(t, f.backend(t), 3, securesession.EvictLeastRecentlyUsed)
	user := uniqueUser("burst")
	var cookies []*http.Cookie
	for i, r := range a.concurrentLogins(user, 20) {
		if r.status != http.StatusOK || r.cookie == nil {
			t.Fatalf("login %d: %d %s (cookie %v)", i, r.status, r.body, r.cookie != nil)
		}
		cookies = append(cookies, r.cookie)
	}
	if n := a.liveSessions(user, cookies); n != 3 {
		t.Errorf("20 concurrent logins with a limit of 3 left %d live sessions", n)
	}
}

// testConcurrentLoginsBeyondTheLimitAreRefused: 20 logins of one user at
// once under RefuseNewLogin with a limit of 3: exactly 3 succeed, the
// other 17 are refused without a cookie, and the 3 are the live sessions.
func testConcurrentLoginsBeyondTheLimitAreRefused(t *testing.T, f *factory) {
	a := newLimitApp(t, f.backend(t), 3, securesession.RefuseNewLogin)
	user := uniqueUser("burst")
	var cookies []*http.Cookie
	refused := 0
	for i, r := range a.concurrentLogins(user, 20) {
		switch {
		case r.status == http.StatusOK && r.cookie != nil:
			cookies = append(cookies, r.cookie)
		case r.status == http.StatusConflict && r.cookie == nil && strings.Contains(r.body, "too many devices"):
			refused++
		default:
			t.Fatalf("login %d: %d %s (cookie %v)", i, r.status, r.body, r.cookie != nil)
		}
	}
	if len(cookies) != 3 || refused != 17 {
		t.Errorf("20 concurrent logins with a limit of 3: %d succeeded and %d were refused, want 3 and 17", len(cookies), refused)
	}
	if n := a.liveSessions(user, cookies); n != len(cookies) {
		t.Errorf("%d of the %d successful logins have a live session", n, len(cookies))
	}
}

// testLoginLimitedRefusesNoUserAndNoLimit: LoginLimited called without a
// user, or with a limit below 1, is an error and stores nothing, on every
// backend alike, rather than a session no limit applies to.
func testLoginLimitedRefusesNoUserAndNoLimit(t *testing.T, f *factory) {
	b := f.backend(t)
	requireLimiter(t, b)
	l := b.(securesession.SessionLimiter)
	ctx := context.Background()
	now := time.Now()
	user := uniqueUser("limitless")
	rec := func(user string) *securesession.Record {
		return &securesession.Record{UserID: user, Created: now, AuthTime: now, LastSeen: now,
			Deadline: now.Add(time.Hour), Expires: now.Add(30 * time.Minute)}
	}
	for _, c := range []struct {
		what  string
		rec   *securesession.Record
		limit securesession.SessionLimit
	}{
		{"no user", rec(""), securesession.SessionLimit{Max: 2}},
		{"a limit of 0", rec(user), securesession.SessionLimit{}},
		{"a negative limit", rec(user), securesession.SessionLimit{Max: -1, Refuse: true}},
	} {
		tok, err := l.LoginLimited(ctx, "sid", "", c.rec, c.limit)
		if err == nil {
			t.Errorf("LoginLimited with %s stored a session", c.what)
			if _, found, _ := b.Find(ctx, "sid", tok); !found {
				t.Errorf("LoginLimited with %s returned a token that finds nothing", c.what)
			}
		}
	}
	if lister, ok := b.(securesession.Lister); ok {
		if list, err := lister.ListUser(ctx, user); err != nil || len(list) != 0 {
			t.Errorf("after the refused logins ListUser = %d sessions, %v; want none stored", len(list), err)
		}
	}
}
