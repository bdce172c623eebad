package gorm

import (
	"testing"

	gormdb "gorm.io/gorm"
)

// The store prepares its statements on a pool of its own; the caller's
// *gorm.DB must keep its own connection pool, or every query the
// application runs would go through our statement cache.
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
		if s.single.Statement.ConnPool != s.stmts {
			t.Fatal("the store does not use its prepared statements")
		}
	})
}
