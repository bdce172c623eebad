package examples_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAPIExampleOverHTTP drives examples/api the way its doc comment's
// curl session does: a JSON login returns a token, the token in an
// Authorization header is the session, logout kills it, and a token in the
// URL is never read.
func TestAPIExampleOverHTTP(t *testing.T) {
	app := startExample(t, "api")
	send := func(method, path, token, body string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, app.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if len(resp.Cookies()) != 0 {
			t.Fatalf("%s %s set a cookie on an API response", method, path)
		}
		return resp.StatusCode, string(b), resp.Header
	}

	if st, _, _ := send("POST", "/api/login", "", `{"username":"demo","password":"wrong"}`); st != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", st)
	}
	st, body, hdr := send("POST", "/api/login", "", `{"username":"demo","password":"demo-password"}`)
	var out struct{ Token, User string }
	if st != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil || out.Token == "" || out.User != "demo" {
		t.Fatalf("login: %d %s", st, body)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("login response Cache-Control %q", hdr.Get("Cache-Control"))
	}
	tok := out.Token
	if st, body, _ := send("GET", "/api/me", tok, ""); st != http.StatusOK || !strings.Contains(body, `"user":"demo"`) {
		t.Fatalf("me: %d %s", st, body)
	}
	st, body, hdr = send("POST", "/api/visits", tok, "")
	if st != http.StatusOK || !strings.Contains(body, `"visits":1`) {
		t.Fatalf("visits: %d %s", st, body)
	}
	if nt := hdr.Get("Session-Token"); nt != "" {
		tok = nt // the cookie backend re-seals on write
	}
	if st, _, _ := send("GET", "/api/me?token="+tok, "", ""); st != http.StatusUnauthorized {
		t.Fatalf("a token in the URL was accepted: %d", st)
	}
	if st, _, _ := send("POST", "/api/logout", tok, ""); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	if st, _, _ := send("GET", "/api/me", tok, ""); st != http.StatusUnauthorized {
		t.Fatalf("the token still works after logout: %d", st)
	}
}
