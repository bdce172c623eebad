// Command memcache is the securesession demo app with sessions kept in
// memcached: logout and "log out everywhere" take effect on the server,
// across every instance of the app. This file is the whole wiring.
//
//	memcached -u memcache -l 127.0.0.1 &   # apt-get install memcached; -u is required as root
//	DEV=1 go run ./examples/memcache
//
// Environment (besides DEV, TRUSTED_PROXIES, ADDR, TLS_CERT_FILE and
// TLS_KEY_FILE; see examples/basic):
//
//	MEMCACHE_SERVERS  comma-separated host:port list (default 127.0.0.1:11211)
//	SESSION_KEYS      exactly one base64 32-byte key for this backend
package main

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	dev := demoapp.Dev() // DEV=1, and a loud warning; never on by itself

	// One key: the store derives from it the key that hashes session IDs
	// into memcached keys, so changing it ends every session.
	keys, err := sessionkeys.FromEnv("SESSION_KEYS")
	keys, err = demoapp.DevKeys(keys, err, dev) // DEV=1 only: a random key when unset
	if err == nil && len(keys) != 1 {
		err = errors.New("SESSION_KEYS holds several keys; the memcache backend takes exactly one")
	}
	if err != nil {
		demoapp.Fatal("reading the session keys", err)
	}

	servers := strings.Split(demoapp.Getenv("MEMCACHE_SERVERS", "127.0.0.1:11211"), ",")
	client := memcache.New(servers...)
	// Bound every call: a slow memcached fails the request with 503 rather
	// than hanging it.
	client.Timeout = 500 * time.Millisecond
	client.MaxIdleConns = 16
	if err := client.Ping(); err != nil {
		demoapp.Fatal("memcached is not reachable at "+strings.Join(servers, ","), err)
	}
	store, err := ssmemcache.NewStore(client, ssmemcache.Options{
		Key:    keys[0],
		Prefix: "demo:", // one prefix per application sharing the servers
	})
	if err != nil {
		demoapp.Fatal("creating the memcache store", err)
	}

	proxies := demoapp.List("TRUSTED_PROXIES")
	// The zero Options are the secure defaults. Errors (503 when memcached
	// is down) get the middleware's short default page, or JSON.
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
	demoapp.Register(r, "memcache")

	demoapp.Serve(&http.Server{
		Addr:              demoapp.Getenv("ADDR", demoapp.DefaultAddr),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}, client.Close)
}
