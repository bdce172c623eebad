package memcache_test

import (
	"crypto/rand"
	"fmt"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/memcache"
)

// Every instance of a fleet runs the cookie backend with a
// SharedRevocation over the same memcached servers, so that a logout on
// one refuses the copied cookie on all. NewRevocationStore checks its
// options without contacting the servers.
func ExampleNewRevocationStore() {
	client := gomemcache.New("10.0.0.1:11211") // memcached -M: an evicted revocation is a forgotten one
	revocations, err := memcache.NewRevocationStore(client, memcache.RevocationStoreOptions{Prefix: "myapp-rev:"})
	if err != nil {
		panic(err)
	}
	rev, err := cookie.NewSharedRevocation(revocations, cookie.SharedRevocationOptions{})
	if err != nil {
		panic(err)
	}
	defer rev.Close()
	key := make([]byte, 32) // in production: the same secret on every instance
	rand.Read(key)
	store, err := cookie.NewStore(cookie.Options{Keys: [][]byte{key}, Revocation: rev})
	fmt.Println(store != nil, err)

	_, err = memcache.NewRevocationStore(client, memcache.RevocationStoreOptions{LogRetention: 1})
	fmt.Println(err)
	// Output:
	// true <nil>
	// securesession/memcache: RevocationStoreOptions.LogRetention 1ns is shorter than 1m0s
}
