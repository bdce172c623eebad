// Command api is a JSON API whose clients (a CLI, a mobile app, a
// single-page app on another origin) carry their session in an
// Authorization header instead of a cookie.
//
//	DEV=1 go run ./examples/api
//
//	# log in: the token comes back in the JSON body
//	TOKEN=$(curl -s -X POST localhost:8080/api/login \
//	    -H 'Content-Type: application/json' \
//	    -d '{"username":"demo","password":"demo-password"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
//
//	curl -s localhost:8080/api/me -H "Authorization: Bearer $TOKEN"
//	curl -s -X POST localhost:8080/api/visits -H "Authorization: Bearer $TOKEN"
//	curl -s -X POST localhost:8080/api/logout -H "Authorization: Bearer $TOKEN"
//	curl -s localhost:8080/api/me -H "Authorization: Bearer $TOKEN"   # 401: the token is dead
//
// The token is the session credential: keep it out of URLs (a ?token=
// query parameter ends up in server logs, proxies and browser history;
// securesession never reads one) and out of localStorage where XSS can
// read it. When the server rotates it, the new token arrives in the
// Session-Token response header; a client must use it from then on.
//
// A single-page app on another origin calls this API with fetch and an
// Authorization header: each such request is preflighted, and the browser
// hides the Session-Token response header from the page unless the API
// lists it in Access-Control-Expose-Headers. CORS_ORIGINS turns on the
// gin-contrib/cors configuration that does both (see the README, "CORS
// for a single-page app on another origin"):
//
//	DEV=1 CORS_ORIGINS=https://app.example go run ./examples/api
//
// On the cookie backend a token that a re-seal superseded keeps working,
// with the data it held then, until the session is logged out, rotated or
// times out; and without a revocation store (Options.Revocation below) not
// even logout ends it. Always use the newest Session-Token.
//
// Environment: CORS_ORIGINS (comma-separated origins allowed to call the
// API from a browser; default none), DEV, SESSION_KEYS, TRUSTED_PROXIES,
// ADDR (see examples/basic).
package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	// Any backend works: the token is the same credential the cookie would
	// hold. The cookie backend needs no server; its revocation list makes
	// a token dead on the server after logout (one process only).
	dev := demoapp.Dev()
	keys, err := sessionkeys.FromEnv("SESSION_KEYS")
	keys, err = demoapp.DevKeys(keys, err, dev) // DEV=1 only: a random key when unset
	if err != nil {
		demoapp.Fatal("reading the session keys", err)
	}
	store, err := cookie.NewStore(cookie.Options{
		Keys:       keys,
		Revocation: cookie.NewMemoryRevocation(securesession.DefaultAbsoluteTimeout),
	})
	if err != nil {
		demoapp.Fatal("creating the cookie store", err)
	}

	proxies := demoapp.List("TRUSTED_PROXIES")
	origins := demoapp.List("CORS_ORIGINS")
	mw, err := securesession.New(store, securesession.Options{
		AuthorizationHeader: true,
		TrustedProxies:      proxies,
		// A request without a token (the login) from another origin is
		// refused by the cross-origin check unless that origin is trusted:
		// the origins allowed by CORS are the ones to trust.
		TrustedOrigins: origins,
	})
	if err != nil {
		demoapp.Fatal("configuring sessions", err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(proxies); err != nil {
		demoapp.Fatal("configuring trusted proxies", err)
	}
	r.Use(gin.Logger(), gin.Recovery())
	if len(origins) > 0 {
		// Before the session middleware, so that preflights are answered
		// without touching the session.
		r.Use(cors.New(cors.Config{
			AllowOrigins: origins,
			AllowMethods: []string{"GET", "POST"},
			AllowHeaders: []string{"Authorization", "Content-Type"},
			// Without this the page cannot read a rotated token.
			ExposeHeaders: []string{securesession.TokenHeader},
			// The token travels in a header, never in a cookie: no
			// credentials mode, so no cookie of this API reaches the page.
			AllowCredentials: false,
			MaxAge:           10 * time.Minute,
		}))
	}
	r.Use(mw)
	api := r.Group("/api")
	api.POST("/login", login)
	authed := api.Group("", requireUser)
	authed.GET("/me", me)
	authed.POST("/visits", countVisit)
	authed.POST("/logout", logout)
	authed.POST("/logout-everywhere", logoutEverywhere)

	demoapp.Serve(&http.Server{
		Addr:              demoapp.Getenv("ADDR", demoapp.DefaultAddr),
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	})
}

type credentials struct {
	Username string `json:"username" binding:"required"`
	Password string `json:"password" binding:"required"`
}

func login(c *gin.Context) {
	var in credentials
	if err := c.ShouldBindJSON(&in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "send JSON with username and password"})
		return
	}
	userID, ok := checkPassword(in.Username, in.Password)
	if !ok {
		c.JSON(http.StatusUnauthorized, gin.H{"error": "wrong username or password"})
		return
	}
	// LoginToken rotates the session like Login and returns the token
	// instead of setting a cookie.
	token, err := securesession.LoginToken(c, userID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"token": token, "user": userID})
}

func requireUser(c *gin.Context) {
	if securesession.UserID(c) == "" {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "log in first"})
	}
}

func me(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"user": securesession.UserID(c), "auth_time": securesession.AuthTime(c)})
}

func countVisit(c *gin.Context) {
	s := sessions.Default(c) // the usual gin-contrib API; saved automatically
	n, _ := s.Get("visits").(int)
	s.Set("visits", n+1)
	c.JSON(http.StatusOK, gin.H{"visits": n + 1})
}

func logout(c *gin.Context) {
	if err := securesession.Logout(c); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func logoutEverywhere(c *gin.Context) {
	if err := securesession.LogoutEverywhere(c); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// fail answers a session error without revealing its details.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	var be *securesession.BackendError
	if errors.As(err, &be) {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "sessions are unavailable, try again"})
		return
	}
	c.JSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
}

// checkPassword is a PLACEHOLDER for a real credential check (a stored
// argon2id or bcrypt hash); the demo account is demo / demo-password.
// Comparing fixed-length digests keeps the timing independent of how many
// characters match.
func checkPassword(username, password string) (string, bool) {
	u, p := sha256.Sum256([]byte(username)), sha256.Sum256([]byte(password))
	wu, wp := sha256.Sum256([]byte("demo")), sha256.Sum256([]byte("demo-password"))
	if subtle.ConstantTimeCompare(u[:], wu[:])&subtle.ConstantTimeCompare(p[:], wp[:]) == 1 {
		return "demo", true
	}
	return "", false
}
