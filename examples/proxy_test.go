package examples_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// startTLSProxy puts a TLS-terminating httputil.ReverseProxy on loopback
// in front of upstream and returns its https:// URL. It sets
// X-Forwarded-For, -Host and -Proto as nginx, Caddy and Traefik do. With
// rewriteHost the upstream gets its own address as Host (nginx's default
// without proxy_set_header Host); otherwise the browser's Host.
func startTLSProxy(t *testing.T, upstream string, rewriteHost bool) *httptest.Server {
	t.Helper()
	up, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(up)
		pr.SetXForwarded()
		if !rewriteHost {
			pr.Out.Host = pr.In.Host
		}
	}})
	t.Cleanup(p.Close)
	return p
}

// newTLSBrowser is newBrowser for a site with httptest's self-signed
// certificate: Chromium accepts it, and otherwise treats the site as the
// HTTPS origin it is (Secure cookies, Sec-Fetch-* headers).
func newTLSBrowser(t *testing.T, bin string) context.Context {
	t.Helper()
	return startBrowser(t, bin, 90*time.Second, chromedp.IgnoreCertErrors)
}

// TestBehindTLSProxyInChromium runs examples/basic in its development
// mode (DEV=1, so InsecureAllowHTTP is on) on loopback behind a
// TLS-terminating reverse proxy, and drives it in Chromium through the
// proxy. When the app trusts the proxy (TRUSTED_PROXIES), the cookie
// Chromium stores is Secure and __Host-, with or without Host rewriting,
// since the proxy says https; when it does not, the proxy's headers are
// ignored and the app sees what its peer is: plain HTTP on loopback. In
// every case a same-origin form post passes and a form auto-posted from
// another origin is refused with 403.
func TestBehindTLSProxyInChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	for _, tc := range []struct {
		name       string
		trusted    bool
		rewrite    bool
		wantCookie string
		wantSecure bool
	}{
		{"trusted proxy rewriting Host", true, true, "__Host-session", true},
		{"trusted proxy keeping Host", true, false, "__Host-session", true},
		{"untrusted proxy", false, true, cookieName, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if tc.trusted {
				env = append(env, "TRUSTED_PROXIES=127.0.0.1,::1")
			}
			app := startExample(t, "basic", env...)
			proxy := startTLSProxy(t, app.URL, tc.rewrite)
			site := proxy.URL
			bctx := newTLSBrowser(t, bin)
			do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(bctx, actions...); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			stored := func() *network.Cookie {
				t.Helper()
				res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site + "/"}})
				if err != nil {
					t.Fatalf("reading the browser's cookies: %v", err)
				}
				for _, c := range res.Cookies {
					if c.Name == tc.wantCookie {
						return c
					}
				}
				t.Fatalf("no %s cookie in the browser; it has %d others", tc.wantCookie, len(res.Cookies))
				return nil
			}

			do("log in through the form (a same-origin POST)",
				chromedp.Navigate(site+"/"),
				chromedp.WaitVisible(chromedp.CSS("#login-form")),
				chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "demo"),
				chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "demo-password"),
				chromedp.Click(chromedp.CSS("#login")),
				chromedp.WaitVisible(chromedp.CSS("#user")),
			)
			if ck := stored(); ck.Secure != tc.wantSecure || !ck.HTTPOnly {
				t.Fatalf("stored cookie %s: secure=%v httpOnly=%v, want secure=%v and HttpOnly", ck.Name, ck.Secure, ck.HTTPOnly, tc.wantSecure)
			}

			evil := startCrossOriginPage(t, site+"/logout")
			statuses := watchStatuses(t, bctx, site+"/logout")
			do("open the cross-origin page", chromedp.Navigate(evil))
			if st := statuses.wait(t, 10*time.Second); st != http.StatusForbidden {
				t.Fatalf("form auto-posted from %s: status %d, want 403", evil, st)
			}
			do("the profile after the refused post", chromedp.Navigate(site+"/profile"), chromedp.WaitVisible(chromedp.CSS("#user")))

			do("log out through the form (a same-origin POST)",
				chromedp.Click(chromedp.CSS("#logout")),
				chromedp.WaitVisible(chromedp.CSS("#notice")),
			)
			res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site + "/"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range res.Cookies {
				if c.Name == tc.wantCookie {
					t.Fatal("the session cookie survived the same-origin logout")
				}
			}
		})
	}
}

// TestOriginOnlyPostThroughHostRewritingProxy: a client that sends Origin
// but no Sec-Fetch-Site (an older browser, a script) posting to the
// proxy's own origin is same-origin once the app trusts the proxy, though
// the proxy rewrote Host; a post from another origin is refused either
// way. Without trust the forwarded host is ignored, and the rewritten Host
// makes the same-origin post look cross-origin: the false 403 the trial
// measured.
func TestOriginOnlyPostThroughHostRewritingProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		trusted  bool
		sameWant int
	}{
		{"trusted", true, http.StatusSeeOther},
		{"untrusted", false, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if tc.trusted {
				env = append(env, "TRUSTED_PROXIES=127.0.0.1")
			}
			app := startExample(t, "basic", env...)
			proxy := startTLSProxy(t, app.URL, true)
			hc := proxy.Client()
			hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			post := func(origin string) int {
				t.Helper()
				req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/login", strings.NewReader(demoLogin.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", origin)
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if st := post(proxy.URL); st != tc.sameWant {
				t.Errorf("same-origin POST with only Origin: %d, want %d", st, tc.sameWant)
			}
			if st := post("https://evil.example"); st != http.StatusForbidden {
				t.Errorf("cross-origin POST with only Origin: %d, want 403", st)
			}
		})
	}
}
