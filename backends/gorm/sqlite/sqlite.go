// Package sqlite opens a SQLite database for the securesession GORM
// backend, configured so that concurrent requests do not fail with
// "database is locked": WAL journal (readers never block the writer), a
// busy timeout (a writer waits for the lock instead of failing), BEGIN
// IMMEDIATE transactions (a transaction takes the write lock up front, so
// two of them cannot deadlock upgrading a read lock) and synchronous=NORMAL
// (durable across application crashes in WAL mode, and far fewer fsyncs).
//
// It uses gorm.io/driver/sqlite, which needs cgo. The gorm backend itself
// imports no driver.
package sqlite

import (
	"errors"
	"fmt"
	"strings"

	sqlitedriver "gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// BusyTimeout is the busy timeout Open sets, in milliseconds: how long a
// connection waits for another's write lock before failing.
const BusyTimeout = 5000

// MaxOpenConns is the connection pool size Open sets. In WAL mode readers
// run in parallel; writers take turns, waiting up to BusyTimeout.
const MaxOpenConns = 8

// Open opens (creating it if needed) the SQLite database file at path in
// WAL mode with a busy timeout of BusyTimeout ms, immediate transactions
// and a pool of MaxOpenConns connections, and checks that WAL mode took
// effect. opts are passed to gorm.Open (a *gorm.Config, say). path must be
// a file: ":memory:" would give every pooled connection its own database.
// Open is safe for concurrent use.
func Open(path string, opts ...gorm.Option) (*gorm.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("securesession/gorm/sqlite: Open: path %q must be a file path (not empty, :memory: or a file: URI)", path)
	}
	// A file: URI, so that the parameters apply; escape what a URI would
	// otherwise read as syntax.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := fmt.Sprintf("file:%s?_journal_mode=WAL&_busy_timeout=%d&_txlock=immediate&_synchronous=NORMAL", esc, BusyTimeout)
	db, err := gorm.Open(sqlitedriver.Open(dsn), opts...)
	if err != nil {
		return nil, fmt.Errorf("securesession/gorm/sqlite: Open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("securesession/gorm/sqlite: Open: %w", err)
	}
	sqlDB.SetMaxOpenConns(MaxOpenConns)
	sqlDB.SetMaxIdleConns(MaxOpenConns)
	var mode string
	if err := db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("securesession/gorm/sqlite: Open: reading journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		sqlDB.Close()
		return nil, errors.New("securesession/gorm/sqlite: Open: journal_mode is " + mode + ", not wal")
	}
	return db, nil
}
