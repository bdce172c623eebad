package gorm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
)

// sessionRow is one row of the sessions table. The struct has no TableName
// method: every statement names the configured table with Table.
//
// Columns (types as GORM maps them; PostgreSQL shown):
//
//	handle      varchar(32)  primary key: the session's handle, 128 random bits in hex,
//	                         kept by every rotation that keeps the user (on SQLite
//	                         not a key: see createSQLiteTable)
//	id          varchar(64)  not null, unique: hex HMAC-SHA256 of (cookie name, token)
//	user_id     varchar(255) not null ("" when anonymous)
//	user_key    varchar(64)  not null, indexed: hex SHA-256 of user_id, what per-user
//	                         statements compare
//	data        bytea        the encoded session values, no size cap
//	created     bigint       Unix nanoseconds, as are the other times
//	auth_time   bigint
//	last_seen   bigint
//	deadline    bigint
//	expires_at  bigint       not null, max int64 = never; indexed (by migrate, as
//	                         idx_<table>_expires_at), except on SQLite: see
//	                         createSQLiteTable
//	user_agent  text
//	ip          text
//	binding     bytea        nullable: the DBSC device binding, NULL when unbound
type sessionRow struct {
	Handle    string `gorm:"column:handle;primaryKey;size:32"`
	ID        string `gorm:"column:id;size:64;not null;uniqueIndex"`
	UserID    string `gorm:"column:user_id;size:255;not null"`
	UserKey   string `gorm:"column:user_key;size:64;not null;index"`
	Data      []byte `gorm:"column:data"`
	Created   int64  `gorm:"column:created;not null"`
	AuthTime  int64  `gorm:"column:auth_time;not null"`
	LastSeen  int64  `gorm:"column:last_seen;not null"`
	Deadline  int64  `gorm:"column:deadline;not null"`
	ExpiresAt int64  `gorm:"column:expires_at;not null"` // indexed by migrate, not by a tag
	UserAgent string `gorm:"column:user_agent;not null"`
	IP        string `gorm:"column:ip;not null"`
	// Binding is nullable and last, so that AutoMigrate adds it to an
	// existing table without a default and old rows read as unbound.
	Binding []byte `gorm:"column:binding"`
}

func (s *Store) migrate() error {
	// A table of an earlier version has the token hash as its primary key,
	// which AutoMigrate cannot move, or no user_key: added by AutoMigrate,
	// it would be empty in the existing rows, which no RevokeUser could
	// then reach.
	m := s.db.Table(s.table).Migrator()
	if m.HasTable(s.table) {
		for _, col := range []string{"handle", "user_key"} {
			if !m.HasColumn(&sessionRow{}, col) {
				return fmt.Errorf("securesession/gorm: table %q has the layout of an earlier version (no %s column): "+
					"drop it, which ends every session, or set Options.TableName to a new table", s.table, col)
			}
		}
	}
	if s.db.Dialector.Name() == "sqlite" && !m.HasTable(s.table) {
		if err := s.createSQLiteTable(); err != nil {
			return err
		}
	}
	if err := s.db.Table(s.table).AutoMigrate(&sessionRow{}); err != nil {
		return fmt.Errorf("securesession/gorm: AutoMigrate of table %q: %w", s.table, err)
	}
	if s.db.Dialector.Name() == "sqlite" {
		return nil // no expires_at index: see createSQLiteTable
	}
	name := "idx_" + s.table + "_expires_at"
	if m.HasIndex(s.table, name) {
		return nil
	}
	q := s.single.Statement.Quote
	if err := s.single.Exec("CREATE INDEX " + q(name) + " ON " + q(s.table) + " (" + q("expires_at") + ")").Error; err != nil {
		return fmt.Errorf("securesession/gorm: creating index %q on table %q: %w", name, s.table, err)
	}
	return nil
}

// createSQLiteTable creates the sessions table on SQLite, in one
// transaction, with the columns, types and index names AutoMigrate gives
// sessionRow (so that AutoMigrate then finds nothing to change) but
// without the primary key on handle: a rowid table whose handle column has
// no index of its own. Nor does it index expires_at, as migrate does on
// the other databases.
//
// Each b-tree an INSERT touches costs at least one page in the write-ahead
// log, and the log's checkpoints, with their fsyncs, come every 1000
// pages; a primary key on a text column is an index beside the rowid
// table, one more b-tree, and the one whose page is a random one. Nothing
// on SQLite needs it: every statement that names a handle also names the
// id or the user_key, whose indexes find the row (Cleanup deletes by
// rowid), and handles are unique as 128 random bits are, without a
// constraint to check it. An index on expires_at would cost every login
// a page more, and every write and activity refresh, which move
// expires_at, another; only Cleanup would read it, and on SQLite Cleanup
// walks the table in rowid order instead (a read, which in WAL mode
// blocks no request). So a login writes three b-trees: the table, id and
// user_key.
func (s *Store) createSQLiteTable() error {
	q := s.single.Statement.Quote
	t := q(s.table)
	ddl := []string{
		"CREATE TABLE " + t + " (`handle` text,`id` text NOT NULL,`user_id` text NOT NULL,`user_key` text NOT NULL," +
			"`data` blob,`created` integer NOT NULL,`auth_time` integer NOT NULL,`last_seen` integer NOT NULL," +
			"`deadline` integer NOT NULL,`expires_at` integer NOT NULL,`user_agent` text NOT NULL,`ip` text NOT NULL," +
			"`binding` blob)",
		"CREATE INDEX " + q("idx_"+s.table+"_user_key") + " ON " + t + "(`user_key`)",
		"CREATE UNIQUE INDEX " + q("idx_"+s.table+"_id") + " ON " + t + "(`id`)",
	}
	err := s.single.Transaction(func(tx *gormdb.DB) error {
		for _, stmt := range ddl {
			if err := tx.Exec(stmt).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("securesession/gorm: creating table %q: %w", s.table, err)
	}
	return nil
}

// keptCols are the columns of a row that a write of values or activity
// leaves as they were: everything but data, last_seen and expires_at (and
// the handle and id, which only Create and Rotate set). Update compares
// them with what the request read to rewrite only the columns that
// changed.
type keptCols struct {
	userID                      string
	created, authTime, deadline int64
	userAgent, ip               string
	binding                     string // the bytes of the binding column; "" is NULL
}

// bindingArg returns the binding column's value: NULL when unbound.
func (k *keptCols) bindingArg() any {
	if k.binding == "" {
		return nil
	}
	return []byte(k.binding)
}

// keptOf returns the kept columns of rec, encoded as stored.
func keptOf(rec *securesession.Record) keptCols {
	return keptCols{userID: rec.UserID, created: encTime(rec.Created), authTime: encTime(rec.AuthTime),
		deadline: encTime(rec.Deadline), userAgent: rec.UserAgent, ip: rec.IP, binding: string(rec.Binding)}
}

// kept returns the kept columns of r.
func (r *sessionRow) kept() keptCols {
	return keptCols{userID: r.UserID, created: r.Created, authTime: r.AuthTime, deadline: r.Deadline,
		userAgent: r.UserAgent, ip: r.IP, binding: string(r.Binding)}
}

func (r *sessionRow) record() securesession.Record {
	rec := securesession.Record{
		Handle:    r.Handle,
		UserID:    r.UserID,
		AuthTime:  decTime(r.AuthTime),
		Created:   decTime(r.Created),
		LastSeen:  decTime(r.LastSeen),
		Deadline:  decTime(r.Deadline),
		Expires:   decExpires(r.ExpiresAt),
		UserAgent: r.UserAgent,
		IP:        r.IP,
	}
	if len(r.Data) > 0 {
		rec.Values = r.Data
	}
	if len(r.Binding) > 0 {
		rec.Binding = r.Binding
	}
	return rec
}

// Times are stored as Unix nanoseconds in BIGINT columns: exact to the
// nanosecond on every database (PostgreSQL timestamps keep microseconds),
// compared as integers (SQLite stores DATETIME as text, whose comparison
// breaks across time zones), and free of time-zone conversion. 0 is the
// zero time. Times outside 1678..2262 are clamped.

func encTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if t.Before(minTime) {
		return math.MinInt64 + 1
	}
	if t.After(maxTime) {
		return math.MaxInt64 - 1
	}
	return t.UnixNano()
}

func decTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// A zero Record.Expires means the session never lapses on its own; it is
// stored as the largest value so that the row is never filtered out or
// swept.
func encExpires(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64
	}
	return encTime(t)
}

func decExpires(n int64) time.Time {
	if n == math.MaxInt64 {
		return time.Time{}
	}
	return decTime(n)
}

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64-1)
)

// userKey returns what the per-user statements compare: the hex SHA-256
// of the user ID's bytes. Comparing it is exact on every database,
// whatever the collation of the column: two user IDs that differ in case,
// in trailing or leading spaces or in Unicode normalisation have different
// keys, and a key has no case, spaces or accents to fold.
func userKey(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return hex.EncodeToString(sum[:])
}

func checkRecord(rec *securesession.Record) error {
	if len(rec.UserID) > MaxUserIDLen {
		return fmt.Errorf("securesession/gorm: Record.UserID is %d bytes; the user_id column holds at most %d", len(rec.UserID), MaxUserIDLen)
	}
	return nil
}
