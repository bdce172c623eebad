package memcache

import (
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
)

// TestConformance runs the shared backend suite, gin-contrib's tester
// included, against a real memcached.
func TestConformance(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	backendtest.Run(t, func(t *testing.T) securesession.Backend { return newTestStore(t, c, Options{}) })
}
