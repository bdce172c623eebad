// Command loadtest serves the bench contenders (and the demo examples)
// over real HTTP on 127.0.0.1 and drives them with a closed-loop Go load
// generator: a fixed number of virtual users, each on its own keep-alive
// connection with its own cookie jar, logged in before the run and
// sending its next request when the last one is answered, with every
// Set-Cookie fed back. Scenarios: reads, writes, and a 90/10 read/write
// mix, each against bare Gin serving the same routes as the floor. Every
// run is bounded by a request count and a time limit, and only loopback
// addresses are used. It writes the results as JSON for cmd/benchreport.
//
// Run it from the bench module directory:
//
//	go run ./cmd/loadtest -n 15000 -c 16 -runs 3 -o load.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-securesession/securesession/bench"
	"github.com/gin-securesession/securesession/internal/testservers"
)

var (
	nReq    = flag.Int("n", 15000, "requests per run (upper bound)")
	maxDur  = flag.Duration("max", 5*time.Second, "time limit per run")
	conc    = flag.Int("c", 16, "virtual users (connections, cookie jars)")
	runs    = flag.Int("runs", 3, "runs per server and scenario, interleaved; the tables show medians")
	warmup  = flag.Int("warmup", 500, "requests sent before each measured run")
	root    = flag.String("root", "..", "repository root")
	demo    = flag.Bool("demo", true, "also load the demo app's /profile page (builds the examples)")
	outPath = flag.String("o", "load.json", "output file")
	verbose = flag.Bool("v", false, "print each run")
)

// server is one process under test.
type server struct {
	name, label string
	role        bench.Role
	login       func(base string) (bench.Browser, string, error) // the jar and the cookie's name
	cmd         *exec.Cmd
	base        string
}

// scenario is one request mix: every writeEvery-th request of a user is
// a write (0: none, 1: all).
type scenario struct {
	name, title string
	readPath    string
	writeEvery  int
	servers     []*server
	results     map[*server][]bench.LoadRun
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run() error {
	rootAbs, err := filepath.Abs(*root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "securesession-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := &bench.LoadResults{Machine: bench.ReadMachine(), Requests: *nReq, Connections: *conc, Runs: *runs, Limit: maxDur.String()}

	bins := map[string]string{}
	build := func(dir, pkg, name string) error {
		cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, name), pkg)
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
		bins[name] = filepath.Join(tmp, name)
		return nil
	}
	benchDir := filepath.Join(rootAbs, "bench")
	if err := build(benchDir, "./cmd/benchserver", "benchserver"); err != nil {
		return err
	}
	if *demo {
		if err := build(benchDir, "./cmd/bareserver", "bareserver"); err != nil {
			return err
		}
		for _, ex := range []string{"basic", "memcache", "sqlite"} {
			if err := build(rootAbs, "./examples/"+ex, ex); err != nil {
				return err
			}
		}
	}

	mc, err := testservers.StartMemcached()
	if err != nil {
		if os.Getenv("CI") == "true" || !errors.Is(err, testservers.ErrMemcachedNotInstalled) {
			return err
		}
		out.Skipped = append(out.Skipped, "the memcached servers: "+err.Error())
		mc = nil
	} else {
		defer mc.Stop()
	}

	var all []*server
	newServer := func(name, label string, role bench.Role, login func(string) (bench.Browser, string, error), bin string, env []string, args ...string) *server {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Env = append(cmd.Env, "GIN_MODE=release")
		cmd.Dir = tmp
		s := &server{name: name, label: label, role: role, login: login, cmd: cmd}
		all = append(all, s)
		return s
	}
	var scenarios []*scenario
	if *demo {
		tmplDir := filepath.Join(rootAbs, "examples", "internal", "demoapp", "templates")
		sc := &scenario{name: "demo-profile", title: "demo app: GET /profile (HTML page, request log, security headers)", readPath: "/profile"}
		sc.servers = append(sc.servers,
			newServer("demo-bare", "bare Gin, same page, no session", bench.RoleBare, bareLogin, bins["bareserver"], nil, "-templates", tmplDir),
			newServer("demo-basic", "examples/basic (cookie backend)", bench.RoleOurs, demoLogin, bins["basic"], []string{"DEV=1"})) // plain HTTP on loopback, as the example documents
		if mc != nil {
			sc.servers = append(sc.servers, newServer("demo-memcache", "examples/memcache", bench.RoleOurs, demoLogin, bins["memcache"], []string{"DEV=1", "MEMCACHE_SERVERS=" + mc.Addr()}))
		}
		sc.servers = append(sc.servers, newServer("demo-sqlite", "examples/sqlite", bench.RoleOurs, demoLogin, bins["sqlite"], []string{"DEV=1", "SQLITE_PATH=" + filepath.Join(tmp, "sessions.db")}))
		scenarios = append(scenarios, sc)
	}
	var contenders []*server
	for _, c := range bench.Contenders {
		if c.Role == bench.RoleFloor || c.Name == "ours-cookie-revocation" {
			continue
		}
		if c.NeedsMemcached && mc == nil {
			continue
		}
		var env []string
		if c.NeedsMemcached {
			env = []string{"MEMCACHE_ADDR=" + mc.Addr()}
		}
		login := benchLogin
		if c.Role == bench.RoleBare {
			login = bareLogin
		}
		contenders = append(contenders, newServer(c.Name, c.Label, c.Role, login, bins["benchserver"], env, "-contender", c.Name))
	}
	scenarios = append(scenarios,
		&scenario{name: "read", title: "read: GET /read, logged in", readPath: "/read", servers: contenders},
		&scenario{name: "write", title: "write: POST /write, cookie fed back", readPath: "/read", writeEvery: 1, servers: contenders},
		&scenario{name: "mix", title: "mix: 90% reads, 10% writes", readPath: "/read", writeEvery: 10, servers: contenders})

	defer func() {
		for _, s := range all {
			stop(s)
		}
	}()
	for _, s := range all {
		if err := start(s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	client := &http.Client{
		Transport: &http.Transport{
			MaxIdleConnsPerHost: *conc,
			MaxConnsPerHost:     *conc,
			DisableCompression:  true,
		},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, sc := range scenarios {
		sc.results = map[*server][]bench.LoadRun{}
	}
	for r := 0; r < *runs; r++ {
		for _, sc := range scenarios {
			order := slices.Clone(sc.servers)
			rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for _, s := range order {
				if _, err := load(client, sc, s, *warmup); err != nil {
					return fmt.Errorf("%s %s warmup: %w", sc.name, s.name, err)
				}
				res, err := load(client, sc, s, *nReq)
				if err != nil {
					return fmt.Errorf("%s %s: %w", sc.name, s.name, err)
				}
				if *verbose {
					fmt.Fprintf(os.Stderr, "run %d %-12s %-24s %8.0f req/s p50 %v p99 %v (%d requests)\n", r+1, sc.name, s.name, res.RPS, res.P50, res.P99, res.Requests)
				}
				sc.results[s] = append(sc.results[s], res)
			}
		}
		fmt.Fprintf(os.Stderr, "loadtest: run %d/%d done\n", r+1, *runs)
	}
	for _, sc := range scenarios {
		ls := bench.LoadScenario{Name: sc.name, Title: sc.title}
		for _, s := range sc.servers {
			ls.Servers = append(ls.Servers, bench.LoadServer{Name: s.name, Label: s.label, Role: s.role, Runs: sc.results[s]})
		}
		out.Scenarios = append(out.Scenarios, ls)
	}
	out.Machine.Finish()
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*outPath, append(b, '\n'), 0o644)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func start(s *server) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s.base = "http://" + addr
	s.cmd.Env = append(s.cmd.Env, "ADDR="+addr)
	logf, err := os.Create(filepath.Join(s.cmd.Dir, s.name+".log"))
	if err != nil {
		return err
	}
	// The request log goes to a file, as it would in production.
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return errors.New("did not listen within 15s; see " + logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, err := s.login(s.base); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return nil
}

func stop(s *server) {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

var noRedirect = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// sessionCookie returns the jar and cookie name of the response's session
// cookie.
func sessionCookie(resp *http.Response) (bench.Browser, string, error) {
	for _, c := range resp.Cookies() {
		if c.Value != "" && c.MaxAge >= 0 {
			return bench.Browser{Cookie: c.Name + "=" + c.Value}, c.Name, nil
		}
	}
	return bench.Browser{}, "", fmt.Errorf("no session cookie (status %d)", resp.StatusCode)
}

func bareLogin(string) (bench.Browser, string, error) {
	return bench.Browser{Cookie: bench.BareCookie}, "", nil
}

// demoLogin logs in to a demo example with the demo account and loads the
// profile once (which consumes the welcome flash).
func demoLogin(base string) (bench.Browser, string, error) {
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"username": {"demo"}, "password": {"demo-password"}})
	if err != nil {
		return bench.Browser{}, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return bench.Browser{}, "", fmt.Errorf("POST /login: status %d", resp.StatusCode)
	}
	jar, name, err := sessionCookie(resp)
	if err != nil {
		return jar, name, err
	}
	req, _ := http.NewRequest("GET", base+"/profile", nil)
	req.Header.Set("Cookie", jar.Cookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		return jar, name, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="user">demo<`) {
		return jar, name, fmt.Errorf("GET /profile after login: status %d", resp.StatusCode)
	}
	jar.Update(name, resp.Header.Values("Set-Cookie")) // the consumed flash re-issued the cookie
	return jar, name, nil
}

func benchLogin(base string) (bench.Browser, string, error) {
	resp, err := noRedirect.Post(base+"/login", "", nil)
	if err != nil {
		return bench.Browser{}, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return bench.Browser{}, "", fmt.Errorf("POST /login: status %d", resp.StatusCode)
	}
	return sessionCookie(resp)
}

// load logs in *conc virtual users (not measured), then sends up to n
// requests of sc from them, for at most *maxDur, and measures them.
func load(client *http.Client, sc *scenario, s *server, n int) (bench.LoadRun, error) {
	jars := make([]bench.Browser, *conc)
	var name string
	for i := range jars {
		var err error
		if jars[i], name, err = s.login(s.base); err != nil {
			return bench.LoadRun{}, fmt.Errorf("login: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxDur)
	defer cancel()
	var next, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := range *conc {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			jar := &jars[w]
			mine := make([]time.Duration, 0, n / *conc + 1)
			for i := w; next.Add(1) <= int64(n) && ctx.Err() == nil; i++ {
				method, path := "GET", sc.readPath
				if sc.writeEvery > 0 && i%sc.writeEvery == 0 {
					method, path = "POST", "/write"
				}
				req, _ := http.NewRequestWithContext(ctx, method, s.base+path, nil)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				if jar.Cookie != "" {
					req.Header.Set("Cookie", jar.Cookie)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
						err = fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
					}
					if err == nil && name != "" {
						jar.Update(name, resp.Header.Values("Set-Cookie"))
						if jar.Cookie == "" {
							err = fmt.Errorf("%s %s: the session cookie was deleted", method, path)
						}
					}
				}
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // the time limit, not a failure
					}
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, d)
			}
			lat[w] = mine
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(begin)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if errs.Load() > 0 {
		return bench.LoadRun{}, fmt.Errorf("%d failed requests, first: %v", errs.Load(), firstErr.Load())
	}
	if len(all) == 0 {
		return bench.LoadRun{}, errors.New("no request completed")
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return bench.LoadRun{Requests: len(all), RPS: float64(len(all)) / elapsed.Seconds(), P50: pct(0.50), P90: pct(0.90), P99: pct(0.99)}, nil
}
