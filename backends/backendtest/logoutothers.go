package backendtest

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// logoutOthersChecks pin what LogoutOthers leaves alive: the user's own
// session, through later rotations.
var logoutOthersChecks = []check{
	{"LogoutOthersThenRotateKeepsOwnSession", testLogoutOthersThenRotate},
}

// addLogoutOthers adds POST /logout-others to a's router.
func addLogoutOthers(a *app) {
	a.srv.Config.Handler.(*gin.Engine).POST("/logout-others", func(c *gin.Context) {
		if err := securesession.LogoutOthers(c); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, securesession.ErrCannotRevoke) {
				code = http.StatusNotImplemented
			}
			c.String(code, "logout others: %v", err)
			return
		}
		c.String(http.StatusOK, "ok")
	})
}

// testLogoutOthersThenRotate: after a password change the application
// calls LogoutOthers and then, as a privilege change, Rotate. The other
// device is logged out; this one stays logged in across the rotation and
// the requests after it, with its values, while the cookie it held before
// the rotation is anonymous. (The cookie backend with a revocation store
// logged the user out: the rotated cookie kept the old issue time and only
// the pre-rotation handle was exempt from the user's revocation.)
func testLogoutOthersThenRotate(t *testing.T, f Factory) {
	b := f(t)
	requireRevocation(t, b)
	a := newAppOn(t, b)
	addLogoutOthers(a)
	const user = "dora-logout-others"
	mine, other := a.client(), a.client()
	mine.do("POST", "/login?user="+user)
	mine.do("POST", "/set?key=k&val=mine")
	other.do("POST", "/login?user="+user)
	if mine.user() != user || other.user() != user {
		t.Fatal("setup: both devices should be logged in")
	}

	if r := mine.do("POST", "/logout-others"); r.status != http.StatusOK {
		t.Fatalf("LogoutOthers: %d %s", r.status, r.body)
	}
	if got := other.user(); got != "" {
		t.Fatalf("after LogoutOthers the other device is still logged in as %q", got)
	}
	if got := mine.user(); got != user {
		t.Fatalf("LogoutOthers logged out its own session (user %q)", got)
	}

	beforeRotate := mine.c
	if r := mine.do("POST", "/rotate"); r.status != http.StatusOK {
		t.Fatalf("Rotate after LogoutOthers: %d %s", r.status, r.body)
	}
	if got := mine.user(); got != user {
		t.Fatalf("after LogoutOthers then Rotate the user's own session is anonymous (user %q)", got)
	}
	if got := a.replayUser(beforeRotate); got != "" {
		t.Fatalf("the cookie from before the rotation still reads user %q", got)
	}
	for i := 0; i < 3; i++ {
		a.clock.Advance(2 * time.Minute)
		if got := mine.do("GET", "/get?key=k").body; got != "string:mine" {
			t.Fatalf("request %d after the rotation: value %q, want string:mine", i, got)
		}
		if r := mine.do("POST", "/rotate"); r.status != http.StatusOK {
			t.Fatalf("rotation %d after LogoutOthers: %d %s", i+2, r.status, r.body)
		}
		if got := mine.user(); got != user {
			t.Fatalf("rotation %d after LogoutOthers logged the user out (user %q)", i+2, got)
		}
	}
	if got := other.user(); got != "" {
		t.Fatalf("the other device came back as %q", got)
	}
}
