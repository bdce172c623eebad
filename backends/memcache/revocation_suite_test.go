package memcache

import (
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	sscookie "github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/cookie/revocationtest"
	"github.com/gin-securesession/securesession/internal/testservers"
)

// sharedMemcached starts a fresh memcached for one check and connects
// each instance to it with a client of its own.
func sharedMemcached(t *testing.T) revocationtest.Connect {
	return connectTo(t, testServer(t))
}

func connectTo(t *testing.T, m *testservers.Memcached) revocationtest.Connect {
	return func() sscookie.RevocationStore {
		s, err := NewRevocationStore(newClient(t, m.Addr()), RevocationStoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRevocationStoreFleet(t *testing.T) { revocationtest.RunFleet(t, sharedMemcached) }

// TestRevocationStoreFleetOutage stops memcached for real (killed, as a
// crash would) and starts it again, empty.
func TestRevocationStoreFleetOutage(t *testing.T) {
	var m *testservers.Memcached
	fresh := func(t *testing.T) revocationtest.Connect {
		m = testServer(t)
		return connectTo(t, m)
	}
	down := func(*testing.T) { m.Stop() }
	up := func(t *testing.T) {
		if err := m.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	revocationtest.RunFleetOutage(t, fresh, down, up)
}

// TestConformanceOfCookieStoreWithSharedRevocation runs the backend suite,
// its replay checks included, on a cookie Store whose revocations go
// through a SharedRevocation to a real memcached.
func TestConformanceOfCookieStoreWithSharedRevocation(t *testing.T) {
	m := testServer(t)
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		rs, err := NewRevocationStore(newClient(t, m.Addr()), RevocationStoreOptions{Prefix: "ssrev" + t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := sscookie.NewSharedRevocation(rs, sscookie.SharedRevocationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rev.Close() })
		s, err := sscookie.NewStore(sscookie.Options{Keys: [][]byte{newKey(t)}, Revocation: rev})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
