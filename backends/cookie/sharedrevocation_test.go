package cookie_test

import (
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/cookie/revocationtest"
)

// memoryFleet is a fresh MemoryStore; every client of it is the store
// itself, as every instance of a fleet reaches one shared store.
func memoryFleet(t *testing.T) revocationtest.Connect {
	m := revocationtest.NewMemoryStore()
	return func() cookie.RevocationStore { return m }
}

func TestMemoryStoreContract(t *testing.T) {
	revocationtest.Run(t, memoryFleet)
}

func TestSharedRevocationFleet(t *testing.T) {
	revocationtest.RunFleet(t, memoryFleet)
}

func TestSharedRevocationFleetOutage(t *testing.T) {
	var m *revocationtest.MemoryStore
	revocationtest.RunFleetOutage(t, func(t *testing.T) revocationtest.Connect {
		m = revocationtest.NewMemoryStore()
		return func() cookie.RevocationStore { return m }
	}, func(*testing.T) { m.SetDown(true) }, func(*testing.T) { m.SetDown(false) })
}

func newShared(t testing.TB, store cookie.RevocationStore, o cookie.SharedRevocationOptions) *cookie.SharedRevocation {
	t.Helper()
	r, err := cookie.NewSharedRevocation(store, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// With a SharedRevocation every check of the suite runs, replays
// included, with the default options and the background refresh.
func TestConformanceWithSharedRevocation(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		rev := newShared(t, revocationtest.NewMemoryStore(), cookie.SharedRevocationOptions{})
		return newStoreWith(t, cookie.Options{Revocation: rev})
	})
}
