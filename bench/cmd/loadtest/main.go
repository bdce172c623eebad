// Command loadtest serves the demo examples and the bench contenders over
// real HTTP on 127.0.0.1 and drives them with a closed-loop Go load
// generator: a fixed number of workers on keep-alive connections, each
// sending its next request when the last one is answered. Every run is
// bounded by a request count and a time limit. It prints markdown tables
// of requests per second and latency percentiles, with the bare-Gin server
// serving the same route as the floor.
//
// Run it from the bench module directory:
//
//	go run ./cmd/loadtest -n 20000 -c 16 -runs 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-securesession/securesession/internal/testservers"
)

var (
	nReq    = flag.Int("n", 20000, "requests per run (upper bound)")
	maxDur  = flag.Duration("max", 15*time.Second, "time limit per run")
	conc    = flag.Int("c", 16, "concurrent connections")
	runs    = flag.Int("runs", 3, "runs per server (interleaved); the table shows medians")
	warmup  = flag.Int("warmup", 500, "requests sent before each measured run")
	root    = flag.String("root", "..", "repository root")
	verbose = flag.Bool("v", false, "print each run")
)

// server is one process under test.
type server struct {
	group, name string // table and row
	route       string // the measured GET
	login       func(base string) (string, error)
	cmd         *exec.Cmd
	base        string
	cookie      string
	results     []result
}

type result struct {
	n, errs       int
	rps           float64
	p50, p90, p99 time.Duration
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

	// Build the binaries.
	bins := map[string]string{}
	build := func(dir, pkg, out string) error {
		cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, out), pkg)
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
		bins[out] = filepath.Join(tmp, out)
		return nil
	}
	benchDir := filepath.Join(rootAbs, "bench")
	for _, b := range []struct{ dir, pkg, out string }{
		{rootAbs, "./examples/basic", "basic"},
		{benchDir, "./cmd/bareserver", "bareserver"},
		{benchDir, "./cmd/benchserver", "benchserver"},
	} {
		if err := build(b.dir, b.pkg, b.out); err != nil {
			return err
		}
	}
	for _, ex := range []string{"memcache", "sqlite"} {
		if _, err := os.Stat(filepath.Join(rootAbs, "examples", ex, "main.go")); err == nil {
			if err := build(rootAbs, "./examples/"+ex, ex); err != nil {
				return err
			}
		}
	}

	mc, err := testservers.StartMemcached()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest: no memcached, skipping the memcached servers:", err)
		mc = nil
	} else {
		defer mc.Stop()
	}

	tmplDir := filepath.Join(rootAbs, "examples", "internal", "demoapp", "templates")
	var servers []*server
	add := func(group, name, route string, login func(string) (string, error), bin string, env []string, args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Env = append(cmd.Env, "GIN_MODE=release")
		cmd.Dir = tmp
		servers = append(servers, &server{group: group, name: name, route: route, login: login, cmd: cmd})
	}
	// The demo app's /profile page: template, security headers, request log.
	const profile = "demo app: GET /profile (logged in; HTML page, request log, security headers)"
	add(profile, "bare Gin, same page, no session", "/profile", noLogin, bins["bareserver"], nil, "-templates", tmplDir)
	add(profile, "examples/basic (cookie backend)", "/profile", demoLogin, bins["basic"], nil)
	if bins["memcache"] != "" && mc != nil {
		add(profile, "examples/memcache", "/profile", demoLogin, bins["memcache"], []string{"MEMCACHE_SERVERS=" + mc.Addr()})
	}
	if bins["sqlite"] != "" {
		add(profile, "examples/sqlite", "/profile", demoLogin, bins["sqlite"], []string{"SQLITE_PATH=" + filepath.Join(tmp, "sessions.db")})
	}
	// The bench contenders' authenticated read (204, no body).
	const read = "minimal route: GET /read (logged in; 204, no body, no logging)"
	for _, c := range []string{"bare-gin", "ours-cookie", "ours-cookie-nocache", "gincontrib-cookie", "ours-memcache", "gincontrib-memcached", "ours-gorm-sqlite", "gincontrib-gorm-sqlite"} {
		var env []string
		if strings.Contains(c, "memcache") {
			if mc == nil {
				continue
			}
			env = []string{"MEMCACHE_ADDR=" + mc.Addr()}
		}
		login := benchLogin
		if c == "bare-gin" {
			login = noLogin
		}
		add(read, c, "/read", login, bins["benchserver"], env, "-contender", c)
	}

	defer func() {
		for _, s := range servers {
			stop(s)
		}
	}()
	for _, s := range servers {
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
	for r := 0; r < *runs; r++ {
		for _, s := range servers {
			if _, err := load(client, s, *warmup, *maxDur); err != nil {
				return fmt.Errorf("%s warmup: %w", s.name, err)
			}
			res, err := load(client, s, *nReq, *maxDur)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if *verbose {
				fmt.Fprintf(os.Stderr, "run %d %-40s %8.0f req/s p50 %v p99 %v (%d requests, %d errors)\n", r+1, s.name, res.rps, res.p50, res.p99, res.n, res.errs)
			}
			s.results = append(s.results, res)
		}
	}
	printTables(servers)
	return nil
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
	logf, err := os.Create(filepath.Join(s.cmd.Dir, strings.NewReplacer("/", "_", " ", "_").Replace(s.name)+".log"))
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
	cookie, err := s.login(s.base)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.cookie = cookie
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

func noLogin(string) (string, error) { return "", nil }

var noRedirect = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// sessionCookie returns "name=value" of the response's session cookie.
func sessionCookie(resp *http.Response) (string, error) {
	for _, c := range resp.Cookies() {
		if c.Value != "" && c.MaxAge >= 0 {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("no session cookie (status %d)", resp.StatusCode)
}

// demoLogin logs in to a demo example with the demo account and loads the
// profile once (which consumes the welcome flash).
func demoLogin(base string) (string, error) {
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"username": {"demo"}, "password": {"demo-password"}})
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST /login: status %d", resp.StatusCode)
	}
	cookie, err := sessionCookie(resp)
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequest("GET", base+"/profile", nil)
	req.Header.Set("Cookie", cookie)
	resp, err = noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="user">demo<`) {
		return "", fmt.Errorf("GET /profile after login: status %d", resp.StatusCode)
	}
	// The welcome flash was consumed, which re-issued the cookie.
	if c, err := sessionCookie(resp); err == nil {
		cookie = c
	}
	return cookie, nil
}

func benchLogin(base string) (string, error) {
	resp, err := noRedirect.Post(base+"/login", "", nil)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return "", fmt.Errorf("POST /login: status %d", resp.StatusCode)
	}
	return sessionCookie(resp)
}

// load sends up to n GET requests to s's route from *conc workers, for at
// most limit, and measures them.
func load(client *http.Client, s *server, n int, limit time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var next, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, *conc)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, n / *conc + 1)
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", s.base+s.route, nil)
				if s.cookie != "" {
					req.Header.Set("Cookie", s.cookie)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
					if err == nil && len(resp.Header.Values("Set-Cookie")) > 0 {
						err = errors.New("unexpected Set-Cookie on a read")
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
		return result{}, fmt.Errorf("%d failed requests, first: %v", errs.Load(), firstErr.Load())
	}
	if len(all) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return result{n: len(all), rps: float64(len(all)) / elapsed.Seconds(), p50: pct(0.50), p90: pct(0.90), p99: pct(0.99)}, nil
}

func median[T int | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func printTables(servers []*server) {
	defer printTarget(servers)
	fmt.Printf("Closed loop, %d connections, up to %d requests or %v per run, %d runs per server interleaved; medians of the runs. Load generator and server share the machine.\n\n", *conc, *nReq, *maxDur, *runs)
	var group string
	var floor float64
	for _, s := range servers {
		if s.group != group {
			group = s.group
			fmt.Printf("\n**%s**\n\n", group)
			fmt.Println("| server | requests/run | req/s | % of bare Gin | p50 | p90 | p99 |")
			fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
			floor = 0
		}
		var rps []float64
		var n []int
		var p50, p90, p99 []time.Duration
		for _, r := range s.results {
			rps = append(rps, r.rps)
			n = append(n, r.n)
			p50 = append(p50, r.p50)
			p90 = append(p90, r.p90)
			p99 = append(p99, r.p99)
		}
		m := median(rps)
		if floor == 0 {
			floor = m
		}
		fmt.Printf("| %s | %d | %.0f | %s%% | %s | %s | %s |\n", s.name, median(n), m, strconv.FormatFloat(100*m/floor, 'f', 0, 64), us(median(p50)), us(median(p90)), us(median(p99)))
	}
}

// printTarget checks issue 6's load-test target: the cookie backend keeps
// at least 70% of bare Gin's requests per second.
func printTarget(servers []*server) {
	fmt.Println()
	fmt.Println("| load-test target: cookie backend keeps >= 70% of bare Gin's req/s | measured | met |")
	fmt.Println("|---|---:|:---:|")
	floors := map[string]float64{}
	for _, s := range servers {
		var rps []float64
		for _, r := range s.results {
			rps = append(rps, r.rps)
		}
		m := median(rps)
		if _, ok := floors[s.group]; !ok {
			floors[s.group] = m
			continue
		}
		if !strings.Contains(s.name, "cookie") || strings.Contains(s.name, "gincontrib") {
			continue
		}
		pct := 100 * m / floors[s.group]
		met := "no"
		if pct >= 70 {
			met = "yes"
		}
		fmt.Printf("| %s (%s) | %.0f%% | %s |\n", s.name, strings.SplitN(s.group, ":", 2)[0], pct, met)
	}
}

func us(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
}
