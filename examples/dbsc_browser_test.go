package examples_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/backends/memory"
	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

// dbscChromiumMajor is the Chromium major version whose DBSC this test
// was written against (Debian's chromium package). Its wire format and
// feature flags change between versions.
const dbscChromiumMajor = 156

// TestDBSCInChromium runs the demo app with device-bound sessions in
// headless Chromium over HTTPS (a self-signed certificate trusted by its
// SPKI pin), on the cookie backend and on a server-side one: Chromium
// logs in through the form and registers a software key; the bound
// cookie expires and Chromium, holding the next page back, refreshes with
// a signature and gets through; a copy of
// the cookies in another browser context, which has no key, is refused
// once its bound cookie has expired; logout removes both cookies.
func TestDBSCInChromium(t *testing.T) {
	bin := chromiumPath(t)
	requireChromiumMajor(t, bin)
	gin.SetMode(gin.TestMode)
	t.Run("cookie", func(t *testing.T) {
		key := make([]byte, 32)
		rand.Read(key)
		store, err := cookie.NewStore(cookie.Options{Keys: [][]byte{key}, Revocation: cookie.NewMemoryRevocation(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		runDBSCInChromium(t, bin, store)
	})
	t.Run("memory", func(t *testing.T) {
		store, err := memory.NewStore(memory.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		runDBSCInChromium(t, bin, store)
	})
}

// requireChromiumMajor fails under CI=true, and skips loudly elsewhere,
// if the installed Chromium is not the version this test expects.
func requireChromiumMajor(t *testing.T, bin string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	m := regexp.MustCompile(`Chromium (\d+)\.`).FindSubmatch(out)
	if err == nil && m != nil && string(m[1]) == fmt.Sprint(dbscChromiumMajor) {
		return
	}
	msg := fmt.Sprintf("the DBSC browser test expects Chromium %d (DBSC's flags and wire format change between versions); %s --version said %q (%v)",
		dbscChromiumMajor, bin, strings.TrimSpace(string(out)), err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING DBSC REAL-BROWSER TEST: " + msg)
}

type eventCounter struct {
	mu  sync.Mutex
	n   map[securesession.EventKind]int
	log []string
}

func (e *eventCounter) add(ev securesession.Event) {
	e.mu.Lock()
	e.n[ev.Kind]++
	e.log = append(e.log, fmt.Sprintf("%s %s %s", ev.Kind, ev.Session, ev.Reason))
	e.mu.Unlock()
}

func (e *eventCounter) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.log, "\n")
}

func (e *eventCounter) count(k securesession.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[k]
}

// waitFor polls cond until it holds or the deadline passes: Chromium
// registers and refreshes in the background, on its own schedule.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s", d, what)
		}
	}
}

func runDBSCInChromium(t *testing.T, bin string, store securesession.Backend) {
	// A bound cookie that really expires, on Chromium's clock: Chromium
	// refreshes ahead of time in the background while the cookie is
	// valid, and holds a request back only once it has expired, which is
	// what this test shows. (Moving the server's clock instead makes
	// Chromium send a cookie it still thinks valid, and refresh after.)
	const lifetime = 3 * time.Second
	events := &eventCounter{n: map[securesession.EventKind]int{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("session events:\n%s", events)
		}
	})
	r, err := demoapp.NewEngine(store, "dbsc test", securesession.Options{
		Logger:        slog.New(slog.DiscardHandler),
		OnEvent:       events.add,
		DeviceBinding: &securesession.DeviceBinding{Cookie: dbsc.BoundCookie{Lifetime: lifetime}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig, pin, err := demoapp.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r, TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	base := fmt.Sprintf("https://localhost:%d", ln.Addr().(*net.TCPAddr).Port)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Trust exactly this certificate: --ignore-certificate-errors
		// would turn DBSC off.
		chromedp.Flag("ignore-certificate-errors-spki-list", pin),
		chromedp.Flag("enable-features", demoapp.DBSCFeatures),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	dev, cancelDev := chromedp.NewContext(actx)
	defer cancelDev()

	do := func(bctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// page loads /profile and returns the user and bound state it shows,
	// or "" if it landed on the login form.
	page := func(bctx context.Context, step string) (user, bound string) {
		t.Helper()
		do(bctx, step, chromedp.Navigate(base+"/profile"), chromedp.WaitVisible(chromedp.CSS("#user, #login-form")))
		v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
			`[document.querySelector("#user")?.textContent ?? "", document.querySelector("#bound")?.textContent ?? ""]`))
		if err != nil || len(v) != 2 {
			t.Fatalf("%s: reading the page: %v", step, err)
		}
		return v[0], v[1]
	}
	cookies := func(bctx context.Context) map[string]*network.Cookie {
		t.Helper()
		res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
		if err != nil {
			t.Fatalf("reading the browser's cookies: %v", err)
		}
		m := map[string]*network.Cookie{}
		for _, c := range res.Cookies {
			m[c.Name] = c
		}
		return m
	}

	// Log in; Chromium registers its key on the login response.
	do(dev, "log in through the form",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo-password"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#user")),
	)
	waitFor(t, "Chromium to register its DBSC key", 10*time.Second, func() bool { return events.count(securesession.EventBound) > 0 })
	waitFor(t, "the bound cookie in the browser", 5*time.Second, func() bool { return cookies(dev)[dbsc.DefaultBoundCookieName] != nil })
	if u, b := page(dev, "profile after registration"); u != "demo" || b != "yes" {
		t.Fatalf("after registration the profile shows user %q, bound %q; want demo, yes", u, b)
	}
	bc := cookies(dev)[dbsc.DefaultBoundCookieName]
	if !bc.HTTPOnly || !bc.Secure || bc.Path != "/" || bc.SameSite != network.CookieSameSiteLax {
		t.Errorf("bound cookie: HttpOnly=%v Secure=%v Path=%q SameSite=%q", bc.HTTPOnly, bc.Secure, bc.Path, bc.SameSite)
	}

	// The bound cookie expires. Chromium holds the next page back,
	// refreshes (signing a challenge) and then sends it with a new one.
	waitFor(t, "the bound cookie to expire in the browser", 10*lifetime, func() bool { return cookies(dev)[dbsc.DefaultBoundCookieName] == nil })
	before := events.count(securesession.EventBoundRefreshed)
	if u, b := page(dev, "profile after the bound cookie expired"); u != "demo" || b != "yes" {
		t.Fatalf("after the bound cookie expired the profile shows user %q, bound %q; want demo, yes (Chromium refreshes)", u, b)
	}
	if events.count(securesession.EventBoundRefreshed) == before {
		t.Fatal("the page went through without a refresh")
	}
	if n := events.count(securesession.EventBoundProofRefused); n != 0 {
		t.Errorf("%d of Chromium's proofs were refused", n)
	}

	// A thief copies the cookie jar, but not the key, into another
	// browser context, keeping the cookies past their Max-Age. The copy
	// works until its bound cookie expires (the honest limit of DBSC),
	// and not after.
	thief, cancelThief := chromedp.NewContext(dev, chromedp.WithNewBrowserContext())
	defer cancelThief()
	var params []*network.CookieParam
	for _, c := range cookies(dev) {
		params = append(params, &network.CookieParam{Name: c.Name, Value: c.Value, URL: base + "/", Path: "/", Secure: true, HTTPOnly: true, SameSite: network.CookieSameSiteLax})
	}
	if len(params) != 2 {
		t.Fatalf("copied %d cookies, want the session and bound cookies", len(params))
	}
	if _, err := chromedp.Call(thief, network.SetCookies, network.SetCookiesParams{Cookies: params}); err != nil {
		t.Fatalf("copying the cookies: %v", err)
	}
	refused := events.count(securesession.EventBoundRefused)
	waitFor(t, "the copied jar to stop working", 10*lifetime, func() bool {
		u, _ := page(thief, "the copied jar")
		return u == ""
	})
	if events.count(securesession.EventBoundRefused) == refused {
		t.Error("no EventBoundRefused for the copied jar")
	}
	if u, b := page(dev, "the device after the thief's attempt"); u != "demo" || b != "yes" {
		t.Fatalf("the device after the thief's attempt shows user %q, bound %q", u, b)
	}

	// Logout ends the session and the binding: both cookies go.
	do(dev, "log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	left := cookies(dev)
	if left[securesession.DefaultCookieName] != nil || left[dbsc.DefaultBoundCookieName] != nil {
		t.Fatalf("after logout the browser still has %v", keys(left))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the browser test ran out of time")
	}
}

func keys(m map[string]*network.Cookie) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
