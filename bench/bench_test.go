package bench

// go test -run '^$' -bench . -benchmem
//
// BenchmarkRequests/<contender>/<Login|Read|Write> serves one request
// through the contender's Gin router; BenchmarkFloor/<op> is the bare
// operation with no router.

import (
	"context"
	"net/http"
	"testing"
)

func BenchmarkRequests(b *testing.B) {
	for _, c := range Contenders {
		b.Run(c.Name, func(b *testing.B) {
			for _, r := range Requests {
				if c.ReadOnly && r.Name != "Read" {
					continue
				}
				b.Run(r.Name, func(b *testing.B) {
					a := newApp(b, c)
					if err := a.Check(r); err != nil {
						b.Fatal(err)
					}
					req := a.NewRequest(r)
					w := &Sink{H: make(http.Header)}
					failed := 0
					var rt0 int64
					if a.RoundTrips != nil {
						rt0 = a.RoundTrips.Load()
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						if a.Serve(w, req) != http.StatusNoContent {
							failed++
						}
					}
					if failed > 0 {
						b.Fatalf("%d of %d requests failed", failed, b.N)
					}
					if a.RoundTrips != nil {
						b.ReportMetric(float64(a.RoundTrips.Load()-rt0)/float64(b.N), "roundtrips/op")
					}
				})
			}
		})
	}
}

func BenchmarkFloor(b *testing.B) {
	b.Run("aead-open", func(b *testing.B) {
		n, err := TypicalCookieLen()
		if err != nil {
			b.Fatal(err)
		}
		f, err := NewAEADFloor(n)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if !f.Open() {
				b.Fatal("open failed")
			}
		}
	})
	b.Run("memcached-getmulti", func(b *testing.B) {
		if env.MemcacheAddr == "" {
			b.Skip("SKIPPING: needs memcached: " + noMemcached)
		}
		f, closeFn, err := NewGetMultiFloor(env, MemcachedKeys)
		if err != nil {
			b.Fatal(err)
		}
		defer closeFn()
		b.ReportAllocs()
		for b.Loop() {
			if !f.Get() {
				b.Fatal("GetMulti failed")
			}
		}
	})
	b.Run("sqlite-select-pk", func(b *testing.B) {
		f, closeFn, err := NewSelectFloor(env)
		if err != nil {
			b.Fatal(err)
		}
		defer closeFn()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if !f.Select(ctx) {
				b.Fatal("SELECT failed")
			}
		}
	})
}
