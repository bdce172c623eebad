// Command postgres is the securesession demo app with sessions in a
// PostgreSQL table: it lists each user's active sessions with a revoke
// button, and logout takes effect on the server for every instance of the
// app.
//
//	DATABASE_URL='postgres://app@localhost:5432/app?sslmode=disable' go run ./examples/postgres
//
// Environment (besides ADDR, SESSION_KEYS, TLS_CERT_FILE, TLS_KEY_FILE; see
// examples/basic):
//
//	DATABASE_URL  PostgreSQL connection URL or key=value DSN (required);
//	              prefer $PGPASSWORD or ~/.pgpass to a password in the URL
//	SESSION_KEYS  exactly one base64 32-byte key for this backend
package main

import (
	"errors"
	"os"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		demoapp.Fatal("configuring the database", errors.New("DATABASE_URL is not set; e.g. postgres://app@localhost:5432/app?sslmode=disable"))
	}
	// GORM's logger prints SQL with its arguments; keep it quiet; the
	// middleware reports every error the store returns.
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		// The driver's error names the user and database, never the password.
		demoapp.Fatal("connecting to PostgreSQL", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		demoapp.Fatal("opening the PostgreSQL database", err)
	}
	store, err := ssgorm.NewStore(db, ssgorm.Options{Key: demoapp.SingleKey()})
	if err != nil {
		demoapp.Fatal("creating the session store", err)
	}
	demoapp.Run(demoapp.Config{
		Backend:     store,
		BackendName: "postgres",
		Options:     securesession.Options{RecordClientInfo: true},
		Close:       demoapp.CloseAll(store.Close, sqlDB.Close),
	})
}
