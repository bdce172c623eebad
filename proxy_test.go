package securesession_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession"
)

// behindProxy serves o's router on loopback plain HTTP behind a real
// TLS-terminating httputil.ReverseProxy, also on loopback, that sets
// X-Forwarded-For/-Host/-Proto. With rewriteHost the upstream sees the
// upstream address as Host, as nginx sends by default; otherwise the
// browser's Host is passed on. It returns the proxy's HTTPS URL and a
// client for it that follows no redirects.
func behindProxy(t *testing.T, o securesession.Options, rewriteHost bool) (string, *http.Client) {
	t.Helper()
	app := httptest.NewServer(router(t, newCookieStore(t), o))
	t.Cleanup(app.Close)
	up, _ := url.Parse(app.URL)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(up)
		pr.SetXForwarded()
		if !rewriteHost {
			pr.Out.Host = pr.In.Host
		}
	}}
	proxy := httptest.NewTLSServer(rp)
	t.Cleanup(proxy.Close)
	c := proxy.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return proxy.URL, c
}

func post(t *testing.T, c *http.Client, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func respCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestTrustedHTTPSProxyGetsSecurePrefixedCookie: behind a TLS proxy the
// engine trusts, the cookie is Secure and __Host- even with
// InsecureAllowHTTP and a loopback upstream, with or without Host
// rewriting.
func TestTrustedHTTPSProxyGetsSecurePrefixedCookie(t *testing.T) {
	for _, rewrite := range []bool{true, false} {
		base, c := behindProxy(t, securesession.Options{InsecureAllowHTTP: true, TrustedProxies: []string{"127.0.0.1", "::1"}}, rewrite)
		resp := post(t, c, base+"/set?key=k&val=v", nil)
		ck := respCookie(resp, securesession.DefaultCookieName)
		if resp.StatusCode != http.StatusOK || ck == nil || !ck.Secure || !ck.HttpOnly {
			t.Fatalf("rewriteHost=%v: status %d, Set-Cookie %q; want a Secure HttpOnly %s cookie",
				rewrite, resp.StatusCode, resp.Header.Values("Set-Cookie"), securesession.DefaultCookieName)
		}
	}
}

// TestUntrustedProxyHeadersAreIgnored: the same proxy, not listed in
// TrustedProxies, is just a loopback HTTP client to the middleware: under
// InsecureAllowHTTP it gets the development cookie, and a forged
// X-Forwarded-Host cannot make another origin same-origin.
func TestUntrustedProxyHeadersAreIgnored(t *testing.T) {
	base, c := behindProxy(t, securesession.Options{InsecureAllowHTTP: true}, true)
	resp := post(t, c, base+"/set?key=k&val=v", nil)
	if ck := respCookie(resp, securesession.DefaultInsecureCookieName); ck == nil || ck.Secure {
		t.Fatalf("untrusted proxy: Set-Cookie %q; want the plain-HTTP development cookie (its X-Forwarded-Proto ignored)", resp.Header.Values("Set-Cookie"))
	}

	app := httptest.NewServer(router(t, newCookieStore(t), securesession.Options{}))
	defer app.Close()
	resp = post(t, app.Client(), app.URL+"/set?key=k&val=v", map[string]string{
		"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https",
		"Forwarded": `proto=https;host=evil.example`,
	})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a client forging X-Forwarded-Host to match its Origin got %d, want 403", resp.StatusCode)
	}
}

// TestOriginCheckUsesTheForwardedHost: a request that carries only an
// Origin header (no Sec-Fetch-Site, as from an older browser) is
// same-origin when Origin matches the host the browser used, even when the
// proxy rewrote Host; another origin is still refused.
func TestOriginCheckUsesTheForwardedHost(t *testing.T) {
	for _, rewrite := range []bool{true, false} {
		base, c := behindProxy(t, securesession.Options{TrustedProxies: []string{"127.0.0.0/8", "::1"}}, rewrite)
		u, _ := url.Parse(base)
		if resp := post(t, c, base+"/set?key=k&val=v", map[string]string{"Origin": "https://" + u.Host}); resp.StatusCode != http.StatusOK {
			t.Errorf("rewriteHost=%v: same-origin POST with only Origin got %d, want 200", rewrite, resp.StatusCode)
		}
		if resp := post(t, c, base+"/set?key=k&val=v", map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("rewriteHost=%v: cross-origin POST got %d, want 403", rewrite, resp.StatusCode)
		}
	}
	// Without trust, the rewritten Host makes the same request look
	// cross-origin: the false 403 that TrustedProxies removes.
	base, c := behindProxy(t, securesession.Options{}, true)
	u, _ := url.Parse(base)
	if resp := post(t, c, base+"/set?key=k&val=v", map[string]string{"Origin": "https://" + u.Host}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("untrusted Host-rewriting proxy: %d, want 403 (the forwarded host must be ignored)", resp.StatusCode)
	}
}

// TestForwardedHeaderFromTrustedProxy reads RFC 7239 Forwarded when the
// proxy sends no X-Forwarded-* headers, and prefers X-Forwarded-* when
// both are present.
func TestForwardedHeaderFromTrustedProxy(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{InsecureAllowHTTP: true, TrustedProxies: []string{"192.0.2.10"}})
	cases := []struct {
		name       string
		hdr        map[string]string
		wantSecure bool
		wantStatus int
	}{
		{"Forwarded proto=https", map[string]string{"Forwarded": `for=198.51.100.1;proto=https;host="app.example:8443"`, "Origin": "https://app.example:8443"}, true, 200},
		{"last element wins", map[string]string{"Forwarded": `proto=http;host=evil.example, for=198.51.100.1;proto=https;host=app.example`, "Origin": "https://app.example"}, true, 200},
		{"X-Forwarded-* win over Forwarded", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example", "Forwarded": `proto=https;host=evil.example`, "Origin": "https://evil.example"}, true, 403},
		{"malformed host ignored", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example/x", "Origin": "https://evil.example"}, true, 403},
		{"proxy says http", map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Host": "localhost:8080"}, false, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://127.0.0.1:8080/set?key=k&val=v", nil)
			req.RemoteAddr = "192.0.2.10:4321"
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tc.wantStatus)
			}
			if w.Code != 200 {
				return
			}
			sc := w.Header().Get("Set-Cookie")
			if got := strings.Contains(sc, "; Secure"); got != tc.wantSecure {
				t.Fatalf("Set-Cookie %q: Secure=%v, want %v", sc, got, tc.wantSecure)
			}
			if tc.wantSecure != strings.HasPrefix(sc, securesession.DefaultCookieName+"=") {
				t.Fatalf("Set-Cookie %q: want the __Host- name exactly when the browser used HTTPS", sc)
			}
		})
	}
}

func TestTrustedProxiesRefusesEveryAddressAndGarbage(t *testing.T) {
	for _, p := range []string{"0.0.0.0/0", "::/0", "10.0.0.300", "proxy.internal"} {
		_, err := securesession.New(newCookieStore(t), securesession.Options{TrustedProxies: []string{p}})
		if err == nil || !strings.Contains(err.Error(), "Options.TrustedProxies") {
			t.Errorf("TrustedProxies %q: err %v, want one naming Options.TrustedProxies", p, err)
		}
	}
}
