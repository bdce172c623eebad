package memcache

import (
	"testing"
	"time"

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

// suiteNow is the clock of the stores revocationtest.Run checks. Its
// entries end at fixed dates around 2026-12-01 12:00 UTC, and the store
// sends their expirations to memcached as seconds from its clock: from an
// hour before them, every entry lives an hour or more of real time,
// whatever today's date (its far-future entry, beyond 30 days, goes as an
// absolute time in 2038).
func suiteNow() time.Time { return time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC) }

func TestRevocationStoreContract(t *testing.T) {
	revocationtest.Run(t, func(t *testing.T) revocationtest.Connect {
		m := testServer(t)
		return func() sscookie.RevocationStore {
			s, err := NewRevocationStore(newClient(t, m.Addr()), RevocationStoreOptions{Now: suiteNow})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

func TestRevocationStoreFleet(t *testing.T) { revocationtest.RunFleet(t, sharedMemcached) }

// TestRevocationStoreFleetOutage stops memcached for real (killed, as a
// crash would) and starts it again, empty: the revocations made before
// are forgotten (see RevocationStore), which the suite is told.
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
	revocationtest.RunFleetOutage(t, fresh, revocationtest.Outage{Down: down, Up: up, UpForgets: true})
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
