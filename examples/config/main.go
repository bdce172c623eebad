// Command config is the securesession demo app with its backend chosen by
// one configuration string, so the same binary runs on any backend:
//
//	SESSION_BACKEND='cookie:?revocation=memory'              go run ./examples/config
//	SESSION_BACKEND='memcache://127.0.0.1:11211?prefix=demo:' go run ./examples/config
//	SESSION_BACKEND='sqlite:///var/lib/demo/sessions.db'     go run ./examples/config
//	SESSION_BACKEND='postgres://app@localhost/app?sslmode=disable' go run ./examples/config
//
// See package backends/config for every form and parameter. Keys are never
// part of that string: they come from SESSION_KEYS (one key for memcache,
// sqlite and postgres; one or more for cookie, the first sealing).
// Besides these two it reads ADDR, TLS_CERT_FILE and TLS_KEY_FILE (see
// examples/basic).
package main

import (
	"log/slog"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	spec, err := config.Parse(demoapp.Getenv("SESSION_BACKEND", "cookie:?revocation=memory"))
	if err != nil {
		demoapp.Fatal("parsing SESSION_BACKEND", err) // the error never contains a password
	}
	// In production config.FromEnv("SESSION_BACKEND", "SESSION_KEYS") reads
	// both settings and fails when the keys are missing; the demo falls
	// back to a random development key instead.
	store, err := config.OpenSpec(spec, demoapp.Keys())
	if err != nil {
		demoapp.Fatal("opening the session backend", err)
	}
	slog.Info("session backend", "config", store.String()) // password redacted
	demoapp.Run(demoapp.Config{
		Backend:     store.Backend,
		BackendName: spec.Scheme,
		Options:     securesession.Options{RecordClientInfo: true},
		Close:       store.Close,
	})
}
