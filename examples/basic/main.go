// Command basic is the securesession demo app on the encrypted-cookie
// backend: nothing to install, no server to run. This file is the whole
// wiring, to copy: keys, backend, options, error pages, proxies, routes.
// (Only the demo's templates and handlers live in examples/internal.)
//
//	DEV=1 go run ./examples/basic
//
// then open http://127.0.0.1:8080 and log in as demo / demo-password.
//
// Environment:
//
//	DEV=1            local development over plain HTTP: the session cookie
//	                 loses Secure on localhost (InsecureAllowHTTP), and a
//	                 random key is used when SESSION_KEYS is unset.
//	                 Never in production.
//	SESSION_KEYS     comma-separated base64 32-byte keys, first one seals
//	                 (`openssl rand -base64 32`); required without DEV=1
//	TRUSTED_PROXIES  addresses or CIDRs of the TLS-terminating reverse
//	                 proxies in front (e.g. 127.0.0.1 for nginx on the
//	                 same host); see the README, "Behind a reverse proxy"
//	REVOCATION_MEMCACHED  comma-separated memcached addresses
//	                 (host:port): several instances of the app share
//	                 their revocations there, so a cookie replayed after
//	                 logout is refused on every instance within 2 seconds
//	                 (at once on the instance that logged out). Unset:
//	                 an in-process list, right for one instance only.
//	                 (A database works too: see backends/config,
//	                 cookie:?revocation=postgres://...)
//	ADDR             listen address (default 127.0.0.1:8080)
//	TLS_CERT_FILE, TLS_KEY_FILE  serve HTTPS
package main

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	"github.com/gin-securesession/securesession/backends/cookie"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	dev := demoapp.Dev() // DEV=1, and a loud warning; never on by itself

	// Keys: the first seals new cookies, the others only open old ones
	// (rotation). sessionkeys names the variable and the bad key's
	// position in its errors, never the key.
	keys, err := sessionkeys.FromEnv("SESSION_KEYS")
	keys, err = demoapp.DevKeys(keys, err, dev) // DEV=1 only: a random key when unset
	if err != nil {
		demoapp.Fatal("reading the session keys", err)
	}
	store, err := cookie.NewStore(cookie.Options{
		Keys: keys,
		// A cookie-only session cannot be ended on the server, so a copy
		// of the cookie taken before logout would stay valid until it
		// times out. A revocation list makes a replayed cookie anonymous
		// and MaxAge: -1 a full logout.
		Revocation: revocation(),
	})
	if err != nil {
		demoapp.Fatal("creating the cookie store", err)
	}

	proxies := demoapp.List("TRUSTED_PROXIES")
	mw, err := securesession.New(store, securesession.Options{
		// The zero Options are the secure defaults; these are the only
		// deployment choices.
		InsecureAllowHTTP: dev,
		TrustedProxies:    proxies,
		// The defaults answer with a short page (or JSON) of their own;
		// these render the app's error template instead.
		ErrorHandler: func(c *gin.Context, err error) {
			slog.Error("session store", "path", c.FullPath(), "error", err) // err never holds a token
			var be *securesession.BackendError
			if errors.As(err, &be) {
				demoapp.ErrorPage(c, http.StatusServiceUnavailable)
				return
			}
			demoapp.ErrorPage(c, http.StatusInternalServerError)
		},
		CrossOriginDenied: func(c *gin.Context, err error) { demoapp.ErrorPage(c, http.StatusForbidden) },
	})
	if err != nil {
		demoapp.Fatal("configuring sessions", err)
	}

	r := gin.New()
	// The same proxies for gin's ClientIP; nil (no proxy) trusts no
	// X-Forwarded-For, where gin's default trusts everyone's.
	if err := r.SetTrustedProxies(proxies); err != nil {
		demoapp.Fatal("configuring trusted proxies", err)
	}
	r.Use(gin.Logger(), gin.Recovery(), mw)
	demoapp.Register(r, "cookie") // the demo's pages: login, profile, logout

	demoapp.Serve(&http.Server{
		Addr:              demoapp.Getenv("ADDR", demoapp.DefaultAddr),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	})
}

// revocation is the list of ended sessions: in this process's memory for
// a single instance, or shared by every instance through memcached when
// REVOCATION_MEMCACHED names servers.
func revocation() cookie.Revocation {
	servers := demoapp.List("REVOCATION_MEMCACHED")
	if len(servers) == 0 {
		return cookie.NewMemoryRevocation(securesession.DefaultAbsoluteTimeout)
	}
	client := memcache.New(servers...)
	shared, err := ssmemcache.NewRevocationStore(client, ssmemcache.RevocationStoreOptions{})
	if err != nil {
		demoapp.Fatal("connecting to the revocation store", err)
	}
	// Every instance refuses a revoked cookie within MaxStaleness (2s by
	// default); when memcached cannot be reached for longer, requests get
	// a 503 rather than an answer from stale state.
	rev, err := cookie.NewSharedRevocation(shared, cookie.SharedRevocationOptions{})
	if err != nil {
		demoapp.Fatal("starting the shared revocation", err)
	}
	return rev
}
