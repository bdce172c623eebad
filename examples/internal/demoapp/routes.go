package demoapp

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04:05 MST")
	},
}).ParseFS(templateFS, "templates/*.html"))

// Register adds the demo routes to r, which must already use the
// securesession middleware:
//
//	GET  /                   login form (redirects to /profile when logged in,
//	                         unless ?next= asks for a fresh login)
//	POST /login              form fields username, password, remember, next
//	GET  /profile            the logged-in user (redirects to / otherwise)
//	GET  /sessions           the user's active sessions, where the backend can list them
//	POST /sessions/revoke    form field handle: end one of them
//	POST /logout             end this session
//	POST /logout-everywhere  end every session of this user; needs a login
//	                         at most ReauthMaxAge old
//
// Every state change is a POST: the middleware refuses cross-origin POSTs
// with 403, and GET requests never change anything.
func Register(r *gin.Engine, backendName string) {
	r.SetHTMLTemplate(templates)
	h := handlers{backend: backendName}
	r.Use(securityHeaders)
	r.GET("/", h.home)
	r.POST("/login", h.login)
	r.GET("/profile", requireLogin, h.profile)
	r.GET("/sessions", requireLogin, h.sessions)
	r.POST("/sessions/revoke", requireLogin, h.revoke)
	r.POST("/logout", h.logout)
	r.POST("/logout-everywhere", requireLogin, requireRecentAuth, h.logoutEverywhere)
}

// LoginPath is the demo's login form.
const LoginPath = "/"

// ReauthMaxAge is how recent a login must be for a sensitive action, here
// "log out everywhere": a remembered session may be weeks past the last
// password check, and a stolen cookie should not be able to lock the
// owner out of every device.
const ReauthMaxAge = 5 * time.Minute

// requireRecentAuth sends a login older than ReauthMaxAge back to the
// login form with ?next=<the action's path>; logging in again restarts
// the auth time and returns there with SafeRedirect.
var requireRecentAuth = securesession.RequireRecentAuth(ReauthMaxAge, securesession.RequireOptions{LoginPath: LoginPath})

type handlers struct{ backend string }

// checkPassword is a PLACEHOLDER for a real credential check. Replace it
// with a lookup of the user's password hash (argon2id or bcrypt, e.g.
// golang.org/x/crypto/bcrypt.CompareHashAndPassword) and return your own
// stable user ID. The demo account is demo / demo-password. Comparing
// fixed-length digests with subtle.ConstantTimeCompare keeps the check's
// timing independent of how many characters match.
func checkPassword(username, password string) (userID string, ok bool) {
	u := sha256.Sum256([]byte(username))
	p := sha256.Sum256([]byte(password))
	wantU := sha256.Sum256([]byte("demo"))
	wantP := sha256.Sum256([]byte("demo-password"))
	if subtle.ConstantTimeCompare(u[:], wantU[:])&subtle.ConstantTimeCompare(p[:], wantP[:]) == 1 {
		return "demo", true
	}
	return "", false
}

// Fixed messages for the page after a logout, chosen by ?m=. A logout
// leaves no session to hold a flash message (storing one would start a new
// session cookie right after deleting the old one), so the redirect names
// the message instead; only these strings can be shown, never user input.
var notices = map[string]string{
	"logged-out":            "You have been logged out.",
	"logged-out-everywhere": "You have been logged out on every device.",
	"logged-out-here":       "You have been logged out on this device. This backend cannot end your other sessions: they expire on their own.",
}

// page is what every template receives.
type page struct {
	Backend string
	User    string
	Flashes []string
	Notice  string
	Data    any
}

func (h handlers) render(c *gin.Context, status int, name string, data any) {
	p := page{Backend: h.backend, User: securesession.UserID(c), Data: data}
	for _, f := range sessions.Default(c).Flashes() {
		p.Flashes = append(p.Flashes, fmt.Sprint(f))
	}
	p.Notice = notices[c.Query("m")]
	c.HTML(status, name, p)
}

// flash stores a one-time message for the next page.
func flash(c *gin.Context, msg string) { sessions.Default(c).AddFlash(msg) }

// redirect answers a POST with 303 See Other, so that reloading the next
// page does not re-submit the form.
func redirect(c *gin.Context, to string) { c.Redirect(http.StatusSeeOther, to) }

// loginData is what login.html receives.
type loginData struct {
	Next   string // a path SafeRedirect accepted, or ""
	Reauth bool   // a logged-in user is asked for the password again
}

func (h handlers) home(c *gin.Context) {
	next := SafeNext(c.Query("next"))
	loggedIn := securesession.UserID(c) != ""
	if loggedIn && next == "" {
		redirect(c, "/profile")
		return
	}
	h.render(c, http.StatusOK, "login.html", loginData{Next: next, Reauth: loggedIn})
}

// SafeNext returns next if SafeRedirect accepts it as a path on this
// site, and "" otherwise.
func SafeNext(next string) string { return securesession.SafeRedirect(next, "") }

func (h handlers) login(c *gin.Context) {
	next := SafeNext(c.PostForm("next"))
	userID, ok := checkPassword(c.PostForm("username"), c.PostForm("password"))
	if !ok {
		// Production: rate-limit failed logins per account and per IP.
		flash(c, "Wrong username or password.")
		if next != "" {
			redirect(c, "/?next="+url.QueryEscape(next))
			return
		}
		redirect(c, "/")
		return
	}
	// Login gives the session a new ID (defeating session fixation) and
	// records the user and the time of authentication. RememberMe makes
	// the cookie persistent and the session use the longer remembered
	// timeouts; without it the cookie ends with the browser session.
	var opts []securesession.LoginOption
	if c.PostForm("remember") == "on" {
		opts = append(opts, securesession.RememberMe())
	}
	if err := securesession.Login(c, userID, opts...); err != nil {
		serverError(c, err)
		return
	}
	if next != "" {
		// The action that asked for a fresh login was a POST, and the
		// redirect here is a GET: land on a page that offers it again
		// rather than on a GET of a POST-only route.
		if next == "/logout-everywhere" {
			flash(c, "Password confirmed. You can now log out everywhere.")
			redirect(c, "/profile")
			return
		}
		redirect(c, next)
		return
	}
	flash(c, "Welcome, "+userID+"!")
	redirect(c, "/profile")
}

// requireLogin sends anonymous visitors to the login form.
func requireLogin(c *gin.Context) {
	if securesession.UserID(c) == "" {
		flash(c, "Please log in first.")
		redirect(c, "/")
		c.Abort()
	}
}

func (h handlers) profile(c *gin.Context) {
	h.render(c, http.StatusOK, "profile.html", struct {
		AuthTime    time.Time
		DeviceBound bool
		Remembered  bool
	}{securesession.AuthTime(c), securesession.DeviceBound(c), securesession.Remembered(c)})
}

type sessionsData struct {
	CanList  bool
	Sessions []securesession.SessionInfo
}

func (h handlers) sessions(c *gin.Context) {
	list, err := securesession.ListSessions(c)
	switch {
	case errors.Is(err, securesession.ErrCannotList):
		h.render(c, http.StatusOK, "sessions.html", sessionsData{})
	case err != nil:
		serverError(c, err)
	default:
		h.render(c, http.StatusOK, "sessions.html", sessionsData{CanList: true, Sessions: list})
	}
}

func (h handlers) revoke(c *gin.Context) {
	// A handle is not a credential: RevokeSession ends only the current
	// user's sessions, and reports ErrNoRecord for any other handle.
	err := securesession.RevokeSession(c, c.PostForm("handle"))
	if errors.Is(err, securesession.ErrNoRecord) {
		flash(c, "That session had already ended.")
		redirect(c, "/sessions")
		return
	}
	if err != nil {
		serverError(c, err)
		return
	}
	if securesession.UserID(c) == "" { // it was this session
		redirect(c, "/?m=logged-out")
		return
	}
	flash(c, "The session has been ended.")
	redirect(c, "/sessions")
}

func (h handlers) logout(c *gin.Context) {
	if err := securesession.Logout(c); err != nil {
		serverError(c, err)
		return
	}
	redirect(c, "/?m=logged-out")
}

func (h handlers) logoutEverywhere(c *gin.Context) {
	err := securesession.LogoutEverywhere(c)
	switch {
	case errors.Is(err, securesession.ErrCannotRevoke):
		// This session is logged out; the backend keeps no server state
		// that could end the others.
		redirect(c, "/?m=logged-out-here")
	case err != nil:
		serverError(c, err)
	default:
		redirect(c, "/?m=logged-out-everywhere")
	}
}

// serverError answers a failed session operation: 503 when the session
// store is unavailable (retrying later may work), 500 otherwise. The error
// goes to the log, never to the page.
func serverError(c *gin.Context, err error) {
	status := http.StatusInternalServerError
	var be *securesession.BackendError
	if errors.As(err, &be) {
		status = http.StatusServiceUnavailable
	}
	slog.Error("session operation failed", "path", c.FullPath(), "error", err)
	c.HTML(status, "error.html", page{Data: http.StatusText(status)})
	c.Abort()
}

// ErrorPage renders the demo's error page with status, for the
// securesession.Options.ErrorHandler and CrossOriginDenied of the
// examples. It shows the status text only; the error stays in the log.
func ErrorPage(c *gin.Context, status int) {
	// The handler may have set a redirect before its save failed.
	c.Writer.Header().Del("Location")
	c.Writer.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.HTML(status, "error.html", page{Data: http.StatusText(status)})
	c.Abort()
}

// securityHeaders sets the response headers any HTML app should send. The
// Content-Security-Policy allows no scripts at all and forms that post to
// this origin only.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}
