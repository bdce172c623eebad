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
//	id          varchar(64)  primary key: hex HMAC-SHA256 of (cookie name, token)
//	user_id     varchar(255) not null, indexed ("" when anonymous)
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
	ID        string `gorm:"column:id;primaryKey;size:64"`
	UserID    string `gorm:"column:user_id;size:255;not null;index"`
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
	if err := s.db.Table(s.table).AutoMigrate(&sessionRow{}); err != nil {
		return fmt.Errorf("securesession/gorm: AutoMigrate of table %q: %w", s.table, err)
	}
	return nil
}

func newRow(id string, rec *securesession.Record) sessionRow {
	return sessionRow{
		ID:        id,
		UserID:    rec.UserID,
		Data:      rec.Values,
		Created:   encTime(rec.Created),
		AuthTime:  encTime(rec.AuthTime),
		LastSeen:  encTime(rec.LastSeen),
		Deadline:  encTime(rec.Deadline),
		ExpiresAt: encExpires(rec.Expires),
		UserAgent: rec.UserAgent,
		IP:        rec.IP,
		Binding:   rec.Binding,
	}
}

func (r *sessionRow) record() securesession.Record {
	rec := securesession.Record{
		Handle:    r.ID,
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
