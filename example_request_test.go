package securesession_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/memory"
)

// These examples keep sessions in memory (backends/memory), which needs
// no key.

// exampleApp returns a router with the middleware over a memory store and
// a form-style login route: POST /login?user=<id>.
func exampleApp(o securesession.Options) (*gin.Engine, *memory.Store) {
	store, err := memory.NewStore(memory.Options{Now: o.Now})
	if err != nil {
		panic(err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	mw, err := securesession.New(store, o)
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		// Check the credentials first; then:
		if err := securesession.Login(c, c.Query("user")); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.Redirect(http.StatusSeeOther, securesession.SafeRedirect(c.Query("next"), "/"))
	})
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%q", securesession.UserID(c)) })
	return r, store
}

// exampleDo sends one request with the given headers (name, value, ...)
// and session cookie.
func exampleDo(h http.Handler, method, target string, cookie *http.Cookie, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// exampleLogin logs a device in as user and returns its session cookie.
func exampleLogin(h http.Handler, user string, hdr ...string) *http.Cookie {
	return exampleDo(h, "POST", "/login?user="+user, nil, hdr...).Result().Cookies()[0]
}

func ExampleRequireLogin() {
	r, _ := exampleApp(securesession.Options{})
	account := r.Group("/account", securesession.RequireLogin(securesession.RequireOptions{}))
	account.GET("/email", func(c *gin.Context) { c.String(http.StatusOK, "e-mail settings") })

	// A browser loading the page is sent to the login form, which comes
	// back here after login.
	w := exampleDo(r, "GET", "/account/email?tab=1", nil, "Sec-Fetch-Mode", "navigate")
	fmt.Println(w.Code, w.Header().Get("Location"))

	// A script or an API client is told in JSON.
	w = exampleDo(r, "GET", "/account/email?tab=1", nil, "Accept", "application/json")
	fmt.Println(w.Code, w.Body)

	// After login the user is let through.
	alice := exampleLogin(r, "alice")
	fmt.Println(exampleDo(r, "GET", "/account/email", alice).Body)
	// Output:
	// 303 /login?next=%2Faccount%2Femail%3Ftab%3D1
	// 401 {"code":"login_required","error":"login required"}
	// e-mail settings
}

// Changing the password asks for a login at most 10 minutes old.
func ExampleRequireRecentAuth() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r, _ := exampleApp(securesession.Options{Now: func() time.Time { return now }})
	r.POST("/account/password",
		securesession.RequireRecentAuth(10*time.Minute, securesession.RequireOptions{ReauthPath: "/confirm-password"}),
		func(c *gin.Context) { c.String(http.StatusOK, "password changed") })

	alice := exampleLogin(r, "alice")
	fmt.Println(exampleDo(r, "POST", "/account/password", alice).Body)

	now = now.Add(25 * time.Minute) // still logged in, but not recently
	w := exampleDo(r, "POST", "/account/password", alice, "Sec-Fetch-Mode", "navigate")
	fmt.Println(w.Code, w.Header().Get("Location"))
	w = exampleDo(r, "POST", "/account/password", alice, "Accept", "application/json")
	fmt.Println(w.Code, w.Body)
	// Output:
	// password changed
	// 303 /confirm-password?next=%2Faccount%2Fpassword
	// 401 {"code":"reauthentication_required","error":"recent authentication required"}
}

func ExampleSafeRedirect() {
	for _, next := range []string{
		"/account/email?tab=1",
		"https://evil.example/",
		"//evil.example",
		"/\\evil.example",
		"/%2F%2Fevil.example",
		"",
	} {
		fmt.Printf("%q -> %q\n", next, securesession.SafeRedirect(next, "/"))
	}
	// Output:
	// "/account/email?tab=1" -> "/account/email?tab=1"
	// "https://evil.example/" -> "/"
	// "//evil.example" -> "/"
	// "/\\evil.example" -> "/"
	// "/%2F%2Fevil.example" -> "/"
	// "" -> "/"
}

func ExampleGet() {
	r, _ := exampleApp(securesession.Options{})
	r.POST("/cart", func(c *gin.Context) {
		n, _ := securesession.Get[int](c, "items") // 0 when not set yet
		sessions.Default(c).Set("items", n+1)
	})
	r.GET("/cart", func(c *gin.Context) {
		n, ok := securesession.Get[int](c, "items")
		_, wrong := securesession.Get[string](c, "items")
		c.String(http.StatusOK, "items=%d ok=%v as string: %v", n, ok, wrong)
	})

	cookie := exampleDo(r, "POST", "/cart", nil).Result().Cookies()[0]
	exampleDo(r, "POST", "/cart", cookie)
	fmt.Println(exampleDo(r, "GET", "/cart", cookie).Body)
	// Output:
	// items=2 ok=true as string: false
}

// A message shown once, on the page after a redirect.
func ExamplePop() {
	r, _ := exampleApp(securesession.Options{})
	r.POST("/profile", func(c *gin.Context) {
		sessions.Default(c).Set("notice", "Profile saved.")
		c.Redirect(http.StatusSeeOther, "/profile")
	})
	r.GET("/profile", func(c *gin.Context) {
		notice, _ := securesession.Pop[string](c, "notice")
		c.String(http.StatusOK, "notice=%q", notice)
	})

	cookie := exampleDo(r, "POST", "/profile", nil).Result().Cookies()[0]
	fmt.Println(exampleDo(r, "GET", "/profile", cookie).Body)
	fmt.Println(exampleDo(r, "GET", "/profile", cookie).Body)
	// Output:
	// notice="Profile saved."
	// notice=""
}

// A "your active sessions" page.
func ExampleListSessions() {
	r, _ := exampleApp(securesession.Options{RecordClientInfo: true})
	r.GET("/sessions", func(c *gin.Context) {
		list, err := securesession.ListSessions(c)
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		slices.SortFunc(list, func(a, b securesession.SessionInfo) int { return strings.Compare(a.UserAgent, b.UserAgent) })
		for _, s := range list {
			current := ""
			if s.Current {
				current = " (this device)"
			}
			fmt.Fprintf(c.Writer, "%s%s\n", s.UserAgent, current)
		}
	})

	laptop := exampleLogin(r, "alice", "User-Agent", "Firefox on Linux")
	exampleLogin(r, "alice", "User-Agent", "Safari on iPhone")
	exampleLogin(r, "bob", "User-Agent", "Chrome on Windows")
	fmt.Print(exampleDo(r, "GET", "/sessions", laptop).Body)
	// Output:
	// Firefox on Linux (this device)
	// Safari on iPhone
}

// "Log out of all devices", after a stolen phone, say.
func ExampleLogoutEverywhere() {
	r, _ := exampleApp(securesession.Options{})
	r.POST("/logout-everywhere", func(c *gin.Context) {
		if err := securesession.LogoutEverywhere(c); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.String(http.StatusOK, "logged out everywhere")
	})

	laptop := exampleLogin(r, "alice")
	phone := exampleLogin(r, "alice")
	bob := exampleLogin(r, "bob")
	fmt.Println(exampleDo(r, "POST", "/logout-everywhere", laptop).Body)
	fmt.Println("phone:", exampleDo(r, "GET", "/whoami", phone).Body)
	fmt.Println("laptop:", exampleDo(r, "GET", "/whoami", laptop).Body)
	fmt.Println("bob:", exampleDo(r, "GET", "/whoami", bob).Body)
	// Output:
	// logged out everywhere
	// phone: user=""
	// laptop: user=""
	// bob: user="bob"
}

// An API client (a mobile app, a CLI) logs in and sends its session as a
// bearer token instead of a cookie.
func ExampleLoginToken() {
	r, _ := exampleApp(securesession.Options{AuthorizationHeader: true})
	r.POST("/api/login", func(c *gin.Context) {
		// Check the credentials first; then:
		tok, err := securesession.LoginToken(c, "alice")
		if err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"token": tok})
	})
	r.GET("/api/me", securesession.RequireLogin(securesession.RequireOptions{}), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"user": securesession.UserID(c)})
	})

	w := exampleDo(r, "POST", "/api/login", nil)
	var login struct{ Token string }
	_ = json.Unmarshal(w.Body.Bytes(), &login)
	fmt.Println("cookie set:", len(w.Result().Cookies()) > 0, "| Cache-Control:", w.Header().Get("Cache-Control"))

	fmt.Println(exampleDo(r, "GET", "/api/me", nil, "Authorization", "Bearer "+login.Token).Body)
	w = exampleDo(r, "GET", "/api/me", nil)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// cookie set: false | Cache-Control: no-store
	// {"user":"alice"}
	// 401 Bearer
}

// flakyStore is a session store whose server can go down.
type flakyStore struct {
	*memory.Store
	down bool
}

func (f *flakyStore) Find(ctx context.Context, name, token string) (securesession.Record, bool, error) {
	if f.down {
		return securesession.Record{}, false, errors.New("dial tcp 10.0.0.7:11211: connect: connection refused")
	}
	return f.Store.Find(ctx, name, token)
}

// A JSON answer with Retry-After when the session store is down, instead
// of the default bare 503. The request is never served as anonymous: that
// would log every user out during an outage.
func ExampleOptions_errorHandler() {
	mem, _ := memory.NewStore(memory.Options{})
	store := &flakyStore{Store: mem}
	mw, _ := securesession.New(store, securesession.Options{
		Logger: slog.New(slog.DiscardHandler),
		ErrorHandler: func(c *gin.Context, err error) {
			_ = c.Error(err) // for the application's logging middleware
			var be *securesession.BackendError
			if errors.As(err, &be) {
				c.Header("Retry-After", "5")
				c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "sessions are unavailable, try again shortly"})
				return
			}
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
		},
	})
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) { _ = securesession.Login(c, "alice") })
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%q", securesession.UserID(c)) })

	alice := exampleDo(r, "POST", "/login", nil).Result().Cookies()[0]
	fmt.Println(exampleDo(r, "GET", "/whoami", alice).Body)

	store.down = true
	w := exampleDo(r, "GET", "/whoami", alice)
	fmt.Println(w.Code, w.Header().Get("Retry-After"), w.Body)
	// Output:
	// user="alice"
	// 503 5 {"error":"sessions are unavailable, try again shortly"}
}
