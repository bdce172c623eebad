package gorm

import (
	"testing"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest"
)

// The shared conformance suite (including gin-contrib's tester suite) on
// SQLite, PostgreSQL and MariaDB, one database per test.
func TestConformance(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) securesession.Backend { return newStore(t, d.open(t), Options{}) })
		})
	}
}
