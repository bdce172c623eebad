package cookie_test

import (
	"crypto/rand"
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	"github.com/gin-securesession/securesession/backends/cookie"
)

func newKey(t testing.TB) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func newStore(t *testing.T) *cookie.Store {
	return newStoreWith(t, cookie.Options{})
}

// newStoreWith is a store configured by o, with a new key unless o has
// keys.
func newStoreWith(t testing.TB, o cookie.Options) *cookie.Store {
	t.Helper()
	if o.Keys == nil {
		o.Keys = [][]byte{newKey(t)}
	}
	s, err := cookie.NewStore(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Without a revocation store the backend declares that it cannot revoke,
// and the suite skips the replay checks with that reason.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend { return newStore(t) },
		backendtest.Declaration{NoRevocation: "a sealed cookie without Options.Revocation stays valid until it expires"})
}

// With a revocation checker every check runs, replays included.
func TestConformanceWithRevocation(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
		return s
	})
}
