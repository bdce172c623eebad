// Command postgres is the securesession demo app with sessions in a
// PostgreSQL table: it lists each user's active sessions with a revoke
// button, and logout takes effect on the server for every instance of the
// app. This file is the whole wiring.
//
//	DEV=1 DATABASE_URL='postgres://app@localhost:5432/app?sslmode=disable' go run ./examples/postgres
//
// Environment (besides DEV, TRUSTED_PROXIES, ADDR, TLS_CERT_FILE and
// TLS_KEY_FILE; see examples/basic):
//
//	DATABASE_URL  PostgreSQL connection URL or key=value DSN (required);
//	              prefer $PGPASSWORD or ~/.pgpass to a password in the URL
//	SESSION_KEYS  exactly one base64 32-byte key for this backend
package main

import (
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	dev := demoapp.Dev() // DEV=1, and a loud warning; never on by itself

	// One key: the store derives from it the key that hashes session IDs
	// in the table, so changing it ends every session.
	keys, err := sessionkeys.FromEnv("SESSION_KEYS")
	keys, err = demoapp.DevKeys(keys, err, dev) // DEV=1 only: a random key when unset
	if err == nil && len(keys) != 1 {
		err = errors.New("SESSION_KEYS holds several keys; the gorm backend takes exactly one")
	}
	if err != nil {
		demoapp.Fatal("reading the session keys", err)
	}

	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		demoapp.Fatal("configuring the database", errors.New("DATABASE_URL is not set; e.g. postgres://app@localhost:5432/app?sslmode=disable"))
	}
	// GORM's logger prints SQL with its arguments: keep it quiet, the
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
	// NewStore creates the table and starts a sweeper for expired rows.
	store, err := ssgorm.NewStore(db, ssgorm.Options{Key: keys[0]})
	if err != nil {
		demoapp.Fatal("creating the session store", err)
	}

	proxies := demoapp.List("TRUSTED_PROXIES")
	// The zero Options are the secure defaults. Errors (503 when the
	// database fails) get the middleware's short default page, or JSON.
	mw, err := securesession.New(store, securesession.Options{
		InsecureAllowHTTP: dev,
		TrustedProxies:    proxies,
		RecordClientInfo:  true, // user agent and IP on the sessions page
	})
	if err != nil {
		demoapp.Fatal("configuring sessions", err)
	}

	r := gin.New()
	if err := r.SetTrustedProxies(proxies); err != nil { // the same list for ClientIP
		demoapp.Fatal("configuring trusted proxies", err)
	}
	r.Use(gin.Logger(), gin.Recovery(), mw)
	demoapp.Register(r, "postgres")

	demoapp.Serve(&http.Server{
		Addr:              demoapp.Getenv("ADDR", demoapp.DefaultAddr),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}, store.Close, sqlDB.Close) // stop the sweeper, then close the database
}
