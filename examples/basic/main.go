// Command basic is the securesession demo app on the encrypted-cookie
// backend: nothing to install, no server to run.
//
//	go run ./examples/basic
//
// then open http://127.0.0.1:8080 and log in as demo / demo-password.
//
// Environment:
//
//	ADDR          listen address (default 127.0.0.1:8080)
//	SESSION_KEYS  comma-separated base64 32-byte keys, first one seals
//	              (`openssl rand -base64 32`); a random key when unset
//	TLS_CERT_FILE, TLS_KEY_FILE  serve HTTPS
package main

import (
	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	store, err := cookie.NewStore(demoapp.Keys()...)
	if err != nil {
		demoapp.Fatal("creating the cookie store", err)
	}
	// A cookie-only session cannot be ended on the server, so a copy of the
	// cookie taken before logout would stay valid until it times out. This
	// in-memory revocation list closes that window for a single process.
	// Several instances behind a load balancer need a shared Revocation
	// (or a server-side backend: see examples/sqlite, examples/memcache).
	store.SetRevocation(cookie.NewMemoryRevocation(securesession.DefaultAbsoluteTimeout))

	demoapp.Run(demoapp.Config{Backend: store, BackendName: "cookie"})
}
