// Command config is the securesession demo app with its backend chosen by
// one configuration string, so the same binary runs on any backend:
//
//	DEV=1 SESSION_BACKEND='cookie:?revocation=memory'              go run ./examples/config
//	DEV=1 SESSION_BACKEND='memcache://127.0.0.1:11211?prefix=demo:' go run ./examples/config
//	DEV=1 SESSION_BACKEND='sqlite:///var/lib/demo/sessions.db'     go run ./examples/config
//	DEV=1 SESSION_BACKEND='postgres://app@localhost/app?sslmode=disable' go run ./examples/config
//
// See package backends/config for every form and parameter. Keys are never
// part of that string: they come from SESSION_KEYS (one key for memcache,
// sqlite and postgres; one or more for cookie, the first sealing).
// Besides these two it reads DEV, TRUSTED_PROXIES, ADDR, TLS_CERT_FILE and
// TLS_KEY_FILE (see examples/basic). This file is the whole wiring.
package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	dev := demoapp.Dev() // DEV=1, and a loud warning; never on by itself

	spec, err := config.Parse(demoapp.Getenv("SESSION_BACKEND", "cookie:?revocation=memory"))
	if err != nil {
		demoapp.Fatal("parsing SESSION_BACKEND", err) // the error never contains a password
	}
	// In production config.FromEnv("SESSION_BACKEND", "SESSION_KEYS") reads
	// both settings and fails when the keys are missing; under DEV=1 the
	// demo falls back to a random development key instead.
	keys, err := sessionkeys.FromEnv("SESSION_KEYS")
	keys, err = demoapp.DevKeys(keys, err, dev)
	if err != nil {
		demoapp.Fatal("reading the session keys", err)
	}
	store, err := config.OpenSpec(spec, keys)
	if err != nil {
		demoapp.Fatal("opening the session backend", err)
	}
	slog.Info("session backend", "config", store.String()) // password redacted

	proxies := demoapp.List("TRUSTED_PROXIES")
	mw, err := securesession.New(store.Backend, securesession.Options{
		InsecureAllowHTTP: dev,
		TrustedProxies:    proxies,
		RecordClientInfo:  true,
	})
	if err != nil {
		demoapp.Fatal("configuring sessions", err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(proxies); err != nil { // the same list for ClientIP
		demoapp.Fatal("configuring trusted proxies", err)
	}
	r.Use(gin.Logger(), gin.Recovery(), mw)
	demoapp.Register(r, spec.Scheme)

	demoapp.Serve(&http.Server{
		Addr:              demoapp.Getenv("ADDR", demoapp.DefaultAddr),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}, store.Close)
}
