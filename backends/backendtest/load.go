package backendtest

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest/internal/httpsend"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// loadChecks run many clients at once, on separate and shared sessions,
// under -race.
var loadChecks = []check{
	{"ConcurrentRequests", testConcurrentRequests},
	{"ConcurrencyInvariants", testConcurrencyInvariants},
}

func testConcurrentRequests(t *testing.T, f *factory) {
	a := newApp(t, f)
	const clients, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			user := fmt.Sprintf("user%d", i)
			r := a.do("POST", "/login?user="+user, nil)
			c := r.cookie(a.name)
			if c == nil {
				errs <- fmt.Errorf("%s: no cookie", user)
				return
			}
			for j := 0; j < rounds; j++ {
				val := fmt.Sprintf("%s-%d", user, j)
				r := a.do("POST", "/set?key=v&val="+val, c)
				if nc := r.cookie(a.name); nc != nil {
					c = nc
				}
				got := a.do("GET", "/get?key=v", c).body
				if got != "string:"+val {
					errs <- fmt.Errorf("%s round %d: read %q, want string:%s", user, j, got, val)
				}
				if who := strings.TrimPrefix(a.do("GET", "/whoami", c).body, "user="); who != user {
					errs <- fmt.Errorf("%s saw user %q", user, who)
				}
			}
		}(i)
	}
	// Concurrent requests on one shared session must not race either.
	shared := a.do("POST", "/login?user=shared", nil).cookie(a.name)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < rounds; j++ {
				if r := a.do("GET", "/whoami", shared); r.status != http.StatusOK || r.body != "user=shared" {
					errs <- fmt.Errorf("shared session: %d %q", r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testConcurrencyInvariants runs many clients doing logins, reads,
// writes, rotations, logouts and logouts everywhere on a few shared users
// through real HTTP, for a bounded number of requests, and checks that no
// request saw another client's data or user, no session ended without a
// logout, and, at the end, that no cookie that was logged out, rotated
// away, replaced by a login or revoked works again, and that no goroutine
// outlived the run.
func testConcurrencyInvariants(t *testing.T, f *factory) {
	b := f.backend(t)
	f.requireRevocation(t)
	clock := testclock.New()
	mw, err := securesession.New(b, securesession.Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	stateRoutes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	l := &loadRun{
		Sender:  httpsend.Sender{URL: srv.URL, Name: securesession.DefaultCookieName, Client: &http.Client{Transport: tr, Timeout: 30 * time.Second}},
		users:   []string{"ann", "ben", "cat"},
		started: map[string]int64{}, finished: map[string]int64{}, revokes: map[string][]int64{},
	}
	l.send("GET", "/state", "") // warm up one connection
	baseline := runtime.NumGoroutine()

	const clients, steps = 12, 40
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := &loadClient{id: i, l: l, rnd: rand.New(rand.NewPCG(uint64(i), 7))}
			for n := 0; n < steps; n++ {
				c.step(n)
				if n%8 == 7 { // replay a cookie that must be dead
					l.mu.Lock()
					var d *issued
					if len(l.dead) > 0 {
						d = l.dead[c.rnd.IntN(len(l.dead))]
					}
					l.mu.Unlock()
					if d != nil {
						if code, body, _ := l.send("GET", "/state", d.value); code != http.StatusOK || body != "user=;val=" {
							l.errorf("a %s cookie of %q came back: %d %q", d.dead, d.user, code, body)
						}
					}
				}
			}
		}(i)
	}
	wg.Wait()

	// Every cookie of a user issued before a revocation of that user began
	// is dead too.
	l.mu.Lock()
	for _, is := range l.all {
		for _, s := range l.revokes[is.user] {
			if is.user != "" && is.seq < s && is.dead == "" {
				is.dead = "revoked everywhere"
				l.dead = append(l.dead, is)
			}
		}
	}
	dead := append([]*issued(nil), l.dead...)
	l.mu.Unlock()
	for _, d := range dead {
		if code, body, sc := l.send("GET", "/state", d.value); code != http.StatusOK || body != "user=;val=" || sc != nil {
			l.errorf("replayed after the run, a %s cookie of %q came back: %d %q", d.dead, d.user, code, body)
		}
	}
	for _, e := range l.errs {
		t.Error(e)
	}
	t.Logf("concurrency: %d clients, %d requests, %d cookies issued, %d dead cookies replayed, none worked", clients, l.Requests(), len(l.all), len(dead))
	if len(dead) == 0 {
		t.Error("no cookie died during the run: the load exercised nothing")
	}

	// No goroutine outlives the run: the backend's and the server's
	// per-request goroutines are gone once the client's connections close.
	tr.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after the run, %d before:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stateRoutes adds routes that answer with the session's state in one
// response ("user=<id>;val=<owner value>"), so that a client sees its user
// and its data atomically.
func stateRoutes(r *gin.Engine) {
	state := func(c *gin.Context, code int) {
		v, _ := sessions.Default(c).Get("owner").(string)
		c.String(code, "user=%s;val=%s", securesession.UserID(c), v)
	}
	r.GET("/state", func(c *gin.Context) { state(c, http.StatusOK) })
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
			return
		}
		state(c, http.StatusOK)
	})
	r.POST("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("owner", c.Query("val"))
		if err := s.Save(); err != nil {
			code := http.StatusInternalServerError
			var be *securesession.BackendError
			if errors.As(err, &be) {
				code = be.StatusCode()
			}
			if errors.Is(err, securesession.ErrNoRecord) {
				code = http.StatusConflict // ended by a concurrent logout: dropped, never re-created
			}
			c.String(code, "save: %v", err)
			return
		}
		state(c, http.StatusOK)
	})
	r.POST("/rotate", func(c *gin.Context) {
		if err := securesession.Rotate(c); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, securesession.ErrNoRecord) {
				code = http.StatusConflict // ended by a concurrent logout: not rotated back to life
			}
			c.String(code, "rotate: %v", err)
			return
		}
		state(c, http.StatusOK)
	})
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			c.String(http.StatusInternalServerError, "logout: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
	r.POST("/logout-everywhere", func(c *gin.Context) {
		err := securesession.LogoutEverywhere(c)
		if errors.Is(err, securesession.ErrNotLoggedIn) {
			c.String(http.StatusConflict, "not logged in")
			return
		}
		if err != nil {
			c.String(http.StatusInternalServerError, "logout everywhere: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
}

// issued is a cookie value the server handed out, with what it stood for.
type issued struct {
	value string
	user  string
	seq   int64 // global order in which it was received
	dead  string
}

// loadClient is one browser in the concurrency run.
type loadClient struct {
	id     int
	l      *loadRun
	cookie string
	user   string // who the client believes it is
	val    string // the last value it stored
	since  int64  // finished-revocation count of user when the login began
	cur    *issued
	rnd    *rand.Rand
}

type loadRun struct {
	httpsend.Sender
	seq   atomic.Int64
	users []string

	mu       sync.Mutex
	started  map[string]int64   // revocations of each user started
	finished map[string]int64   // ... and finished
	revokes  map[string][]int64 // seq at which each revocation started
	dead     []*issued          // cookies that must never work again
	all      []*issued
	errs     []string
}

func (l *loadRun) errorf(format string, args ...any) {
	l.mu.Lock()
	if len(l.errs) < 30 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
	l.mu.Unlock()
}

func (l *loadRun) send(method, path, cookie string) (int, string, *http.Cookie) {
	status, body, c, err := l.Send(method, path, cookie)
	if err != nil {
		l.errorf("%v", err)
	}
	return status, body, c
}

// lossAllowed reports whether a session of user may have disappeared: only
// if a revocation of user that had not finished before the session's
// login began has started since.
func (l *loadRun) lossAllowed(user string, since int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started[user] > since
}

func (l *loadRun) finishedCount(user string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.finished[user]
}

func (l *loadRun) kill(is *issued, why string) {
	if is == nil {
		return
	}
	l.mu.Lock()
	if is.dead == "" {
		is.dead = why
		l.dead = append(l.dead, is)
	}
	l.mu.Unlock()
}

// adopt applies a response's Set-Cookie as a browser would.
func (c *loadClient) adopt(sc *http.Cookie) {
	if sc == nil {
		return
	}
	if sc.MaxAge < 0 || sc.Value == "" {
		c.cookie, c.cur = "", nil
		return
	}
	c.cookie = sc.Value
	c.cur = &issued{value: sc.Value, user: c.user, seq: c.l.seq.Add(1)}
	c.l.mu.Lock()
	c.l.all = append(c.l.all, c.cur)
	c.l.mu.Unlock()
}

// checkState verifies a "user=...;val=..." answer against what the client
// knows, and resynchronises after an allowed loss.
func (c *loadClient) checkState(op, body string) {
	l := c.l
	user, val, ok := strings.Cut(strings.TrimPrefix(body, "user="), ";val=")
	if !ok {
		l.errorf("client %d %s: unexpected body %q", c.id, op, body)
		return
	}
	if val != "" && !strings.HasPrefix(val, fmt.Sprintf("c%d-", c.id)) {
		l.errorf("client %d %s: saw another client's data %q (user %q)", c.id, op, val, user)
	}
	if user != "" && user != c.user {
		l.errorf("client %d %s: saw user %q, logged in as %q", c.id, op, user, c.user)
	}
	if user == c.user && val == c.val {
		return
	}
	// The session is not what the client left: only a revocation of its
	// user may have ended it, and then the request is anonymous.
	if c.user != "" && user == "" && l.lossAllowed(c.user, c.since) {
		l.kill(c.cur, "revoked")
		c.user, c.val = "", val
		return
	}
	l.errorf("client %d %s: session is user=%q val=%q, want user=%q val=%q (silent logout or lost update)", c.id, op, user, val, c.user, c.val)
	c.user, c.val = user, val
}

func (c *loadClient) step(n int) {
	l := c.l
	switch op := c.rnd.IntN(10); {
	case op < 2: // login as one of the shared users
		user := l.users[c.rnd.IntN(len(l.users))]
		since := l.finishedCount(user)
		old := c.cur
		code, body, sc := l.send("POST", "/login?user="+user, c.cookie)
		if code != http.StatusOK {
			l.errorf("client %d login: %d %s", c.id, code, body)
			return
		}
		if sc == nil {
			l.errorf("client %d login: no new cookie", c.id)
			return
		}
		// The values are carried over, unless they belonged to another
		// user or the session had been revoked (then there were none).
		want := c.val
		if user != c.user && c.user != "" {
			want = ""
		}
		lost := c.user != "" && l.lossAllowed(c.user, c.since)
		c.user, c.since = user, since
		c.adopt(sc)
		l.kill(old, "replaced by login")
		if body == "user="+user+";val="+want || lost && body == "user="+user+";val=" {
			c.val = strings.TrimPrefix(body, "user="+user+";val=")
			return
		}
		l.errorf("client %d login as %s: %q, want values %q", c.id, user, body, want)
		c.val = strings.TrimPrefix(body, "user="+user+";val=")
	case op < 5: // write
		val := fmt.Sprintf("c%d-%d", c.id, n)
		old := c.cur
		code, body, sc := l.send("POST", "/set?val="+val, c.cookie)
		switch code {
		case http.StatusOK:
			if sc != nil && c.user != "" && !strings.HasPrefix(body, "user="+c.user+";") {
				// The session was revoked before this request read it: the
				// write started a new anonymous session.
				if !l.lossAllowed(c.user, c.since) {
					l.errorf("client %d set: logged out silently: %s", c.id, body)
				}
				l.kill(old, "revoked")
				c.user = ""
			}
			c.adopt(sc)
			c.val = val
			c.checkState("set", body)
		case http.StatusConflict:
			if c.user == "" || !l.lossAllowed(c.user, c.since) {
				l.errorf("client %d set: session ended with no logout: %s", c.id, body)
			}
			l.kill(old, "revoked")
			c.adopt(sc)
			c.user, c.val = "", ""
		default:
			l.errorf("client %d set: %d %s", c.id, code, body)
		}
	case op < 7: // read
		code, body, sc := l.send("GET", "/state", c.cookie)
		if code != http.StatusOK {
			l.errorf("client %d read: %d %s", c.id, code, body)
			return
		}
		c.adopt(sc)
		c.checkState("read", body)
	case op < 8: // rotate
		old := c.cur
		code, body, sc := l.send("POST", "/rotate", c.cookie)
		if code == http.StatusConflict {
			if c.user == "" || !l.lossAllowed(c.user, c.since) {
				l.errorf("client %d rotate: session ended with no logout: %s", c.id, body)
			}
			l.kill(old, "revoked")
			c.adopt(sc)
			c.user, c.val = "", ""
			return
		}
		if code != http.StatusOK {
			l.errorf("client %d rotate: %d %s", c.id, code, body)
			return
		}
		if sc != nil && old != nil {
			c.adopt(sc)
			l.kill(old, "rotated")
		}
		c.checkState("rotate", body)
	case op < 9: // logout
		old := c.cur
		code, body, sc := l.send("POST", "/logout", c.cookie)
		if code != http.StatusOK {
			l.errorf("client %d logout: %d %s", c.id, code, body)
			return
		}
		c.adopt(sc)
		l.kill(old, "logged out")
		c.cookie, c.cur, c.user, c.val = "", nil, "", ""
	default: // logout everywhere
		if c.user == "" {
			return
		}
		user, old := c.user, c.cur
		wasLost := l.lossAllowed(user, c.since)
		l.mu.Lock()
		l.started[user]++
		l.revokes[user] = append(l.revokes[user], l.seq.Add(1))
		l.mu.Unlock()
		code, body, sc := l.send("POST", "/logout-everywhere", c.cookie)
		l.mu.Lock()
		l.finished[user]++
		l.mu.Unlock()
		switch code {
		case http.StatusOK:
		case http.StatusConflict: // already revoked by someone else
			if !wasLost && !l.lossAllowed(user, c.since) {
				l.errorf("client %d logout-everywhere: not logged in, with no revocation: %s", c.id, body)
			}
		default:
			l.errorf("client %d logout-everywhere: %d %s", c.id, code, body)
			return
		}
		c.adopt(sc)
		l.kill(old, "logged out everywhere")
		c.cookie, c.cur, c.user, c.val = "", nil, "", ""
	}
}
