// Command sqlite is the securesession demo app with sessions in a SQLite
// table: it lists each user's active sessions with a revoke button, and
// logout takes effect on the server. It needs cgo (a C compiler) for the
// SQLite driver.
//
//	go run ./examples/sqlite
//
// Environment (besides ADDR, SESSION_KEYS, TLS_CERT_FILE, TLS_KEY_FILE; see
// examples/basic):
//
//	SQLITE_PATH   database file (default sessions.db in the working directory)
//	SESSION_KEYS  exactly one base64 32-byte key for this backend
package main

import (
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	// sqlite.Open sets WAL mode and a busy timeout, so concurrent requests
	// do not fail with "database is locked". Use a persistent path such as
	// /var/lib/yourapp/sessions.db in production.
	db, err := sqlite.Open(demoapp.Getenv("SQLITE_PATH", "sessions.db"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		demoapp.Fatal("opening the SQLite database", err)
	}
	// NewStore creates the table and starts a sweeper for expired rows.
	sqlDB, err := db.DB()
	if err != nil {
		demoapp.Fatal("opening the SQLite database", err)
	}
	store, err := ssgorm.NewStore(db, ssgorm.Options{Key: demoapp.SingleKey()})
	if err != nil {
		demoapp.Fatal("creating the session store", err)
	}
	demoapp.Run(demoapp.Config{
		Backend:     store,
		BackendName: "sqlite",
		Options:     securesession.Options{RecordClientInfo: true},
		Close:       demoapp.CloseAll(store.Close, sqlDB.Close),
	})
}
