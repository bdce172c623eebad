package gorm

import (
	"testing"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
)

// The store prepares its statements on the *sql.DB under the caller's
// *gorm.DB; the caller's *gorm.DB must keep its own connection pool, or
// every query the application runs would go through a statement cache.
func TestPreparedStatementsDoNotLeakIntoCallersDB(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		before := db.Statement.ConnPool
		s := newStore(t, db, Options{})
		if db.Statement.ConnPool != before {
			t.Fatal("NewStore replaced the caller's connection pool")
		}
		if _, ok := db.Statement.ConnPool.(*gormdb.PreparedStmtDB); ok {
			t.Fatal("the caller's DB now prepares statements")
		}
		tok, err := s.Create(bg, "sid", newRecord(s.now(), "alice", "x"))
		if err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find(bg, "sid", tok); !found || err != nil {
			t.Fatal(found, err)
		}
		if s.stmts.find.st.Load() == nil || s.stmts.insert.st.Load() == nil {
			t.Fatal("the statements of Create and Find were not kept prepared")
		}
	})
}

// TestMethodsAfterCloseFail: Close releases the prepared statements; a
// method called afterwards returns an error, never a panic and never "not
// found", which the middleware would take for a logged-out client.
func TestMethodsAfterCloseFail(t *testing.T) {
	s := newStore(t, openSQLite(t), Options{})
	rec := newRecord(s.now(), "alice", "x")
	tok, err := s.Create(bg, "sid", rec)
	if err != nil {
		t.Fatal(err)
	}
	read, _, _ := s.Find(bg, "sid", tok)
	s.Close()
	if _, found, err := s.Find(bg, "sid", tok); err == nil {
		t.Errorf("Find after Close = %v, nil; want an error", found)
	}
	if _, err := s.Create(bg, "sid", newRecord(s.now(), "bob", "y")); err == nil {
		t.Error("Create after Close: no error")
	}
	if _, err := s.Update(bg, "sid", tok, &read); err == nil {
		t.Error("Update after Close: no error")
	}
	if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err == nil {
		t.Error("RevokeUser after Close: no error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close = %v", err)
	}
}
