package revocationtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// FleetMaxStaleness is the MaxStaleness of the instances RunFleet and
// RunFleetOutage start. They refresh only on the request path
// (RefreshInterval < 0) and share one injected clock, so that what an
// instance knows depends on the clock alone, never on timing.
const FleetMaxStaleness = 2 * time.Second

type fleetCheck struct {
	name string
	fn   func(t *testing.T, connect Connect)
}

var fleetChecks = []fleetCheck{
	{"LogoutRefusesTheCookieOnEveryInstance", testFleetLogout},
	{"LogoutEverywhereRefusesEverySessionOnEveryInstance", testFleetLogoutEverywhere},
	{"LogoutOthersKeepsOnlyTheCurrentSessionEverywhere", testFleetLogoutOthers},
	{"LoginOverASessionRefusesTheSupersededCookieEverywhere", testFleetRelogin},
	{"RotateRefusesTheSupersededCookieEverywhere", testFleetRotate},
}

// RunFleet runs three instances of an application over stores made by
// fresh, each instance with its own cookie.Store (the same Keys), its own
// cookie.SharedRevocation over its own client (from one Connect), the
// securesession middleware and real HTTP on loopback, and checks that a
// revocation on one instance refuses the replayed cookie at once there,
// at once on an instance that has not seen the session, and on every
// other instance once the shared clock has moved by FleetMaxStaleness.
func RunFleet(t *testing.T, fresh Factory) {
	t.Helper()
	for _, c := range fleetChecks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, fresh(t)) })
	}
}

// RunFleetOutage checks an outage of the store, injected by down and
// removed by up (each called once per check, from the test goroutine):
//   - by default (fail closed), a logged-in request on an instance whose
//     state is older than FleetMaxStaleness gets a 503, neither an
//     anonymous answer nor a 200, and once the store is back the same
//     cookie is the same user with the same session data;
//   - with InsecureServeStaleFor, the instance keeps answering from its
//     state within it, refuses a session it has not seen (that needs the
//     store) with a 503, and answers 503 after it;
//   - under a steady load on all three instances while the store goes
//     down and comes back, no logged-in request is ever answered as
//     anonymous or as another user, no cookie is deleted, a cookie logged
//     out before the outage is never let in, and afterwards every
//     session is as it was.
//
// A store whose restart erases it (memcached) passes as long as the
// session comes back: a cookie session needs no entry to be valid.
func RunFleetOutage(t *testing.T, fresh Factory, o Outage) {
	t.Helper()
	t.Run("UnreachableStoreIsA503NeverALogout", func(t *testing.T) {
		testFleetOutageFailsClosed(t, fresh(t), o)
	})
	t.Run("InsecureServeStaleForAnswersWithinItOnly", func(t *testing.T) {
		testFleetOutageServesStale(t, fresh(t), o)
	})
	t.Run("OutageUnderLoadNeverLogsOutNorLetsARevokedCookieIn", func(t *testing.T) {
		testFleetOutageUnderLoad(t, fresh(t), o)
	})
}

// Outage is how RunFleetOutage injects a fault into the store. Down and
// Up are called once per check, from the test goroutine.
type Outage struct {
	Down, Up func(t *testing.T)

	// UpForgets says the store comes back empty (memcached restarted):
	// the revocations made before the outage are gone, so the sessions
	// issued before it must come back logged out (anonymous) rather than
	// as they were, and a cookie logged out before it must still be
	// refused (see cookie.RevocationStore.Salt).
	UpForgets bool
}

// fleet is three instances of one application sharing a store.
type fleet struct {
	t     *testing.T
	clock *testclock.Clock
	nodes []*node
}

type node struct {
	name string
	srv  *httptest.Server
	rev  *cookie.SharedRevocation
}

func newFleet(t *testing.T, connect Connect, opts cookie.SharedRevocationOptions) *fleet {
	t.Helper()
	gin.SetMode(gin.TestMode)
	key := make([]byte, 32)
	rand.Read(key)
	f := &fleet{t: t, clock: testclock.New()}
	opts.MaxStaleness = FleetMaxStaleness
	opts.RefreshInterval = -1
	for _, name := range []string{"A", "B", "C"} {
		rev, err := cookie.NewSharedRevocation(connect(), opts)
		if err != nil {
			t.Fatalf("NewSharedRevocation: %v", err)
		}
		t.Cleanup(func() { rev.Close() })
		store, err := cookie.NewStore(cookie.Options{Keys: [][]byte{key}, Revocation: rev, Now: f.clock.Now})
		if err != nil {
			t.Fatalf("cookie.NewStore: %v", err)
		}
		mw, err := securesession.New(store, securesession.Options{Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("securesession.New: %v", err)
		}
		r := gin.New()
		r.Use(mw)
		fleetRoutes(r)
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		f.nodes = append(f.nodes, &node{name: name, srv: srv, rev: rev})
	}
	return f
}

func fleetRoutes(r *gin.Engine) {
	fail := func(c *gin.Context, op string, err error) {
		code := http.StatusInternalServerError
		if errors.Is(err, securesession.ErrNoRecord) {
			code = http.StatusConflict
		}
		c.String(code, "%s: %v", op, err)
	}
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			fail(c, "login", err)
			return
		}
		// The session's own data, to tell one session from another.
		tag := make([]byte, 8)
		rand.Read(tag)
		sessions.Default(c).Set("tag", hex.EncodeToString(tag))
		c.String(http.StatusOK, "ok")
	})
	for path, op := range map[string]func(*gin.Context) error{
		"/rotate":            securesession.Rotate,
		"/logout":            securesession.Logout,
		"/logout-everywhere": securesession.LogoutEverywhere,
		"/logout-others":     securesession.LogoutOthers,
	} {
		r.POST(path, func(c *gin.Context) {
			if err := op(c); err != nil {
				fail(c, path[1:], err)
				return
			}
			c.String(http.StatusOK, "ok")
		})
	}
	r.GET("/whoami", func(c *gin.Context) {
		tag, _ := sessions.Default(c).Get("tag").(string)
		c.String(http.StatusOK, "user=%s tag=%s", securesession.UserID(c), tag)
	})
}

var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	status int
	body   string
	cookie *http.Cookie // the session's Set-Cookie, if any
}

// send sends a request to node n with the session cookie value (if any).
func (f *fleet) send(n int, method, path, value string) response {
	f.t.Helper()
	r, err := f.try(n, method, path, value)
	if err != nil {
		f.t.Fatalf("%s %s on %s: %v", method, path, f.nodes[n].name, err)
	}
	return r
}

// browser is one device: its cookie, updated from responses as a browser
// does.
type browser struct {
	f      *fleet
	cookie string
}

func (f *fleet) browser() *browser { return &browser{f: f} }

func (b *browser) do(n int, method, path string) response {
	b.f.t.Helper()
	r := b.f.send(n, method, path, b.cookie)
	if r.status != http.StatusOK {
		b.f.t.Fatalf("%s %s on %s: status %d: %s", method, path, b.f.nodes[n].name, r.status, r.body)
	}
	if c := r.cookie; c != nil {
		if c.MaxAge < 0 || c.Value == "" {
			b.cookie = ""
		} else {
			b.cookie = c.Value
		}
	}
	return r
}

func (b *browser) login(n int, user string) string {
	b.f.t.Helper()
	b.do(n, "POST", "/login?user="+user)
	if b.cookie == "" {
		b.f.t.Fatalf("login on %s set no cookie", b.f.nodes[n].name)
	}
	return b.cookie
}

// whoami is what node n makes of a replayed cookie value, which must be a
// 200: "user=<id> tag=<session data>".
func (f *fleet) whoami(n int, value string) string {
	f.t.Helper()
	r := f.send(n, "GET", "/whoami", value)
	if r.status != http.StatusOK {
		f.t.Fatalf("GET /whoami on %s: status %d: %s", f.nodes[n].name, r.status, r.body)
	}
	return r.body
}

func (f *fleet) user(n int, value string) string {
	f.t.Helper()
	u, _, _ := strings.Cut(strings.TrimPrefix(f.whoami(n, value), "user="), " ")
	return u
}

// wantUser checks who each listed node says value is.
func (f *fleet) wantUser(value, want, when string, nodes ...int) {
	f.t.Helper()
	for _, n := range nodes {
		if got := f.user(n, value); got != want {
			if want == "" {
				f.t.Fatalf("%s, %s takes the replayed cookie as %q; want it refused (anonymous)", when, f.nodes[n].name, got)
			}
			f.t.Fatalf("%s, %s takes the cookie as %q; want %q", when, f.nodes[n].name, got, want)
		}
	}
}

const (
	a, b, c = 0, 1, 2
)

// stale moves the shared clock by the bound: every instance must have
// seen every revocation made before.
func (f *fleet) stale() { f.clock.Advance(FleetMaxStaleness) }

func testFleetLogout(t *testing.T, connect Connect) {
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	alice := f.browser()
	stolen := alice.login(a, "alice")
	f.wantUser(stolen, "alice", "after login", a, b) // B has now seen the session
	alice.do(a, "POST", "/logout")
	f.wantUser(stolen, "", "right after logout on A", a)
	// C has never seen the session: it looks it up, and the store has
	// the revocation.
	f.wantUser(stolen, "", "right after logout on A", c)
	// The honest window: B served the session before the logout and
	// answers from its state until it is MaxStaleness old.
	f.wantUser(stolen, "alice", "within MaxStaleness of the logout, B (which has not synced since)", b)
	f.stale()
	f.wantUser(stolen, "", "MaxStaleness after logout on A", a, b, c)
}

func testFleetLogoutEverywhere(t *testing.T, connect Connect) {
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	phone, laptop, other := f.browser(), f.browser(), f.browser()
	pc, lc := phone.login(a, "alice"), laptop.login(b, "alice")
	bob := other.login(c, "bob")
	for _, n := range []int{a, b, c} {
		f.wantUser(pc, "alice", "after login", n)
		f.wantUser(lc, "alice", "after login", n)
	}
	laptop.do(b, "POST", "/logout-everywhere")
	f.wantUser(pc, "", "right after LogoutEverywhere on B", b)
	f.wantUser(lc, "", "right after LogoutEverywhere on B", b)
	f.stale()
	for _, n := range []int{a, b, c} {
		f.wantUser(pc, "", "MaxStaleness after LogoutEverywhere on B", n)
		f.wantUser(lc, "", "MaxStaleness after LogoutEverywhere on B", n)
		f.wantUser(bob, "bob", "after alice's LogoutEverywhere, bob's session", n)
	}
	// A login after the revocation is not refused by it.
	again := f.browser().login(c, "alice")
	f.wantUser(again, "alice", "a new login after LogoutEverywhere", a, b, c)
}

func testFleetLogoutOthers(t *testing.T, connect Connect) {
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	phone, laptop, tablet := f.browser(), f.browser(), f.browser()
	phone.login(a, "alice")
	laptop.login(b, "alice")
	tablet.login(c, "alice")
	for _, n := range []int{a, b, c} {
		for _, d := range []*browser{phone, laptop, tablet} {
			f.wantUser(d.cookie, "alice", "after login", n)
		}
	}
	laptop.do(b, "POST", "/logout-others")
	f.wantUser(phone.cookie, "", "right after LogoutOthers on B", b)
	f.wantUser(tablet.cookie, "", "right after LogoutOthers on B", b)
	f.wantUser(laptop.cookie, "alice", "right after LogoutOthers on B, the session that called it", a, b, c)
	f.stale()
	for _, n := range []int{a, b, c} {
		f.wantUser(phone.cookie, "", "MaxStaleness after LogoutOthers on B", n)
		f.wantUser(tablet.cookie, "", "MaxStaleness after LogoutOthers on B", n)
		f.wantUser(laptop.cookie, "alice", "MaxStaleness after LogoutOthers on B, the session that called it", n)
	}
	// The kept session goes on through its rotations.
	laptop.do(c, "POST", "/rotate")
	f.stale()
	f.wantUser(laptop.cookie, "alice", "after the kept session rotated", a, b, c)
}

func testFleetRelogin(t *testing.T, connect Connect) {
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	alice := f.browser()
	old := alice.login(a, "alice")
	f.wantUser(old, "alice", "after login", a, b, c)
	f.clock.Advance(time.Second)
	alice.login(a, "alice") // a login over the session rotates it
	if alice.cookie == old {
		t.Fatal("a login over a session kept its cookie")
	}
	f.wantUser(old, "", "right after a login over the session on A, the superseded cookie", a)
	f.stale()
	f.wantUser(old, "", "MaxStaleness after a login over the session on A, the superseded cookie", a, b, c)
	f.wantUser(alice.cookie, "alice", "after the login, the new cookie", a, b, c)
	// A login as someone else over the session starts a new one.
	f.clock.Advance(time.Second)
	prev := alice.cookie
	alice.login(b, "bob")
	f.stale()
	f.wantUser(prev, "", "MaxStaleness after bob logged in over alice's session, her cookie", a, b, c)
	f.wantUser(alice.cookie, "bob", "after bob logged in over the session", a, b, c)
}

func testFleetRotate(t *testing.T, connect Connect) {
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	alice := f.browser()
	old := alice.login(a, "alice")
	f.wantUser(old, "alice", "after login", a, b, c)
	alice.do(b, "POST", "/rotate")
	if alice.cookie == old {
		t.Fatal("Rotate kept the cookie")
	}
	f.wantUser(old, "", "right after Rotate on B, the superseded cookie", b)
	f.stale()
	f.wantUser(old, "", "MaxStaleness after Rotate on B, the superseded cookie", a, b, c)
	f.wantUser(alice.cookie, "alice", "after Rotate, the new cookie", a, b, c)
}

// wantStatus checks the status node n answers a logged-in request with.
func (f *fleet) wantStatus(n int, value string, want int, when string) response {
	f.t.Helper()
	r := f.send(n, "GET", "/whoami", value)
	if r.status != want {
		f.t.Fatalf("%s, %s answers a logged-in request with %d (%q); want %d", when, f.nodes[n].name, r.status, r.body, want)
	}
	if r.cookie != nil && (r.cookie.MaxAge < 0 || r.cookie.Value == "") {
		f.t.Fatalf("%s, %s deletes the session cookie", when, f.nodes[n].name)
	}
	return r
}

func testFleetOutageFailsClosed(t *testing.T, connect Connect, o Outage) {
	down, up := o.Down, o.Up
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	alice := f.browser()
	value := alice.login(a, "alice")
	before := f.whoami(b, value)
	if !strings.HasPrefix(before, "user=alice ") {
		t.Fatalf("after login B says %q", before)
	}
	down(t)
	downNow := true
	defer func() {
		if downNow {
			up(t)
		}
	}()
	// State younger than MaxStaleness answers with no round trip.
	f.wantStatus(b, value, http.StatusOK, "during the outage, within MaxStaleness of the last sync")
	f.stale()
	for _, n := range []int{a, b, c} {
		f.wantStatus(n, value, http.StatusServiceUnavailable, "during the outage, MaxStaleness after the last sync")
	}
	f.clock.Advance(time.Minute)
	f.wantStatus(b, value, http.StatusServiceUnavailable, "a minute into the outage")
	up(t)
	downNow = false
	for _, n := range []int{a, b, c} {
		f.wantAfter(n, value, before, o.UpForgets)
	}
}

// wantAfter checks what node n says of the session cookie value after an
// outage: what it said before (before), or, after a store that came back
// empty (forgot), an anonymous session.
func (f *fleet) wantAfter(n int, value, before string, forgot bool) {
	f.t.Helper()
	got := f.whoami(n, value)
	switch {
	case forgot && !strings.HasPrefix(got, "user= "):
		f.t.Fatalf("after the store came back empty %s says %q: a session issued before it must be logged out", f.nodes[n].name, got)
	case !forgot && got != before:
		f.t.Fatalf("after the outage %s says %q; before it %q: the session must come back as it was", f.nodes[n].name, got, before)
	}
}

func testFleetOutageServesStale(t *testing.T, connect Connect, o Outage) {
	down, up := o.Down, o.Up
	const serveStale = 5 * time.Second
	f := newFleet(t, connect, cookie.SharedRevocationOptions{InsecureServeStaleFor: serveStale})
	alice := f.browser()
	value := alice.login(a, "alice")
	before := f.whoami(b, value)
	bob := f.browser().login(a, "bob") // B has not seen bob's session
	down(t)
	downNow := true
	defer func() {
		if downNow {
			up(t)
		}
	}()
	f.stale()
	if got := f.wantStatus(b, value, http.StatusOK, fmt.Sprintf("during the outage, MaxStaleness after the last sync, with InsecureServeStaleFor %v", serveStale)); got.body != before {
		t.Fatalf("serving stale, B says %q; before the outage %q", got.body, before)
	}
	f.wantStatus(b, bob, http.StatusServiceUnavailable, "during the outage, for a session B has not seen (it needs the store)")
	f.clock.Advance(serveStale)
	f.wantStatus(b, value, http.StatusServiceUnavailable, "during the outage, past MaxStaleness plus InsecureServeStaleFor")
	up(t)
	downNow = false
	f.wantAfter(b, value, before, o.UpForgets)
}

// testFleetOutageUnderLoad stops the store while the three instances
// serve a steady load of logged-in requests and a replayed cookie of a
// session that was logged out before: at no time does a logged-in request
// come back anonymous, as another user or with its cookie deleted (a
// silent logout), the logged-out cookie is never let in, and once the
// store is back every instance serves every session as it was, or, after
// a store that came back empty, logged out.
func testFleetOutageUnderLoad(t *testing.T, connect Connect, o Outage) {
	down, up := o.Down, o.Up
	f := newFleet(t, connect, cookie.SharedRevocationOptions{})
	users := []string{"ann", "ben", "cat", "dan", "eve", "fay"}
	values := make([]string, len(users))
	before := make([]string, len(users))
	for i, u := range users {
		values[i] = f.browser().login(i%3, u)
	}
	thief := f.browser()
	dead := thief.login(a, "mallory")
	thief.do(a, "POST", "/logout")
	f.stale() // every instance syncs before it answers again
	for i, v := range values {
		before[i] = f.whoami(b, v)
		f.wantUser(v, users[i], "before the outage", a, b, c)
	}
	f.wantUser(dead, "", "before the outage, the logged-out cookie", a, b, c)

	const workers = 4
	ticks := make(chan struct{})
	stop := make(chan struct{})
	problems := make(chan string, 64)
	var forgotten atomic.Bool // the store may be back empty (Outage.UpForgets)
	report := func(format string, args ...any) {
		select {
		case problems <- fmt.Sprintf(format, args...):
		default:
		}
	}
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := i % 3
				k := i % (len(values) + 1)
				value, want := dead, ""
				if k < len(values) {
					value, want = values[k], before[k]
				}
				r, err := f.try(n, "GET", "/whoami", value)
				switch {
				case err != nil:
					report("GET /whoami on %s: %v", f.nodes[n].name, err)
				case r.status == http.StatusOK && want != "" && forgotten.Load() && strings.HasPrefix(r.body, "user= "):
					// Logged out by the store's reset, as documented.
				case r.cookie != nil && (r.cookie.MaxAge < 0 || r.cookie.Value == ""):
					report("%s deleted the session cookie of %q", f.nodes[n].name, want)
				case r.status == http.StatusServiceUnavailable:
				case r.status != http.StatusOK:
					report("%s answered %d (%q)", f.nodes[n].name, r.status, r.body)
				case want == "" && !strings.HasPrefix(r.body, "user= "):
					report("%s let the logged-out cookie in: %q", f.nodes[n].name, r.body)
				case want != "" && r.body != want:
					report("%s answered %q for the session that was %q: a silent logout", f.nodes[n].name, r.body, want)
				}
				select {
				case ticks <- struct{}{}:
				case <-stop:
					return
				}
			}
		}()
	}
	wait := func(n int) {
		for range n {
			<-ticks
		}
	}
	wait(30)
	down(t)
	downNow := true
	defer func() {
		if downNow {
			up(t)
		}
	}()
	wait(30)
	f.stale() // past the bound: the instances must now fail closed
	wait(60)
	f.clock.Advance(time.Minute)
	wait(30)
	forgotten.Store(o.UpForgets)
	up(t)
	downNow = false
	f.stale()
	wait(60)
	close(stop)
	for range workers {
		<-done
	}
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	for i, v := range values {
		for n := range f.nodes {
			f.wantAfter(n, v, before[i], o.UpForgets)
		}
	}
	f.wantUser(dead, "", "after the outage, the logged-out cookie", a, b, c)
}

// try sends a request to node n with the session cookie value (if any); a
// transport error is returned, so that worker goroutines can use it.
func (f *fleet) try(n int, method, path, value string) (response, error) {
	req, err := http.NewRequest(method, f.nodes[n].srv.URL+path, nil)
	if err != nil {
		return response{}, err
	}
	if value != "" {
		req.AddCookie(&http.Cookie{Name: securesession.DefaultCookieName, Value: value})
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, body: string(body)}
	for _, c := range resp.Cookies() {
		if c.Name == securesession.DefaultCookieName {
			r.cookie = c
		}
	}
	return r, nil
}
