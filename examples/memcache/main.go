// Command memcache is the securesession demo app with sessions kept in
// memcached: logout and "log out everywhere" take effect on the server,
// across every instance of the app.
//
//	memcached -u memcache -l 127.0.0.1 &   # apt-get install memcached; -u is required as root
//	go run ./examples/memcache
//
// Environment (besides ADDR, SESSION_KEYS, TLS_CERT_FILE, TLS_KEY_FILE; see
// examples/basic):
//
//	MEMCACHE_SERVERS  comma-separated host:port list (default 127.0.0.1:11211)
//	SESSION_KEYS      exactly one base64 32-byte key for this backend
package main

import (
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
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
		Key:    demoapp.SingleKey(),
		Prefix: "demo:", // one prefix per application sharing the servers
	})
	if err != nil {
		demoapp.Fatal("creating the memcache store", err)
	}
	demoapp.Run(demoapp.Config{
		Backend:     store,
		BackendName: "memcache",
		Options:     securesession.Options{RecordClientInfo: true},
		Close:       client.Close,
	})
}
