package gorm

import (
	"fmt"

	"github.com/gin-securesession/securesession"
)

// sessionRow is one row of the sessions table. The struct has no TableName
// method: every statement names the configured table with Table.
//
// Columns (types as GORM maps them; PostgreSQL shown):
//
//	handle      varchar(32)  primary key: the session's handle, 128 random bits in hex,
//	                         kept by every rotation that keeps the user
//	id          varchar(64)  not null, unique: hex HMAC-SHA256 of (cookie name, token)
//	user_id     varchar(255) not null ("" when anonymous)
//	user_key    varchar(64)  not null, indexed: hex SHA-256 of user_id, what per-user
//	                         statements compare
//	data        bytea        the encoded session values, no size cap
//	created     bigint       Unix nanoseconds, as are the other times
//	auth_time   bigint
//	last_seen   bigint
//	deadline    bigint
//	expires_at  bigint       not null, indexed; max int64 = never
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
	ExpiresAt int64  `gorm:"column:expires_at;not null;index"`
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
	if err := s.db.Table(s.table).AutoMigrate(&sessionRow{}); err != nil {
		return fmt.Errorf("securesession/gorm: AutoMigrate of table %q: %w", s.table, err)
	}
	return nil
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
