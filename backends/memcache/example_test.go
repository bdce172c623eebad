package memcache_test

import (
	"crypto/rand"
	"fmt"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession/backends/memcache"
)

// NewStore checks its Options without contacting the servers, so a
// misconfiguration fails at startup with an error naming the field.
func ExampleNewStore() {
	client := gomemcache.New("10.0.0.1:11211", "10.0.0.2:11211") // dials on first use
	key := make([]byte, 32)                                      // in production: from a secret store, as sessionkeys reads it
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}

	store, err := memcache.NewStore(client, memcache.Options{Key: key, Prefix: "myapp:"})
	fmt.Println(store != nil, err)

	_, err = memcache.NewStore(client, memcache.Options{Key: key, Prefix: "my app:"})
	fmt.Println(err)

	_, err = memcache.NewStore(client, memcache.Options{Key: []byte("correct horse battery staple")})
	fmt.Println(err)
	// Output:
	// true <nil>
	// securesession/memcache: Options.Prefix "my app:" must be printable ASCII without spaces or control characters (memcached key rules)
	// securesession/memcache: Options.Key: key must be exactly 32 random bytes, got 28 (generate one with `openssl rand -base64 32`)
}
