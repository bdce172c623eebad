package examples_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession/internal/testservers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	removeBuilds()
	testservers.StopPostgres()
	os.Exit(code)
}

// The examples run in development mode on loopback, where the cookie is
// named "session" and has no Secure attribute.
const cookieName = "session"

var demoLogin = url.Values{"username": {"demo"}, "password": {"demo-password"}}

// backendTraits says what an example's backend can do.
type backendTraits struct {
	canList bool // "your active sessions" lists sessions with a revoke button
}

func TestBasicOverHTTP(t *testing.T) {
	t.Parallel()
	app := startExample(t, "basic")
	driveOverHTTP(t, app, backendTraits{canList: false})
}

func TestSQLiteOverHTTP(t *testing.T) {
	t.Parallel()
	app := startExample(t, "sqlite", "SQLITE_PATH="+filepath.Join(t.TempDir(), "sessions.db"))
	driveOverHTTP(t, app, backendTraits{canList: true})
}

func TestMemcacheOverHTTP(t *testing.T) {
	t.Parallel()
	mc := testservers.StartMemcachedT(t)
	app := startExample(t, "memcache", "MEMCACHE_SERVERS="+mc.Addr())
	driveOverHTTP(t, app, backendTraits{canList: true})
}

func TestPostgresOverHTTP(t *testing.T) {
	t.Parallel()
	app := startExample(t, "postgres", "DATABASE_URL="+testservers.Postgres(t))
	driveOverHTTP(t, app, backendTraits{canList: true})
}

// TestConfigOverHTTP runs examples/config on backends chosen by the
// configuration string alone.
func TestConfigOverHTTP(t *testing.T) {
	t.Parallel()
	t.Run("cookie", func(t *testing.T) {
		t.Parallel()
		app := startExample(t, "config", "SESSION_BACKEND=cookie:?revocation=memory")
		driveOverHTTP(t, app, backendTraits{canList: false})
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		app := startExample(t, "config", "SESSION_BACKEND=sqlite::memory:")
		driveOverHTTP(t, app, backendTraits{canList: true})
	})
	t.Run("memcache", func(t *testing.T) {
		t.Parallel()
		mc := testservers.StartMemcachedT(t)
		app := startExample(t, "config", "SESSION_BACKEND=memcache://"+mc.Addr()+"?prefix=cfg_")
		driveOverHTTP(t, app, backendTraits{canList: true})
	})
}

var handleInput = regexp.MustCompile(`name="handle" value="([^"]+)"`)

// ownHandle returns the handle of the row marked "this device" on a
// sessions page.
func ownHandle(t *testing.T, body string) string {
	t.Helper()
	for _, row := range strings.Split(body, "<tr>") {
		if strings.Contains(row, "this device") {
			if m := handleInput.FindStringSubmatch(row); m != nil {
				return m[1]
			}
		}
	}
	t.Fatal("the sessions page marks no session as this device")
	return ""
}

// driveOverHTTP runs the flow every example must support, over real HTTP
// against a running example.
func driveOverHTTP(t *testing.T, app *exampleApp, traits backendTraits) {
	c := &client{t: t, base: app.URL}
	var seen []string // every cookie value the server issued, to check the logs
	keep := func(ck *http.Cookie) *http.Cookie {
		if ck != nil {
			seen = append(seen, ck.Value)
		}
		return ck
	}
	u := &agent{c: c}

	// A first visit shows the login form and creates no session.
	r := u.get("/")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `action="/login"`) {
		t.Fatalf("GET /: status %d, want the login form", r.Status)
	}
	if len(r.Cookies) != 0 {
		t.Fatalf("GET / set a cookie on a first visit: %v", r.Header["Set-Cookie"])
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	// The profile needs a login.
	r = c.get("/profile", nil)
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("GET /profile anonymous: %d to %q, want 303 to /", r.Status, r.Location)
	}

	// A wrong password is refused with a flash message in an anonymous
	// session, shown once.
	r = u.post("/login", url.Values{"username": {"demo"}, "password": {"wrong"}})
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("POST /login wrong password: %d to %q", r.Status, r.Location)
	}
	anon := keep(u.cookie)
	if anon == nil {
		t.Fatal("a failed login stored no flash message")
	}
	if r = u.get("/"); !strings.Contains(r.Body, "Wrong username or password.") {
		t.Fatal("the failed-login flash was not shown")
	}
	keep(u.cookie)
	if r = u.get("/"); strings.Contains(r.Body, "Wrong username or password.") {
		t.Fatal("the flash message was shown twice")
	}
	preLogin := keep(u.cookie)

	// Login through the form, from the anonymous session: the ID changes
	// (no fixation) and the cookie carries the secure attributes.
	r = u.post("/login", demoLogin)
	if r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("POST /login: %d to %q, want 303 to /profile", r.Status, r.Location)
	}
	sess := keep(r.cookie(cookieName))
	if sess == nil {
		t.Fatal("login set no session cookie")
	}
	if sess.Value == preLogin.Value {
		t.Fatal("login kept the pre-login session ID")
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.MaxAge != 0 || !sess.Expires.IsZero() {
		t.Fatalf("session cookie attributes: %+v, want HttpOnly, SameSite=Lax, Path=/, browser-session", sess)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("login response Cache-Control = %q, want no-store", cc)
	}
	if r = c.get("/profile", preLogin); r.Status != http.StatusSeeOther {
		t.Fatalf("the pre-login cookie reached the profile (status %d): session fixation", r.Status)
	}

	r = u.get("/profile")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `<strong id="user">demo</strong>`) {
		t.Fatalf("GET /profile: status %d, want the demo user's profile", r.Status)
	}
	if !strings.Contains(r.Body, "Welcome, demo!") || !strings.Contains(r.Body, "Authenticated at 20") {
		t.Fatal("the profile shows no welcome flash or auth time")
	}
	keep(u.cookie)
	if r = u.get("/"); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("GET / logged in: %d to %q, want 303 to /profile", r.Status, r.Location)
	}

	// Active sessions.
	r = u.get("/sessions")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /sessions: status %d", r.Status)
	}
	if traits.canList {
		if !strings.Contains(r.Body, "this device") || !strings.Contains(r.Body, `action="/sessions/revoke"`) {
			t.Fatal("GET /sessions lists no current session with a revoke button")
		}
	} else if !strings.Contains(r.Body, `id="cannot-list"`) {
		t.Fatal("GET /sessions does not explain that the backend cannot list sessions")
	}

	// A cross-origin form post is refused and changes nothing.
	r = c.do(http.MethodPost, "/logout", u.cookie, url.Values{}, http.Header{
		"Origin":         {"http://evil.example"},
		"Sec-Fetch-Site": {"cross-site"},
	})
	if r.Status != http.StatusForbidden || len(r.Cookies) != 0 {
		t.Fatalf("cross-origin POST /logout: status %d, cookies %v; want 403 and no cookie", r.Status, r.Header["Set-Cookie"])
	}
	if r = u.get("/profile"); r.Status != http.StatusOK {
		t.Fatalf("the refused cross-origin logout logged the user out (status %d)", r.Status)
	}

	// Logout expires the cookie with matching attributes, and the old
	// cookie replayed is anonymous.
	old := keep(u.cookie)
	r = u.post("/logout", nil)
	if r.Status != http.StatusSeeOther || r.Location != "/?m=logged-out" {
		t.Fatalf("POST /logout: %d to %q", r.Status, r.Location)
	}
	gone := r.cookie(cookieName)
	if gone == nil || gone.MaxAge >= 0 || gone.Value != "" || gone.Path != "/" || !gone.HttpOnly || gone.SameSite != http.SameSiteLaxMode {
		t.Fatalf("logout did not expire the cookie with its attributes: %+v", gone)
	}
	if u.cookie != nil {
		t.Fatal("the agent still holds a cookie after logout")
	}
	if r = u.get("/?m=logged-out"); !strings.Contains(r.Body, "You have been logged out.") || len(r.Cookies) != 0 {
		t.Fatal("no logged-out notice, or a new cookie on it")
	}
	r = c.get("/profile", old)
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("replayed pre-logout cookie: %d to %q, want 303 to / (anonymous)", r.Status, r.Location)
	}

	// Log out everywhere: two devices; one logs out everywhere, the other
	// is anonymous afterwards.
	a, b := &agent{c: c}, &agent{c: c}
	a.post("/login", demoLogin)
	b.post("/login", demoLogin)
	if a.cookie == nil || b.cookie == nil {
		t.Fatal("a login set no cookie")
	}
	keep(a.cookie)
	keep(b.cookie)
	if traits.canList {
		// Device a sees both sessions, with the client recorded, and
		// revokes b's; b is then anonymous and a is not.
		r = a.get("/sessions")
		if n := strings.Count(r.Body, `action="/sessions/revoke"`); n < 2 {
			t.Fatalf("GET /sessions lists %d sessions, want at least 2", n)
		}
		if !strings.Contains(r.Body, "Go-http-client") || !strings.Contains(r.Body, "127.0.0.1") {
			t.Error("GET /sessions does not show the recorded user agent and IP")
		}
		bHandle := ownHandle(t, b.get("/sessions").Body)
		if bHandle == ownHandle(t, r.Body) {
			t.Fatal("two devices show the same session handle")
		}
		r = a.post("/sessions/revoke", url.Values{"handle": {bHandle}})
		if r.Status != http.StatusSeeOther || r.Location != "/sessions" {
			t.Fatalf("POST /sessions/revoke: %d to %q", r.Status, r.Location)
		}
		if r = b.get("/profile"); r.Status != http.StatusSeeOther {
			t.Fatalf("the revoked device is still logged in (status %d)", r.Status)
		}
		if r = a.get("/profile"); r.Status != http.StatusOK {
			t.Fatalf("revoking another session logged this one out (status %d)", r.Status)
		}
		b = &agent{c: c}
		b.post("/login", demoLogin)
		keep(b.cookie)
	}
	r = a.post("/logout-everywhere", nil)
	if r.Status != http.StatusSeeOther || r.Location != "/?m=logged-out-everywhere" {
		t.Fatalf("POST /logout-everywhere: %d to %q", r.Status, r.Location)
	}
	if a.cookie != nil {
		t.Fatal("logout everywhere did not expire this device's cookie")
	}
	if r = b.get("/profile"); r.Status != http.StatusSeeOther {
		t.Fatalf("the other device is still logged in after logout everywhere (status %d)", r.Status)
	}

	// No session token or cookie value ever reaches the logs.
	logs := app.logs.String()
	for _, v := range seen {
		if v != "" && strings.Contains(logs, v) {
			t.Fatal("the example logged a session cookie value")
		}
	}
}
