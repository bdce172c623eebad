package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// Browser is one browser's cookie jar for the app it talks to: the
// session cookie ("name=value"), or "" before login and after logout.
type Browser struct{ Cookie string }

// BareCookie is what a browser of bare Gin or of a floor sends: a cookie
// of about the size of a session cookie, which nothing reads.
var BareCookie = "session=" + strings.Repeat("x", 200)

// Update applies the response's Set-Cookie headers for the cookie named
// name, as a browser does: a value replaces the cookie, an empty value or
// Max-Age=0 deletes it. It parses only what that needs; the smoke test
// checks it agrees with net/http's parser on every contender's responses.
func (b *Browser) Update(name string, setCookie []string) {
	for _, sc := range setCookie {
		nv, attrs, _ := strings.Cut(sc, ";")
		n, v, ok := strings.Cut(nv, "=")
		if !ok || strings.TrimSpace(n) != name {
			continue
		}
		if v == "" || strings.Contains(attrs, "Max-Age=0") || strings.Contains(attrs, "Max-Age=-") {
			b.Cookie = ""
			continue
		}
		b.Cookie = nv
	}
}

// The request templates: a request is a shallow copy of one with fresh
// headers. The origin is HTTPS, as in production (Secure cookies).
const origin = "https://app.example"

func requestFor(method, path string) *http.Request {
	r := httptest.NewRequest(method, origin+path, nil)
	r.Header = nil
	return r
}

var (
	reqLogin            = requestFor("POST", "/login")
	reqRead             = requestFor("GET", "/read")
	reqWrite            = requestFor("POST", "/write")
	reqLogout           = requestFor("POST", "/logout")
	reqLogoutEverywhere = requestFor("POST", "/logout-everywhere")
	reqCount            = requestFor("GET", "/count")
)

// sameOrigin is the Sec-Fetch-Site header browsers send on a same-origin
// request (our cross-origin check reads it).
var sameOrigin = []string{"same-origin"}

// Sink is a minimal ResponseWriter that keeps the status and headers, so
// that a measurement covers the router and the session layer rather than
// a recorder. One Sink serves a batch; Do clears it before each request.
type Sink struct {
	H      http.Header
	status int
}

// NewSink returns an empty Sink.
func NewSink() *Sink { return &Sink{H: make(http.Header)} }

func (w *Sink) Header() http.Header { return w.H }

func (w *Sink) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *Sink) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Do sends a fresh copy of tmpl, carrying b's cookie, through a's router,
// applies the response's Set-Cookie to b and returns the status.
func (a *App) Do(w *Sink, b *Browser, tmpl *http.Request) int {
	req := new(http.Request)
	*req = *tmpl
	h := make(http.Header, 2)
	h["Sec-Fetch-Site"] = sameOrigin
	if b.Cookie != "" {
		h["Cookie"] = []string{b.Cookie}
	}
	req.Header = h
	clear(w.H)
	w.status = 0
	a.Router.ServeHTTP(w, req)
	if a.CookieName != "" {
		b.Update(a.CookieName, w.H["Set-Cookie"])
	}
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Login logs b in (as user, or the default user when user is ""). A bare
// app sets no cookie; its browser then carries BareCookie.
func (a *App) Login(b *Browser, user string) error {
	tmpl := reqLogin
	if user != "" {
		tmpl = requestFor("POST", "/login/"+user)
	}
	b.Cookie = ""
	if st := a.Do(NewSink(), b, tmpl); st != http.StatusNoContent {
		return fmt.Errorf("%s: login: status %d", a.Name, st)
	}
	if a.Bare() {
		b.Cookie = BareCookie
		return nil
	}
	if b.Cookie == "" {
		return fmt.Errorf("%s: login: no session cookie %q", a.Name, a.CookieName)
	}
	return nil
}
