package examples_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds the Debian Chromium binary. Without it the test fails
// under CI=true (CI installs the chromium package) and is skipped, loudly,
// elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "real-browser test needs Chromium: apt-get install chromium chromium-driver (or set $CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING REAL-BROWSER TEST: " + msg)
	return ""
}

// TestBasicInChromium drives examples/basic in headless Chromium: login
// through the form, an HttpOnly cookie that JavaScript cannot read, a
// reload that stays logged in, a logout that removes the cookie, and a
// form auto-posted from another origin that is refused and changes
// nothing.
func TestBasicInChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	app := startExample(t, "basic")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// This machine and CI have no network: the background-networking
	// flags stop Chromium from trying (and logging) connections at start.
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	sessionCookie := func() *network.Cookie {
		t.Helper()
		res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{app.URL + "/"}})
		if err != nil {
			t.Fatalf("reading the browser's cookies: %v", err)
		}
		for _, c := range res.Cookies {
			if c.Name == cookieName {
				return c
			}
		}
		return nil
	}
	login := func() {
		t.Helper()
		do("log in through the form",
			chromedp.Navigate(app.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS("#login-form")),
			chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "demo"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo-password"),
			chromedp.Click(chromedp.CSS("#login")),
			chromedp.WaitVisible(chromedp.CSS("#user")),
		)
		if u := text("#user"); u != "demo" {
			t.Fatalf("after login the profile shows user %q, want demo", u)
		}
	}

	login()

	// The session cookie exists, is HttpOnly, and script cannot read it.
	ck := sessionCookie()
	if ck == nil {
		t.Fatal("no session cookie in the browser after login")
	}
	if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax || ck.Path != "/" || !ck.Session {
		t.Fatalf("session cookie in the browser: HttpOnly=%v SameSite=%q Path=%q session=%v; want HttpOnly, Lax, /, browser-session",
			ck.HTTPOnly, ck.SameSite, ck.Path, ck.Session)
	}
	jsCookies, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(jsCookies, cookieName+"=") {
		t.Fatal("document.cookie exposes the session cookie: it is not HttpOnly")
	}

	// A reload keeps the session.
	do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#user")))
	if u := text("#user"); u != "demo" {
		t.Fatalf("after reload the profile shows user %q", u)
	}

	// A form on another origin (localhost is another site than 127.0.0.1)
	// posts itself to /logout on load. The middleware must answer 403 and
	// the session must survive.
	evil := startCrossOriginPage(t, app.URL+"/logout")
	statuses := watchStatuses(t, bctx, app.URL+"/logout")
	do("open the cross-origin page", chromedp.Navigate(evil))
	status := statuses.wait(t, 10*time.Second)
	if status != http.StatusForbidden {
		t.Fatalf("cross-origin auto-posted form: status %d, want 403", status)
	}
	if sessionCookie() == nil {
		t.Fatal("the cross-origin post removed the session cookie")
	}
	do("profile after the cross-origin post", chromedp.Navigate(app.URL+"/profile"), chromedp.WaitVisible(chromedp.CSS("#user")))
	if u := text("#user"); u != "demo" {
		t.Fatalf("after the refused cross-origin logout the profile shows user %q", u)
	}

	// Logout removes the cookie from the browser.
	do("log out",
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
		chromedp.WaitVisible(chromedp.CSS("#login-form")),
	)
	if n := text("#notice"); !strings.Contains(n, "logged out") {
		t.Fatalf("after logout the notice is %q", n)
	}
	if sessionCookie() != nil {
		t.Fatal("the session cookie is still in the browser after logout")
	}
	do("profile after logout", chromedp.Navigate(app.URL+"/profile"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
}

// startCrossOriginPage serves, on http://localhost:<free port>, a page
// whose form posts to target as soon as it loads, and returns its URL.
func startCrossOriginPage(t *testing.T, target string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf(`<!doctype html><title>another site</title>
<form id="f" method="post" action="%s"><input type="hidden" name="x" value="1"></form>
<script>document.getElementById("f").submit()</script>`, target)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("http://localhost:%d/", l.Addr().(*net.TCPAddr).Port)
}

// statusWatch records the HTTP status of the first response for one URL,
// a redirect included.
type statusWatch struct {
	once sync.Once
	ch   chan int
}

func watchStatuses(t *testing.T, ctx context.Context, url string) *statusWatch {
	t.Helper()
	w := &statusWatch{ch: make(chan int, 1)}
	err := chromedp.Listen(ctx, func(ev any) {
		var resp *network.Response
		switch e := ev.(type) {
		case *network.EventResponseReceived:
			resp = e.Response
		case *network.EventRequestWillBeSent:
			resp = e.RedirectResponse
		}
		if resp != nil && resp.URL == url {
			w.once.Do(func() { w.ch <- int(resp.Status) })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *statusWatch) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case s := <-w.ch:
		return s
	case <-time.After(d):
		t.Fatal("the browser made no request to the cross-origin form's target")
		return 0
	}
}
