// Package gorm is the securesession backend that keeps sessions in a table
// of any database GORM v2 can open: SQLite, PostgreSQL, MySQL, SQL Server.
// It imports no driver; open the *gorm.DB with the dialector you want (for
// SQLite, with the sqlite subpackage, which sets WAL mode and a busy
// timeout).
//
// The package name clashes with gorm.io/gorm, so import it under an alias:
//
//	import (
//		"gorm.io/gorm"
//		ssgorm "github.com/gin-securesession/securesession/backends/gorm"
//		"github.com/gin-securesession/securesession/backends/gorm/sqlite"
//	)
//
//	db, err := sqlite.Open("sessions.db")
//	...
//	store, err := ssgorm.NewStore(db, ssgorm.Options{Key: key})
//	...
//	defer store.Close()
//
// # Schema
//
// NewStore creates the table with AutoMigrate (default name
// securesession_sessions). The primary key is a keyed hash of the cookie
// name and the session token: the token itself is never stored, so a copy
// of the table (a backup, a read-only SQL injection) yields no usable
// cookie. user_id and expires_at are indexed. Times are BIGINT Unix
// nanoseconds, exact on every database. The data column is the database's
// unbounded binary type: there is no 4 KB cap.
//
// # Queries
//
// An authenticated read is one SELECT by primary key that also excludes
// expired rows. A write is one UPDATE of a live row; if it matches no row
// (the session was logged out, revoked or expired meanwhile) it returns
// securesession.ErrNoRecord and never re-creates the row. Touch updates
// last_seen and expires_at only. Rotation (login) is a DELETE and an
// INSERT in one transaction; logout is a DELETE. RevokeUser,
// RevokeHandle and ListUser are one statement each.
//
// A database error is returned as it is, so that the middleware fails the
// request (503) rather than treating the client as logged out. An operation
// that fails because SQLite's database is locked is retried a few times
// with backoff: each of them is safe to repeat.
//
// Expired rows are deleted by a background sweeper in bounded batches;
// Close stops it.
//
// On MySQL, open the connection with clientFoundRows=true, so that an
// UPDATE that changes no value still counts the row it matched.
package gorm
