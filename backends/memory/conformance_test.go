package memory_test

import (
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
	"github.com/gin-securesession/securesession/backends/memory"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) securesession.Backend {
		s, err := memory.NewStore(memory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
