package backendtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

func testDefaultCookieAttributes(t *testing.T, f Factory) {
	a := newApp(t, f)
	r := a.do("POST", "/set?key=k&val=v", nil)
	c := r.cookie(securesession.DefaultCookieName)
	if c == nil {
		t.Fatalf("no %s cookie in %q", securesession.DefaultCookieName, r.header.Values("Set-Cookie"))
	}
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie attributes: Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q; want Secure, HttpOnly, Lax, Path=/, no Domain",
			c.Secure, c.HttpOnly, c.SameSite, c.Path, c.Domain)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie has Max-Age=%d Expires=%v; want a browser-session cookie", c.MaxAge, c.Expires)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := strings.Join(r.header.Values("Vary"), ","); !strings.Contains(got, "Cookie") {
		t.Errorf("Vary = %q, want it to name Cookie", got)
	}
	if n := len(r.header.Values("Set-Cookie")); n != 1 {
		t.Errorf("%d Set-Cookie headers, want 1", n)
	}
}

func testNoCookieOrWriteForUntouchedSession(t *testing.T, f Factory) {
	a := newApp(t, f)
	for _, path := range []string{"/noop", "/get?key=k", "/whoami", "/flashes"} {
		r := a.do("GET", path, nil)
		if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("GET %s without a session set %q; want no cookie", path, sc)
		}
	}
	if n := a.b.total(); n != 0 {
		t.Errorf("anonymous requests caused %d backend writes (%v); want none", n, a.b.writes)
	}
	// A handler that sets and deletes the same key leaves nothing to store.
	cl := a.client()
	cl.do("POST", "/set?key=k&val=v")
	if cl.c == nil {
		t.Fatal("no cookie after a Set")
	}
	before := a.b.total()
	r := a.do("GET", "/noop", cl.c)
	if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("a request that never touched its session set %q", sc)
	}
	if n := a.b.total() - before; n != 0 {
		t.Errorf("a request that never touched its session caused %d backend writes", n)
	}
}

func testValuesKeepTheirTypes(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/typed")
	got := cl.do("GET", "/typed").body
	want := strings.Join([]string{
		"int=int:42", "int64=int64:-7", "uint8=uint8:200", "float=float64:2.5", "bool=bool:true",
		"bytes=[]uint8:[1 2 3]", "strings=[]string:[a b]", "map=map[string]interface {}:map[n:1 s:x]",
		"time=time.Time:2026-11-24 12:00:00 +0000 UTC", "7=string:int key",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("values after a round trip:\n%s\nwant:\n%s", got, want)
	}
}

func testAutoSaveWithoutSave(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set-nosave?key=k&val=v1")
	if got := cl.do("GET", "/get?key=k").body; got != "string:v1" {
		t.Fatalf("after a Set without Save: got %q, want string:v1", got)
	}
	cl.do("POST", "/set-nosave?key=k&val=v2")
	if got := cl.do("GET", "/get?key=k").body; got != "string:v2" {
		t.Fatalf("after an update without Save: got %q, want string:v2", got)
	}
	// A redirect writes only a header; the change must still be saved.
	cl.do("POST", "/set-redirect?key=k&val=v3")
	if got := cl.do("GET", "/get?key=k").body; got != "string:v3" {
		t.Fatalf("after a Set before a redirect: got %q, want string:v3", got)
	}
}

func testExplicitSaveWritesOnce(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set?key=k&val=v1")
	before := a.b.total()
	cl.do("POST", "/set?key=k&val=v2")
	if n := a.b.total() - before; n != 1 {
		t.Errorf("Set+Save caused %d backend writes (%v), want exactly 1", n, a.b.writes)
	}
}

func testFlashes(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/flash?msg=hello")
	if got := cl.do("GET", "/flashes").body; got != "[hello]" {
		t.Fatalf("flashes = %q, want [hello]", got)
	}
	if got := cl.do("GET", "/flashes").body; got != "[]" {
		t.Fatalf("flashes after reading = %q, want []", got)
	}
}

func testUnknownTokenNeverAdopted(t *testing.T, f Factory) {
	a := newApp(t, f)
	// Valid-looking values of several shapes; none was issued.
	planted := []string{
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"attacker-chosen-session-id",
		strings.Repeat("A", 64),
	}
	for _, p := range planted {
		c := &http.Cookie{Name: a.name, Value: p}
		if got := a.replayUser(c); got != "" {
			t.Fatalf("planted cookie %q is user %q", p, got)
		}
		r := a.do("POST", "/set?key=k&val=v", c)
		nc := r.cookie(a.name)
		if nc == nil || nc.Value == p {
			t.Fatalf("a Set with a planted cookie must issue a fresh token; got %v", nc)
		}
		if _, found, err := a.b.Find(context.Background(), a.name, p); found || (err != nil && !isInvalid(err)) {
			t.Fatalf("after a Set, the planted value is found=%v err=%v; want nothing stored for it", found, err)
		}
	}
}

func testLoginRotatesAndCarriesData(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set?key=cart&val=3-items")
	pre := cl.c
	cl.do("POST", "/login?user=alice")
	if cl.token() == "" || cl.token() == pre.Value {
		t.Fatal("Login did not issue a new token")
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("after Login, user = %q, want alice", got)
	}
	if got := cl.do("GET", "/get?key=cart").body; got != "string:3-items" {
		t.Fatalf("after Login, cart = %q, want the pre-login value carried over", got)
	}
	if ok, why := canRevoke(t, a.b.Backend); !ok {
		t.Logf("skipping the pre-login replay check: %s", why)
		return
	}
	if got := a.replayUser(pre); got != "" {
		t.Fatalf("pre-login cookie replayed after Login is user %q, want anonymous", got)
	}
	if got := a.replayGet(pre, "cart"); got != "<nil>" {
		t.Fatalf("pre-login cookie replayed after Login still reads %q", got)
	}
}

// A handler that logs in and then stores more values costs one backend
// write, not a create followed by an update.
func testLoginThenSetWritesOnce(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set?key=cart&val=1")
	before := a.b.total()
	cl.do("POST", "/login-role?user=alice&role=admin")
	if n := a.b.total() - before; n != 1 {
		t.Errorf("Login followed by Set made %d backend writes (%v), want 1", n, a.b.writes)
	}
	if got := cl.do("GET", "/get?key=role").body; got != "string:admin" {
		t.Fatalf("role after login = %q", got)
	}
	if got := cl.do("GET", "/get?key=cart").body; got != "string:1" {
		t.Fatalf("cart after login = %q", got)
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("user after login = %q", got)
	}
}

func testFixationRefused(t *testing.T, f Factory) {
	a := newApp(t, f)
	attacker := a.client()
	attacker.do("POST", "/set?key=k&val=planted")
	// The victim's browser is made to carry the attacker's cookie, then
	// the victim logs in.
	victim := &session{a: a, c: attacker.c}
	victim.do("POST", "/login?user=victim")
	if victim.token() == attacker.token() {
		t.Fatal("Login kept the planted token: session fixation")
	}
	if got := victim.user(); got != "victim" {
		t.Fatalf("victim user = %q", got)
	}
	requireRevocation(t, a.b.Backend)
	if got := a.replayUser(attacker.c); got != "" {
		t.Fatalf("attacker's planted cookie is logged in as %q after the victim's login", got)
	}
}

func testRotateKillsOldCookie(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	old := cl.c
	cl.do("POST", "/rotate")
	if cl.token() == old.Value {
		t.Fatal("Rotate kept the token")
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("after Rotate, user = %q, want alice", got)
	}
	requireRevocation(t, a.b.Backend)
	if got := a.replayUser(old); got != "" {
		t.Fatalf("pre-rotation cookie is user %q, want anonymous", got)
	}
}

func testLogoutKillsOldCookie(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	cl.do("POST", "/set?key=secret&val=s3")
	stolen := cl.c
	r := cl.do("POST", "/logout")
	if cl.c != nil {
		t.Fatalf("Logout left the browser a cookie: %q", r.header.Values("Set-Cookie"))
	}
	if got := cl.user(); got != "" {
		t.Fatalf("after Logout, user = %q", got)
	}
	requireRevocation(t, a.b.Backend)
	if got := a.replayUser(stolen); got != "" {
		t.Fatalf("cookie replayed after Logout is user %q, want anonymous", got)
	}
	if got := a.replayGet(stolen, "secret"); got != "<nil>" {
		t.Fatalf("cookie replayed after Logout still reads %q", got)
	}
	if _, found, _ := a.b.Find(context.Background(), a.name, stolen.Value); found {
		t.Fatal("the server record survives Logout")
	}
}

func testLogoutExpiresCookieWithSameAttributes(t *testing.T, f Factory) {
	for _, tc := range []struct {
		name string
		opt  appOption
	}{
		{"default", func(*securesession.Options) {}},
		{"domain", func(o *securesession.Options) { o.Domain = "example.test" }},
		{"strict-partitioned", func(o *securesession.Options) {
			o.SameSite = http.SameSiteStrictMode
			o.Partitioned = true
		}},
		{"path", func(o *securesession.Options) { o.CookieName = "sid"; o.Path = "/app" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, f, tc.opt)
			r := a.do("POST", "/login?user=alice", nil)
			issued := r.cookie(a.name)
			if issued == nil {
				t.Fatalf("no cookie %q issued", a.name)
			}
			rawIssued := setCookieLine(r.header, a.name)
			if tc.name == "strict-partitioned" && (!issued.Partitioned || issued.SameSite != http.SameSiteStrictMode) {
				t.Fatalf("options not applied to the issued cookie: %s", rawIssued)
			}
			r = a.do("POST", "/logout", issued)
			gone := r.cookie(a.name)
			if gone == nil {
				t.Fatalf("Logout sent no Set-Cookie for %q", a.name)
			}
			if gone.MaxAge >= 0 || gone.Value != "" {
				t.Errorf("logout cookie Max-Age=%d value=%q; want expired and empty", gone.MaxAge, gone.Value)
			}
			if gone.Path != issued.Path || gone.Domain != issued.Domain || gone.Secure != issued.Secure ||
				gone.HttpOnly != issued.HttpOnly || gone.SameSite != issued.SameSite || gone.Partitioned != issued.Partitioned {
				t.Errorf("logout cookie attributes differ from the issued cookie:\nissued: %s\nlogout: %s", rawIssued, setCookieLine(r.header, a.name))
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("logout Cache-Control = %q, want no-store", got)
			}
		})
	}
}

func setCookieLine(h http.Header, name string) string {
	for _, l := range h.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}

func testGinContribMaxAgeMinusOneLogsOut(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	stolen := cl.c
	cl.do("POST", "/gin-logout")
	if cl.c != nil {
		t.Fatal("Options{MaxAge:-1}+Save left the browser a cookie")
	}
	requireRevocation(t, a.b.Backend)
	if got := a.replayUser(stolen); got != "" {
		t.Fatalf("cookie replayed after Options{MaxAge:-1} is user %q", got)
	}
}

func testLogoutEverywhere(t *testing.T, f Factory) {
	a := newApp(t, f)
	laptop, phone, other := a.client(), a.client(), a.client()
	laptop.do("POST", "/login?user=alice")
	phone.do("POST", "/login?user=alice")
	other.do("POST", "/login?user=bob")
	phoneCookie := phone.c
	r := a.do("POST", "/logout-everywhere", laptop.c)
	if ok, why := canRevoke(t, a.b.Backend); !ok {
		if r.status != http.StatusInternalServerError || !strings.Contains(r.body, "cannot revoke") {
			t.Fatalf("LogoutEverywhere on a backend that cannot revoke: status %d %q; want the ErrCannotRevoke error", r.status, r.body)
		}
		t.Skipf("backend declares it cannot revoke sessions on the server: %s", why)
	}
	if r.status != http.StatusOK {
		t.Fatalf("LogoutEverywhere: %d %s", r.status, r.body)
	}
	if got := a.replayUser(phoneCookie); got != "" {
		t.Fatalf("alice's other session survives LogoutEverywhere as %q", got)
	}
	if got := other.user(); got != "bob" {
		t.Fatalf("bob's session was affected by alice's LogoutEverywhere: user %q", got)
	}
	// Alice can log in again afterwards.
	phone.c = nil
	phone.do("POST", "/login?user=alice")
	if got := phone.user(); got != "alice" {
		t.Fatalf("new login after LogoutEverywhere: user %q", got)
	}
}

func isInvalid(err error) bool {
	return err != nil && strings.Contains(err.Error(), securesession.ErrInvalidToken.Error())
}

// mutations returns systematic corruptions of a valid cookie value.
func mutations(v string) map[string]string {
	m := map[string]string{
		"empty":          "",
		"truncated-half": v[:len(v)/2],
		"truncated-1":    v[:len(v)-1],
		"extended":       v + "A",
		"extended-junk":  v + "%00;x",
		"oversized":      v + strings.Repeat("A", securesession.MaxCookieSize),
		"std-base64":     strings.NewReplacer("-", "+", "_", "/").Replace(v) + "=",
		"quoted-junk":    `"` + v[1:] + `"`,
		"uppercased":     strings.ToUpper(v),
		"lowercased":     strings.ToLower(v),
	}
	for _, i := range []int{0, 1, len(v) / 3, len(v) / 2, len(v) - 2, len(v) - 1} {
		b := []byte(v)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		m[fmt.Sprintf("flip-%d", i)] = string(b)
	}
	return m
}

func testTamperedCookiesAreAnonymous(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	cl.do("POST", "/set?key=k&val=v")
	valid := cl.token()
	for name, v := range mutations(valid) {
		if v == valid {
			continue
		}
		r := a.do("GET", "/whoami", &http.Cookie{Name: a.name, Value: v})
		if r.status != http.StatusOK {
			t.Errorf("%s: status %d (%s); a bad cookie must be an anonymous session, not an error", name, r.status, r.body)
			continue
		}
		if r.body != "user=" {
			t.Errorf("%s: tampered cookie accepted as %q", name, r.body)
		}
		if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s: a tampered cookie on a read-only request produced Set-Cookie %q", name, sc)
		}
	}
	if !a.sawEvent(securesession.EventRejected) && !a.sawEvent(securesession.EventUnknown) {
		t.Error("no rejected/unknown event was reported for tampered cookies")
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("the genuine cookie stopped working: %q", got)
	}
}

func testCookieMovedToAnotherName(t *testing.T, f Factory) {
	b := f(t)
	a := newAppOn(t, b)
	other := newAppOn(t, b, func(o *securesession.Options) { o.CookieName = "__Host-other" })
	r := other.do("POST", "/login?user=alice", nil)
	c := r.cookie("__Host-other")
	if c == nil {
		t.Fatal("no cookie from the second app")
	}
	if got := a.replayUser(&http.Cookie{Name: a.name, Value: c.Value}); got != "" {
		t.Fatalf("a token issued for cookie __Host-other was accepted under %s as %q", a.name, got)
	}
}

func testIdleTimeout(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	a.clock.Advance(securesession.DefaultIdleTimeout + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("after %v idle the session is still user %q", securesession.DefaultIdleTimeout, got)
	}
	if !a.sawEvent(securesession.EventExpiredIdle) {
		t.Error("no expired_idle event")
	}
}

// An expired session is deleted on the server when the middleware sees
// it, not merely ignored, so a clock skew between instances cannot revive
// it.
func testExpiredRecordIsDeleted(t *testing.T, f Factory) {
	a := newApp(t, f)
	requireRevocation(t, a.b.Backend)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	tok := cl.token()
	a.clock.Advance(securesession.DefaultIdleTimeout + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("idle session still user %q", got)
	}
	if _, found, _ := a.b.Find(context.Background(), a.name, tok); found {
		t.Fatal("the idle-expired record is still stored")
	}
}

// A request that read the session before a logout and writes after it
// must not bring the session back (the write gets ErrNoRecord from the
// backend, and the middleware expires the cookie instead of re-creating).
func testWriteRacingLogoutDoesNotResurrect(t *testing.T, f Factory) {
	b := f(t)
	requireRevocation(t, b)
	loaded, release := make(chan struct{}), make(chan struct{})
	a := newAppOn(t, b)
	a.srv.Config.Handler.(*gin.Engine).POST("/slow-set", func(c *gin.Context) {
		s := sessions.Default(c)
		_ = s.Get("k") // the session is loaded
		close(loaded)
		<-release // a logout happens meanwhile
		s.Set("k", "after-logout")
		c.String(http.StatusOK, "ok")
	})
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	stolen := cl.c
	done := make(chan *result)
	go func() { done <- a.do("POST", "/slow-set", stolen) }()
	<-loaded
	if r := a.do("POST", "/logout", stolen); r.status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	close(release)
	r := <-done
	if r.status >= 500 {
		t.Fatalf("the racing write failed with %d (%s); a session ended meanwhile is not an outage", r.status, r.body)
	}
	if c := r.cookie(a.name); c != nil && c.Value != "" && c.MaxAge >= 0 {
		if got := a.replayUser(c); got != "" {
			t.Fatalf("the racing write issued a new cookie for user %q", got)
		}
	}
	if got := a.replayUser(stolen); got != "" {
		t.Fatalf("the session came back after logout as %q", got)
	}
	if got := a.replayGet(stolen, "k"); got != "<nil>" {
		t.Fatalf("the racing write resurrected the session's data: %q", got)
	}
}

func testActivityKeepsSessionAlive(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	for i := 0; i < 5; i++ {
		a.clock.Advance(securesession.DefaultIdleTimeout - time.Minute)
		if got := cl.user(); got != "alice" {
			t.Fatalf("request %d, %v after the previous one: user %q; activity must refresh the idle timeout", i, securesession.DefaultIdleTimeout-time.Minute, got)
		}
	}
}

// Recording activity is throttled: a read soon after the last write
// changes nothing on the server or in the browser; a read after
// Options.TouchInterval records the activity exactly once.
func testActivityRefreshIsThrottled(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	before := a.b.total()
	for i := 0; i < 3; i++ {
		r := a.do("GET", "/whoami", cl.c)
		if r.body != "user=alice" || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("read %d right after login: %q, Set-Cookie %q; want no new cookie", i, r.body, r.header.Values("Set-Cookie"))
		}
	}
	if n := a.b.total() - before; n != 0 {
		t.Fatalf("reads within the touch interval made %d backend writes", n)
	}
	a.clock.Advance(2 * time.Minute) // past the default TouchInterval (1 minute)
	cl.user()
	if n := a.b.n("touch"); n != 1 {
		t.Fatalf("a read after the touch interval made %d touches, want 1", n)
	}
	cl.user()
	if n := a.b.n("touch"); n != 1 {
		t.Fatalf("the next read touched again: %d touches", n)
	}
}

func testAbsoluteTimeout(t *testing.T, f Factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	step := securesession.DefaultIdleTimeout / 2
	elapsed := time.Duration(0)
	for elapsed+step < securesession.DefaultAbsoluteTimeout {
		a.clock.Advance(step)
		elapsed += step
		if got := cl.user(); got != "alice" {
			t.Fatalf("active session ended after %v: user %q", elapsed, got)
		}
	}
	a.clock.Advance(securesession.DefaultAbsoluteTimeout - elapsed + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("past the absolute timeout the session is still user %q", got)
	}
	if !a.sawEvent(securesession.EventExpiredAbsolute) {
		t.Error("no expired_absolute event")
	}
}

func testConcurrentRequests(t *testing.T, f Factory) {
	a := newApp(t, f)
	const clients, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			user := fmt.Sprintf("user%d", i)
			r := a.do("POST", "/login?user="+user, nil)
			c := r.cookie(a.name)
			if c == nil {
				errs <- fmt.Errorf("%s: no cookie", user)
				return
			}
			for j := 0; j < rounds; j++ {
				val := fmt.Sprintf("%s-%d", user, j)
				r := a.do("POST", "/set?key=v&val="+val, c)
				if nc := r.cookie(a.name); nc != nil {
					c = nc
				}
				got := a.do("GET", "/get?key=v", c).body
				if got != "string:"+val {
					errs <- fmt.Errorf("%s round %d: read %q, want string:%s", user, j, got, val)
				}
				if who := strings.TrimPrefix(a.do("GET", "/whoami", c).body, "user="); who != user {
					errs <- fmt.Errorf("%s saw user %q", user, who)
				}
			}
		}(i)
	}
	// Concurrent requests on one shared session must not race either.
	shared := a.do("POST", "/login?user=shared", nil).cookie(a.name)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < rounds; j++ {
				if r := a.do("GET", "/whoami", shared); r.status != http.StatusOK || r.body != "user=shared" {
					errs <- fmt.Errorf("shared session: %d %q", r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
