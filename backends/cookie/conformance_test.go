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
	s, err := cookie.NewStore(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Without a revocation checker the suite skips the replay checks, with the
// backend's own reason.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend { return newStore(t) })
}

// With a revocation checker every check runs, replays included.
func TestConformanceWithRevocation(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		s := newStore(t)
		s.SetRevocation(cookie.NewMemoryRevocation(0))
		return s
	})
}
