package securesession_test

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

// exampleKey is a fixed key so the examples are reproducible. Real
// applications load 32 random bytes from a secret store.
var exampleKey, _ = hex.DecodeString("54d48b89056f14b87252811f010cbb90e8575bc778db4ecc3c5f39df2ab8b8d7")

func ExampleNew() {
	store, err := cookie.NewStore(cookie.Options{Keys: [][]byte{exampleKey}})
	if err != nil {
		panic(err)
	}
	mw, err := securesession.New(store, securesession.Options{})
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/cart", func(c *gin.Context) {
		// Handlers use gin-contrib's API unchanged; the change is saved
		// before the response goes out even without Save.
		sessions.Default(c).Set("items", 3)
		c.Status(http.StatusNoContent)
	})

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/cart", nil))
	c := w.Result().Cookies()[0]
	fmt.Println(c.Name, c.Secure, c.HttpOnly, c.SameSite == http.SameSiteLaxMode, c.Path, c.MaxAge)
	fmt.Println(w.Header().Get("Cache-Control"))
	// Output:
	// __Host-session true true true / 0
	// no-store
}

func ExampleNew_rejectsContradictions() {
	store, _ := cookie.NewStore(cookie.Options{Keys: [][]byte{exampleKey}})
	_, err := securesession.New(store, securesession.Options{Domain: "example.com", CookieName: "__Host-sid"})
	fmt.Println(err)
	// Output:
	// securesession: Options.Domain: cookie name "__Host-sid" has the __Host- prefix, which requires no Domain (use a __Secure- name to share the cookie with subdomains)
}

// Login rotates the session: the pre-login cookie is dead afterwards, so an
// attacker who planted or copied it gets nothing.
func ExampleLogin() {
	store, _ := cookie.NewStore(cookie.Options{
		Keys:       [][]byte{exampleKey},
		Revocation: cookie.NewMemoryRevocation(0), // replay-proof logout and rotation
	})
	mw, _ := securesession.New(store, securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		// Check the credentials first; then:
		if err := securesession.Login(c, c.PostForm("user")); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	})
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%q", securesession.UserID(c)) })
	r.POST("/visit", func(c *gin.Context) { sessions.Default(c).Set("visited", true) })

	send := func(method, path, body string, cookie *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	anon := send("POST", "/visit", "", nil).Result().Cookies()[0]
	loggedIn := send("POST", "/login", "user=alice", anon).Result().Cookies()[0]

	fmt.Println("new token:", loggedIn.Value != anon.Value)
	fmt.Println("after login:", send("GET", "/whoami", "", loggedIn).Body)
	fmt.Println("old cookie:", send("GET", "/whoami", "", anon).Body)
	// Output:
	// new token: true
	// after login: user="alice"
	// old cookie: user=""
}

func ExampleLogout() {
	store, _ := cookie.NewStore(cookie.Options{Keys: [][]byte{exampleKey}, Revocation: cookie.NewMemoryRevocation(0)})
	mw, _ := securesession.New(store, securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) { _ = securesession.Login(c, "alice") })
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
		}
	})
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%q", securesession.UserID(c)) })

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	stolen := w.Result().Cookies()[0]

	req := httptest.NewRequest("POST", "/logout", nil)
	req.AddCookie(stolen)
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Header().Get("Set-Cookie"))

	req = httptest.NewRequest("GET", "/whoami", nil)
	req.AddCookie(stolen)
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println("replayed cookie:", w.Body)
	// Output:
	// __Host-session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax
	// replayed cookie: user=""
}
