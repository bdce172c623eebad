package memcache

import (
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession/backends/backendtest/outagetest"
)

// TestOutageMemcachedStoppedAndRestarted kills memcached (SIGKILL, as a
// crash would) while logged-in clients read and write through the
// middleware, and restarts it, empty, a second later. During the outage
// every request gets 503 and never another user's session or a silent
// logout; afterwards service resumes by itself (the sessions are gone, as
// memcached keeps nothing across a restart, and the clients log in again),
// no goroutine leaks, and no token, cookie or key appears in any log
// record or error text.
func TestOutageMemcachedStoppedAndRestarted(t *testing.T) {
	m := testServer(t)
	c := gomemcache.New(m.Addr())
	c.Timeout = 500 * time.Millisecond
	c.MaxIdleConns = 16
	t.Cleanup(func() { c.Close() })
	key := newKey(t)
	s := newTestStore(t, c, Options{Key: key})
	res := outagetest.Run(t, outagetest.Outage{
		Backend:   s,
		Down:      func(t *testing.T) { m.Stop() },
		Up:        func(t *testing.T) { mustRestart(t, m) },
		LosesData: true,
		Secrets:   [][]byte{key},
	})
	t.Log(res)
}

func mustRestart(t *testing.T, m interface{ Restart() error }) {
	t.Helper()
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
}
