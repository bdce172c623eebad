package gorm

import (
	"testing"
	"time"

	gormdb "gorm.io/gorm"
)

// Run with: go test -run '^$' -bench . ./backends/gorm/
//
// SQLite is a file opened with the sqlite subpackage (WAL, busy timeout,
// synchronous=NORMAL); PostgreSQL is the local test server (fsync off), so
// its numbers are loopback round trips, not durability.

func benchDBs(b *testing.B, f func(b *testing.B, db *gormdb.DB)) {
	b.Run("sqlite", func(b *testing.B) { f(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { f(b, openPostgres(b)) })
}

// benchStore returns a store holding one live session and its token.
func benchStore(b *testing.B, db *gormdb.DB) (*Store, string) {
	s := newStore(b, db, Options{})
	tok, err := s.Create(bg, "sid", newRecord(time.Now(), "alice", string(make([]byte, 512))))
	if err != nil {
		b.Fatal(err)
	}
	return s, tok
}

// An authenticated read: one SELECT by primary key excluding expired rows.
func BenchmarkFind(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s, tok := benchStore(b, db)
		b.ReportAllocs()
		for b.Loop() {
			if _, found, err := s.Find(bg, "sid", tok); err != nil || !found {
				b.Fatal(found, err)
			}
		}
	})
}

func BenchmarkFindParallel(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s, tok := benchStore(b, db)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, found, err := s.Find(bg, "sid", tok); err != nil || !found {
					b.Error(found, err)
					return
				}
			}
		})
	})
}

// An authenticated write: one UPDATE of every column.
func BenchmarkUpdate(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s, tok := benchStore(b, db)
		rec := newRecord(time.Now(), "alice", string(make([]byte, 512)))
		b.ReportAllocs()
		for b.Loop() {
			rec.LastSeen = time.Now()
			if _, err := s.Update(bg, "sid", tok, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Activity only: one UPDATE of last_seen and expires_at.
func BenchmarkTouch(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s, tok := benchStore(b, db)
		rec := newRecord(time.Now(), "alice", "")
		b.ReportAllocs()
		for b.Loop() {
			rec.LastSeen = time.Now()
			rec.Expires = rec.LastSeen.Add(30 * time.Minute)
			if _, err := s.Touch(bg, "sid", tok, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A login: DELETE of the anonymous session and INSERT of the new one in a
// transaction.
func BenchmarkRotate(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s, tok := benchStore(b, db)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if tok, err = s.Rotate(bg, "sid", tok, newRecord(time.Now(), "alice", "cart")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A new session: one INSERT.
func BenchmarkCreate(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s := newStore(b, db, Options{})
		rec := newRecord(time.Now(), "", "cart")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Create(bg, "sid", rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The floor for Find: the same SELECT by primary key through database/sql,
// without GORM, the token hash or the expiry filter.
func BenchmarkBareSelectByPrimaryKey(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *gormdb.DB) {
		s, tok := benchStore(b, db)
		id := s.hasher.Hex("sid", tok)
		sqlDB, _ := db.DB()
		q := "SELECT user_id, data, expires_at FROM " + s.table + " WHERE id = ?"
		if db.Dialector.Name() == "postgres" {
			q = "SELECT user_id, data, expires_at FROM " + s.table + " WHERE id = $1"
		}
		stmt, err := sqlDB.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		var user string
		var data []byte
		var exp int64
		b.ReportAllocs()
		for b.Loop() {
			if err := stmt.QueryRow(id).Scan(&user, &data, &exp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
