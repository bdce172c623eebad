package securesession_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// TestDefaultErrorAnswersHaveAReadableBody: each error the middleware
// answers by itself has a short human page for a browser and JSON with a
// stable code for a client that asks for it, and neither reveals the
// token or the cause.
func TestDefaultErrorAnswersHaveAReadableBody(t *testing.T) {
	f := &failing{Backend: newCookieStore(t)}
	r := router(t, f, securesession.Options{AuthorizationHeader: true})
	login := serve(r, "POST", "/login?user=alice", nil)
	ck := sessionCookie(t, login, securesession.DefaultCookieName)

	cases := []struct {
		name     string
		prepare  func()
		method   string
		path     string
		hdr      map[string]string
		cookie   bool
		status   int
		code     string
		htmlText string
	}{
		{"backend outage", func() { f.find = true }, "GET", "/whoami", nil, true, 503, "session_unavailable", "Sessions are unavailable"},
		{"failed save", func() { f.write = true }, "POST", "/set?key=k&val=v", nil, true, 503, "session_unavailable", "Sessions are unavailable"},
		{"cross-origin refusal", nil, "POST", "/set?key=k&val=v", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, 403, "cross_origin_denied", "came from another website"},
		{"cookie and header", nil, "GET", "/whoami", map[string]string{"Authorization": "Bearer " + ck.Value}, true, 400, "ambiguous_credentials", "both in a cookie and in an Authorization header"},
		{"session too large", nil, "POST", "/set?key=k&val=" + strings.Repeat("x", 4000), nil, false, 500, "session_too_large", "more data than fits"},
	}
	for _, tc := range cases {
		for _, asJSON := range []bool{false, true} {
			name := tc.name + map[bool]string{false: " (browser)", true: " (JSON)"}[asJSON]
			t.Run(name, func(t *testing.T) {
				f.find, f.write = false, false
				if tc.prepare != nil {
					tc.prepare()
				}
				hdr := map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
				if asJSON {
					hdr["Accept"] = "application/json"
				}
				for k, v := range tc.hdr {
					hdr[k] = v
				}
				var w = serve(r, tc.method, tc.path, hdr)
				if tc.cookie {
					w = serve(r, tc.method, tc.path, hdr, ck)
				}
				body := w.Body.String()
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d; body %q", w.Code, tc.status, body)
				}
				if strings.Contains(body, ck.Value) || strings.Contains(body, "connection refused") || strings.Contains(body, "securesession:") {
					t.Fatalf("the error body reveals a token or an internal error: %q", body)
				}
				if asJSON {
					var got struct{ Error, Code string }
					if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
						t.Fatalf("Content-Type %q, want JSON", ct)
					}
					if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Code != tc.code || got.Error == "" {
						t.Fatalf("JSON body %q, want error text and code %q", body, tc.code)
					}
					return
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Fatalf("Content-Type %q, want an HTML page", ct)
				}
				if !strings.Contains(body, tc.htmlText) || !strings.Contains(body, "<h1>") {
					t.Fatalf("HTML body %q does not say %q", body, tc.htmlText)
				}
			})
		}
	}
}

// TestErrorAnswerDropsTheHandlersRedirect: a handler that redirected
// after changing the session, when the save then fails, must not leave a
// Location on the 5xx (a blank page in a browser).
func TestErrorAnswerDropsTheHandlersRedirect(t *testing.T) {
	f := &failing{Backend: newCookieStore(t)}
	r := router(t, f, securesession.Options{})
	r.POST("/cart", func(c *gin.Context) {
		sessions.Default(c).Set("cart", "3 items")
		c.Header("Content-Disposition", "attachment")
		c.Redirect(http.StatusSeeOther, "/checkout")
	})
	ck := sessionCookie(t, serve(r, "POST", "/login?user=alice", nil), securesession.DefaultCookieName)
	f.write = true
	w := serve(r, "POST", "/cart", nil, ck)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
	if loc := w.Header().Get("Location"); loc != "" {
		t.Fatalf("the 503 still carries the handler's Location %q", loc)
	}
	if cd := w.Header().Get("Content-Disposition"); cd != "" {
		t.Fatalf("the 503 still carries the handler's Content-Disposition %q", cd)
	}
	if !strings.Contains(w.Body.String(), "<h1>") {
		t.Fatalf("the 503 has no page: %q", w.Body)
	}
}

// TestCustomHandlersStillReplaceTheDefaultPages: ErrorHandler and
// CrossOriginDenied still decide the answer when set.
func TestCustomHandlersStillReplaceTheDefaultPages(t *testing.T) {
	f := &failing{Backend: newCookieStore(t), find: true}
	r := router(t, f, securesession.Options{
		ErrorHandler:      func(c *gin.Context, err error) { c.String(599, "mine") },
		CrossOriginDenied: func(c *gin.Context, err error) { c.String(499, "mine too") },
	})
	if w := serve(r, "GET", "/whoami", nil, &http.Cookie{Name: securesession.DefaultCookieName, Value: "x"}); w.Code != 599 || w.Body.String() != "mine" {
		t.Errorf("ErrorHandler: %d %q", w.Code, w.Body)
	}
	if w := serve(r, "POST", "/set", map[string]string{"Sec-Fetch-Site": "cross-site"}); w.Code != 499 || w.Body.String() != "mine too" {
		t.Errorf("CrossOriginDenied: %d %q", w.Code, w.Body)
	}
}
