package gorm

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	gormdb "gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	"github.com/gin-securesession/securesession/internal/testservers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testservers.StopPostgres()
	testservers.StopMariaDB()
	os.Exit(code)
}

var testKey, _ = hex.DecodeString("bb755a3b31dfc6b92f737206c0e156a7330b09e5c5061e649a590536151a9626")

func quiet() *gormdb.Config { return &gormdb.Config{Logger: logger.Discard} }

// openSQLite opens a fresh SQLite file in t.TempDir() the way users should.
func openSQLite(t testing.TB) *gormdb.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "sessions.db"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// openPostgres opens a fresh database on the shared real PostgreSQL server.
func openPostgres(t testing.TB) *gormdb.DB {
	t.Helper()
	return openPostgresDSN(t, testservers.Postgres(t))
}

func openPostgresDSN(t testing.TB, dsn string) *gormdb.DB {
	t.Helper()
	db, err := gormdb.Open(postgres.Open(dsn), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// openMariaDB opens a fresh database on the shared real MariaDB server
// (utf8mb4, case-insensitive collation, as Debian configures it), with
// clientFoundRows=true as the package documentation asks.
func openMariaDB(t testing.TB) *gormdb.DB {
	t.Helper()
	db, err := gormdb.Open(mysql.Open(testservers.MariaDB(t)), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

func closeDB(db *gormdb.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

var databases = []struct {
	name string
	open func(testing.TB) *gormdb.DB
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
	{"mariadb", openMariaDB},
}

// eachDB runs f as a subtest against SQLite, PostgreSQL and MariaDB.
func eachDB(t *testing.T, f func(t *testing.T, db *gormdb.DB)) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f(t, d.open(t))
		})
	}
}

// clock is a settable clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 24, 12, 0, 0, 123456789, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newStore(t testing.TB, db *gormdb.DB, opts Options) *Store {
	t.Helper()
	if opts.Key == nil {
		opts.Key = testKey
	}
	if opts.CleanupInterval == 0 {
		opts.CleanupInterval = -1
	}
	s, err := NewStore(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newRecord returns a record as the middleware would fill it at now, with
// a 30-minute idle and 12-hour absolute timeout.
func newRecord(now time.Time, user string, values string) *securesession.Record {
	r := &securesession.Record{
		UserID:    user,
		Created:   now,
		LastSeen:  now,
		Deadline:  now.Add(12 * time.Hour),
		Expires:   now.Add(30 * time.Minute),
		Values:    []byte(values),
		UserAgent: "Mozilla/5.0 (test)",
		IP:        "192.0.2.7",
	}
	if user != "" {
		r.AuthTime = now
	}
	return r
}

func countRows(t testing.TB, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table(s.table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var bg = context.Background()
