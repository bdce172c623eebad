// Package gorm is the securesession backend that keeps sessions in a table
// of a database opened with GORM v2. It is tested on SQLite, PostgreSQL
// and MariaDB (through GORM's MySQL dialector); other databases GORM opens
// may work but are not tested. It imports no driver; open the *gorm.DB
// with the dialector you want (for SQLite, with the sqlite subpackage,
// which sets WAL mode and a busy timeout).
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
// securesession_sessions). Each row is one session:
//
//   - handle, the primary key, is the session's handle: 128 random bits in
//     hex, drawn independently of the token, so that it can be shown to
//     the user and logged without saying anything about the token. It is
//     what ListUser returns and RevokeHandle takes.
//   - id, under a unique index, is a keyed hash (HMAC-SHA256) of the cookie
//     name and the session token: the token itself is never stored, so a
//     copy of the table (a backup, a read-only SQL injection) yields no
//     usable cookie.
//   - user_id is the user ID as given; user_key, indexed, is the hex
//     SHA-256 of its bytes, and is what ListUser, RevokeUser and
//     RevokeHandle compare (see below).
//
// expires_at is indexed too, for Cleanup. On SQLite the table is created
// with its own DDL rather than AutoMigrate's, with the same columns but
// neither a primary key on handle (a rowid table) nor an index on
// expires_at: each would be one more b-tree for every login to write, and
// the expires_at index one more for every write and activity refresh.
// Every statement that names a handle also names the id or the user_key,
// whose indexes find the row, and handles stay unique as 128 random bits
// are. Cleanup walks the table in rowid order instead, so a sweep reads
// the whole table (a read, which in WAL mode holds up no request): 30 to
// 45 ms per 100,000 sessions when nothing has expired, measured on two
// cores, every Options.CleanupInterval. A SQLite table made by an earlier
// version of this release, with the handle as its primary key or the
// expires_at index, still works; drop that index (DROP INDEX
// idx_<table>_expires_at) for the faster writes.
//
// Times are BIGINT Unix nanoseconds, exact on every database. The data
// column is the database's unbounded binary type: there is no 4 KB cap.
// A table made by an earlier version of this package (whose primary key
// was the token hash) is refused with an error: drop it, which ends every
// session, or use a new TableName.
//
// NewStore also creates "<table>_limits", used only under the middleware's
// Options.MaxSessionsPerUser: one row per user who has logged in with a
// limit (user_key and a counter), the lock that serialises one user's
// logins (see LoginLimited). A RevocationStore, the shared
// revocation list of the cookie backend, has a table of its own (default
// securesession_revocations; see NewRevocationStore).
//
// # Queries
//
// An authenticated read is one SELECT by id that also excludes expired
// rows. It leaves the token's hash, the handle and the columns a write
// leaves alone in Record.Opaque, so the writes of the same request
// compute no second HMAC, address the row by its primary key and rewrite
// only what changed: a write sets data, last_seen and expires_at, a touch
// last_seen and expires_at, and neither rewrites the indexed user_key. A
// write is one UPDATE of a live row; if it matches no row (the session was
// logged out, revoked or expired meanwhile) it returns
// securesession.ErrNoRecord and never re-creates the row. Logout is a
// DELETE; RevokeUser, RevokeHandle and ListUser are one statement each.
// RevokeHandle returns an error wrapping securesession.ErrNoRecord when no
// live session of the user has that handle.
//
// These per-request statements run as database/sql prepared statements on
// the *sql.DB under the *gorm.DB, rendered once in its dialect by GORM:
// building each statement through GORM cost more than SQLite takes to run
// it. GORM callbacks and plugins therefore do not see them; trace them at
// the database/sql driver. GORM creates and migrates the table and runs
// the sweeper.
//
// # Rotation and revocation
//
// Rotation (login, privilege change) is one UPDATE that moves the row to
// the new token's hash in place: the row keeps its primary key, and so its
// handle, and gets every other column from the new record. A rotation
// that changes the user (a login on an anonymous session, or as someone
// else) also gives the session a new handle, so that a handle always names
// one user's session on one device; a rotation or re-login of the same
// user keeps it. This is what makes "log out everywhere" catch a session
// rotating at the same moment. A revocation is a DELETE by user_key (or by
// handle and user_key); whichever statement reaches the row first, the
// other then meets the same row:
//
//   - If the DELETE locks the row first, the rotation's UPDATE waits,
//     finds the row gone, matches nothing, and Rotate returns ErrNoRecord:
//     the session is not brought back under a new token.
//   - If the UPDATE locks it first, the DELETE waits for it to commit and
//     then re-reads the row rather than skipping it. PostgreSQL, under READ
//     COMMITTED, re-checks the DELETE's WHERE on the updated row version;
//     InnoDB's locking read takes the latest committed version; SQLite
//     runs one writer at a time. The rotated session still has the user's
//     key (and its handle), so it is deleted.
//
// A rotation made of a DELETE and an INSERT would not be caught that way:
// on PostgreSQL the waiting DELETE skips the deleted row and never sees the
// inserted one, which its snapshot predates, and the rotated session
// outlives the revocation. Likewise a handle derived from the token would
// change at every rotation, and "end this session" on a list shown before
// a rotation would match nothing.
//
// On InnoDB a DELETE by user and an UPDATE reaching the row through the id
// index can lock the row and the index entry in opposite orders; writes
// that know the handle go through the primary key instead, and a deadlock
// the database breaks anyway (MySQL and MariaDB error 1213, PostgreSQL
// SQLSTATE 40P01) is retried, as is SQLite's "database is locked", a few
// times with backoff: the failed statement wrote nothing, and every
// operation is one statement, safe to repeat.
//
// # User IDs are compared exactly
//
// Two user IDs are the same user only if their bytes are equal: "Alice",
// "alice", "alice " and "josé" in NFC and NFD are five users, whatever the
// database's collation. MySQL's and MariaDB's default collations fold case
// and accents and ignore trailing spaces, and SQL Server's = ignores
// trailing spaces under any collation, so the per-user statements compare
// user_key, a SHA-256 in lowercase hex, which has nothing to fold. The
// application should normalise user IDs itself if it wants "Alice" and
// "alice" to be one user; the store never does.
//
// # Operations
//
// A database error is returned as it is, so that the middleware fails the
// request (503) rather than treating the client as logged out.
//
// Expired rows are deleted by a background sweeper in bounded batches;
// Close stops it.
//
// On MySQL and MariaDB, open the connection with clientFoundRows=true, so
// that an UPDATE that changes no value still counts the row it matched.
package gorm
