package cookie

import (
	"sync"

	"github.com/gin-securesession/securesession"
)

// DefaultCacheSize is how many recently opened or sealed cookies a Store
// remembers unless Options.CacheSize says otherwise.
const DefaultCacheSize = 4096

const cacheShards = 16

// openCache remembers the result of opening recently seen cookies, so that
// the requests of an active session between two writes skip base64, the
// AEAD and decoding. A sealed cookie value never changes meaning, so an
// entry can never go stale: only authenticated cookies are added, lookups
// compare the whole value and the cookie name, and everything that can
// change (revocation, timeouts) is still checked on every request. Each
// shard holds at most size/cacheShards entries and is emptied when full.
type openCache struct {
	perShard int
	shards   [cacheShards]struct {
		mu sync.RWMutex
		m  map[string]*cached
	}
}

type cached struct {
	tok  string // the cache key, when open made the entry for the cache
	name string
	rec  securesession.Record // Values is shared and must not be modified
	st   state
	ki   int
}

func newOpenCache(size int) *openCache {
	if size <= 0 {
		return nil
	}
	c := &openCache{perShard: max(size/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*cached)
	}
	return c
}

// shard picks a shard from a character of the random nonce, which an
// attacker cannot choose for a cookie that opens.
func (c *openCache) shard(token string) int {
	return int(token[len(token)/4]) % cacheShards
}

func (c *openCache) get(name, token string) *cached {
	sh := &c.shards[c.shard(token)]
	sh.mu.RLock()
	e := sh.m[token]
	sh.mu.RUnlock()
	if e == nil || e.name != name {
		return nil
	}
	return e
}

func (c *openCache) put(token string, e *cached) {
	sh := &c.shards[c.shard(token)]
	sh.mu.Lock()
	if len(sh.m) >= c.perShard {
		clear(sh.m)
	}
	sh.m[token] = e
	sh.mu.Unlock()
}
