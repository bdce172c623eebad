package backendtest

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/backendtest/internal/logscan"
	"github.com/gin-securesession/securesession/internal/testclock"
)

// tamperingChecks present forged, corrupted and misplaced cookies: each
// is an anonymous session, never an error, another session or a write.
var tamperingChecks = []check{
	{"TamperedCookiesAreAnonymous", testTamperedCookiesAreAnonymous},
	{"CookieMovedToAnotherNameIsAnonymous", testCookieMovedToAnotherName},
	{"TamperCampaign", testTamperCampaign},
}

func testTamperedCookiesAreAnonymous(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	cl.do("POST", "/set?key=k&val=v")
	valid := cl.token()
	for name, v := range mutations(valid) {
		if v == valid {
			continue
		}
		r := a.do("GET", "/whoami", &http.Cookie{Name: a.name, Value: v})
		if r.status != http.StatusOK {
			t.Errorf("%s: status %d (%s); a bad cookie must be an anonymous session, not an error", name, r.status, r.body)
			continue
		}
		if r.body != "user=" {
			t.Errorf("%s: tampered cookie accepted as %q", name, r.body)
		}
		if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s: a tampered cookie on a read-only request produced Set-Cookie %q", name, sc)
		}
	}
	if !a.sawEvent(securesession.EventRejected) && !a.sawEvent(securesession.EventUnknown) {
		t.Error("no rejected/unknown event was reported for tampered cookies")
	}
	if got := cl.user(); got != "alice" {
		t.Fatalf("the genuine cookie stopped working: %q", got)
	}
}

func testCookieMovedToAnotherName(t *testing.T, f *factory) {
	b := f.backend(t)
	a := newAppOn(t, b)
	other := newAppOn(t, b, func(o *securesession.Options) { o.CookieName = "__Host-other" })
	r := other.do("POST", "/login?user=alice", nil)
	c := r.cookie("__Host-other")
	if c == nil {
		t.Fatal("no cookie from the second app")
	}
	if got := a.replayUser(&http.Cookie{Name: a.name, Value: c.Value}); got != "" {
		t.Fatalf("a token issued for cookie __Host-other was accepted under %s as %q", a.name, got)
	}
}

func isInvalid(err error) bool {
	return err != nil && strings.Contains(err.Error(), securesession.ErrInvalidToken.Error())
}

// mutations returns systematic corruptions of a valid cookie value.
func mutations(v string) map[string]string {
	m := map[string]string{
		"empty":          "",
		"truncated-half": v[:len(v)/2],
		"truncated-1":    v[:len(v)-1],
		"extended":       v + "A",
		"extended-junk":  v + "%00;x",
		"oversized":      v + strings.Repeat("A", securesession.MaxCookieSize),
		"std-base64":     strings.NewReplacer("-", "+", "_", "/").Replace(v) + "=",
		"quoted-junk":    `"` + v[1:] + `"`,
		"uppercased":     strings.ToUpper(v),
		"lowercased":     strings.ToLower(v),
	}
	for _, i := range []int{0, 1, len(v) / 3, len(v) / 2, len(v) - 2, len(v) - 1} {
		b := []byte(v)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		m[fmt.Sprintf("flip-%d", i)] = string(b)
	}
	return m
}

// testTamperCampaign takes a valid session cookie and tries thousands of
// systematic mutations of it; none may be accepted as any session, answer
// with a 5xx, or set a cookie on a read-only request, and the campaign must
// not cause a single backend write.
func testTamperCampaign(t *testing.T, f *factory) {
	a := newApp(t, f)
	alice := a.client()
	alice.do("POST", "/login?user=alice")
	alice.do("POST", "/set?key=k&val=secret-of-alice")
	bob := a.client()
	bob.do("POST", "/login?user=bob")
	bob.do("POST", "/set?key=k&val=secret-of-bob")
	anon := a.client()
	anon.do("POST", "/set?key=k&val=secret-of-anon")
	if alice.c == nil || bob.c == nil || anon.c == nil {
		t.Fatal("no session cookies to tamper with")
	}
	var logs logscan.Buffer
	h := probeApp(t, a.b, a.clock, &logs)
	probe := func(header string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "https://example.test/probe", nil)
		if header != "" {
			req.Header.Set("Cookie", header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for _, s := range []struct {
		c    *session
		want string
	}{{alice, "user=alice;k=secret-of-alice"}, {bob, "user=bob;k=secret-of-bob"}, {anon, "user=;k=secret-of-anon"}} {
		if got := probe(a.name + "=" + s.c.token()).Body.String(); got != s.want {
			t.Fatalf("genuine cookie: %q, want %q", got, s.want)
		}
	}
	writes := a.b.total()

	var muts []mutation
	for _, victim := range []struct{ v, other string }{
		{alice.token(), bob.token()},
		{anon.token(), alice.token()},
	} {
		muts = append(muts, tamperMutations(a.name, victim.v, victim.other)...)
	}
	var tried, accepted, errors5xx, cookies atomic.Int64
	var mu sync.Mutex
	var report []string
	fail := func(format string, args ...any) {
		mu.Lock()
		if len(report) < 20 {
			report = append(report, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	const workers = 4
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(muts); i += workers {
				m := muts[i]
				r := probe(m.header)
				tried.Add(1)
				if r.Code >= 500 {
					errors5xx.Add(1)
					fail("%s: status %d for %q", m.kind, r.Code, m.header)
				}
				if r.Code == http.StatusOK && r.Body.String() != "user=;k=<nil>" {
					accepted.Add(1)
					fail("%s: forgery accepted as %q: %q", m.kind, r.Body.String(), m.header)
				}
				if sc := r.Header().Values("Set-Cookie"); len(sc) != 0 {
					cookies.Add(1)
					fail("%s: Set-Cookie %q on a read-only request", m.kind, sc)
				}
			}
		}(w)
	}
	wg.Wait()
	for _, line := range report {
		t.Error(line)
	}
	if n := a.b.total() - writes; n != 0 {
		t.Errorf("the tamper campaign caused %d backend writes; a bad cookie must cause none", n)
	}
	t.Logf("tamper campaign: %d mutations tried, %d accepted, %d 5xx, %d Set-Cookie; %d bytes of Debug logs checked for cookie values", tried.Load(), accepted.Load(), errors5xx.Load(), cookies.Load(), len(logs.String()))
	if tried.Load() < 1000 {
		t.Errorf("only %d mutations tried; the campaign should try thousands", tried.Load())
	}
	// Rejections are logged (at Warn) by fingerprint only: no 12-byte
	// piece of a genuine cookie, which every mutation mostly is, appears.
	text := logs.String()
	if !strings.Contains(text, "rejected") && !strings.Contains(text, "unknown") {
		t.Error("the campaign logged no rejected or unknown cookie")
	}
	if leak := logscan.FindSecret(text, []string{alice.token(), bob.token(), anon.token()}, 12); leak != "" {
		t.Errorf("a cookie value appears in the logs of the campaign: %s", leak)
	}
	// The genuine cookies still work after the campaign.
	if got := alice.user(); got != "alice" {
		t.Fatalf("after the campaign alice's cookie reads user %q", got)
	}
}

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// mutation is one forged request: the Cookie header value to send.
type mutation struct {
	kind   string
	header string
}

// tamperMutations returns systematic corruptions of the session cookie
// value v (issued to alice under cookie name) using other, a second user's
// cookie value, for splices. Each is a full Cookie header. None of them
// presents v itself under name, as the middleware reads it (a pair of
// surrounding double quotes is stripped, as by net/http).
func tamperMutations(name, v, other string) []mutation {
	var out []mutation
	seen := map[string]bool{v: true, `"` + v + `"`: true, other: true, `"` + other + `"`: true}
	add := func(kind, val string) {
		if seen[val] {
			return
		}
		seen[val] = true
		out = append(out, mutation{kind, name + "=" + val})
	}

	// Every bit flip of the first 64 and the last 16 bytes of the decoded
	// value (where it decodes as base64url: a server token, or the version,
	// key ID, nonce and tag of a sealed cookie).
	if raw, err := base64.RawURLEncoding.DecodeString(v); err == nil {
		idx := map[int]bool{}
		for i := 0; i < len(raw) && i < 64; i++ {
			idx[i] = true
		}
		for i := max(len(raw)-16, 0); i < len(raw); i++ {
			idx[i] = true
		}
		for i := range idx {
			for bit := 0; bit < 8; bit++ {
				b := append([]byte(nil), raw...)
				b[i] ^= 1 << bit
				add("bitflip", base64.RawURLEncoding.EncodeToString(b))
			}
		}
		// Base64 variants of the same bytes: another alphabet, padding.
		add("base64-std", base64.StdEncoding.EncodeToString(raw))
		add("base64-std-raw", base64.RawStdEncoding.EncodeToString(raw))
		add("base64-url-padded", base64.URLEncoding.EncodeToString(raw))
		add("base64-hex", fmt.Sprintf("%x", raw))
		// The decoded bytes truncated or extended, re-encoded.
		for _, n := range []int{0, 1, len(raw) / 2, len(raw) - 1} {
			if n >= 0 && n < len(raw) {
				add("decoded-truncated", base64.RawURLEncoding.EncodeToString(raw[:n]))
			}
		}
		for _, ext := range [][]byte{{0}, {0xff}, raw[:min(16, len(raw))], make([]byte, 32)} {
			add("decoded-extended", base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), raw...), ext...)))
		}
	}

	// Every other base64url character at the first and last 16 positions.
	for i := 0; i < len(v); i++ {
		if i >= 16 && i < len(v)-16 {
			continue
		}
		for j := 0; j < len(b64url); j++ {
			add("substitute", v[:i]+b64url[j:j+1]+v[i+1:])
		}
	}
	// Truncations to every length, and each single character dropped.
	for n := 0; n < len(v); n++ {
		add("truncate", v[:n])
		add("drop-char", v[:n]+v[n+1:])
	}
	// Extensions by every base64url character and by junk.
	for j := 0; j < len(b64url); j++ {
		add("extend", v+b64url[j:j+1])
		add("prepend", b64url[j:j+1]+v)
	}
	for _, junk := range []string{"=", "==", ".", "%00", "%3D", "+", "/", "~", v, strings.Repeat("A", 64)} {
		add("extend-junk", v+junk)
	}
	add("oversized", v+strings.Repeat("A", securesession.MaxCookieSize))
	// Other spellings of the same characters.
	add("std-alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(v))
	add("percent-encoded", strings.NewReplacer("-", "%2D", "_", "%5F").Replace(v))
	add("half-quoted", `"`+v)
	add("quoted-junk", `"`+v[1:]+`"`)
	// Case changes: the whole value, and each letter alone.
	add("uppercase", strings.ToUpper(v))
	add("lowercase", strings.ToLower(v))
	add("swapcase", swapCase(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			add("case-one", v[:i]+swapCase(v[i:i+1])+v[i+1:])
		}
	}
	// Splices of alice's and bob's cookies at every point, both ways.
	for i := 1; i < len(v) && i < len(other); i++ {
		add("splice-ab", v[:i]+other[i:])
		add("splice-ba", other[:i]+v[i:])
	}
	add("concat", v+other)
	// Alice's value moved to other cookie names: the middleware must read
	// only its own name, matched exactly.
	for _, n := range []string{strings.ToLower(name), strings.ToUpper(name), name + "2", "x" + name,
		strings.Replace(name, "__Host-", "__Secure-", 1), "session", "__Host-other", "sid"} {
		if n != name {
			out = append(out, mutation{"renamed", n + "=" + v})
		}
	}
	// The name mangled inside the header.
	out = append(out,
		mutation{"name-space", name + " =" + v},
		mutation{"name-no-equals", name + v},
		mutation{"bad-first-then-good-name", name + "=x; " + strings.ToLower(name) + "=" + v},
	)
	return out
}

func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 32
		case 'A' <= c && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

// probeApp is the middleware over b with one read-only route that reports
// the user and a value at once. Requests are served in-process through
// httptest.NewRecorder, thousands per second, after the cookies are issued
// over real HTTP.
func probeApp(t *testing.T, b securesession.Backend, clock *testclock.Clock, logs *logscan.Buffer, opts ...appOption) http.Handler {
	t.Helper()
	o := securesession.Options{
		Now:    clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent: func(e securesession.Event) {
			fmt.Fprintf(logs, "event %v session=%s user=%s reason=%s err=%v\n", e.Kind, e.Session, e.UserID, e.Reason, e.Err)
		},
	}
	for _, f := range opts {
		f(&o)
	}
	mw, err := securesession.New(b, o)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.GET("/probe", func(c *gin.Context) {
		v := sessions.Default(c).Get("k")
		c.String(http.StatusOK, "user=%s;k=%v", securesession.UserID(c), v)
	})
	return r
}
