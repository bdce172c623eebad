package securesession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// A login form with a "remember me" checkbox. The remembered login gets a
// persistent cookie and its own timeouts (7 days idle, 30 days absolute by
// default), enforced on the server; the other keeps the normal ones (30
// minutes idle, 12 hours absolute) and a cookie that dies with the
// browser.
func ExampleRememberMe() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r, _ := exampleApp(securesession.Options{Now: func() time.Time { return now }})
	r.POST("/login-form", func(c *gin.Context) {
		// Check c.PostForm("password") first; then:
		var opts []securesession.LoginOption
		if c.PostForm("remember") == "on" {
			opts = append(opts, securesession.RememberMe())
		}
		if err := securesession.Login(c, c.PostForm("user"), opts...); err != nil {
			c.AbortWithError(http.StatusServiceUnavailable, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	})
	r.GET("/remembered", func(c *gin.Context) { c.String(http.StatusOK, "%v", securesession.Remembered(c)) })

	login := func(form string) *http.Cookie {
		req := httptest.NewRequest("POST", "/login-form", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Result().Cookies()[0]
	}
	alice := login("user=alice&password=...&remember=on")
	bob := login("user=bob&password=...")
	fmt.Println("alice: Max-Age", alice.MaxAge, "remembered", exampleDo(r, "GET", "/remembered", alice).Body)
	fmt.Println("bob:   Max-Age", bob.MaxAge, "remembered", exampleDo(r, "GET", "/remembered", bob).Body)

	// A long lunch: bob's browser-session cookie would be gone after a
	// browser restart anyway, and the server has ended his session.
	now = now.Add(31 * time.Minute)
	fmt.Println("31 minutes later:", exampleDo(r, "GET", "/whoami", alice).Body, exampleDo(r, "GET", "/whoami", bob).Body)

	// Eight days without a visit: past the remembered idle timeout.
	now = now.Add(8 * 24 * time.Hour)
	fmt.Println("8 days later:", exampleDo(r, "GET", "/whoami", alice).Body)
	// Output:
	// alice: Max-Age 2592000 remembered true
	// bob:   Max-Age 0 remembered false
	// 31 minutes later: user="alice" user=""
	// 8 days later: user=""
}
