package backendtest_test

import (
	"crypto/rand"
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/memory"
)

// A backend runs the whole conformance suite from one test function in
// its own package; this one is the memory backend's. The Factory returns
// a fresh backend per check and registers its cleanup.
func ExampleRun() {
	TestConformance := func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) securesession.Backend {
			s, err := memory.NewStore(memory.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	}
	_ = TestConformance // in a _test.go file: func TestConformance(t *testing.T) { ... }
}

// A backend that cannot do something the contract describes says so after
// the Factory, with its reason; the suite skips the checks that need it
// and fails if the backend does it after all. This is the cookie backend
// without a revocation store.
func ExampleDeclaration() {
	TestConformance := func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) securesession.Backend {
			key := make([]byte, 32)
			rand.Read(key)
			s, err := cookie.NewStore(cookie.Options{Keys: [][]byte{key}})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, backendtest.Declaration{NoRevocation: "a sealed cookie stays valid until it expires"})
	}
	_ = TestConformance
}
