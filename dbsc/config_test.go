package dbsc_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
)

func TestSessionConfigMarshalsAsChromiumAccepts(t *testing.T) {
	cred, err := dbsc.BoundCookie{}.Credential()
	if err != nil {
		t.Fatal(err)
	}
	cfg := dbsc.SessionConfig{
		SessionIdentifier: "s1",
		RefreshURL:        "/dbsc/refresh",
		Scope: dbsc.Scope{
			Origin:        "https://app.example:8443",
			Specification: []dbsc.ScopeRule{{Type: dbsc.Exclude, Domain: "app.example", Path: "/static"}},
		},
		Credentials: []dbsc.Credential{cred},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"session_identifier":"s1","refresh_url":"/dbsc/refresh",` +
		`"scope":{"origin":"https://app.example:8443","include_site":false,"scope_specification":[{"type":"exclude","domain":"app.example","path":"/static"}]},` +
		`"credentials":[{"type":"cookie","name":"__Host-bound","attributes":"Path=/; HttpOnly; Secure; SameSite=Lax"}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}

	// The minimal form the note verified: scope with include_site only.
	b, err = json.Marshal(dbsc.SessionConfig{SessionIdentifier: "s1", RefreshURL: "/dbsc/refresh", Credentials: []dbsc.Credential{cred}})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"session_identifier":"s1","refresh_url":"/dbsc/refresh","scope":{"include_site":false},` +
		`"credentials":[{"type":"cookie","name":"__Host-bound","attributes":"Path=/; HttpOnly; Secure; SameSite=Lax"}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}

	// It reads back into the same value (the test client does this).
	var back dbsc.SessionConfig
	if err := json.Unmarshal(b, &back); err != nil || back.Credentials[0] != cred || back.RefreshURL != "/dbsc/refresh" {
		t.Fatalf("unmarshalled as %+v, %v", back, err)
	}
}

func TestSessionConfigRefusesInvalid(t *testing.T) {
	cred, _ := dbsc.BoundCookie{}.Credential()
	ok := func() dbsc.SessionConfig {
		return dbsc.SessionConfig{SessionIdentifier: "s1", RefreshURL: "/dbsc/refresh", Credentials: []dbsc.Credential{cred}}
	}
	rule := func(r dbsc.ScopeRule) func(*dbsc.SessionConfig) {
		return func(c *dbsc.SessionConfig) { c.Scope.Specification = []dbsc.ScopeRule{r} }
	}
	tests := map[string]func(*dbsc.SessionConfig){
		"no session id":         func(c *dbsc.SessionConfig) { c.SessionIdentifier = "" },
		"session id with quote": func(c *dbsc.SessionConfig) { c.SessionIdentifier = `a"b` },
		"no refresh url":        func(c *dbsc.SessionConfig) { c.RefreshURL = "" },
		"cross-origin refresh":  func(c *dbsc.SessionConfig) { c.RefreshURL = "//evil.example/refresh" },
		"http origin":           func(c *dbsc.SessionConfig) { c.Scope.Origin = "http://app.example" },
		"origin with path":      func(c *dbsc.SessionConfig) { c.Scope.Origin = "https://app.example/" },
		"origin with userinfo":  func(c *dbsc.SessionConfig) { c.Scope.Origin = "https://u@app.example" },
		"bad rule type":         rule(dbsc.ScopeRule{Type: "skip", Domain: "a", Path: "/"}),
		"rule without domain":   rule(dbsc.ScopeRule{Type: dbsc.Exclude, Path: "/"}),
		"rule without path":     rule(dbsc.ScopeRule{Type: dbsc.Exclude, Domain: "a"}),
		"no credentials":        func(c *dbsc.SessionConfig) { c.Credentials = nil },
		"credential not cookie": func(c *dbsc.SessionConfig) { c.Credentials[0].Type = "token" },
		"credential bad name":   func(c *dbsc.SessionConfig) { c.Credentials[0].Name = "a b" },
		"attributes with CRLF":  func(c *dbsc.SessionConfig) { c.Credentials[0].Attributes = "Path=/\r\n" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			c := ok()
			c.Credentials = append([]dbsc.Credential(nil), c.Credentials...)
			mutate(&c)
			if b, err := json.Marshal(c); err == nil {
				t.Fatalf("marshalled %s", b)
			}
		})
	}
}

func TestBoundCookieDefaults(t *testing.T) {
	var b dbsc.BoundCookie
	got, err := b.SetCookie("v4lue", t0)
	if err != nil {
		t.Fatal(err)
	}
	want := "__Host-bound=v4lue; Path=/; Expires=Tue, 24 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if b.EffectiveLifetime() != dbsc.DefaultBoundCookieLifetime {
		t.Fatalf("effective lifetime %v", b.EffectiveLifetime())
	}
	cred, _ := b.Credential()
	if cred != (dbsc.Credential{Type: "cookie", Name: "__Host-bound", Attributes: "Path=/; HttpOnly; Secure; SameSite=Lax"}) {
		t.Fatalf("credential %+v", cred)
	}
	del, _ := b.Expire()
	if want := "__Host-bound=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax"; del != want {
		t.Fatalf("got  %s\nwant %s", del, want)
	}
}

// TestCredentialAttributesMatchSetCookie: for every configuration, the
// credential's attributes and the Set-Cookie header describe the same
// cookie once Max-Age and Expires are set aside (Chromium refuses the
// session otherwise), and the deletion names the same cookie.
func TestCredentialAttributesMatchSetCookie(t *testing.T) {
	for _, b := range []dbsc.BoundCookie{
		{},
		{Name: "bound", Domain: "example.com", Path: "/app", SameSite: http.SameSiteStrictMode, Lifetime: 3 * time.Minute},
		{Name: "__Secure-bound", SameSite: http.SameSiteNoneMode, Lifetime: 90*time.Second + 500*time.Millisecond},
		{Name: "__Host-b", SameSite: http.SameSiteDefaultMode},
	} {
		line, err := b.SetCookie("v", t0)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := b.Credential()
		if err != nil {
			t.Fatal(err)
		}
		set, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(cred.Attributes, "Max-Age") || strings.Contains(cred.Attributes, "Expires") {
			t.Fatalf("attributes %q carry a lifetime", cred.Attributes)
		}
		attr, err := http.ParseSetCookie(cred.Name + "=v; " + cred.Attributes)
		if err != nil {
			t.Fatal(err)
		}
		if set.Name != attr.Name || set.Path != attr.Path || set.Domain != attr.Domain ||
			set.Secure != attr.Secure || set.HttpOnly != attr.HttpOnly || set.SameSite != attr.SameSite || set.Partitioned != attr.Partitioned {
			t.Fatalf("Set-Cookie %q and attributes %q differ", line, cred.Attributes)
		}
		if !set.Secure || !set.HttpOnly {
			t.Fatalf("Set-Cookie %q is not Secure and HttpOnly", line)
		}
		if time.Duration(set.MaxAge)*time.Second != b.EffectiveLifetime() || set.MaxAge < 1 {
			t.Fatalf("Max-Age %d, effective lifetime %v", set.MaxAge, b.EffectiveLifetime())
		}
		delLine, _ := b.Expire()
		del, err := http.ParseSetCookie(delLine)
		if err != nil {
			t.Fatal(err)
		}
		if del.Name != set.Name || del.Path != set.Path || del.Domain != set.Domain || del.MaxAge >= 0 || del.Value != "" {
			t.Fatalf("deletion %q does not expire %q", delLine, line)
		}
	}
}

func TestBoundCookieRefusesInvalid(t *testing.T) {
	tests := map[string]dbsc.BoundCookie{
		"__Host- with Domain":   {Domain: "example.com"},
		"__Host- with Path":     {Path: "/app"},
		"bad name":              {Name: "a;b"},
		"relative path":         {Name: "b", Path: "app"},
		"path with semicolon":   {Name: "b", Path: "/a;Domain=evil"},
		"domain with semicolon": {Name: "b", Domain: "a;b"},
		"bad SameSite":          {SameSite: 9},
		"sub-second lifetime":   {Lifetime: time.Millisecond},
		"negative lifetime":     {Lifetime: -time.Minute},
		"lifetime over a day":   {Lifetime: 25 * time.Hour},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if v, err := b.SetCookie("v", t0); err == nil {
				t.Fatalf("SetCookie %q", v)
			}
			if _, err := b.Credential(); err == nil {
				t.Fatal("Credential accepted it")
			}
			if _, err := b.Expire(); err == nil {
				t.Fatal("Expire accepted it")
			}
			if b.EffectiveLifetime() != 0 {
				t.Fatal("EffectiveLifetime of an invalid cookie is not 0")
			}
		})
	}
	for _, v := range []string{"", "a b", "a;b", `a"b`, "a,b", "é", strings.Repeat("a", 1025)} {
		if _, err := (dbsc.BoundCookie{}).SetCookie(v, t0); err == nil {
			t.Errorf("SetCookie accepted value %.10q", v)
		}
	}
}

func TestEndSessionBody(t *testing.T) {
	var v struct {
		Continue *bool `json:"continue"`
	}
	if err := json.Unmarshal([]byte(dbsc.EndSessionBody), &v); err != nil || v.Continue == nil || *v.Continue {
		t.Fatalf("EndSessionBody %s does not say continue: false", dbsc.EndSessionBody)
	}
}

func TestFormattingErrorsAreNotProofErrors(t *testing.T) {
	_, err := json.Marshal(dbsc.SessionConfig{})
	if err == nil || errors.Is(err, dbsc.ErrInvalidProof) {
		t.Fatalf("got %v", err)
	}
}
