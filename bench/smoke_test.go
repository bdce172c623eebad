package bench

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// These tests check the harness's structure, fast enough for CI: every
// contender answers every request kind it is measured on, the browser
// keeps and feeds back cookies as a browser does, and the kinds measure
// what they say (a touch really refreshes, a logout really ends the
// session). They assert no timings and no round-trip counts.

// TestEveryKind runs a few operations of every kind on every contender
// that serves it, through the same Prepare and Run the benchmarks use.
func TestEveryKind(t *testing.T) {
	for _, c := range Contenders {
		t.Run(c.Name, func(t *testing.T) {
			a := newApp(t, c)
			for _, k := range c.Kinds {
				bt, err := Prepare(a, k, 3)
				if err != nil {
					t.Fatalf("%s: prepare: %v", k, err)
				}
				var before int64
				if a.FloorOps != nil {
					before = a.FloorOps.Load()
				}
				bt.Run()
				bt.Done()
				if err := bt.Err(); err != nil {
					t.Error(err)
				}
				if a.FloorOps != nil {
					if ran := a.FloorOps.Load() - before; ran != 3 {
						t.Errorf("%s: the floor ran its operation %d times for 3 requests: the kind's route misses it", k, ran)
					}
				}
			}
		})
	}
}

// sessionContenders are the contenders with a session layer.
func sessionContenders() []Contender {
	var out []Contender
	for _, c := range Contenders {
		if c.Role != RoleBare && c.Role != RoleFloor {
			out = append(out, c)
		}
	}
	return out
}

// jarByNetHTTP is what net/http's parser makes of the Set-Cookie headers
// for name, applied to a jar holding cur.
func jarByNetHTTP(t *testing.T, name, cur string, h http.Header) string {
	t.Helper()
	for _, v := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(v)
		if err != nil {
			t.Fatalf("unparsable Set-Cookie %q: %v", v, err)
		}
		if c.Name != name {
			continue
		}
		if c.Value == "" || c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			cur = ""
		} else {
			cur = c.Name + "=" + c.Value
		}
	}
	return cur
}

// do serves one request and checks that the jar's cheap parser agrees
// with net/http's.
func do(t *testing.T, a *App, b *Browser, req *http.Request) (int, *Sink) {
	t.Helper()
	before := b.Cookie
	w := NewSink()
	st := a.Do(w, b, req)
	if want := jarByNetHTTP(t, a.CookieName, before, w.H); b.Cookie != want {
		t.Fatalf("%s %s: jar holds %q, net/http says %q (Set-Cookie %q)", a.Name, req.URL.Path, b.Cookie, want, w.H.Values("Set-Cookie"))
	}
	return st, w
}

func readCount(t *testing.T, a *App, b *Browser) int {
	t.Helper()
	st, w := do(t, a, b, reqCount)
	if st != http.StatusNoContent {
		t.Fatalf("%s: GET /count: status %d", a.Name, st)
	}
	n, err := strconv.Atoi(w.H.Get("X-Count"))
	if err != nil {
		t.Fatalf("%s: GET /count: X-Count %q", a.Name, w.H.Get("X-Count"))
	}
	return n
}

// TestCookieFedBack: the value a write stores is there on the next
// request only because the browser sent back the cookie the write set,
// and for the cookie stores (where the cookie is the session) that cookie
// changes with every write.
func TestCookieFedBack(t *testing.T) {
	for _, c := range sessionContenders() {
		if !c.Serves(KindWrite) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			a := newApp(t, c)
			var b Browser
			if err := a.Login(&b, ""); err != nil {
				t.Fatal(err)
			}
			if n := readCount(t, a, &b); n != 0 {
				t.Fatalf("count after login = %d, want 0", n)
			}
			for i := 1; i <= 3; i++ {
				before := b.Cookie
				if st, _ := do(t, a, &b, reqWrite); st != http.StatusNoContent {
					t.Fatalf("write %d: status %d", i, st)
				}
				if c.Family == FamilyCookie && c.Role != RoleOther && b.Cookie == before {
					t.Errorf("write %d: the cookie did not change; a cookie store must send the new session back", i)
				}
				if n := readCount(t, a, &b); n != i {
					t.Errorf("count after %d writes = %d", i, n)
				}
			}
			if st, _ := do(t, a, &b, reqRead); st != http.StatusNoContent {
				t.Errorf("read after the writes: status %d", st)
			}
		})
	}
}

// TestLoginAndLogout: login sets a session cookie; logout deletes it, and
// the browser is then anonymous.
func TestLoginAndLogout(t *testing.T) {
	for _, c := range sessionContenders() {
		if !c.Serves(KindLogout) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			a := newApp(t, c)
			var b Browser
			if st, _ := do(t, a, &b, reqLogin); st != http.StatusNoContent || b.Cookie == "" {
				t.Fatalf("login: status %d, cookie %q", st, b.Cookie)
			}
			if st, _ := do(t, a, &b, reqLogout); st != http.StatusNoContent || b.Cookie != "" {
				t.Fatalf("logout: status %d, cookie left %q", st, b.Cookie)
			}
			if st, _ := do(t, a, &b, reqRead); st != http.StatusUnauthorized {
				t.Errorf("read after logout: status %d, want 401", st)
			}
		})
	}
}

// TestLogoutEverywhere: another browser of the same user is logged out
// too.
func TestLogoutEverywhere(t *testing.T) {
	for _, c := range sessionContenders() {
		if !c.Serves(KindLogoutEverywhere) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			a := newApp(t, c)
			var phone, laptop Browser
			for _, b := range []*Browser{&phone, &laptop} {
				if err := a.Login(b, "bob"); err != nil {
					t.Fatal(err)
				}
			}
			if st, _ := do(t, a, &laptop, reqLogoutEverywhere); st != http.StatusNoContent || laptop.Cookie != "" {
				t.Fatalf("logout everywhere: status %d, cookie left %q", st, laptop.Cookie)
			}
			if st, _ := do(t, a, &phone, reqRead); st != http.StatusUnauthorized {
				t.Errorf("the other browser's read after logout everywhere: status %d, want 401", st)
			}
		})
	}
}

// TestTouch: a read after the touch interval records the activity, which
// keeps the session alive past the idle timeout counted from login; an
// untouched session of the same age has expired.
func TestTouch(t *testing.T) {
	for _, c := range sessionContenders() {
		if !c.Serves(KindTouch) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			a := newApp(t, c)
			if a.Clock == nil {
				t.Fatal("a contender measured on touch needs an injected clock")
			}
			defer a.Clock.Set(0)
			var touched, idle Browser
			for _, b := range []*Browser{&touched, &idle} {
				if err := a.Login(b, ""); err != nil {
					t.Fatal(err)
				}
			}
			bt, err := Prepare(a, KindTouch, 1) // moves the clock, as the benchmark does
			if err != nil {
				t.Fatal(err)
			}
			before := touched.Cookie
			if st, _ := do(t, a, &touched, reqRead); st != http.StatusNoContent {
				t.Fatalf("touch: status %d", st)
			}
			if c.Family == FamilyCookie && touched.Cookie == before {
				t.Error("touch: the cookie backend must re-seal the cookie with the new activity time")
			}
			bt.Done()
			a.Clock.Set(securesession.DefaultIdleTimeout + TouchAfter/2)
			if st, _ := do(t, a, &touched, reqRead); st != http.StatusNoContent {
				t.Errorf("touched session past the idle timeout from login: status %d, want 204", st)
			}
			if st, _ := do(t, a, &idle, reqRead); st != http.StatusUnauthorized {
				t.Errorf("untouched session past the idle timeout: status %d, want 401", st)
			}
		})
	}
}

// TestReadFreshCookiesAreDistinct: each read-fresh operation is another
// browser, so no cookie repeats within a batch.
func TestReadFreshCookiesAreDistinct(t *testing.T) {
	c, _ := ContenderByName("ours-cookie")
	a := newApp(t, c)
	bt, err := Prepare(a, KindReadFresh, 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, b := range bt.browsers {
		if seen[b.Cookie] {
			t.Fatal("a cookie repeats in a read-fresh batch")
		}
		seen[b.Cookie] = true
	}
}

func TestFloors(t *testing.T) {
	n, err := TypicalCookieLen()
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewAEADFloor(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Value) != n || !f.Open() {
		t.Errorf("AEAD floor: value of %d characters (want %d), open ok = %v", len(f.Value), n, f.Open())
	}
	if env.MemcacheAddr == "" {
		t.Skip("SKIPPING the GetMulti floor: needs memcached: " + noMemcached)
	}
	gf, closeGF, err := NewGetMultiFloor(env)
	if err != nil {
		t.Fatal(err)
	}
	defer closeGF()
	if len(gf.Keys) != 2 {
		t.Errorf("GetMulti floor reads %d keys %q, want the 2 of an authenticated read (the session and the user's generation)", len(gf.Keys), gf.Keys)
	}
	for try := 1; try <= 2; try++ { // the second CAS must use the first one's new CAS ID
		if !gf.CAS() {
			t.Errorf("gets+CAS floor failed on try %d", try)
		}
	}
}

// TestRun runs the whole harness once with a handful of operations and
// checks the shape of its results.
func TestRun(t *testing.T) {
	res, err := Run(env, Config{Rounds: 2, Ops: 4, Slices: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) == 0 {
		t.Fatal("no groups")
	}
	for _, g := range res.Groups {
		var bare, ours bool
		for _, m := range g.Members {
			bare = bare || m.Role == RoleBare
			ours = ours || m.Role == RoleOurs
			if len(m.Rounds) != 2 {
				t.Errorf("%s/%s/%s: %d rounds, want 2", g.Family, g.Kind, m.Name, len(m.Rounds))
				continue
			}
			for _, s := range m.Rounds {
				if s.Ops != 4 || s.WallNs <= 0 {
					t.Errorf("%s/%s/%s: sample %+v", g.Family, g.Kind, m.Name, s)
				}
			}
		}
		if !bare || !ours {
			t.Errorf("%s/%s: bare Gin measured %v, ours measured %v; both must be", g.Family, g.Kind, bare, ours)
		}
	}
}
