package bench

// Our backends' operations on their own, with no router and no
// middleware, through the securesession.Backend interface, for whoever
// works on a backend's speed:
//
//	go test -run '^$' -bench 'Backend/memcache/' -benchmem
//
// Find repeats one token (for the cookie backend that is a hit in its cache
// of opened cookies); FindNew finds b.N tokens created before the timer
// starts, each once.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
)

const cookieName = securesession.DefaultCookieName

func newRecord(now time.Time) *securesession.Record {
	return &securesession.Record{
		UserID:   userID,
		AuthTime: now,
		Created:  now,
		LastSeen: now,
		Deadline: now.Add(securesession.DefaultAbsoluteTimeout),
		Expires:  now.Add(securesession.DefaultIdleTimeout),
		Values:   []byte(strings.Repeat("v", 200)),
	}
}

var backends = []struct {
	name string
	new  func(tb testing.TB) securesession.Backend
}{
	{"cookie", func(tb testing.TB) securesession.Backend {
		s, err := newCookieStore(new(Clock), nil)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}},
	{"memcache", func(tb testing.TB) securesession.Backend {
		if env.MemcacheAddr == "" {
			tb.Skip("SKIPPING: needs memcached: " + noMemcached)
		}
		c, _, err := memcacheClient(env)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.Close() })
		s, err := ssmemcache.NewStore(c, ssmemcache.Options{Key: RandKey(32), Prefix: fmt.Sprintf("bk%d:", seq.Add(1))})
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}},
	{"gorm-sqlite", func(tb testing.TB) securesession.Backend {
		db, closeDB, err := openGORMSQLite(env, "backend")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(closeDB)
		s, err := ssgorm.NewStore(db, ssgorm.Options{Key: RandKey(32)})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
}

func BenchmarkBackend(b *testing.B) {
	ctx := context.Background()
	for _, bk := range backends {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.new(b)
			create := func(b *testing.B) string {
				tok, err := s.Create(ctx, cookieName, newRecord(time.Now()))
				if err != nil {
					b.Fatal(err)
				}
				return tok
			}
			find := func(b *testing.B, tok string) securesession.Record {
				rec, found, err := s.Find(ctx, cookieName, tok)
				if err != nil || !found {
					b.Fatalf("Find: found %v, %v", found, err)
				}
				return rec
			}
			b.Run("Create", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					create(b)
				}
			})
			b.Run("Find", func(b *testing.B) {
				tok := create(b)
				b.ReportAllocs()
				for b.Loop() {
					find(b, tok)
				}
			})
			b.Run("FindNew", func(b *testing.B) {
				toks := make([]string, b.N)
				for i := range toks {
					toks[i] = create(b)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for _, tok := range toks {
					find(b, tok)
				}
			})
			// Update and Touch as the middleware calls them: after a Find
			// of the token the previous call returned.
			for _, op := range []string{"Update", "Touch"} {
				b.Run("Find+"+op, func(b *testing.B) {
					tok := create(b)
					b.ReportAllocs()
					for b.Loop() {
						rec := find(b, tok)
						rec.LastSeen = time.Now()
						rec.Expires = rec.LastSeen.Add(securesession.DefaultIdleTimeout)
						var err error
						if op == "Update" {
							tok, err = s.Update(ctx, cookieName, tok, &rec)
						} else {
							tok, err = s.Touch(ctx, cookieName, tok, &rec)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run("Rotate", func(b *testing.B) {
				tok := create(b)
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if tok, err = s.Rotate(ctx, cookieName, tok, newRecord(time.Now())); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestBackendBenchmarksRun keeps BenchmarkBackend's setup honest without
// running it: every backend creates, finds, updates, touches and rotates.
func TestBackendBenchmarksRun(t *testing.T) {
	ctx := context.Background()
	for _, bk := range backends {
		t.Run(bk.name, func(t *testing.T) {
			s := bk.new(t)
			tok, err := s.Create(ctx, cookieName, newRecord(time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range []string{"Update", "Touch", "Rotate"} {
				rec, found, err := s.Find(ctx, cookieName, tok)
				if err != nil || !found {
					t.Fatalf("Find before %s: found %v, %v", op, found, err)
				}
				switch op {
				case "Update":
					tok, err = s.Update(ctx, cookieName, tok, &rec)
				case "Touch":
					tok, err = s.Touch(ctx, cookieName, tok, &rec)
				case "Rotate":
					tok, err = s.Rotate(ctx, cookieName, tok, newRecord(time.Now()))
				}
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
			}
		})
	}
}
