package examples_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
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

// newBrowser returns the context of a headless Chromium (the binary bin)
// with a fresh profile, for one test, and gives the test 60 seconds from
// now; t.Cleanup stops the browser. The browser starts on the first
// action; each chromedp.NewContext child of the context is a tab in it.
func newBrowser(t *testing.T, bin string) context.Context {
	t.Helper()
	return startBrowser(t, bin, 60*time.Second)
}

// startBrowser is newBrowser with a time limit of its own and extra
// Chromium options.
func startBrowser(t *testing.T, bin string, limit time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	// This machine and CI have no network: the background-networking
	// flags stop Chromium from trying (and logging) connections at start.
	opts := append([]chromedp.ExecAllocatorOption{
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
	}, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	return bctx
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
	bctx := newBrowser(t, bin)

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

// TestBackAndForwardAfterLogoutShowNoPrivatePageInChromium logs in in
// headless Chromium, opens the two private pages (profile, active
// sessions), logs out, and then walks the history: Back, Back, Forward,
// Forward. No step may show a private page from the browser's cache or
// back/forward cache; each must end on the login form, because the browser
// asked the server again and the server no longer knows the user. It runs
// on the cookie backend (examples/basic) and on a server backend
// (examples/sqlite), whose authenticated pages carry no Set-Cookie.
func TestBackAndForwardAfterLogoutShowNoPrivatePageInChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	// The examples first: building them can take longer than the
	// browser's time limit on a fresh machine.
	apps := []struct {
		example string
		app     *exampleApp
	}{
		{"basic", startExample(t, "basic")},
		{"sqlite", startExample(t, "sqlite", "SQLITE_PATH="+filepath.Join(t.TempDir(), "sessions.db"))},
	}
	browser := newBrowser(t, bin)
	if err := chromedp.Do(browser); err != nil { // start it, so the tabs share it
		t.Fatalf("starting Chromium: %v", err)
	}
	for _, tc := range apps {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			app := tc.app
			// A tab in a browser context of its own: its own cookies,
			// cache and history, as a separate browser profile has.
			ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			t.Cleanup(cancel)
			tab := &browserTab{t: t, ctx: ctx}

			tab.do("log in through the form",
				chromedp.Navigate(app.URL+"/"),
				chromedp.WaitVisible(chromedp.CSS("#login-form")),
				chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "demo"),
				chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo-password"),
				chromedp.Click(chromedp.CSS("#login")),
				chromedp.WaitVisible(chromedp.CSS("#user")),
			)
			// Both private pages by following their links, so that the
			// history is /profile, /sessions, /profile, then the page
			// after logout; the second /profile is an ordinary
			// authenticated read (no flash to consume, no Set-Cookie).
			tab.do("open the sessions page", chromedp.Click(chromedp.CSS(`nav a[href="/sessions"]`)), chromedp.WaitVisible(chromedp.CSS("#logout-everywhere")))
			tab.do("open the profile again", chromedp.Click(chromedp.CSS(`nav a[href="/profile"]`)), chromedp.WaitVisible(chromedp.CSS("#user")))
			tab.do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#notice")))

			for i, step := range []struct {
				name  string
				delta int
			}{
				{"Back to the profile", -1},
				{"Back to the sessions page", -1},
				{"Forward to the profile", +1},
				{"Forward to the page after logout", +1},
			} {
				tab.history(i, step.name, step.delta)
			}
		})
	}
}

// browserTab is one tab of a test's browser.
type browserTab struct {
	t   *testing.T
	ctx context.Context
}

func (b *browserTab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// history goes delta entries back (-1) or forward (+1) in the tab's
// history, as the browser's buttons do, and fails if the page it shows is
// a logged-in page. The document about to be left is marked first, so the
// check reads the page the navigation shows (a new document, or one
// restored from the back/forward cache), never the one before it.
// chromedp's NavigateBack waits for a load event that a page restored from
// the back/forward cache never fires, so this waits for the main frame's
// frameNavigated event instead, which every history navigation sends.
func (b *browserTab) history(i int, step string, delta int) {
	b.t.Helper()
	mark := fmt.Sprintf("history-step-%d", i)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.documentElement.dataset.left = %q", mark))); err != nil {
		b.t.Fatalf("%s: marking the current page: %v", step, err)
	}
	hist, err := chromedp.Run(b.ctx, chromedp.NavigationEntries())
	if err != nil {
		b.t.Fatalf("%s: reading the history: %v", step, err)
	}
	to := hist.CurrentIndex + int64(delta)
	if to < 0 || to >= int64(len(hist.Entries)) {
		b.t.Fatalf("%s: no history entry %d (history has %d, current %d)", step, to, len(hist.Entries), hist.CurrentIndex)
	}
	// Listen before navigating, so no event is missed: the main frame's
	// frameNavigated, then (unless the page came from the back/forward
	// cache, which is complete as restored) its load event.
	lctx, stop := context.WithCancel(b.ctx)
	defer stop()
	loaded := make(chan page.NavigationType, 1)
	var navType page.NavigationType // only the listener's goroutine uses it
	if err := chromedp.Listen(lctx, func(ev any) {
		done := false
		switch e := ev.(type) {
		case *page.EventFrameNavigated:
			if e.Frame.ParentID == "" && navType == "" {
				navType = e.Type
				done = navType == page.NavigationTypeBackForwardCacheRestore
			}
		case *page.EventLoadEventFired:
			done = navType != "" && navType != page.NavigationTypeBackForwardCacheRestore
		}
		if done {
			select {
			case loaded <- navType:
			default:
			}
		}
	}); err != nil {
		b.t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: hist.Entries[to].ID}); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	var how page.NavigationType
	select {
	case how = <-loaded:
		stop()
	case <-b.ctx.Done():
		b.t.Fatalf("%s: the page did not load: %v", step, b.ctx.Err())
	}
	type shown struct {
		Left    string `json:"left"`
		Path    string `json:"path"`
		Private bool   `json:"private"`
		Login   bool   `json:"login"`
		Text    string `json:"text"`
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[shown](`({
		left: document.documentElement.dataset.left || "",
		path: location.pathname + location.search,
		private: document.querySelector("#user, #logout, #logout-everywhere") !== null,
		login: document.querySelector("#login-form") !== null,
		text: document.body.textContent.replace(/\s+/g, " ").trim().slice(0, 300),
	})`))
	if err != nil {
		b.t.Fatalf("%s: reading the page: %v", step, err)
	}
	switch {
	case got.Left == mark:
		b.t.Fatalf("%s: the browser still shows the page it was on (%s)", step, got.Path)
	case got.Private:
		b.t.Fatalf("%s: after logout the browser shows a logged-in page (%s, navigation type %s):\n%s", step, got.Path, how, got.Text)
	case !got.Login:
		b.t.Fatalf("%s: the page shown (%s) is not the login form:\n%s", step, got.Path, got.Text)
	}
}
