package backendtest_test

import (
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
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
