package gorm

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/cookie/revocationtest"
)

// suiteNow is the clock of the stores the shared suites use: before every
// Until they write, so that no entry is hidden as expired.
func suiteNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// revocationFleet is a revocationtest.Factory on a fresh database of d:
// every Connect opens a pool of its own, as another instance would.
func revocationFleet(d sharedDB) revocationtest.Factory {
	return func(t *testing.T) revocationtest.Connect {
		open := d.fresh(t)
		return connectTo(t, open, DefaultRevocationTable)
	}
}

func connectTo(t *testing.T, open func() (*gormdb.DB, error), table string) revocationtest.Connect {
	return func() cookie.RevocationStore {
		return newRevStore(t, openPool(t, open), RevocationStoreOptions{Table: table, Now: suiteNow})
	}
}

func TestRevocationStoreContract(t *testing.T) {
	for _, d := range sharedDatabases {
		t.Run(d.name, func(t *testing.T) { revocationtest.Run(t, revocationFleet(d)) })
	}
}

func TestRevocationStoreFleet(t *testing.T) {
	for _, d := range sharedDatabases {
		t.Run(d.name, func(t *testing.T) { revocationtest.RunFleet(t, revocationFleet(d)) })
	}
}

// TestRevocationStoreFleetPostgresRestarted stops the PostgreSQL server the
// fleet's revocation store is on and starts it again: logged-in requests
// get 503 while it is down, never a silent logout, and service comes back
// by itself.
func TestRevocationStoreFleetPostgresRestarted(t *testing.T) {
	pg := startRestartablePG(t)
	var n atomic.Int32
	revocationtest.RunFleetOutage(t, func(t *testing.T) revocationtest.Connect {
		// One server for every check: each gets a table of its own.
		table := fmt.Sprintf("revocations_%d", n.Add(1))
		return connectTo(t, func() (*gormdb.DB, error) { return gormdb.Open(postgres.Open(pg.dsn()), quiet()) }, table)
	}, revocationtest.Outage{Down: func(t *testing.T) { pg.stop() }, Up: func(t *testing.T) {
		if err := pg.start(); err != nil {
			t.Fatal(err)
		}
	}})
}

// TestRevocationStoreConformanceOfCookieStore runs the backend suite on a
// cookie Store whose SharedRevocation is over PostgreSQL: the replay
// checks run, and a cookie copied before logout is refused.
func TestRevocationStoreConformanceOfCookieStore(t *testing.T) {
	open := sharedDatabases[1].fresh(t)
	var n atomic.Int32
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		store := connectTo(t, open, fmt.Sprintf("revocations_%d", n.Add(1)))()
		rev, err := cookie.NewSharedRevocation(store, cookie.SharedRevocationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rev.Close() })
		s, err := cookie.NewStore(cookie.Options{Keys: [][]byte{testKey}, Revocation: rev})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
