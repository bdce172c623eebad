package memcache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession/internal/testservers"
)

// dialer is a gomemcache DialContext that counts the connections opened to
// each address and can make a batch of dials wait for one another, so a
// test can leave an exact number of idle connections in the client's pool.
type dialer struct {
	mu    sync.Mutex
	dials map[string]int
	gate  *sync.WaitGroup // when set, each dial waits here for the others
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	d.mu.Lock()
	if err == nil {
		d.dials[addr]++
	}
	gate := d.gate
	d.mu.Unlock()
	if gate != nil {
		gate.Done()
		gate.Wait()
	}
	return nc, err
}

func (d *dialer) count(addr string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials[addr]
}

// fillPool empties c's pool and then leaves exactly n idle connections to
// each of addrs in it: n concurrent reads of a key on the server, whose n
// dials wait for one another, so no read can reuse another's connection.
func fillPool(t *testing.T, c *gomemcache.Client, d *dialer, addrs []string, n int) {
	t.Helper()
	c.Close() // drops the idle connections; the client stays usable
	for _, addr := range addrs {
		key := keyOnServer(t, addrs, addr)
		before := d.count(addr)
		var gate, done sync.WaitGroup
		gate.Add(n)
		d.mu.Lock()
		d.gate = &gate
		d.mu.Unlock()
		errs := make(chan error, n)
		for range n {
			done.Go(func() {
				if _, err := c.Get(key); !errors.Is(err, gomemcache.ErrCacheMiss) {
					errs <- err
				}
			})
		}
		done.Wait()
		d.mu.Lock()
		d.gate = nil
		d.mu.Unlock()
		close(errs)
		for err := range errs {
			t.Fatalf("filling the pool: %v", err)
		}
		if got := d.count(addr) - before; got != n {
			t.Fatalf("%d connections opened to %s, want %d", got, addr, n)
		}
	}
}

// keyOnServer returns a key that gomemcache's default selector sends to
// addr.
func keyOnServer(t *testing.T, addrs []string, addr string) string {
	t.Helper()
	for i := 0; ; i++ {
		k := fmt.Sprintf("probe%d", i)
		if serverOf(t, addrs, k) == addr {
			return k
		}
	}
}

func serverOf(t *testing.T, addrs []string, key string) string {
	t.Helper()
	var sl gomemcache.ServerList
	if err := sl.SetServers(addrs...); err != nil {
		t.Fatal(err)
	}
	a, err := sl.PickServer(key)
	if err != nil {
		t.Fatal(err)
	}
	return a.String()
}

// TestServerRestartFailsNoRequestOnceItIsBack kills one of three memcached
// servers while the client's pool holds idle connections to it, and
// restarts it, empty. While it is down, the users whose sessions live on it
// get 503 and are never served as anonymous (no silent logout); everyone
// else is served. Once it is back, no request fails: the pooled
// connections to the old process are dead, and a request that meets one
// must go on over a fresh connection instead of answering 503. The users
// whose sessions were on the restarted server find them gone (memcached
// keeps nothing) and log in again.
func TestServerRestartFailsNoRequestOnceItIsBack(t *testing.T) {
	var srv [3]*testservers.Memcached
	var addrs []string
	for i := range srv {
		srv[i] = testServer(t)
		addrs = append(addrs, srv[i].Addr())
	}
	d := &dialer{dials: map[string]int{}}
	c := gomemcache.New(addrs...)
	c.DialContext = d.DialContext
	c.Timeout = 2 * time.Second
	c.MaxIdleConns = 8
	t.Cleanup(func() { c.Close() })
	s := newTestStore(t, c, Options{})
	app := stateApp(t, s)

	dead := addrs[1]
	var users []*browser
	onDead := map[*browser]bool{}
	// At least 18 users, 3 of them on the server that goes down and 3 on
	// the others, whatever the store's random key puts where.
	for i, nDead := 0, 0; len(users) < 18 || nDead < 3 || len(users)-nDead < 3; i++ {
		b := &browser{url: app.URL, user: fmt.Sprintf("user%d", i)}
		users = append(users, b)
		if onDead[b] = serverOf(t, addrs, s.genKey(s.userRef(b.user))) == dead; onDead[b] {
			nDead++
		}
		b.login(t)
	}

	// round has every user, in parallel, write a value and read it back
	// twice, and checks each answer: a 503 only for a user of the dead
	// server while it is down; otherwise the user's own session and value,
	// or, once the server is back, an anonymous session for a user whose
	// session was on it (lost with the restart), who then logs in again.
	// It returns the number of 5xx answers.
	round := func(tag string, down bool) int {
		var fivexx atomic.Int64
		var wg sync.WaitGroup
		for _, b := range users {
			wg.Go(func() {
				answer := func(what string, code int, body, want string) bool {
					switch {
					case code >= 500:
						fivexx.Add(1)
						if !down || !onDead[b] || code != http.StatusServiceUnavailable {
							t.Errorf("%s %s (%s, on the dead server: %v): %d %q", b.user, what, tag, onDead[b], code, body)
						}
						return false
					case code == http.StatusOK && body == "user="+b.user+";val="+want:
						return true
					case code == http.StatusOK && !down && onDead[b] && strings.HasPrefix(body, "user=;"):
						b.login(t)
						return false
					default:
						t.Errorf("%s %s (%s, on the dead server: %v): %d %q, want user=%s;val=%s: a silent logout or lost data", b.user, what, tag, onDead[b], code, body, b.user, want)
						return false
					}
				}
				for step := range 2 {
					val := fmt.Sprintf("%s-%d", tag, step)
					code, body := b.send(t, "POST", "/set?val="+val)
					if answer("write", code, body, val) {
						b.val = val
					}
					code, body = b.send(t, "GET", "/state")
					answer("read", code, body, b.val)
				}
			})
		}
		wg.Wait()
		return int(fivexx.Load())
	}
	if n := round("before", false); n != 0 {
		t.Fatalf("%d requests failed before any fault", n)
	}

	// 1. Restarted before any request noticed: every idle connection to
	// the dead server is stale when it is back.
	const idle = 6
	fillPool(t, c, d, addrs, idle)
	srv[1].Stop()
	mustRestart(t, srv[1])
	before := d.count(dead)
	n := round("after-quick-restart", false)
	t.Logf("after a quick restart with %d stale pooled connections: %d answers of 5xx; %d new connections to the restarted server", idle, n, d.count(dead)-before)
	if n != 0 {
		t.Errorf("%d requests failed after the server was back; want 0", n)
	}

	// 2. Down under load, then back.
	fillPool(t, c, d, addrs, idle)
	srv[1].Stop()
	if n := round("during-outage", true); n == 0 {
		t.Error("no request failed while a server was down: the outage was not exercised")
	}
	mustRestart(t, srv[1])
	n = round("after-outage", false)
	t.Logf("after an outage under load: %d answers of 5xx", n)
	if n != 0 {
		t.Errorf("%d requests failed after the server was back; want 0", n)
	}
}
