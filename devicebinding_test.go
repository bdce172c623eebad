package securesession_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/memory"
	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

func TestDeviceBindingOptionsAreValidated(t *testing.T) {
	store := newMemory(t)
	for _, tc := range []struct {
		name  string
		opts  securesession.Options
		field string
	}{
		{"relative path", securesession.Options{DeviceBinding: &securesession.DeviceBinding{RegisterPath: "dbsc"}}, "RegisterPath"},
		{"same paths", securesession.Options{DeviceBinding: &securesession.DeviceBinding{RegisterPath: "/d", RefreshPath: "/d"}}, "RefreshPath"},
		{"query", securesession.Options{DeviceBinding: &securesession.DeviceBinding{RefreshPath: "/r?x=1"}}, "RefreshPath"},
		{"unknown algorithm", securesession.Options{DeviceBinding: &securesession.DeviceBinding{Algorithms: []dbsc.Algorithm{"HS256"}}}, "Algorithms"},
		{"host cookie with a path", securesession.Options{DeviceBinding: &securesession.DeviceBinding{Cookie: dbsc.BoundCookie{Path: "/app"}}}, "Cookie"},
		{"session cookie's name", securesession.Options{DeviceBinding: &securesession.DeviceBinding{Cookie: dbsc.BoundCookie{Name: "__Host-session"}}}, "Cookie"},
		{"lifetime over a day", securesession.Options{DeviceBinding: &securesession.DeviceBinding{Cookie: dbsc.BoundCookie{Lifetime: 48 * time.Hour}}}, "Cookie"},
		{"idle over absolute", securesession.Options{DeviceBinding: &securesession.DeviceBinding{BoundIdleTimeout: 13 * time.Hour}}, "BoundIdleTimeout"},
		{"negative", securesession.Options{DeviceBinding: &securesession.DeviceBinding{BoundAbsoluteTimeout: -time.Hour}}, "BoundAbsoluteTimeout"},
	} {
		_, err := securesession.New(store, tc.opts)
		if err == nil || !strings.Contains(err.Error(), "DeviceBinding."+tc.field) && !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: New returned %v, want an error naming DeviceBinding.%s", tc.name, err, tc.field)
		}
	}
	if _, err := securesession.New(store, securesession.Options{DeviceBinding: &securesession.DeviceBinding{}}); err != nil {
		t.Fatalf("the zero DeviceBinding: %v", err)
	}
}

func newMemory(t testing.TB) *memory.Store {
	t.Helper()
	s, err := memory.NewStore(memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// boundServer is the middleware with DeviceBinding over HTTPS.
type boundServer struct {
	srv *httptest.Server
	now time.Time
}

func newBoundServer(t testing.TB, opts securesession.Options) *boundServer {
	t.Helper()
	gin.SetMode(gin.TestMode)
	bs := &boundServer{now: time.Now()}
	opts.Now = func() time.Time { return bs.now }
	opts.Logger = slog.New(slog.DiscardHandler)
	if opts.DeviceBinding == nil {
		opts.DeviceBinding = &securesession.DeviceBinding{}
	}
	mw, err := securesession.New(newMemory(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) { securesession.Login(c, "alice") })
	r.GET("/whoami", func(c *gin.Context) {
		c.String(http.StatusOK, "%s %v", securesession.UserID(c), securesession.DeviceBound(c))
	})
	r.POST("/flash", func(c *gin.Context) { sessions.Default(c).AddFlash("hi") })
	r.GET("/sessions", func(c *gin.Context) {
		list, err := securesession.ListSessions(c)
		if err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		for _, s := range list {
			if s.Binding != nil {
				c.String(http.StatusInternalServerError, "ListSessions exposes the binding")
				return
			}
			c.String(http.StatusOK, "%v ", s.DeviceBound)
		}
	})
	bs.srv = httptest.NewTLSServer(r)
	t.Cleanup(bs.srv.Close)
	return bs
}

func (bs *boundServer) client() *http.Client {
	c := *bs.srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	return &c
}

func get(t testing.TB, hc *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// register logs in with hc and registers a fresh ES256 key.
func (bs *boundServer) register(t testing.TB, hc *http.Client) (*dbsctest.Client, *dbsctest.Session) {
	t.Helper()
	res, _ := get(t, hc, "POST", bs.srv.URL+"/login")
	dev, err := dbsctest.NewClient(dbsc.ES256)
	if err != nil {
		t.Fatal(err)
	}
	sess, _, err := dev.Register(context.Background(), hc, bs.srv.URL, res.Header.Get(dbsc.HeaderRegistration))
	if err != nil {
		t.Fatal(err)
	}
	return dev, sess
}

// TestHeldSessionKeepsItsCookie: a request to a bound session without its
// bound cookie is anonymous, and what its handler stores does not start a
// session that would replace the device's session cookie.
func TestHeldSessionKeepsItsCookie(t *testing.T) {
	bs := newBoundServer(t, securesession.Options{})
	hc := bs.client()
	bs.register(t, hc)
	bs.now = bs.now.Add(securesession.DefaultBoundCookieLifetime + time.Second)
	res, _ := get(t, hc, "POST", bs.srv.URL+"/flash")
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Fatalf("a held request set %q", sc)
	}
	if _, body := get(t, hc, "GET", bs.srv.URL+"/whoami"); body != " false" {
		t.Fatalf("held request: %q, want anonymous", body)
	}
}

// TestListSessionsTellsBoundSessions: ListSessions reports DeviceBound
// and never hands the binding (which holds the bound cookie's secret) to
// the application.
func TestListSessionsTellsBoundSessions(t *testing.T) {
	bs := newBoundServer(t, securesession.Options{})
	bound := bs.client()
	bs.register(t, bound)
	plain := bs.client()
	get(t, plain, "POST", bs.srv.URL+"/login")
	res, body := get(t, bound, "GET", bs.srv.URL+"/sessions")
	if res.StatusCode != http.StatusOK || (body != "true false " && body != "false true ") {
		t.Fatalf("ListSessions: %d %q, want one bound and one unbound session", res.StatusCode, body)
	}
}

// TestBoundTimeouts: a bound session gets BoundIdleTimeout and
// BoundAbsoluteTimeout, an unbound one keeps Options'.
func TestBoundTimeouts(t *testing.T) {
	bs := newBoundServer(t, securesession.Options{
		IdleTimeout: 10 * time.Minute, AbsoluteTimeout: time.Hour,
		DeviceBinding: &securesession.DeviceBinding{BoundIdleTimeout: time.Hour, BoundAbsoluteTimeout: 2 * time.Hour, Cookie: dbsc.BoundCookie{Lifetime: 2 * time.Hour}},
	})
	bound, plain := bs.client(), bs.client()
	bs.register(t, bound)
	get(t, plain, "POST", bs.srv.URL+"/login")
	bs.now = bs.now.Add(30 * time.Minute)
	if _, body := get(t, bound, "GET", bs.srv.URL+"/whoami"); body != "alice true" {
		t.Errorf("bound session after 30 idle minutes: %q, want alive", body)
	}
	if _, body := get(t, plain, "GET", bs.srv.URL+"/whoami"); body != " false" {
		t.Errorf("unbound session after 30 idle minutes: %q, want expired", body)
	}
	for range 3 {
		bs.now = bs.now.Add(25 * time.Minute)
		get(t, bound, "GET", bs.srv.URL+"/whoami")
	}
	if _, body := get(t, bound, "GET", bs.srv.URL+"/whoami"); body != "alice true" {
		t.Errorf("bound session past the unbound absolute timeout: %q, want alive", body)
	}
}

// BenchmarkBoundRequest compares a request of a bound session (decode
// the binding, check the bound cookie's HMAC) with an unbound one, and
// measures a refresh (verify an ES256 proof, one write).
func BenchmarkBoundRequest(b *testing.B) {
	for _, tc := range []struct {
		name  string
		bound bool
	}{{"unbound", false}, {"bound", true}} {
		b.Run(tc.name, func(b *testing.B) {
			bs := newBoundServer(b, securesession.Options{DeviceBinding: &securesession.DeviceBinding{Cookie: dbsc.BoundCookie{Lifetime: time.Hour}}})
			hc := bs.client()
			if tc.bound {
				bs.register(b, hc)
			} else {
				get(b, hc, "POST", bs.srv.URL+"/login")
			}
			req := httptest.NewRequest("GET", "/whoami", nil)
			u, _ := url.Parse(bs.srv.URL)
			for _, c := range hc.Jar.Cookies(u) {
				req.AddCookie(c)
			}
			handler := bs.srv.Config.Handler
			want := "alice " + map[bool]string{true: "true", false: "false"}[tc.bound]
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Body.String() != want {
					b.Fatalf("got %q, want %q", w.Body.String(), want)
				}
			}
		})
	}
	// Over loopback HTTPS, for comparison with the refresh below.
	b.Run("https-request", func(b *testing.B) {
		bs := newBoundServer(b, securesession.Options{})
		hc := bs.client()
		bs.register(b, hc)
		b.ReportAllocs()
		for b.Loop() {
			if _, body := get(b, hc, "GET", bs.srv.URL+"/whoami"); body != "alice true" {
				b.Fatal(body)
			}
		}
	})
	b.Run("https-refresh", func(b *testing.B) {
		bs := newBoundServer(b, securesession.Options{})
		hc := bs.client()
		dev, sess := bs.register(b, hc)
		b.ReportAllocs()
		for b.Loop() {
			if resp, err := dev.Refresh(context.Background(), hc, sess); err != nil || resp.Posts != 1 {
				b.Fatalf("refresh: %v", err)
			}
		}
	})
}

// TestRegistrationUndoneByARacingWriteIsHealed: on the cookie backend the
// login redirect's response, re-sealed from the pre-registration record,
// can reach the browser after the registration's; the next request's
// bound cookie restores the key, so the session stays bound and refreshes.
func TestRegistrationUndoneByARacingWriteIsHealed(t *testing.T) {
	gin.SetMode(gin.TestMode)
	key := make([]byte, 32)
	rand.Read(key)
	store, err := cookie.NewStore(cookie.Options{Keys: [][]byte{key}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	mw, err := securesession.New(store, securesession.Options{
		Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		DeviceBinding: &securesession.DeviceBinding{},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) { securesession.Login(c, "alice") })
	r.GET("/whoami", func(c *gin.Context) {
		c.String(http.StatusOK, "%s %v", securesession.UserID(c), securesession.DeviceBound(c))
	})
	srv := httptest.NewTLSServer(r)
	defer srv.Close()
	hc := *srv.Client()
	hc.Jar, _ = cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)

	res, _ := get(t, &hc, "POST", srv.URL+"/login")
	var stale *http.Cookie
	for _, c := range hc.Jar.Cookies(u) {
		if c.Name == securesession.DefaultCookieName {
			stale = &http.Cookie{Name: c.Name, Value: c.Value, Path: "/", Secure: true}
		}
	}
	dev, _ := dbsctest.NewClient(dbsc.ES256)
	sess, _, err := dev.Register(context.Background(), &hc, srv.URL, res.Header.Get(dbsc.HeaderRegistration))
	if err != nil {
		t.Fatal(err)
	}
	hc.Jar.SetCookies(u, []*http.Cookie{stale}) // the late, pre-registration cookie wins
	if _, body := get(t, &hc, "GET", srv.URL+"/whoami"); body != "alice true" {
		t.Fatalf("after the racing write: %q, want the binding restored", body)
	}
	now = now.Add(securesession.DefaultBoundCookieLifetime + time.Second)
	if _, err := dev.Refresh(context.Background(), &hc, sess); err != nil {
		t.Fatalf("refresh after the heal: %v", err)
	}
	if _, body := get(t, &hc, "GET", srv.URL+"/whoami"); body != "alice true" {
		t.Fatalf("after the refresh: %q", body)
	}
	// The stale cookie alone, now that its record is bound, is nobody.
	bare := *srv.Client()
	bare.Jar, _ = cookiejar.New(nil)
	now = now.Add(time.Minute)
	bare.Jar.SetCookies(u, []*http.Cookie{stale})
	if _, body := get(t, &bare, "GET", srv.URL+"/whoami"); body != "alice false" {
		// On the cookie backend the pre-registration cookie is its own
		// record: unbound, as documented. It must not claim to be bound.
		t.Fatalf("the pre-registration cookie alone: %q, want an unbound session", body)
	}
}
