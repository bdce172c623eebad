package backendtest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// dbscChecks drive a backend through device-bound sessions (DBSC) over
// real HTTPS with the pure-Go browser client of dbsc/dbsctest: the
// binding lives in Record.Binding, so every backend must carry it through
// Create, Update, Rotate and Touch.
var dbscChecks = []check{
	{"DBSCRegisterRefreshAndExpiry", testDBSCRegisterRefreshAndExpiry},
	{"DBSCStaleChallengeIsRetried", testDBSCStaleChallengeIsRetried},
	{"DBSCCopiedCookiesStopWorking", testDBSCCopiedCookiesStopWorking},
	{"DBSCBadProofsRefused", testDBSCBadProofsRefused},
	{"DBSCUnboundBrowserKeepsWorking", testDBSCUnboundBrowserKeepsWorking},
	{"DBSCRotateKeepsBinding", testDBSCRotateKeepsBinding},
	{"DBSCLogoutEndsBinding", testDBSCLogoutEndsBinding},
	{"DBSCLogoutEverywhereEndsBinding", testDBSCLogoutEverywhereEndsBinding},
}

// dbscLifetime is the bound cookie's lifetime in these checks; the clock
// is moved past it, never slept through.
const dbscLifetime = 5 * time.Minute

// dbscApp is the middleware with DeviceBinding on, served over HTTPS.
type dbscApp struct {
	t      *testing.T
	clock  *testclock.Clock
	srv    *httptest.Server
	mu     sync.Mutex
	events []securesession.Event
}

func newDBSCApp(t *testing.T, f *factory) *dbscApp {
	t.Helper()
	a := &dbscApp{t: t, clock: testclock.New()}
	mw, err := securesession.New(f.backend(t), securesession.Options{
		Now:           a.clock.Now,
		Logger:        slog.New(slog.DiscardHandler),
		IdleTimeout:   time.Hour,
		DeviceBinding: &securesession.DeviceBinding{Cookie: dbsc.BoundCookie{Lifetime: dbscLifetime}},
		OnEvent: func(e securesession.Event) {
			a.mu.Lock()
			a.events = append(a.events, e)
			a.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatalf("securesession.New: %v", err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.String(http.StatusInternalServerError, "login: %v", err)
		}
	})
	r.GET("/whoami", func(c *gin.Context) {
		c.String(http.StatusOK, "user=%s bound=%v", securesession.UserID(c), securesession.DeviceBound(c))
	})
	r.POST("/rotate", func(c *gin.Context) {
		if err := securesession.Rotate(c); err != nil {
			c.String(http.StatusInternalServerError, "rotate: %v", err)
		}
	})
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			c.String(http.StatusInternalServerError, "logout: %v", err)
		}
	})
	r.POST("/logout-everywhere", func(c *gin.Context) {
		if err := securesession.LogoutEverywhere(c); err != nil {
			c.String(http.StatusInternalServerError, "logout everywhere: %v", err)
		}
	})
	r.GET("/admin", securesession.RequireDeviceBound(), func(c *gin.Context) { c.String(http.StatusOK, "admin") })
	a.srv = httptest.NewTLSServer(r)
	t.Cleanup(a.srv.Close)
	return a
}

// browser is one cookie jar over HTTPS, with the DBSC key of dev (nil
// for a browser without DBSC, or a thief's copy of the jar).
type browser struct {
	a    *dbscApp
	hc   *http.Client
	dev  *dbsctest.Client
	sess *dbsctest.Session
}

func (a *dbscApp) browser(dev *dbsctest.Client) *browser {
	shared := *a.srv.Client() // trusts the server's certificate; a copy, so each browser has its own jar
	hc := &shared
	hc.Jar, _ = cookiejar.New(nil)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{a: a, hc: hc, dev: dev}
}

func (b *browser) do(method, path string) (*http.Response, string) {
	b.a.t.Helper()
	req, err := http.NewRequest(method, b.a.srv.URL+path, nil)
	if err != nil {
		b.a.t.Fatal(err)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		b.a.t.Fatalf("%s %s: status %d: %s", method, path, res.StatusCode, body)
	}
	return res, string(body)
}

func (b *browser) whoami() string {
	b.a.t.Helper()
	_, body := b.do("GET", "/whoami")
	return body
}

// login logs in as user and, for a DBSC browser, registers as Chromium
// does on the login response.
func (b *browser) login(user string) {
	t := b.a.t
	t.Helper()
	res, _ := b.do("POST", "/login?user="+user)
	reg := res.Header.Get(dbsc.HeaderRegistration)
	if reg == "" {
		t.Fatal("the login response offers no DBSC registration")
	}
	if b.dev == nil {
		return
	}
	sess, resp, err := b.dev.Register(context.Background(), b.hc, b.a.srv.URL, reg)
	if err != nil {
		body := ""
		if resp != nil {
			body = string(resp.Body)
		}
		t.Fatalf("registration: %v %s", err, body)
	}
	if sess.Ahead == "" {
		t.Error("the registration answer sent no challenge ahead for the first refresh")
	}
	b.sess = sess
}

func (b *browser) refresh() (*dbsctest.Response, error) {
	return b.dev.Refresh(context.Background(), b.hc, b.sess)
}

// copyJar returns a thief's browser holding a copy of b's cookies, and no
// key.
func (b *browser) copyJar() *browser {
	th := b.a.browser(nil)
	u, _ := url.Parse(b.a.srv.URL)
	var cs []*http.Cookie
	for _, c := range b.hc.Jar.Cookies(u) {
		cs = append(cs, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/", Secure: true, HttpOnly: true})
	}
	th.hc.Jar.SetCookies(u, cs)
	return th
}

func (b *browser) dropCookie(name string) {
	u, _ := url.Parse(b.a.srv.URL)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: "", MaxAge: -1}})
}

func (a *dbscApp) saw(kind securesession.EventKind) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func newDevice(t *testing.T) *dbsctest.Client {
	t.Helper()
	c, err := dbsctest.NewClient(dbsc.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	aliceBound   = "user=alice bound=true"
	aliceUnbound = "user=alice bound=false"
	anonymous    = "user= bound=false"
)

func testDBSCRegisterRefreshAndExpiry(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	dev.login("alice")
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("after registration: %q, want %q", got, aliceBound)
	}
	if !a.saw(securesession.EventBound) {
		t.Error("no EventBound for the registration")
	}

	// The bound cookie expires on the server's clock; the jar still
	// sends it, and the session cookie alone authenticates nobody.
	a.clock.Advance(dbscLifetime + time.Second)
	if got := dev.whoami(); got != anonymous {
		t.Fatalf("with an expired bound cookie: %q, want anonymous", got)
	}
	if !a.saw(securesession.EventBoundRefused) {
		t.Error("no EventBoundRefused for the expired bound cookie")
	}

	// The device refreshes with the challenge sent ahead: one POST.
	resp, err := dev.refresh()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if resp.Posts != 1 {
		t.Errorf("the refresh took %d POSTs, want 1 (challenge sent ahead)", resp.Posts)
	}
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("after refresh: %q", got)
	}

	// Without a challenge ahead (expired meanwhile), the browser's
	// unsigned POST gets 403 and a challenge, then signs it.
	a.clock.Advance(2 * (dbsc.DefaultChallengeLifetime + dbscLifetime))
	dev.sess.Ahead = ""
	if resp, err = dev.refresh(); err != nil || resp.Posts != 2 {
		t.Fatalf("refresh without a challenge ahead: %v after %v POSTs, want 2", err, resp)
	}
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("after the second refresh: %q", got)
	}
	if !a.saw(securesession.EventBoundRefreshed) {
		t.Error("no EventBoundRefreshed")
	}
}

func testDBSCStaleChallengeIsRetried(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	dev.login("alice")
	stale := dev.sess.Ahead
	if _, err := dev.refresh(); err != nil {
		t.Fatal(err)
	}
	// A second tab signs the challenge the first one already used: a
	// valid signature over a stale challenge is a race, answered with a
	// fresh challenge, not a logout.
	dev.sess.Ahead = stale
	resp, err := dev.refresh()
	if err != nil {
		t.Fatalf("refresh with a used challenge: %v", err)
	}
	if resp.Posts != 2 {
		t.Errorf("refresh with a used challenge took %d POSTs, want 2", resp.Posts)
	}
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("after the retried refresh: %q", got)
	}
}

func testDBSCCopiedCookiesStopWorking(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	dev.login("alice")
	thief := dev.copyJar()
	// The honest limit: a copied jar works until its bound cookie expires.
	if got := thief.whoami(); got != aliceBound {
		t.Fatalf("a fresh copy of the jar: %q", got)
	}

	bare := dev.copyJar()
	bare.dropCookie(dbsc.DefaultBoundCookieName)
	a.clock.Advance(dbscLifetime + time.Second)
	if _, err := dev.refresh(); err != nil {
		t.Fatalf("the device's refresh: %v", err)
	}
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("the device after its refresh: %q", got)
	}
	if got := thief.whoami(); got != anonymous {
		t.Fatalf("the copied jar after its bound cookie expired: %q, want anonymous", got)
	}
	if got := bare.whoami(); got != anonymous {
		t.Fatalf("the session cookie without any bound cookie: %q, want anonymous", got)
	}
	if res, body := thief.do("GET", "/admin"); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "bound") {
		t.Errorf("RequireDeviceBound for the thief: %d %q, want 403 with an explanation", res.StatusCode, body)
	}

	// The thief cannot refresh: it has the session and its identifier,
	// but another key.
	thief.dev = newDevice(t)
	thief.sess = &dbsctest.Session{Origin: dev.sess.Origin, Config: dev.sess.Config}
	_, err := thief.refresh()
	var se *dbsctest.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Fatalf("the thief's refresh with its own key: %v, want 403", err)
	}
	if !a.saw(securesession.EventBoundProofRefused) {
		t.Error("no EventBoundProofRefused for the thief's proof")
	}
	if got := thief.whoami(); got != anonymous {
		t.Fatalf("the thief after its refused refresh: %q", got)
	}
	// And the device is not disturbed by any of it.
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("the device after the thief's attempts: %q", got)
	}
}

func testDBSCBadProofsRefused(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	res, _ := dev.do("POST", "/login?user=alice")
	reg := res.Header.Get(dbsc.HeaderRegistration)
	for fault := dbsctest.WrongKey; fault <= dbsctest.DERSignature; fault++ {
		_, _, err := dev.dev.With(fault).Register(context.Background(), dev.hc, a.srv.URL, reg)
		var se *dbsctest.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
			t.Errorf("registration with %v: %v, want 400", fault, err)
		}
	}
	if !a.saw(securesession.EventBoundProofRefused) {
		t.Error("no EventBoundProofRefused")
	}
	if got := dev.whoami(); got != aliceUnbound {
		t.Fatalf("after refused registrations: %q, want the session unbound", got)
	}
	// The honest device still registers, once.
	sess, _, err := dev.dev.Register(context.Background(), dev.hc, a.srv.URL, reg)
	if err != nil {
		t.Fatalf("honest registration after refused ones: %v", err)
	}
	if _, _, err := dev.dev.Register(context.Background(), dev.hc, a.srv.URL, reg); err == nil {
		t.Error("the registration challenge was accepted twice")
	}
	dev.sess = sess
	// Refresh proofs that do not verify are refused, with a challenge.
	for _, fault := range []dbsctest.Fault{dbsctest.WrongKey, dbsctest.AlgNone, dbsctest.HS256PublicKey, dbsctest.TamperedPayload} {
		if _, err := dev.dev.With(fault).Refresh(context.Background(), dev.hc, sess); err == nil {
			t.Errorf("refresh with %v accepted", fault)
		}
	}
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("the device after refused refreshes: %q", got)
	}
}

func testDBSCUnboundBrowserKeepsWorking(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	old := a.browser(nil) // a browser without DBSC ignores the offer
	old.login("alice")
	a.clock.Advance(dbscLifetime + time.Minute)
	if got := old.whoami(); got != aliceUnbound {
		t.Fatalf("a browser without DBSC: %q, want %q", got, aliceUnbound)
	}
	if res, _ := old.do("GET", "/admin"); res.StatusCode != http.StatusForbidden || res.Header.Get(dbsc.HeaderRegistration) == "" {
		t.Errorf("RequireDeviceBound for an unbound session: %d, registration %q; want 403 offering one",
			res.StatusCode, res.Header.Get(dbsc.HeaderRegistration))
	}
	if got := old.whoami(); got != aliceUnbound {
		t.Fatalf("after the offer: %q", got)
	}
}

func testDBSCRotateKeepsBinding(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	dev.login("alice")
	dev.do("POST", "/rotate")
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("after Rotate: %q, want the binding kept", got)
	}
	a.clock.Advance(dbscLifetime + time.Second)
	if _, err := dev.refresh(); err != nil {
		t.Fatalf("refresh after Rotate: %v", err)
	}
	if got := dev.whoami(); got != aliceBound {
		t.Fatalf("after Rotate and refresh: %q", got)
	}
}

func testDBSCLogoutEndsBinding(t *testing.T, f *factory) {
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	dev.login("alice")
	res, _ := dev.do("POST", "/logout")
	var expired bool
	for _, c := range res.Cookies() {
		if c.Name == dbsc.DefaultBoundCookieName && c.MaxAge < 0 && c.Secure && c.HttpOnly && c.Path == "/" {
			expired = true
		}
	}
	if !expired {
		t.Errorf("logout did not expire the bound cookie with its attributes: %q", res.Header.Values("Set-Cookie"))
	}
	if _, err := dev.refresh(); err != nil {
		t.Fatalf("refresh after logout: %v", err)
	}
	if !dev.sess.Ended {
		t.Fatal(`refresh after logout did not answer {"continue":false}`)
	}
	if got := dev.whoami(); got != anonymous {
		t.Fatalf("after logout: %q", got)
	}
}

func testDBSCLogoutEverywhereEndsBinding(t *testing.T, f *factory) {
	f.requireRevocation(t)
	a := newDBSCApp(t, f)
	dev := a.browser(newDevice(t))
	dev.login("alice")
	other := a.browser(nil)
	other.login("alice")
	other.do("POST", "/logout-everywhere")
	if _, err := dev.refresh(); err != nil {
		t.Fatalf("refresh after log-out-everywhere: %v", err)
	}
	if !dev.sess.Ended {
		t.Fatal(`refresh of a revoked session did not answer {"continue":false}`)
	}
	if got := dev.whoami(); got != anonymous {
		t.Fatalf("after log-out-everywhere: %q", got)
	}
}
