package cookie_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// device is one browser of a test user: its session cookie.
type device struct {
	h      http.Handler
	cookie string
}

func (d *device) do(t *testing.T, method, path string) string {
	t.Helper()
	req := httptest.NewRequest(method, "https://example.test"+path, nil)
	if d.cookie != "" {
		req.Header.Set("Cookie", securesession.DefaultCookieName+"="+d.cookie)
	}
	w := httptest.NewRecorder()
	d.h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		if c.Name == securesession.DefaultCookieName {
			d.cookie = c.Value
		}
	}
	return w.Body.String()
}

func revocationApp(t *testing.T, s *cookie.Store, opts securesession.Options) http.Handler {
	gin.SetMode(gin.TestMode)
	opts.Logger = slog.New(slog.DiscardHandler)
	mw, err := securesession.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
		}
	})
	r.POST("/logout-others", func(c *gin.Context) {
		if err := securesession.LogoutOthers(c); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
		}
	})
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "%s", securesession.UserID(c)) })
	return r
}

// With an idle timeout of 24 h and an absolute timeout of 48 h, a session
// ended by LogoutOthers came back 13 hours later: MemoryRevocation forgot
// per-user revocations after a fixed 12 hours once other writes pruned
// it. The revocation must last as long as the sessions it refuses.
//
// The clock starts 13 hours in the past so that the replay happens at
// the real present, whichever clock the revocation store prunes with.
func TestLogoutOthersStaysEffectiveAfterTwelveHours(t *testing.T) {
	clock := testclock.New()
	clock.Advance(-13 * time.Hour)
	s := newStoreWith(t, cookie.Options{Now: clock.Now, Revocation: cookie.NewMemoryRevocation(0)})
	h := revocationApp(t, s, securesession.Options{IdleTimeout: 24 * time.Hour, AbsoluteTimeout: 48 * time.Hour, Now: clock.Now})
	phone, laptop := &device{h: h}, &device{h: h}
	phone.do(t, "POST", "/login?user=alice")
	laptop.do(t, "POST", "/login?user=alice")
	laptop.do(t, "POST", "/logout-others")
	if got := phone.do(t, "GET", "/whoami"); got != "" {
		t.Fatalf("right after LogoutOthers the phone is %q", got)
	}
	stolen := phone.cookie

	clock.Advance(13 * time.Hour)
	// Other users log out everywhere meanwhile: the store prunes what it
	// believes it may forget.
	ctx := context.Background()
	for i := 0; i < 1100; i++ {
		if err := s.RevokeUser(ctx, fmt.Sprintf("user-%d", i), securesession.Ref{}); err != nil {
			t.Fatal(err)
		}
	}
	replay := &device{h: h, cookie: stolen}
	if got := replay.do(t, "GET", "/whoami"); got != "" {
		t.Fatalf("13 h after LogoutOthers, with a 48 h absolute timeout, the phone's cookie is logged in as %q", got)
	}
	if got := laptop.do(t, "GET", "/whoami"); got != "alice" {
		t.Fatalf("the laptop that called LogoutOthers is %q", got)
	}
}

// churn writes n unrelated revocations that expire at once, so that the
// writes after the next clock step prune whatever the store thinks has
// expired.
func churn(t *testing.T, rev *cookie.MemoryRevocation, now time.Time, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := rev.RevokeSession(context.Background(), fmt.Sprintf("churn-%d-%d", now.Unix(), i), cookie.AllTokens, now); err != nil {
			t.Fatal(err)
		}
	}
}

// A per-user revocation is kept until the absolute deadline of the
// sessions it refuses, here 48 h, however many writes prune the table
// meanwhile. (That it is then forgotten is TestMemoryRevocationForgets...
// in the package's internal tests.)
func TestUserRevocationLastsUntilTheDeadlineOfTheSessionsItRefuses(t *testing.T) {
	clock := testclock.New()
	rev := cookie.NewMemoryRevocation(0)
	s := newStoreWith(t, cookie.Options{Now: clock.Now, Revocation: rev})
	ctx := context.Background()
	now := clock.Now()
	rec := sample()
	rec.AuthTime, rec.Created, rec.LastSeen, rec.Deadline = now, now, now, now.Add(48*time.Hour)
	phone := mustCreate(t, s, rec)

	clock.Advance(time.Minute)
	if err := s.RevokeUser(ctx, "alice", securesession.Ref{}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{13 * time.Hour, 25 * time.Hour, 47*time.Hour + 58*time.Minute} {
		clock.Advance(at - clock.Now().Sub(now))
		churn(t, rev, clock.Now(), 2000)
		clock.Advance(time.Minute)
		churn(t, rev, clock.Now(), 2000)
		if found(s, phone) {
			t.Fatalf("%v after login (revoked at 1 min, deadline 48 h) the session is found again", clock.Now().Sub(now))
		}
	}
}

// A store that has not yet seen the session a revocation refuses (it was
// sealed by another instance, before a restart) estimates the retention;
// the first time the revocation refuses the session, the session's own
// deadline extends it.
func TestUserRevocationExtendedByTheSessionItRefuses(t *testing.T) {
	clock := testclock.New()
	key := newKey(t)
	sealer := newStoreWith(t, cookie.Options{Keys: [][]byte{key}, Now: clock.Now})
	now := clock.Now()
	rec := sample()
	rec.AuthTime, rec.Created, rec.LastSeen, rec.Deadline = now, now, now, now.Add(48*time.Hour)
	phone := mustCreate(t, sealer, rec)

	rev := cookie.NewMemoryRevocation(0)
	// a fresh instance: has seen no session
	s := newStoreWith(t, cookie.Options{Keys: [][]byte{key}, Now: clock.Now, Revocation: rev})
	clock.Advance(time.Hour)
	if err := s.RevokeUser(context.Background(), "alice", securesession.Ref{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if found(s, phone) {
		t.Fatal("the revoked session is found")
	}
	clock.Advance(securesession.DefaultAbsoluteTimeout + time.Hour)
	churn(t, rev, clock.Now(), 2000)
	clock.Advance(time.Minute)
	churn(t, rev, clock.Now(), 2000)
	if found(s, phone) {
		t.Fatal("the revocation was forgotten before the deadline of the session it refused")
	}
}

// steadyTable is a MemoryRevocation holding n revoked sessions in a
// steady state: write i adds an entry that expires n writes later, on a
// clock that moves one millisecond per write, so every write also forgets
// the entry that expires then and the table stays at n entries.
type steadyTable struct {
	rev  *cookie.MemoryRevocation
	n    int
	base time.Time
	tick atomic.Int64
}

func newSteadyTable(n int) *steadyTable {
	st := &steadyTable{rev: cookie.NewMemoryRevocation(0), n: n, base: time.Now()}
	st.rev.SetClock(func() time.Time { return st.base.Add(time.Duration(st.tick.Load()) * time.Millisecond) })
	for i := 0; i < n; i++ {
		st.rev.RevokeSession(context.Background(), handleN("p", i), cookie.AllTokens, st.base.Add(time.Duration(i)*time.Millisecond))
	}
	return st
}

// logout is one Logout: a RevokeSession of a new handle.
func (st *steadyTable) logout(prefix string) {
	i := st.tick.Add(1)
	until := st.base.Add(time.Duration(i+int64(st.n)) * time.Millisecond)
	st.rev.RevokeSession(context.Background(), handleN(prefix, int(i)), cookie.AllTokens, until)
}

// BenchmarkMemoryRevocationLogout is one Logout into a table that holds n
// revoked sessions, forgetting as many as it adds.
func BenchmarkMemoryRevocationLogout(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			st := newSteadyTable(n)
			for b.Loop() {
				st.logout("l")
			}
			b.ReportMetric(float64(st.rev.Len()), "entries")
		})
	}
}

// BenchmarkMemoryRevocationRevoked is the check every request makes, on a
// table of 100k revoked sessions: alone, and while two goroutines flood
// the table with logouts.
func BenchmarkMemoryRevocationRevoked(b *testing.B) {
	tok := cookie.Token{Handle: handleN("r", 1), UserID: "alice", Issued: time.Now(), Deadline: time.Now().Add(time.Hour)}
	for _, flooders := range []int{0, 2} {
		b.Run(map[int]string{0: "alone", 2: "under-write-flood"}[flooders], func(b *testing.B) {
			st := newSteadyTable(100_000)
			var stop atomic.Bool
			var wg sync.WaitGroup
			start := st.tick.Load()
			for range flooders {
				wg.Go(func() {
					for !stop.Load() {
						st.logout("f")
					}
				})
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					st.rev.Revoked(ctx, tok)
				}
			})
			b.StopTimer()
			stop.Store(true)
			wg.Wait()
			if flooders > 0 {
				b.ReportMetric(float64(st.tick.Load()-start)/float64(b.N), "writes/read")
			}
		})
	}
}

// handleN returns a 32-character handle: prefix, then i in hex, zero
// padded (cheaper than fmt in the benchmarks' loops).
func handleN(prefix string, i int) string {
	var b [32]byte
	n := copy(b[:], prefix)
	for j := len(b) - 1; j >= n; j-- {
		b[j] = "0123456789abcdef"[i&15]
		i >>= 4
	}
	return string(b[:])
}

// BenchmarkMemoryRevocationBytesPerEntry reports the heap a table of 100k
// revoked sessions (32-character handles, as the Store's) and one of 100k
// revoked users (12-character IDs) hold per entry. It measures once per
// run, whatever b.N.
func BenchmarkMemoryRevocationBytesPerEntry(b *testing.B) {
	const n = 100_000
	until := time.Now().Add(time.Hour)
	ctx := context.Background()
	perEntry := map[string]float64{}
	for _, kind := range []string{"session", "user"} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rev := cookie.NewMemoryRevocation(0)
		for i := 0; i < n; i++ {
			if kind == "session" {
				rev.RevokeSession(ctx, handleN("m", i), cookie.AllTokens, until)
			} else {
				rev.RevokeUser(ctx, fmt.Sprintf("user-%07d", i), time.Now(), handleN("k", i), until)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry[kind] = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(rev)
	}
	for b.Loop() {
	}
	for kind, v := range perEntry {
		b.ReportMetric(v, "B/"+kind)
	}
}
