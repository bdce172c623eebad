// Package outagetest is a fault-injection harness for securesession
// backends that talk to a server: a backend's own test stops its server or
// locks its database while logged-in clients keep using their sessions
// through the middleware over real HTTP, and Run checks what the clients
// saw. For example, for a memcached-backed store:
//
//	res := outagetest.Run(t, outagetest.Outage{
//		Backend:   store,
//		Down:      func(t *testing.T) { server.Stop() },
//		Up:        func(t *testing.T) { server.Restart() },
//		LosesData: true,
//		Secrets:   [][]byte{key},
//	})
//	t.Log(res)
//
// It is separate from the conformance suite (package backendtest), which
// every backend runs with no fault injected.
package outagetest

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest/internal/httpsend"
	"github.com/gin-securesession/securesession/backends/backendtest/internal/logscan"
)

// Outage describes a fault-injection run for Run. Its zero durations and
// counts take the defaults stated on each field; Backend, Down and Up are
// required. Run calls Down and Up from the test goroutine only.
type Outage struct {
	// Backend is the store under test, already connected.
	Backend securesession.Backend

	// Down injects the fault (stop the server, lock the database); Up
	// removes it. Both are called once, from the test goroutine, while
	// requests are in flight.
	Down, Up func(t *testing.T)

	// DownFor is how long the load runs against the fault. Default 1s.
	DownFor time.Duration

	// RecoverWithin bounds the time from Up until requests succeed again
	// with no intervention. Default 15s.
	RecoverWithin time.Duration

	// LosesData is true when the fault erases the store (a memcached
	// restart): sessions may then be anonymous after Up, and clients log
	// in again. It is never an excuse during the fault itself.
	LosesData bool

	// Secrets are keys and other values that must never appear in the
	// captured logs and error text, in any common encoding.
	Secrets [][]byte

	// Users is the number of concurrent logged-in clients. Default 8.
	Users int
}

// Result reports what the clients saw. It is a plain value, owned by the
// caller once Run returns.
type Result struct {
	// During counts the status codes of requests sent between Down and Up.
	During map[int]int
	// Recovery is the time from Up until the first round of requests in
	// which every client's read and write succeeded.
	Recovery time.Duration
	// Requests is the total number of requests sent.
	Requests int64
	// LogBytes is the size of the captured slog output and error text
	// that was checked for secrets.
	LogBytes int
}

// String summarises the run for a test log.
func (r Result) String() string {
	codes := make([]int, 0, len(r.During))
	for c := range r.During {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&b, "%d×%d ", r.During[c], c)
	}
	return fmt.Sprintf("during the fault: %s; recovered %v after the fault ended; %d requests; %d bytes of logs and errors checked for secrets",
		strings.TrimSpace(b.String()), r.Recovery.Round(time.Millisecond), r.Requests, r.LogBytes)
}

// Run logs in Users clients through the middleware over real HTTP,
// keeps them reading and writing their sessions while o.Down injects a
// fault and o.Up removes it, and checks that:
//   - during the fault every request either succeeds as its own user with
//     its own data or fails with the typed error (503 by default): never
//     another user's session, never an anonymous 200 for a logged-in client
//     (a silent logout), never a cookie deleted or replaced, never a panic;
//   - after Up, service resumes by itself within RecoverWithin, and (unless
//     LosesData) every client is still logged in with its last value;
//   - no session token, cookie value or secret appears in any slog record
//     (captured at Debug level, backend errors included) or error text;
//   - no goroutine outlives the run.
func Run(t *testing.T, o Outage) Result {
	t.Helper()
	if o.DownFor == 0 {
		o.DownFor = time.Second
	}
	if o.RecoverWithin == 0 {
		o.RecoverWithin = 15 * time.Second
	}
	if o.Users == 0 {
		o.Users = 8
	}
	if o.Backend == nil || o.Down == nil || o.Up == nil {
		t.Fatal("outagetest: Outage.Backend, Outage.Down and Outage.Up are required")
	}
	var logs logscan.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var sawBackendErr atomic.Int64
	mw, err := securesession.New(o.Backend, securesession.Options{
		Logger: logger,
		OnEvent: func(e securesession.Event) {
			if e.Kind == securesession.EventBackendError {
				sawBackendErr.Add(1)
			}
			fmt.Fprintf(&logs, "event %v session=%s user=%s reason=%s err=%v\n", e.Kind, e.Session, e.UserID, e.Reason, e.Err)
		},
		ErrorHandler: func(c *gin.Context, err error) {
			fmt.Fprintf(&logs, "error handler: %v\n", err)
			_ = c.Error(err)
			var be *securesession.BackendError
			if errors.As(err, &be) {
				c.AbortWithStatus(be.StatusCode())
				return
			}
			c.AbortWithStatus(http.StatusInternalServerError)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	routes(r)
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ErrorLog = log.New(&logs, "http: ", 0) // a handler panic would be logged here
	srv.Start()
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	l := &sender{
		Sender: httpsend.Sender{URL: srv.URL, Name: securesession.DefaultCookieName, Client: &http.Client{Transport: tr, Timeout: 60 * time.Second}},
		t:      t,
	}
	var tokens sync.Map // every cookie value issued
	type client struct {
		mu                sync.Mutex // held for each request: the recovery probe shares clients with the load
		user, cookie, val string
		// maybe is a value whose write failed: the middleware retries a
		// failed explicit Save when the response headers go out, so it
		// may have been stored after all.
		maybe string
	}
	clients := make([]*client, o.Users)
	login := func(c *client) error {
		code, body, sc := l.send("POST", "/login?user="+c.user, c.cookie)
		if code != http.StatusOK || sc == nil {
			return fmt.Errorf("login %s: %d %q", c.user, code, body)
		}
		tokens.Store(sc.Value, true)
		c.cookie, c.val = sc.Value, ""
		return nil
	}
	for i := range clients {
		clients[i] = &client{user: fmt.Sprintf("user%d", i)}
		if err := login(clients[i]); err != nil {
			t.Fatal(err)
		}
	}
	l.send("GET", "/state", "")
	baseline := runtime.NumGoroutine()

	// phase: 0 before the fault, 1 during, 2 after Up.
	var phase atomic.Int32
	var mu sync.Mutex
	during := map[int]int{}
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		if len(problems) < 30 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	// one request for client c; ok is true if it succeeded as c.
	one := func(c *client, n int) (ok bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		ph := phase.Load()
		var code int
		var body string
		var sc *http.Cookie
		val := c.val
		if n%2 == 0 {
			val = fmt.Sprintf("%s-%d", c.user, n)
			code, body, sc = l.send("POST", "/set?val="+val, c.cookie)
		} else {
			code, body, sc = l.send("GET", "/state", c.cookie)
		}
		if ph == 1 && phase.Load() == 1 {
			mu.Lock()
			during[code]++
			mu.Unlock()
		}
		// A request that began during the fault and ended after the store
		// came back may have read the store as it is now: judge it as a
		// request after the fault (an erased store then loses its data).
		ph = max(ph, phase.Load())
		if sc != nil {
			tokens.Store(sc.Value, true)
		}
		switch code {
		case http.StatusOK:
			if body == "user="+c.user+";val="+c.maybe && n%2 == 1 {
				val = c.maybe
			}
			if body == "user="+c.user+";val="+val {
				if sc != nil && sc.Value != c.cookie {
					problem("%s: a successful request replaced the cookie", c.user)
				}
				c.val, c.maybe = val, ""
				return true
			}
			if strings.HasPrefix(body, "user=;") && ph == 2 && o.LosesData {
				if err := login(c); err != nil {
					problem("after the fault: %v", err)
				}
				return false
			}
			problem("%s (phase %d): 200 %q: another user's session, lost data or a silent logout", c.user, ph, body)
		case http.StatusServiceUnavailable:
			if n%2 == 0 {
				c.maybe = val
			}
			if ph == 0 && phase.Load() == 0 {
				problem("%s: 503 before the fault", c.user)
			}
			if sc != nil {
				problem("%s: a 503 came with Set-Cookie %q (a logout or a new session during an outage)", c.user, sc.Value)
			}
		case 0:
			problem("%s (phase %d): transport error (a panic closes the connection)", c.user, ph)
		default:
			problem("%s (phase %d): status %d %q; want 200 or 503", c.user, ph, code, body)
		}
		return false
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var lastAllOK atomic.Int64 // unix nanos of the first all-success round after Up
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				one(c, n)
				time.Sleep(time.Duration(5+i) * time.Millisecond)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	phase.Store(1)
	o.Down(t)
	time.Sleep(o.DownFor)
	phase.Store(2)
	up := time.Now()
	o.Up(t)
	// Recovery: a round in which every client's write and read succeed.
	for {
		okAll := true
		for _, c := range clients {
			okAll = one(c, 0) && okAll
			okAll = one(c, 1) && okAll
		}
		if okAll {
			lastAllOK.Store(time.Since(up).Nanoseconds())
			break
		}
		if time.Since(up) > o.RecoverWithin {
			close(stop)
			wg.Wait()
			t.Fatalf("service did not recover within %v of the fault ending", o.RecoverWithin)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	res := Result{During: during, Recovery: time.Duration(lastAllOK.Load()), Requests: l.Requests()}

	if !o.LosesData {
		for _, c := range clients {
			if code, body, _ := l.send("GET", "/state", c.cookie); code != http.StatusOK || body != "user="+c.user+";val="+c.val {
				problem("after recovery %s reads %d %q, want user=%s;val=%s", c.user, code, body, c.user, c.val)
			}
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	if during[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no request failed during the fault (%v): the fault was not exercised", during)
	}
	if sawBackendErr.Load() == 0 {
		t.Error("no backend-error event was reported during the fault")
	}

	// No secret in the logs or errors.
	text := logs.String()
	res.LogBytes = len(text)
	if strings.Contains(text, "panic") {
		t.Errorf("a panic was logged:\n%s", text)
	}
	var secrets []string
	tokens.Range(func(k, _ any) bool { secrets = append(secrets, k.(string)); return true })
	n := len(secrets)
	for _, k := range o.Secrets {
		secrets = append(secrets, string(k), hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k),
			base64.RawStdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k), fmt.Sprintf("%v", k))
	}
	if leak := logscan.FindSecret(text, secrets, 12); leak != "" {
		t.Errorf("a secret appears in the logs or errors: %s", leak)
	}
	t.Logf("checked %d bytes of logs and errors against %d cookie values and %d keys", len(text), n, len(o.Secrets))

	tr.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines after the outage, %d before:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return res
}

// routes answers with the session's state in one response
// ("user=<id>;val=<value>"), so that a client sees its user and its data
// atomically: GET /state, POST /login?user= and POST /set?val=.
func routes(r *gin.Engine) {
	state := func(c *gin.Context) {
		v, _ := sessions.Default(c).Get("owner").(string)
		c.String(http.StatusOK, "user=%s;val=%s", securesession.UserID(c), v)
	}
	r.GET("/state", state)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
			return
		}
		state(c)
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
			c.String(code, "save: %v", err)
			return
		}
		state(c)
	})
}

// sender sends the clients' requests and counts them.
type sender struct {
	httpsend.Sender
	t *testing.T
}

// send sends one request with the session cookie value cookie (none if
// empty) and returns the status, the body and the response's session
// cookie, if any. A transport error is status 0 and fails the test.
func (l *sender) send(method, path, cookie string) (int, string, *http.Cookie) {
	status, body, c, err := l.Send(method, path, cookie)
	if err != nil {
		l.t.Errorf("%v", err)
	}
	return status, body, c
}
