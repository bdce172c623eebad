package backendtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession"
)

// bearerChecks run the session checks with the token carried in an
// Authorization header instead of the cookie.
var bearerChecks = []check{
	{"Header/LoginTokenReturnsTokenAndNoCookie", testHeaderLoginToken},
	{"Header/RotationReturnsNewTokenAndKillsOld", testHeaderRotation},
	{"Header/LogoutKillsReplayedToken", testHeaderLogoutReplay},
	{"Header/TamperedTokensAreAnonymous", testHeaderTampered},
	{"Header/IdleAndAbsoluteTimeouts", testHeaderExpiry},
	{"Header/TokenNeverReadFromQueryOrForm", testHeaderNotFromURL},
	{"Header/CookieAndHeaderTogetherRefused", testHeaderAndCookie},
	{"Header/CrossOriginCheckOnlyForCookies", testHeaderCrossOrigin},
	{"Header/WritesKeepWorking", testHeaderWrites},
}

// withHeader turns on Options.AuthorizationHeader.
func withHeader(o *securesession.Options) { o.AuthorizationHeader = true }

// apiClient is an API client holding a bearer token.
type apiClient struct {
	a   *app
	tok string
}

func (a *app) apiLogin(user string) *apiClient {
	a.t.Helper()
	r := a.do("POST", "/api-login?user="+user, nil)
	if r.status != http.StatusOK {
		a.t.Fatalf("api login: %d %s", r.status, r.body)
	}
	var body struct{ Token string }
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Token == "" {
		a.t.Fatalf("api login body %q: %v", r.body, err)
	}
	if got := r.header.Get(securesession.TokenHeader); got != body.Token {
		a.t.Fatalf("%s header %q differs from the token in the body", securesession.TokenHeader, got)
	}
	if len(r.cookies) != 0 {
		a.t.Fatalf("LoginToken set a cookie: %q", r.header.Values("Set-Cookie"))
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		a.t.Fatalf("LoginToken response Cache-Control %q, want no-store", cc)
	}
	return &apiClient{a: a, tok: body.Token}
}

// do sends the request with the bearer token and adopts a new token from
// the response header, as a well-behaved client would.
func (c *apiClient) do(method, path string, hdr ...string) *result {
	c.a.t.Helper()
	r := c.a.do(method, path, nil, append([]string{"Authorization", "Bearer " + c.tok}, hdr...)...)
	if nt := r.header.Get(securesession.TokenHeader); nt != "" {
		c.tok = nt
	}
	if len(r.cookies) != 0 {
		c.a.t.Fatalf("%s %s: a header-authenticated request got a cookie: %q", method, path, r.header.Values("Set-Cookie"))
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		c.a.t.Fatalf("%s %s: Cache-Control %q on a header-authenticated response, want no-store", method, path, cc)
	}
	return r
}

func (c *apiClient) user() string {
	c.a.t.Helper()
	return strings.TrimPrefix(c.do("GET", "/whoami").body, "user=")
}

func (a *app) bearerUser(tok string) string {
	a.t.Helper()
	r := a.do("GET", "/whoami", nil, "Authorization", "Bearer "+tok)
	if r.status != http.StatusOK {
		a.t.Fatalf("bearer request: %d %s", r.status, r.body)
	}
	return strings.TrimPrefix(r.body, "user=")
}

func testHeaderLoginToken(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	if got := c.user(); got != "alice" {
		t.Fatalf("bearer token is user %q", got)
	}
	off := newApp(t, f)
	if r := off.do("POST", "/api-login?user=alice", nil); r.status == http.StatusOK {
		t.Fatal("LoginToken worked with AuthorizationHeader off")
	}
	if got := off.bearerUser(c.tok); got != "" {
		t.Fatalf("with AuthorizationHeader off a bearer token was accepted as %q", got)
	}
}

func testHeaderRotation(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	old := c.tok
	r := c.do("POST", "/rotate")
	if r.status != http.StatusOK || c.tok == old {
		t.Fatalf("Rotate over the header: status %d, new token %v", r.status, c.tok != old)
	}
	if got := c.user(); got != "alice" {
		t.Fatalf("after Rotate the new token is %q", got)
	}
	// LoginToken from a header session rotates too.
	r = c.do("POST", "/api-login?user=alice")
	if r.status != http.StatusOK {
		t.Fatalf("re-login: %d %s", r.status, r.body)
	}
	f.requireRevocation(t)
	if got := a.bearerUser(old); got != "" {
		t.Fatalf("the pre-rotation token still works as %q", got)
	}
}

func testHeaderLogoutReplay(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	stolen := c.tok
	if r := c.do("POST", "/logout"); r.status != http.StatusOK {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	f.requireRevocation(t)
	if got := a.bearerUser(stolen); got != "" {
		t.Fatalf("token replayed after Logout is user %q", got)
	}
}

func testHeaderTampered(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	for name, v := range mutations(c.tok) {
		if v == c.tok || strings.ContainsAny(v, "\r\n") {
			continue
		}
		r := a.do("GET", "/whoami", nil, "Authorization", "Bearer "+v)
		if r.status != http.StatusOK || r.body != "user=" {
			t.Errorf("%s: status %d body %q; want an anonymous 200", name, r.status, r.body)
		}
	}
	for _, h := range []string{"Basic " + c.tok, "Bearer", "bearer  " + c.tok + " x", c.tok} {
		if r := a.do("GET", "/whoami", nil, "Authorization", h); r.body != "user=" {
			t.Errorf("Authorization %q accepted as %q", h, r.body)
		}
	}
	if got := c.user(); got != "alice" {
		t.Fatalf("the genuine token stopped working: %q", got)
	}
}

func testHeaderExpiry(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	idle := a.apiLogin("alice")
	a.clock.Advance(securesession.DefaultIdleTimeout + 1)
	if got := idle.user(); got != "" {
		t.Fatalf("idle token still user %q", got)
	}
	active := a.apiLogin("bob")
	step := securesession.DefaultIdleTimeout / 2
	for elapsed := step; elapsed < securesession.DefaultAbsoluteTimeout; elapsed += step {
		a.clock.Advance(step)
		if got := active.user(); got != "bob" {
			t.Fatalf("active token ended after %v: %q", elapsed, got)
		}
	}
	a.clock.Advance(step)
	if got := active.user(); got != "" {
		t.Fatalf("token past the absolute timeout is still user %q", got)
	}
}

func testHeaderNotFromURL(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	q := url.QueryEscape(c.tok)
	for _, path := range []string{"/whoami?token=" + q, "/whoami?access_token=" + q, "/whoami?session=" + q, "/whoami?" + a.name + "=" + q} {
		if r := a.do("GET", path, nil); r.body != "user=" {
			t.Errorf("GET %s: %q; a token in the URL must never be read", path, r.body)
		}
	}
	req, _ := http.NewRequest("POST", a.srv.URL+"/whoami", strings.NewReader("access_token="+q+"&token="+q+"&"+a.name+"="+q))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "user=" {
		t.Fatalf("POST with the token in form fields: %d %q; form fields must never be read", resp.StatusCode, body)
	}
}

func testHeaderAndCookie(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	api := a.apiLogin("alice")
	browser := a.client()
	browser.do("POST", "/login?user=bob")
	r := a.do("GET", "/whoami", browser.c, "Authorization", "Bearer "+api.tok)
	if r.status != http.StatusBadRequest {
		t.Fatalf("cookie and header together: %d %q; want 400", r.status, r.body)
	}
	if strings.Contains(r.body, "alice") || strings.Contains(r.body, "bob") {
		t.Fatalf("a refused request leaked a session: %q", r.body)
	}
}

func testHeaderCrossOrigin(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	if r := c.do("POST", "/set?key=k&val=v", "Sec-Fetch-Site", "cross-site", "Origin", "https://spa.example"); r.status != http.StatusOK {
		t.Fatalf("header-authenticated cross-origin POST: %d; the header cannot be forged cross-site", r.status)
	}
	browser := a.client()
	browser.do("POST", "/login?user=bob")
	if r := a.do("POST", "/set?key=k&val=v", browser.c, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Fatalf("cookie-borne cross-site POST: %d, want 403", r.status)
	}
}

func testHeaderWrites(t *testing.T, f *factory) {
	a := newApp(t, f, withHeader)
	c := a.apiLogin("alice")
	for i, v := range []string{"one", "two", "three"} {
		c.do("POST", "/set?key=k&val="+v)
		if got := c.do("GET", "/get?key=k").body; got != "string:"+v {
			t.Fatalf("write %d over the header: read %q", i, got)
		}
	}
}
