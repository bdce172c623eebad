// Tests that build the example programs, start them as real processes on
// loopback and drive them over HTTP and in a real browser.
package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// exampleApp is a running example binary.
type exampleApp struct {
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var buildCache sync.Map // example name -> *builtBinary

type builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// buildExample compiles ./<name> once per test binary.
func buildExample(t *testing.T, name string) string {
	t.Helper()
	v, _ := buildCache.LoadOrStore(name, &builtBinary{})
	b := v.(*builtBinary)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "securesession-example-")
		if err != nil {
			b.err = err
			return
		}
		b.dir, b.path = dir, filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, "./"+name)
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build ./%s: %v\n%s", name, b.err, b.out)
	}
	return b.path
}

// removeBuilds deletes the binaries buildExample made; TestMain calls it.
func removeBuilds() {
	buildCache.Range(func(_, v any) bool {
		if b := v.(*builtBinary); b.dir != "" {
			os.RemoveAll(b.dir)
		}
		return true
	})
}

// startExample builds and starts the example ./<name> with the given extra
// environment on a free loopback port, waits until it listens, and stops
// it in t.Cleanup. On failure its output is shown.
func startExample(t *testing.T, name string, env ...string) *exampleApp {
	t.Helper()
	bin := buildExample(t, name)
	port := freePort(t)
	app := &exampleApp{Addr: fmt.Sprintf("127.0.0.1:%d", port), logs: &syncBuffer{}}
	app.URL = "http://" + app.Addr
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	// DEV=1: the examples run in development mode unless a test says
	// otherwise (a later DEV= in env wins).
	cmd.Env = append(os.Environ(), "ADDR="+app.Addr, "GIN_MODE=release", "DEV=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = app.logs, app.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, app.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", app.Addr, time.Second)
		if err == nil {
			c.Close()
			return app
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before listening:\n%s", name, app.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 30s", name, app.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// client talks to an example without following redirects and without a
// cookie jar: each test passes the cookie it means to send.
type client struct {
	t    *testing.T
	base string
}

type response struct {
	Status   int
	Location string
	Body     string
	Cookies  []*http.Cookie // from Set-Cookie
	Header   http.Header
}

// cookie returns the Set-Cookie for name, or nil.
func (r *response) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (c *client) do(method, path string, cookie *http.Cookie, form url.Values, header http.Header) *response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &response{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(b), Cookies: resp.Cookies(), Header: resp.Header}
}

// agent is one browser: it keeps the session cookie, replacing it on every
// Set-Cookie and dropping it when the server expires it, as a browser
// does. (The cookie backend re-seals the cookie whenever the session
// changes, so a client must keep the latest value.)
type agent struct {
	c      *client
	cookie *http.Cookie
}

func (a *agent) update(r *response) *response {
	if ck := r.cookie(cookieName); ck != nil {
		if ck.MaxAge < 0 || ck.Value == "" {
			a.cookie = nil
		} else {
			a.cookie = ck
		}
	}
	return r
}

func (a *agent) get(path string) *response {
	a.c.t.Helper()
	return a.update(a.c.get(path, a.cookie))
}

func (a *agent) post(path string, form url.Values) *response {
	a.c.t.Helper()
	return a.update(a.c.post(path, a.cookie, form))
}

func (c *client) get(path string, cookie *http.Cookie) *response {
	c.t.Helper()
	return c.do(http.MethodGet, path, cookie, nil, nil)
}

func (c *client) post(path string, cookie *http.Cookie, form url.Values) *response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, cookie, form, nil)
}
