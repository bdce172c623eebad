package cookie_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/gin-securesession/securesession/backends/cookie"
)

// allocStore is a store with one random key and a cache of size cache.
func allocStore(t *testing.T, cache int) *cookie.Store {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	s, err := cookie.NewStore(cookie.Options{Keys: [][]byte{k}, CacheSize: cache})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOpeningANeverSeenCookieCostsThreeAllocations pins the cost of a
// cookie the cache cannot answer: the scratch buffers are pooled, and what
// the request keeps is one record with its strings in one allocation and
// its values in another.
func TestOpeningANeverSeenCookieCostsThreeAllocations(t *testing.T) {
	s := allocStore(t, -1) // every Find opens the cookie
	tok := mustCreate(t, s, sample())
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() {
		if _, found, err := s.Find(ctx, name, tok); !found || err != nil {
			t.Fatalf("found=%v err=%v", found, err)
		}
	}); n > 3 {
		t.Fatalf("Find of an uncached cookie allocated %v times, want at most 3", n)
	}
}

// TestSealingALoginCostsThreeAllocations pins the cost of a new session's
// cookie with the cache on: the cookie string (which also holds the
// handle's hex), and the cache entry with its copy of the values.
func TestSealingALoginCostsThreeAllocations(t *testing.T) {
	s := allocStore(t, 0)
	ctx := context.Background()
	rec := sample()
	if n := testing.AllocsPerRun(200, func() {
		r := *rec
		if _, err := s.Create(ctx, name, &r); err != nil {
			t.Fatal(err)
		}
	}); n > 3 {
		t.Fatalf("Create allocated %v times, want at most 3", n)
	}
}

// TestACachedReadAllocatesNothing pins the warm read: a cookie the store
// sealed or opened before is answered from the cache without allocating.
func TestACachedReadAllocatesNothing(t *testing.T) {
	s := allocStore(t, 0)
	tok := mustCreate(t, s, sample())
	ctx := context.Background()
	if n := testing.AllocsPerRun(200, func() {
		if _, found, err := s.Find(ctx, name, tok); !found || err != nil {
			t.Fatalf("found=%v err=%v", found, err)
		}
	}); n != 0 {
		t.Fatalf("Find of a cached cookie allocated %v times, want 0", n)
	}
}
