package memcache

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testclock"
	"github.com/gin-securesession/securesession/internal/testservers"
)

var bg = context.Background()

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// testServer returns a memcached for t: a fresh one per test, stopped in
// Cleanup.
func testServer(t testing.TB) *testservers.Memcached {
	t.Helper()
	return testservers.StartMemcachedT(t)
}

func newClient(t testing.TB, addrs ...string) *gomemcache.Client {
	t.Helper()
	c := gomemcache.New(addrs...)
	c.Timeout = 2 * time.Second
	c.MaxIdleConns = 16
	t.Cleanup(func() { c.Close() })
	return c
}

func newTestStore(t testing.TB, c *gomemcache.Client, opts Options) *Store {
	t.Helper()
	if opts.Key == nil {
		opts.Key = newKey(t)
	}
	s, err := NewStore(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newClock returns a manually advanced clock reading now.
func newClock() *testclock.Clock { return testclock.New() }

// newRecord returns a record as the middleware would create it at now.
func newRecord(now time.Time, user string, values string) *securesession.Record {
	rec := &securesession.Record{
		UserID:   user,
		Created:  now,
		LastSeen: now,
		Deadline: now.Add(securesession.DefaultAbsoluteTimeout),
		Expires:  now.Add(securesession.DefaultIdleTimeout),
		Values:   []byte(values),
	}
	if user != "" {
		rec.AuthTime = now
	}
	return rec
}
