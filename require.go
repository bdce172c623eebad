package securesession

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults of RequireOptions.
const (
	// DefaultLoginPath is where RequireLogin sends browsers when
	// RequireOptions.LoginPath is empty.
	DefaultLoginPath = "/login"

	// DefaultNextParam is the query parameter that carries the original
	// request's path and query when RequireOptions.NextParam is empty.
	DefaultNextParam = "next"
)

// RequireOptions configures RequireLogin and RequireRecentAuth. The zero
// value is usable: browsers are sent to /login?next=<path and query>.
type RequireOptions struct {
	// LoginPath is the login page browsers are redirected to when no user
	// is logged in. Default "/login". It must be a path on this site that
	// SafeRedirect accepts, and may carry a query ("/login?mode=short");
	// the constructors panic otherwise. For a login page on another host
	// (an identity provider), point it at a local route that redirects
	// there.
	LoginPath string

	// ReauthPath is the page browsers are redirected to by
	// RequireRecentAuth when the user is logged in but authenticated too
	// long ago: a "confirm your password" page, which checks the
	// credentials and calls Login again. Default: LoginPath. The same rules
	// as for LoginPath apply.
	ReauthPath string

	// NextParam is the query parameter of the login page that carries the
	// original request's path and query, for the login handler to return
	// to with SafeRedirect. Default "next".
	NextParam string
}

// RequireLogin returns a middleware that lets a request through only if a
// user is logged in (UserID is not ""), and otherwise aborts it with an
// answer the client can act on, marked Cache-Control: no-store:
//
//   - a browser loading a page is redirected with 303 See Other to
//     LoginPath?next=<path and query of the request>. 303 for every
//     method, so the login page is always fetched with GET; the form data
//     of a refused POST is not replayed, and after login the user lands on
//     the GET of the same URL (usually the form). A request target that
//     SafeRedirect would refuse is not passed on: the redirect then
//     carries no next.
//   - any other client gets 401 Unauthorized with the JSON body
//     {"error": "login required", "code": "login_required"}.
//
// A request counts as a browser loading a page when it is a navigation
// (Sec-Fetch-Mode: navigate, or, from a client that sends no Fetch
// Metadata, an Accept header that prefers text/html to application/json
// by q-value and then by specificity), and carries neither an
// X-Requested-With header nor an Authorization header other than Basic
// (which browsers resend on their own after an HTTP Basic login). So
// fetch and XMLHttpRequest calls, API clients and curl get the 401: a
// redirect to an HTML login page is of no use to them.
//
// The 401 carries a WWW-Authenticate challenge only when there is one the
// client can answer: when the middleware accepts bearer tokens
// (Options.AuthorizationHeader), "Bearer", or `Bearer
// error="invalid_token"` if the request sent a token that names no live
// session (RFC 6750). Cookies have no challenge scheme, and a Basic
// challenge would make browsers prompt for a password.
//
// Install it after the securesession middleware, on the routes or groups
// to protect. Without the middleware it aborts with 500 and records
// ErrNoMiddleware with c.Error. It panics if opts names an unsafe
// LoginPath or ReauthPath. The returned handler is safe for concurrent
// use.
func RequireLogin(opts RequireOptions) gin.HandlerFunc {
	q := opts.compile("RequireLogin")
	return func(c *gin.Context) {
		if !q.installed(c) {
			return
		}
		if UserID(c) == "" {
			q.deny(c, false)
			return
		}
		c.Next()
	}
}

// RequireRecentAuth returns a middleware for sensitive actions (changing
// the e-mail address, password or second factor; OWASP ASVS 5.0 7.5.1):
// it lets a request through only if a user is logged in and authenticated
// at most maxAge ago, by AuthTime against RequestTime (the middleware's
// clock, Options.Now). A request without a user is refused as by
// RequireLogin. A request whose login is older is refused the same way,
// except that browsers are sent to ReauthPath and other clients get
// {"error": "recent authentication required", "code":
// "reauthentication_required"}; with bearer tokens the challenge is
// `Bearer error="insufficient_user_authentication", max_age="<seconds>"`
// (RFC 9470). Calling Login again after checking the credentials restarts
// the auth time.
//
// A login exactly maxAge old still passes. It panics if maxAge is not
// positive or opts is unsafe, as RequireLogin does.
func RequireRecentAuth(maxAge time.Duration, opts RequireOptions) gin.HandlerFunc {
	if maxAge <= 0 {
		panic(fmt.Sprintf("securesession: RequireRecentAuth: maxAge must be positive, got %v", maxAge))
	}
	q := opts.compile("RequireRecentAuth")
	q.maxAge = maxAge
	return func(c *gin.Context) {
		if !q.installed(c) {
			return
		}
		if UserID(c) == "" {
			q.deny(c, false)
			return
		}
		auth := AuthTime(c)
		if auth.IsZero() || RequestTime(c).Sub(auth) > maxAge {
			q.deny(c, true)
			return
		}
		c.Next()
	}
}

// RequestTime returns the time of the request on the middleware's clock
// (Options.Now, default time.Now). The clock is read once per request, so
// the timeouts, Login's auth time and RequireRecentAuth all see the same
// instant. It returns the zero time if the middleware is not installed.
func RequestTime(c *gin.Context) time.Time {
	s, err := current(c)
	if err != nil {
		return time.Time{}
	}
	return s.now()
}

// SafeRedirect returns next if it is a path on this site, safe to send in
// a Location header after login, and fallback (unchecked) otherwise. Use
// it on the NextParam that RequireLogin added:
//
//	c.Redirect(http.StatusSeeOther, securesession.SafeRedirect(c.Query("next"), "/"))
//
// next must start with exactly one "/" and consist of printable ASCII
// with no backslash (browsers read "\" as "/" and drop tabs and newlines
// inside a URL, so "/\evil.example" and "/\t/evil.example" lead
// off-site). Its path, percent-decoded up to three times, must still start
// with one "/" and hold no "//", backslash or control character, so that
// "/%2F%2Fevil.example" cannot become an off-site URL behind a second
// decoding. net/url must parse it with no scheme and no host. This
// refuses "//evil.example", "https://evil.example", "javascript:..." and
// every variant of them, and keeps what RequireLogin produces, such as
// "/account/email?tab=1".
func SafeRedirect(next, fallback string) string {
	if localPath(next) {
		return next
	}
	return fallback
}

func localPath(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	p := s
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	for depth := 0; ; depth++ {
		if strings.Contains(p, "//") || strings.IndexFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) >= 0 {
			return false
		}
		if !strings.Contains(p, "%") {
			return true
		}
		if depth == 3 {
			return false // no link encodes a path four times over
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			// url.Parse accepted the raw form, so this is a decoded
			// "%" not followed by hex digits: a literal percent sign.
			return true
		}
		p = d
	}
}

// requirer is a compiled RequireOptions.
type requirer struct {
	login, reauth *url.URL
	next          string
	maxAge        time.Duration
}

func (o RequireOptions) compile(fn string) *requirer {
	q := &requirer{next: o.NextParam}
	if q.next == "" {
		q.next = DefaultNextParam
	}
	login := o.LoginPath
	if login == "" {
		login = DefaultLoginPath
	}
	reauth := o.ReauthPath
	if reauth == "" {
		reauth = login
	}
	q.login = mustLocal(fn, "LoginPath", login)
	q.reauth = mustLocal(fn, "ReauthPath", reauth)
	return q
}

func mustLocal(fn, field, path string) *url.URL {
	u, err := url.Parse(path)
	if !localPath(path) || err != nil || u.Fragment != "" {
		panic(fmt.Sprintf("securesession: %s: RequireOptions.%s %q is not a path on this site (it must start with a single / and pass SafeRedirect, with no #fragment)", fn, field, path))
	}
	return u
}

// installed reports whether the securesession middleware runs for c, and
// otherwise aborts with 500.
func (q *requirer) installed(c *gin.Context) bool {
	if _, err := current(c); err != nil {
		_ = c.Error(err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return false
	}
	return true
}

// deny aborts c with a redirect for a browser or a 401 for anything else.
func (q *requirer) deny(c *gin.Context, reauth bool) {
	c.Header("Cache-Control", "no-store")
	if loadsPage(c.Request) {
		to := q.login
		if reauth {
			to = q.reauth
		}
		c.Redirect(http.StatusSeeOther, q.location(to, c.Request))
		c.Abort()
		return
	}
	msg, code := "login required", "login_required"
	if reauth {
		msg, code = "recent authentication required", "reauthentication_required"
	}
	if s, _ := current(c); s.m.cfg.bearer {
		switch _, sent := bearerToken(c.Request.Header); {
		case reauth:
			c.Header("WWW-Authenticate", `Bearer error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="`+
				strconv.FormatInt(int64(q.maxAge/time.Second), 10)+`"`)
		case sent:
			c.Header("WWW-Authenticate", `Bearer error="invalid_token", error_description="the session has ended"`)
		default:
			c.Header("WWW-Authenticate", "Bearer")
		}
	}
	c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": msg, "code": code})
}

// location returns to with the request's path and query added as the
// next parameter, if SafeRedirect accepts them.
func (q *requirer) location(to *url.URL, r *http.Request) string {
	next := r.RequestURI // as sent, before any http.StripPrefix
	if !localPath(next) {
		next = r.URL.RequestURI()
	}
	if !localPath(next) {
		return to.String()
	}
	u := *to
	v := u.Query()
	v.Set(q.next, next)
	u.RawQuery = v.Encode()
	return u.String()
}

// loadsPage reports whether r is a browser loading a page, to be
// redirected to the login page, rather than a script or an API client.
func loadsPage(r *http.Request) bool {
	h := r.Header
	if h.Get("X-Requested-With") != "" {
		return false
	}
	if auth := h.Get("Authorization"); auth != "" && !(len(auth) > 6 && strings.EqualFold(auth[:6], "basic ")) {
		return false
	}
	if mode := h.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate" || mode == "nested-navigate"
	}
	return prefersHTML(h.Values("Accept"))
}

// prefersHTML reports whether an Accept header ranks text/html above
// application/json: by q-value, and at equal q-values by the specificity
// of the ranges that matched (RFC 9110, section 12.5.1), so that the
// "text/html, */*" of old browsers counts as HTML and "*/*" does not.
func prefersHTML(accept []string) bool {
	qh, sh := acceptRank(accept, "text", "html")
	qj, sj := acceptRank(accept, "application", "json")
	return qh > 0 && (qh > qj || qh == qj && sh > sj)
}

// acceptRank returns the q-value of the most specific media range in
// accept that matches typ/sub, and that specificity (2 exact, 1 typ/*, 0
// */*), or q 0 if none matches.
func acceptRank(accept []string, typ, sub string) (q float64, spec int) {
	spec = -1
	for _, line := range accept {
		for _, elem := range strings.Split(line, ",") {
			params := strings.Split(elem, ";")
			t, s, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
			if !ok {
				continue
			}
			var sp int
			switch {
			case t == typ && s == sub:
				sp = 2
			case t == typ && s == "*":
				sp = 1
			case t == "*" && s == "*":
				sp = 0
			default:
				continue
			}
			if sp <= spec {
				continue
			}
			eq := 1.0
			for _, p := range params[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					eq = f
				}
			}
			q, spec = eq, sp
		}
	}
	if spec < 0 {
		return 0, -1
	}
	return q, spec
}
