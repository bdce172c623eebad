// Command sqlite is the securesession demo app with sessions in a SQLite
// table: it lists each user's active sessions with a revoke button, and
// logout takes effect on the server. It needs cgo (a C compiler) for the
// SQLite driver. This file is the whole wiring.
//
//	DEV=1 go run ./examples/sqlite
//
// Environment (besides DEV, TRUSTED_PROXIES, ADDR, TLS_CERT_FILE and
// TLS_KEY_FILE; see examples/basic):
//
//	SQLITE_PATH   database file (default sessions.db in the working directory)
//	SESSION_KEYS  exactly one base64 32-byte key for this backend
package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
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

	// sqlite.Open sets WAL mode and a busy timeout, so concurrent requests
	// do not fail with "database is locked". Use a persistent path such as
	// /var/lib/yourapp/sessions.db in production. GORM's logger prints SQL
	// with its arguments: keep it quiet, the middleware reports errors.
	db, err := sqlite.Open(demoapp.Getenv("SQLITE_PATH", "sessions.db"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		demoapp.Fatal("opening the SQLite database", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		demoapp.Fatal("opening the SQLite database", err)
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
	demoapp.Register(r, "sqlite")

	demoapp.Serve(&http.Server{
		Addr:              demoapp.Getenv("ADDR", demoapp.DefaultAddr),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}, store.Close, sqlDB.Close) // stop the sweeper, then close the database
}
