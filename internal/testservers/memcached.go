package testservers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrMemcachedNotInstalled is returned by StartMemcached when no memcached
// binary is found (Debian package memcached).
var ErrMemcachedNotInstalled = errors.New("testservers: memcached is not installed (apt-get install memcached; looked for $MEMCACHED_BIN, /usr/bin/memcached and $PATH)")

// MemcachedBinary returns the path of the memcached binary: $MEMCACHED_BIN,
// /usr/bin/memcached or memcached on $PATH, or ErrMemcachedNotInstalled.
func MemcachedBinary() (string, error) {
	if p := os.Getenv("MEMCACHED_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat("/usr/bin/memcached"); err == nil {
		return "/usr/bin/memcached", nil
	}
	if p, err := exec.LookPath("memcached"); err == nil {
		return p, nil
	}
	return "", ErrMemcachedNotInstalled
}

// Memcached is one memcached process listening on 127.0.0.1. It can be
// stopped (killed, as a crash would) and restarted on the same port, empty,
// to test outages. Its methods are safe for concurrent use.
type Memcached struct {
	bin  string
	addr string
	args []string // extra memcached arguments
	cred string   // "user password" for ASCII authentication, or ""

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Addr returns "127.0.0.1:port", which stays the same across Restart.
func (m *Memcached) Addr() string { return m.addr }

// StartMemcachedT starts a memcached server for the test and stops it in
// tb.Cleanup. If memcached is not installed, it fails the test when $CI is
// "true" and otherwise skips it, saying why.
func StartMemcachedT(tb testing.TB) *Memcached {
	tb.Helper()
	m, err := StartMemcached()
	if errors.Is(err, ErrMemcachedNotInstalled) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("memcached is required under CI=true: %v", err)
		}
		tb.Skipf("SKIPPING: real-memcached test needs memcached: %v", err)
	}
	if err != nil {
		tb.Fatalf("start memcached: %v", err)
	}
	tb.Cleanup(m.Stop)
	return m
}

// StartMemcached starts memcached in the foreground (never -d) on
// 127.0.0.1 on a free port, without UDP, and waits until it answers. The
// caller must call Stop. When the process runs as root, memcached runs as
// root too (-u root), since it refuses to start as root otherwise.
func StartMemcached() (*Memcached, error) {
	return startMemcached(nil, "")
}

// StartMemcachedAuthT is StartMemcachedT with memcached's ASCII-protocol
// authentication on (-Y, memcached 1.5.15 and later): a connection must
// first send the credentials, as a set of any key whose value is
// "user password", and every other command before that is refused. The
// auth file lives in tb.TempDir(). Ping, Restart and Command authenticate
// themselves.
func StartMemcachedAuthT(tb testing.TB, user, password string) *Memcached {
	tb.Helper()
	if _, err := MemcachedBinary(); errors.Is(err, ErrMemcachedNotInstalled) {
		StartMemcachedT(tb) // fails or skips, saying why
	}
	file := filepath.Join(tb.TempDir(), "memcached-auth")
	if err := os.WriteFile(file, []byte(user+":"+password+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	m, err := startMemcached([]string{"-Y", file}, user+" "+password)
	if err != nil {
		tb.Fatalf("start memcached with authentication: %v", err)
	}
	tb.Cleanup(m.Stop)
	return m
}

func startMemcached(args []string, cred string) (*Memcached, error) {
	bin, err := MemcachedBinary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		port, err := memcachedFreePort()
		if err != nil {
			return nil, err
		}
		m := &Memcached{bin: bin, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), args: args, cred: cred}
		if lastErr = m.start(); lastErr == nil {
			return m, nil
		}
	}
	return nil, lastErr
}

func memcachedFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (m *Memcached) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(m.addr)
	args := []string{"-l", "127.0.0.1", "-p", port, "-U", "0", "-m", "64", "-c", "1024", "-t", "2"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	args = append(args, m.args...)
	cmd := exec.Command(m.bin, args...)
	var stderr strings.Builder
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testservers: start %s: %w", m.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := memcachedPing(m.addr, m.cred); err == nil {
			m.cmd, m.done = cmd, done
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("testservers: memcached on %s exited at start: %s", m.addr, strings.TrimSpace(stderr.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("testservers: memcached on %s did not answer within 10s", m.addr)
		}
	}
}

func memcachedPing(addr, cred string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	r := bufio.NewReader(c)
	if err := memcachedAuth(c, r, cred); err != nil {
		return err
	}
	if _, err := c.Write([]byte("version\r\n")); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "VERSION ") {
		return fmt.Errorf("testservers: unexpected reply %q", line)
	}
	return nil
}

// memcachedAuth sends the ASCII-protocol credentials cred ("user
// password") on c, if there are any, and checks the answer.
func memcachedAuth(c net.Conn, r *bufio.Reader, cred string) error {
	if cred == "" {
		return nil
	}
	if _, err := fmt.Fprintf(c, "set auth 0 0 %d\r\n%s\r\n", len(cred), cred); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "STORED\r\n" {
		return fmt.Errorf("testservers: memcached authentication: %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop kills the server (SIGKILL, as a crash would) and waits for it to
// exit. Stopping a stopped server does nothing.
func (m *Memcached) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	<-m.done
	m.cmd, m.done = nil, nil
}

// Restart starts a stopped server again on the same port, empty (memcached
// keeps nothing across a restart). It retries for a few seconds while the
// port is still held.
func (m *Memcached) Restart() error {
	var err error
	for range 50 {
		if err = m.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Command sends one raw text-protocol command line (without the trailing
// CRLF) to the server and returns the reply lines up to and including the
// terminator ("END", or the single reply line for commands that do not end
// with END). It is for inspecting the server in tests, e.g. "lru_crawler
// metadump all" or "get KEY".
func (m *Memcached) Command(line string) ([]string, error) {
	c, err := net.DialTimeout("tcp", m.addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if err := memcachedAuth(c, r, m.cred); err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return nil, err
	}
	multi := strings.HasPrefix(line, "get") || strings.HasPrefix(line, "lru_crawler metadump") || strings.HasPrefix(line, "stats")
	var out []string
	for {
		s, err := r.ReadString('\n')
		if err != nil {
			return out, err
		}
		s = strings.TrimRight(s, "\r\n")
		out = append(out, s)
		if !multi || s == "END" || strings.HasPrefix(s, "ERROR") || strings.HasPrefix(s, "CLIENT_ERROR") || strings.HasPrefix(s, "SERVER_ERROR") {
			return out, nil
		}
	}
}
