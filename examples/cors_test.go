package examples_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// spaScript is what a single-page app on another origin does with the
// API: log in with JSON, call it with the token in an Authorization header
// (both preflighted), pick up a rotated token from the Session-Token
// response header, and use it.
const spaScript = `(async () => {
	const api = %q;
	try {
		let r = await fetch(api + "/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
			body: JSON.stringify({username: "demo", password: "demo-password"})});
		const login = r.status;
		let token = (await r.json()).token;
		r = await fetch(api + "/api/visits", {method: "POST", headers: {"Authorization": "Bearer " + token}});
		const visits = (await r.json()).visits;
		const rotated = r.headers.get("Session-Token");
		if (rotated) token = rotated;
		r = await fetch(api + "/api/me", {headers: {"Authorization": "Bearer " + token}});
		return JSON.stringify({login, visits, rotated: rotated !== null, me: r.status});
	} catch (e) {
		return JSON.stringify({blocked: String(e)});
	}
})()`

// startSPAOrigin serves an empty page on http://localhost:<port>, the
// origin of a single-page app, and returns that origin.
func startSPAOrigin(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>spa</title>")
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("http://localhost:%d", l.Addr().(*net.TCPAddr).Port)
}

type spaResult struct {
	Login, Visits, Me int
	Rotated           bool
	Blocked           string
}

func runSPA(t *testing.T, bin, origin, api string) spaResult {
	t.Helper()
	bctx := newBrowser(t, bin)
	if err := chromedp.Do(bctx, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(spaScript, api),
		func(p *runtime.EvaluateParams) { await := true; p.AwaitPromise = &await }))
	if err != nil {
		t.Fatalf("running the single-page app: %v", err)
	}
	var res spaResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("single-page app result %q: %v", out, err)
	}
	return res
}

// TestSPAOnAnotherOriginUsesTheAPIInChromium: examples/api with the
// gin-contrib/cors setup of the README (CORS_ORIGINS) serves a
// single-page app on another origin in Chromium: the preflighted login and
// Authorization-header calls pass, and the page can read the rotated
// token in Session-Token because the API exposes it. A page on an origin
// that is not allowed gets nothing.
func TestSPAOnAnotherOriginUsesTheAPIInChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	spa := startSPAOrigin(t)
	other := startSPAOrigin(t)
	app := startExample(t, "api", "CORS_ORIGINS="+spa)

	res := runSPA(t, bin, spa, app.URL)
	if res.Blocked != "" || res.Login != 200 || res.Visits != 1 || res.Me != 200 {
		t.Fatalf("the allowed single-page app: %+v; want login 200, one visit, me 200", res)
	}
	if !res.Rotated {
		t.Fatal("the page cannot read Session-Token after the cookie backend re-sealed the session: Access-Control-Expose-Headers is missing it")
	}

	if res := runSPA(t, bin, other, app.URL); res.Blocked == "" {
		t.Fatalf("a page on an origin CORS does not allow used the API: %+v", res)
	}
}
