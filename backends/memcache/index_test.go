package memcache

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/fuzzalloc"
)

// listApp serves the middleware over s on loopback, with routes for a
// "your active sessions" page: POST /login?user= (429 when the session
// limit refuses it), GET /state ("user=<id>"), POST /logout, GET
// /sessions (the list as JSON) and POST /revoke?handle= (410 when the
// session had already ended). A backend failure answers its status.
func listApp(t *testing.T, s *Store, opts securesession.Options) *httptest.Server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	opts.Logger = slog.New(slog.DiscardHandler)
	mw, err := securesession.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	fail := func(c *gin.Context, err error) {
		code := http.StatusInternalServerError
		var be *securesession.BackendError
		switch {
		case errors.Is(err, securesession.ErrTooManySessions):
			code = http.StatusTooManyRequests
		case errors.Is(err, securesession.ErrNoRecord):
			code = http.StatusGone
		case errors.As(err, &be):
			code = be.StatusCode()
		}
		c.String(code, "%v", err)
	}
	r.GET("/state", func(c *gin.Context) { c.String(http.StatusOK, "user=%s", securesession.UserID(c)) })
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			fail(c, err)
			return
		}
		c.String(http.StatusOK, "user=%s", securesession.UserID(c))
	})
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			fail(c, err)
		}
	})
	r.GET("/sessions", func(c *gin.Context) {
		list, err := securesession.ListSessions(c)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, list)
	})
	r.POST("/revoke", func(c *gin.Context) {
		if err := securesession.RevokeSession(c, c.Query("handle")); err != nil {
			fail(c, err)
		}
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// device is one browser of a listApp: its User-Agent and cookie.
type device struct {
	url, ua, cookie string
}

func (d *device) do(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, d.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", d.ua)
	if d.cookie != "" {
		req.AddCookie(&http.Cookie{Name: securesession.DefaultCookieName, Value: d.cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == securesession.DefaultCookieName {
			d.cookie = c.Value
			if c.MaxAge < 0 {
				d.cookie = ""
			}
		}
	}
	return resp.StatusCode, string(body)
}

// user is who the server takes the device for ("" for nobody).
func (d *device) user(t *testing.T) string {
	t.Helper()
	code, body := d.do(t, "GET", "/state")
	if code != http.StatusOK {
		t.Fatalf("GET /state: %d %s", code, body)
	}
	return strings.TrimPrefix(body, "user=")
}

func (d *device) sessions(t *testing.T) []securesession.SessionInfo {
	t.Helper()
	code, body := d.do(t, "GET", "/sessions")
	if code != http.StatusOK {
		t.Fatalf("GET /sessions: %d %s", code, body)
	}
	var list []securesession.SessionInfo
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

func (d *device) login(t *testing.T, user string) int {
	t.Helper()
	code, _ := d.do(t, "POST", "/login?user="+url.QueryEscape(user))
	return code
}

// rawIndex decodes the index item of user as stored; nil if missing.
func rawIndex(t *testing.T, s *Store, c *gomemcache.Client, user string) []indexEntry {
	t.Helper()
	k := s.indexKey(s.userRef(user))
	it, err := c.Get(k)
	if errors.Is(err, gomemcache.ErrCacheMiss) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	entries, err := s.openIndex(it.Value, k)
	if err != nil {
		t.Fatalf("index item does not open: %v", err)
	}
	return entries
}

func mustList(t *testing.T, s *Store, user string) []securesession.SessionInfo {
	t.Helper()
	list, err := s.ListUser(bg, user)
	if err != nil {
		t.Fatalf("ListUser(%q): %v", user, err)
	}
	return list
}

func handles(list []securesession.SessionInfo) []string {
	var hs []string
	for _, l := range list {
		hs = append(hs, l.Handle)
	}
	slices.Sort(hs)
	return hs
}

// TestConcurrentLoginsLeaveExactlyTheLimit: 20 browsers of each of two
// users log in at once with MaxSessionsPerUser 3. Whatever the
// interleaving, each user ends with exactly 3 live sessions, counted by
// replaying every cookie and by the listing: evicting, every login
// succeeds and the others' sessions end; refusing, exactly 3 logins
// succeed and the rest are refused. On one memcached and on two.
func TestConcurrentLoginsLeaveExactlyTheLimit(t *testing.T) {
	const logins, limit = 20, 3
	users := []string{"alice", "bob"}
	for _, servers := range []int{1, 2} {
		for _, policy := range []securesession.SessionLimitPolicy{securesession.EvictLeastRecentlyUsed, securesession.RefuseNewLogin} {
			name := fmt.Sprintf("%d servers/evict", servers)
			if policy == securesession.RefuseNewLogin {
				name = fmt.Sprintf("%d servers/refuse", servers)
			}
			t.Run(name, func(t *testing.T) {
				var addrs []string
				for range servers {
					addrs = append(addrs, testServer(t).Addr())
				}
				s := newTestStore(t, newClient(t, addrs...), Options{})
				app := listApp(t, s, securesession.Options{MaxSessionsPerUser: limit, SessionLimitPolicy: policy})
				devices := map[string][]*device{}
				codes := map[string][]int{}
				var mu sync.Mutex
				var wg sync.WaitGroup
				start := make(chan struct{})
				for _, u := range users {
					for i := range logins {
						d := &device{url: app.URL, ua: fmt.Sprintf("%s-%d", u, i)}
						devices[u] = append(devices[u], d)
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							code := d.login(t, u)
							mu.Lock()
							codes[u] = append(codes[u], code)
							mu.Unlock()
						}()
					}
				}
				close(start)
				wg.Wait()
				for _, u := range users {
					ok, refused := 0, 0
					for _, c := range codes[u] {
						switch c {
						case http.StatusOK:
							ok++
						case http.StatusTooManyRequests:
							refused++
						default:
							t.Errorf("%s: a login answered %d", u, c)
						}
					}
					wantOK := logins
					if policy == securesession.RefuseNewLogin {
						wantOK = limit
					}
					if ok != wantOK || refused != logins-wantOK {
						t.Errorf("%s: %d logins succeeded and %d were refused; want %d and %d", u, ok, refused, wantOK, logins-wantOK)
					}
					var live []*device
					for _, d := range devices[u] {
						switch got := d.user(t); got {
						case u:
							live = append(live, d)
						case "":
						default:
							t.Fatalf("%s's cookie is %q's session", u, got)
						}
					}
					if len(live) != limit {
						t.Fatalf("%s: %d of %d cookies still log in; want exactly %d", u, len(live), logins, limit)
					}
					list := mustList(t, s, u)
					if len(list) != limit {
						t.Fatalf("%s: ListUser shows %d sessions; want %d", u, len(list), limit)
					}
					if got := live[0].sessions(t); !slices.Equal(handles(got), handles(list)) {
						t.Fatalf("%s: the sessions page shows %v, ListUser %v", u, handles(got), handles(list))
					}
				}
			})
		}
	}
}

// TestListingShowsDevicesAndOnlyLiveSessions: the sessions page of a user
// lists each logged-in device with its User-Agent and IP, marks the
// current one, drops a device that logged out or was ended from the page,
// and refuses to end another user's session.
func TestListingShowsDevicesAndOnlyLiveSessions(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	app := listApp(t, s, securesession.Options{RecordClientInfo: true})
	laptop := &device{url: app.URL, ua: "Laptop/1.0"}
	phone := &device{url: app.URL, ua: "Phone/2.0"}
	tablet := &device{url: app.URL, ua: "Tablet/3.0"}
	bob := &device{url: app.URL, ua: "Bob/1.0"}
	for _, d := range []*device{laptop, phone, tablet} {
		if code := d.login(t, "alice"); code != http.StatusOK {
			t.Fatalf("login: %d", code)
		}
	}
	if code := bob.login(t, "bob"); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	byUA := func(list []securesession.SessionInfo) map[string]securesession.SessionInfo {
		out := map[string]securesession.SessionInfo{}
		for _, l := range list {
			if l.IP != "127.0.0.1" {
				t.Errorf("session of %q lists IP %q; want 127.0.0.1", l.UserAgent, l.IP)
			}
			if l.Handle == "" || l.Created.IsZero() || l.LastSeen.IsZero() || l.Expires.IsZero() || l.AuthTime.IsZero() {
				t.Errorf("session of %q lacks a handle or times: %+v", l.UserAgent, l)
			}
			out[l.UserAgent] = l
		}
		return out
	}
	list := byUA(laptop.sessions(t))
	if len(list) != 3 || !list["Laptop/1.0"].Current || list["Phone/2.0"].Current || list["Tablet/3.0"].Current {
		t.Fatalf("alice's sessions page: %+v; want laptop (current), phone and tablet", list)
	}

	if code, body := phone.do(t, "POST", "/logout"); code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
	list = byUA(laptop.sessions(t))
	if _, ok := list["Phone/2.0"]; ok || len(list) != 2 {
		t.Fatalf("after the phone logged out the page lists %v", list)
	}

	bobs := bob.sessions(t)
	if len(bobs) != 1 {
		t.Fatalf("bob's page lists %d sessions", len(bobs))
	}
	if code, _ := laptop.do(t, "POST", "/revoke?handle="+bobs[0].Handle); code != http.StatusGone {
		t.Fatalf("alice ending bob's session: %d; want 410 (ErrNoRecord)", code)
	}
	if err := s.RevokeHandle(bg, "alice", bobs[0].Handle); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("RevokeHandle of another user's handle: %v; want ErrNoRecord", err)
	}
	if bob.user(t) != "bob" {
		t.Fatal("bob was logged out by alice's attempt")
	}

	th := list["Tablet/3.0"].Handle
	if code, body := laptop.do(t, "POST", "/revoke?handle="+th); code != http.StatusOK {
		t.Fatalf("ending the tablet's session: %d %s", code, body)
	}
	if got := tablet.user(t); got != "" {
		t.Fatalf("the tablet is still logged in as %q after its session was ended", got)
	}
	if code, _ := laptop.do(t, "POST", "/revoke?handle="+th); code != http.StatusGone {
		t.Fatalf("ending it again: %d; want 410", code)
	}
	list = byUA(laptop.sessions(t))
	if len(list) != 1 || !list["Laptop/1.0"].Current {
		t.Fatalf("after the tablet was ended the page lists %v", list)
	}
	// The dead entries are gone from the index: the phone's, pruned by
	// the listing, and the tablet's, dropped by the revocation.
	if e := rawIndex(t, s, c, "alice"); len(e) != 1 {
		t.Fatalf("the index holds %d entries; want the laptop's alone", len(e))
	}
}

// TestEvictedIndexNeverRevivesASession: memcached evicts the user's
// index. The index only lists: a session that logged out or was revoked
// stays dead, the live one stays live (unlisted, as documented), the
// listing shows nothing rather than failing, and the next login rebuilds
// it.
func TestEvictedIndexNeverRevivesASession(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	app := listApp(t, s, securesession.Options{})
	out, revoked, kept := &device{url: app.URL}, &device{url: app.URL}, &device{url: app.URL}
	for _, d := range []*device{out, revoked, kept} {
		d.login(t, "alice")
	}
	outCookie := out.cookie
	out.do(t, "POST", "/logout")
	var rh string
	for _, l := range kept.sessions(t) {
		if !l.Current {
			rh = l.Handle
		}
	}
	if code, _ := kept.do(t, "POST", "/revoke?handle="+rh); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	revokedCookie := revoked.cookie

	if err := c.Delete(s.indexKey(s.userRef("alice"))); err != nil {
		t.Fatal(err)
	}
	for name, ck := range map[string]string{"logged out": outCookie, "revoked": revokedCookie} {
		d := &device{url: app.URL, cookie: ck}
		if got := d.user(t); got != "" {
			t.Fatalf("the %s session came back as %q once the index was evicted", name, got)
		}
	}
	if kept.user(t) != "alice" {
		t.Fatal("the live session ended with its index")
	}
	if list := mustList(t, s, "alice"); len(list) != 0 {
		t.Fatalf("ListUser after the eviction: %+v; want nothing", list)
	}
	if err := s.RevokeHandle(bg, "alice", rh); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("RevokeHandle after the eviction: %v; want ErrNoRecord", err)
	}
	again := &device{url: app.URL}
	again.login(t, "alice")
	list := again.sessions(t)
	if len(list) != 1 || !list[0].Current {
		t.Fatalf("after a new login the index lists %+v; want the new session", list)
	}
}

// TestCorruptIndexReadsAsEmpty: whatever bytes sit under the index key
// (garbage, truncated, another item's sealed value), listing answers an
// empty list without an error or a panic, no session is ended or
// revived, and the next login replaces the index.
func TestCorruptIndexReadsAsEmpty(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	tok := mustCreate(t, s, cookie, newRecord(now, "alice", ""))
	ik := s.indexKey(s.userRef("alice"))
	genItem, err := c.Get(s.genKey(s.userRef("alice")))
	if err != nil {
		t.Fatal(err)
	}
	good, err := c.Get(ik)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{
		"garbage":            []byte("not an index at all"),
		"one byte":           {blobVersion},
		"truncated":          good.Value[:len(good.Value)-1],
		"bit flipped":        append(append([]byte(nil), good.Value[:40]...), append([]byte{good.Value[40] ^ 1}, good.Value[41:]...)...),
		"another version":    append([]byte{blobVersion + 1}, good.Value[1:]...),
		"the generation's":   genItem.Value,
		"empty":              {},
		"sealed, not parsed": seal(s.aead, []byte{blobVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}, ik),
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.Set(&gomemcache.Item{Key: ik, Value: v, Expiration: 3600}); err != nil {
				t.Fatal(err)
			}
			if list := mustList(t, s, "alice"); len(list) != 0 {
				t.Fatalf("ListUser of a corrupt index: %+v; want nothing", list)
			}
			if err := s.RevokeHandle(bg, "alice", mustFind(t, s, cookie, tok).Handle); !errors.Is(err, securesession.ErrNoRecord) {
				t.Fatalf("RevokeHandle: %v; want ErrNoRecord", err)
			}
			mustFind(t, s, cookie, tok)
			next := mustCreate(t, s, cookie, newRecord(now, "alice", ""))
			list := mustList(t, s, "alice")
			if len(list) != 1 || list[0].Handle != mustFind(t, s, cookie, next).Handle {
				t.Fatalf("after a login the index lists %+v; want the new session", list)
			}
		})
	}
}

// TestRevokeHandleDuringRotationEndsTheSession holds a same-user rotation
// at each of its two last steps (the index write, the delete of the old
// item) while RevokeHandle ends the session: the revocation succeeds, and
// the rotation then fails with ErrNoRecord and leaves nothing behind,
// under the old token or the new.
func TestRevokeHandleDuringRotationEndsTheSession(t *testing.T) {
	for _, step := range []string{"cas", "delete"} {
		t.Run("held at "+step, func(t *testing.T) {
			s, p, _ := proxied(t, Options{})
			now := time.Now()
			other := mustCreate(t, s, cookie, newRecord(now, "alice", "other"))
			tok := mustCreate(t, s, cookie, newRecord(now, "alice", "v"))
			rec := mustFind(t, s, cookie, tok)
			h := rec.Handle
			reached, release := p.Pause(step)
			defer release()
			done := make(chan error, 1)
			var nt string
			go func() {
				var err error
				nt, err = s.Rotate(bg, cookie, tok, &rec)
				done <- err
			}()
			select {
			case <-reached:
			case err := <-done:
				t.Fatalf("the rotation finished without a %s: %v", step, err)
			}
			if err := s.RevokeHandle(bg, "alice", h); err != nil {
				t.Fatalf("RevokeHandle during the rotation: %v; want the session ended", err)
			}
			release()
			if err := <-done; !errors.Is(err, securesession.ErrNoRecord) {
				t.Fatalf("the rotation after its session was revoked: token %v, err %v; want ErrNoRecord", nt != "", err)
			}
			mustNotFind(t, s, cookie, tok)
			list := mustList(t, s, "alice")
			if len(list) != 1 || list[0].Handle != mustFind(t, s, cookie, other).Handle {
				t.Fatalf("ListUser lists %+v; want only the other session", list)
			}
		})
	}
}

// TestRotationKeepsTheEntry: a rotation (same user, new token) keeps the
// session's one entry and its handle, so RevokeHandle of the handle seen
// before it ends the session under its new token.
func TestRotationKeepsTheEntry(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	tok := mustCreate(t, s, cookie, newRecord(now, "alice", ""))
	h := mustList(t, s, "alice")[0].Handle
	rec := mustFind(t, s, cookie, tok)
	nt, err := s.Rotate(bg, cookie, tok, &rec)
	if err != nil {
		t.Fatal(err)
	}
	list := mustList(t, s, "alice")
	if len(list) != 1 || list[0].Handle != h {
		t.Fatalf("after the rotation ListUser lists %+v; want the one session, handle %s", list, h)
	}
	e := rawIndex(t, s, c, "alice")
	if len(e) != 1 || s.cfg.prefix+e[0].key != keysOf(s, cookie, nt).session {
		t.Fatalf("index entries %+v; want one, naming the new item", e)
	}
	if err := s.RevokeHandle(bg, "alice", h); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, nt)
	mustNotFind(t, s, cookie, tok)
}

// TestLimitEndsTheLeastRecentlySeen: with a limit of 3, a fourth login
// ends the session with the oldest activity (LastSeen as the items hold
// it, not the order of the logins); refusing, a fifth login stores
// nothing and says ErrTooManySessions.
func TestLimitEndsTheLeastRecentlySeen(t *testing.T) {
	m := testServer(t)
	clock := newClock()
	s := newTestStore(t, newClient(t, m.Addr()), Options{Now: clock.Now})
	evict := securesession.SessionLimit{Max: 3}
	login := func(limit securesession.SessionLimit) (string, error) {
		return s.LoginLimited(bg, cookie, "", newRecord(clock.Now(), "alice", ""), limit)
	}
	var toks []string
	for range 3 {
		tok, err := login(evict)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		clock.Advance(time.Minute)
	}
	rec := mustFind(t, s, cookie, toks[0])
	rec.LastSeen = clock.Now()
	rec.Expires = rec.LastSeen.Add(securesession.DefaultIdleTimeout)
	if _, err := s.Touch(bg, cookie, toks[0], &rec); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	fourth, err := login(evict)
	if err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, toks[1])
	for _, tok := range []string{toks[0], toks[2], fourth} {
		mustFind(t, s, cookie, tok)
	}
	if n := len(mustList(t, s, "alice")); n != 3 {
		t.Fatalf("ListUser lists %d sessions; want 3", n)
	}

	tok, err := login(securesession.SessionLimit{Max: 3, Refuse: true})
	if !errors.Is(err, securesession.ErrTooManySessions) || tok != "" {
		t.Fatalf("a refused login: token %v, err %v; want ErrTooManySessions", tok != "", err)
	}
	if n := len(mustList(t, s, "alice")); n != 3 {
		t.Fatalf("after a refused login ListUser lists %d sessions; want 3", n)
	}
	// The limit is per user.
	if _, err := s.LoginLimited(bg, cookie, "", newRecord(clock.Now(), "bob", ""), securesession.SessionLimit{Max: 1, Refuse: true}); err != nil {
		t.Fatalf("bob's first login: %v", err)
	}
}

// TestRefusedLoginOverASessionKeepsIt: a login over an existing session
// (the anonymous cart, or the user's own session logging in again) that
// the limit refuses ends nothing; the session it replaces does not count,
// so the user's own re-login is not refused.
func TestRefusedLoginOverASessionKeepsIt(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	refuse := securesession.SessionLimit{Max: 2, Refuse: true}
	var mine []string
	for range 2 {
		tok, err := s.LoginLimited(bg, cookie, "", newRecord(now, "alice", ""), refuse)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tok)
	}
	cart := mustCreate(t, s, cookie, newRecord(now, "", "cart"))
	rec := mustFind(t, s, cookie, cart)
	rec.UserID, rec.AuthTime = "alice", now
	if _, err := s.LoginLimited(bg, cookie, cart, &rec, refuse); !errors.Is(err, securesession.ErrTooManySessions) {
		t.Fatalf("a login over the cart beyond the limit: %v; want ErrTooManySessions", err)
	}
	if got := mustFind(t, s, cookie, cart); string(got.Values) != "cart" || got.UserID != "" {
		t.Fatalf("the refused login changed the cart session: %+v", got)
	}

	old := mustFind(t, s, cookie, mine[0])
	again, err := s.LoginLimited(bg, cookie, mine[0], &old, refuse)
	if err != nil {
		t.Fatalf("alice logging in again over her own session: %v; want it replaced", err)
	}
	mustNotFind(t, s, cookie, mine[0])
	if got := mustFind(t, s, cookie, again); got.Handle != old.Handle {
		t.Fatalf("the re-login's handle %s, want the session's %s", got.Handle, old.Handle)
	}
	if n := len(mustList(t, s, "alice")); n != 2 {
		t.Fatalf("ListUser lists %d sessions; want 2", n)
	}
	if e := rawIndex(t, s, c, "alice"); len(e) != 2 {
		t.Fatalf("the index holds %d entries; want 2", len(e))
	}
}

// TestLoginLimitedRefusesALimitTheIndexCannotHold: a limit over
// MaxIndexedSessions fails, naming the option, before any network call.
func TestLoginLimitedRefusesALimitTheIndexCannotHold(t *testing.T) {
	s, p, _ := proxied(t, Options{})
	p.Take()
	for _, max := range []int{0, MaxIndexedSessions + 1} {
		_, err := s.LoginLimited(bg, cookie, "", newRecord(time.Now(), "alice", ""), securesession.SessionLimit{Max: max})
		if err == nil || !strings.Contains(err.Error(), "Options.MaxSessionsPerUser") || !strings.HasPrefix(err.Error(), errPrefix) {
			t.Fatalf("limit %d: %v; want an error naming Options.MaxSessionsPerUser", max, err)
		}
	}
	if cmds := p.Take(); len(cmds) != 0 {
		t.Fatalf("sent %q", verbs(cmds))
	}
	if _, err := s.LoginLimited(bg, cookie, "", newRecord(time.Now(), "alice", ""), securesession.SessionLimit{Max: MaxIndexedSessions}); err != nil {
		t.Fatalf("limit MaxIndexedSessions: %v", err)
	}
}

// TestIndexIsBounded: beyond MaxIndexedSessions logins without a limit,
// the index keeps the most recently seen sessions, and the ones it drops
// stay valid. A full index is pruned to indexPruneTo at once, so that the
// logins after it do not each read every listed item again.
func TestIndexIsBounded(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	clock := newClock()
	s := newTestStore(t, c, Options{Now: clock.Now})
	var toks []string
	const logins = MaxIndexedSessions + 6
	for range logins {
		toks = append(toks, mustCreate(t, s, cookie, newRecord(clock.Now(), "alice", "")))
		clock.Advance(time.Second)
	}
	// Login MaxIndexedSessions+1 pruned the index to indexPruneTo; the 5
	// after it were added.
	want := indexPruneTo + logins - (MaxIndexedSessions + 1)
	list := mustList(t, s, "alice")
	if len(list) != want {
		t.Fatalf("ListUser lists %d sessions; want %d", len(list), want)
	}
	listed := map[string]bool{}
	for _, l := range list {
		listed[l.Handle] = true
	}
	for i, tok := range toks {
		h := mustFind(t, s, cookie, tok).Handle // every session is still valid
		if recent := i >= logins-want; listed[h] != recent {
			t.Fatalf("login %d listed %v; want the %d most recent listed", i, listed[h], want)
		}
	}
	// Logged-out sessions leave the listing, and the index with it.
	for _, tok := range toks[logins-want : logins-want+10] {
		if err := s.Delete(bg, cookie, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mustList(t, s, "alice")); n != want-10 {
		t.Fatalf("after 10 logouts ListUser lists %d; want %d", n, want-10)
	}
	if n := len(rawIndex(t, s, c, "alice")); n != want-10 {
		t.Fatalf("the listing left %d entries in the index; want %d", n, want-10)
	}
}

// TestListingAfterLogoutEverywhereShowsOnlyTheKeptSession: RevokeUser
// does not touch the index, yet the listing shows only the sessions the
// generation still accepts.
func TestListingAfterLogoutEverywhereShowsOnlyTheKeptSession(t *testing.T) {
	m := testServer(t)
	s := newTestStore(t, newClient(t, m.Addr()), Options{})
	now := time.Now()
	keep := mustCreate(t, s, cookie, newRecord(now, "alice", ""))
	for range 3 {
		mustCreate(t, s, cookie, newRecord(now, "alice", ""))
	}
	if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: cookie, Token: keep}); err != nil {
		t.Fatal(err)
	}
	list := mustList(t, s, "alice")
	if len(list) != 1 || list[0].Handle != mustFind(t, s, cookie, keep).Handle {
		t.Fatalf("after RevokeUser ListUser lists %+v; want only the kept session", list)
	}
	if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
		t.Fatal(err)
	}
	if list := mustList(t, s, "alice"); len(list) != 0 {
		t.Fatalf("after RevokeUser of all ListUser lists %+v", list)
	}
}

func TestIndexKeyHashesToTheGenerationKeysServer(t *testing.T) {
	for _, prefix := range []string{"", "app:", strings.Repeat("~", MaxPrefixLen)} {
		s := newTestStore(t, gomemcache.New("127.0.0.1:1"), Options{Prefix: prefix})
		for i := range 300 {
			r := s.userRef(strings.Repeat("u", i+1))
			ik, gk := s.indexKey(r), s.genKey(r)
			if crc32.ChecksumIEEE([]byte(ik)) != crc32.ChecksumIEEE([]byte(gk)) {
				t.Fatalf("index key %q and generation key %q hash to different servers", ik, gk)
			}
			if len(ik) > 250 || !strings.HasPrefix(ik, s.cfg.prefix+tagIndex) {
				t.Fatalf("index key %q", ik)
			}
		}
	}
}

// FuzzIndexPlaintext reaches the index decoder behind the AEAD: it seals
// arbitrary plaintext under an index key, as an attacker who had the key
// could, and opens it. Decoding must never panic or over-allocate, and an
// index that decodes must re-encode to one that decodes the same.
func FuzzIndexPlaintext(f *testing.F) {
	s := fuzzStore(f)
	ik := s.indexKey(s.userRef("alice"))
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	rec := newRecord(now, "alice", "")
	rec.UserAgent, rec.IP = "Firefox", "192.0.2.1"
	key := keysOf(s, cookie, fuzzToken).session
	e := s.entryFor(key, newHandle(), rec)
	e.prev = e.key
	pt, err := open(s.aead, s.sealIndex(ik, []indexEntry{e, e}), ik)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pt)
	f.Add(pt[:len(pt)-1])
	f.Add([]byte{blobVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{blobVersion, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, pt []byte) {
		blob := seal(s.aead, pt, ik)
		var entries []indexEntry
		n := fuzzalloc.Bytes(func() { entries, err = s.openIndex(blob, ik) })
		if limit := uint64(12*len(blob)) + 4096; n > limit {
			t.Fatalf("decoding %d bytes allocated %d (limit %d)", len(blob), n, limit)
		}
		if err != nil {
			return
		}
		again, err := s.openIndex(s.sealIndex(ik, entries), ik)
		if err != nil {
			t.Fatalf("a decoded index does not re-encode: %v", err)
		}
		if !reflect.DeepEqual(entries, again) {
			t.Fatal("round trip changed the index")
		}
	})
}

// TestLoginRetryingItsIndexWriteJudgesByTheCurrentGeneration: a login
// read the user's generation and index, then "log out everywhere" drew a
// new generation and another login M wrote the index. The first login's
// compare-and-swap conflicts and it reads the index again; if it kept
// judging the other sessions by the generation it read first, it would
// drop M, live, from the index: unlisted, uncounted and out of reach of
// RevokeHandle.
func TestLoginRetryingItsIndexWriteJudgesByTheCurrentGeneration(t *testing.T) {
	m := testServer(t)
	s := newTestStore(t, newClient(t, m.Addr()), Options{})
	now := time.Now()
	mustCreate(t, s, cookie, newRecord(now, "alice", "before"))
	r := s.userRef("alice")
	g, ix, _, err := s.userItems(r) // the first login's read
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
		t.Fatal(err)
	}
	mh := mustFind(t, s, cookie, mustCreate(t, s, cookie, newRecord(now, "alice", "m"))).Handle
	rec := newRecord(now, "alice", "first")
	e := s.entryFor(s.keys(cookie, s.newToken(r), r).session, newHandle(), rec)
	if err := s.enter(bg, "login", r, g, ix, e, securesession.SessionLimit{Max: 5}); err != nil {
		t.Fatal(err)
	}
	if got := handles(mustList(t, s, "alice")); !slices.Contains(got, mh) {
		t.Fatalf("ListUser lists %v; want the live session %s, logged in after the revocation", got, mh)
	}
	if err := s.RevokeHandle(bg, "alice", mh); err != nil {
		t.Fatalf("RevokeHandle of the live session: %v", err)
	}
}

// TestRevokeHandleTakesOnlyTheHandleAsListed: a handle is the lowercase
// hex that ListUser returns; an uppercase spelling of it names no session
// (ErrNoRecord, the session goes on), as on the other backends, so that
// the middleware's string comparison of handles never meets a second
// name for the current session.
func TestRevokeHandleTakesOnlyTheHandleAsListed(t *testing.T) {
	m := testServer(t)
	s := newTestStore(t, newClient(t, m.Addr()), Options{})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v"))
	h := mustFind(t, s, cookie, tok).Handle
	if err := s.RevokeHandle(bg, "alice", strings.ToUpper(h)); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("RevokeHandle of the handle in uppercase: %v; want ErrNoRecord", err)
	}
	mustFind(t, s, cookie, tok)
	if err := s.RevokeHandle(bg, "alice", h); err != nil {
		t.Fatalf("RevokeHandle of the handle as listed: %v", err)
	}
}

// ListUser over an index whose sessions have all ended lists nothing and
// rewrites the index empty, as it prunes the dead entries of an index
// that still lists a live one.
func TestListUserPrunesAnIndexWhoseSessionsAllEnded(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	clock := newClock()
	s := newTestStore(t, c, Options{Now: clock.Now})
	for range 2 {
		if _, err := s.Create(bg, "sid", newRecord(clock.Now(), "zed", "")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rawIndex(t, s, c, "zed")); n != 2 {
		t.Fatalf("the index lists %d sessions after two logins, want 2", n)
	}
	clock.Advance(securesession.DefaultIdleTimeout + time.Minute)
	if list := mustList(t, s, "zed"); len(list) != 0 {
		t.Fatalf("ListUser after every session's idle timeout: %+v; want nothing", list)
	}
	if n := len(rawIndex(t, s, c, "zed")); n != 0 {
		t.Fatalf("the index still lists %d ended sessions after ListUser", n)
	}
}
