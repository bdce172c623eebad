package securesession

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession/dbsc"
)

// Defaults of DeviceBinding.
const (
	// DefaultRegisterPath and DefaultRefreshPath are the endpoints the
	// middleware serves for DBSC when DeviceBinding leaves them empty.
	DefaultRegisterPath = "/dbsc/register"
	DefaultRefreshPath  = "/dbsc/refresh"

	// DefaultBoundCookieLifetime is the bound cookie's lifetime when
	// DeviceBinding.Cookie.Lifetime is 0: how long a copied cookie jar
	// works. Chromium refreshes when about 2 minutes are left, so this
	// costs one signature about every 3 minutes of activity.
	DefaultBoundCookieLifetime = 5 * time.Minute

	// registrationGrace is how long after a registration a request that
	// carries no bound cookie at all is still let through. Chromium does
	// not hold requests back while it registers: the redirect after the
	// login response goes out before the registration's Set-Cookie is
	// applied. A request with a wrong or expired bound cookie is refused
	// even then.
	registrationGrace = 15 * time.Second
)

// DeviceBinding turns on Device Bound Session Credentials (DBSC) for
// logged-in browser sessions: see Options.DeviceBinding. The zero value is
// the recommended configuration; every field says what its zero value
// means.
type DeviceBinding struct {
	// RegisterPath is the registration endpoint the middleware serves
	// (POST only). Default DefaultRegisterPath. A path on this origin.
	RegisterPath string

	// RefreshPath is the refresh endpoint the middleware serves (POST
	// only). Default DefaultRefreshPath.
	RefreshPath string

	// Cookie is the short-lived bound cookie. Default: __Host-bound;
	// Path=/; HttpOnly; Secure; SameSite=Lax, living
	// DefaultBoundCookieLifetime. Its name must differ from the session
	// cookie's. A lifetime of 2 minutes or less makes Chromium refresh
	// before every request.
	Cookie dbsc.BoundCookie

	// ChallengeLifetime is how long a challenge stays valid. Default
	// dbsc.DefaultChallengeLifetime. A challenge sent ahead on a 200 lives
	// this long plus the bound cookie's lifetime, so that the next
	// refresh can use it.
	ChallengeLifetime time.Duration

	// Algorithms are the key algorithms offered, in order of preference.
	// Default ES256 then RS256.
	Algorithms []dbsc.Algorithm

	// BoundIdleTimeout and BoundAbsoluteTimeout replace Options'
	// IdleTimeout and AbsoluteTimeout once a session's device has
	// registered a key (NIST SP 800-63B-4 allows longer limits for a
	// proof-of-possession session). Default 0: the same as unbound
	// sessions. The absolute timeout counts from the login, as before;
	// BoundIdleTimeout must not exceed it.
	BoundIdleTimeout     time.Duration
	BoundAbsoluteTimeout time.Duration
}

// bindConfig is DeviceBinding validated.
type bindConfig struct {
	register, refresh string
	cookie            dbsc.BoundCookie
	cookieName        string
	cred              dbsc.Credential
	lifetime          time.Duration
	challenge         time.Duration
	algs              []dbsc.Algorithm
	idle, absolute    time.Duration
}

func (d *DeviceBinding) compile(c *config) (*bindConfig, error) {
	if d == nil {
		return nil, nil
	}
	b := &bindConfig{
		register:  d.RegisterPath,
		refresh:   d.RefreshPath,
		cookie:    d.Cookie,
		challenge: d.ChallengeLifetime,
		algs:      append([]dbsc.Algorithm(nil), d.Algorithms...),
		idle:      d.BoundIdleTimeout,
		absolute:  d.BoundAbsoluteTimeout,
	}
	if b.register == "" {
		b.register = DefaultRegisterPath
	}
	if b.refresh == "" {
		b.refresh = DefaultRefreshPath
	}
	if b.cookie.Lifetime == 0 {
		b.cookie.Lifetime = DefaultBoundCookieLifetime
	}
	if b.challenge == 0 {
		b.challenge = dbsc.DefaultChallengeLifetime
	}
	const pfx = "securesession: Options.DeviceBinding."
	probe := dbsc.NewChallenge(time.Time{})
	if _, err := dbsc.FormatRegistration(dbsc.Registration{Path: b.register, Algorithms: b.algs, Challenge: probe}); err != nil {
		return nil, fmt.Errorf(pfx+"RegisterPath or Algorithms: %w", err)
	}
	if _, err := dbsc.FormatRegistration(dbsc.Registration{Path: b.refresh, Challenge: probe}); err != nil {
		return nil, fmt.Errorf(pfx+"RefreshPath: %w", err)
	}
	if strings.ContainsRune(b.register+b.refresh, '?') {
		return nil, errors.New(pfx + "RegisterPath and RefreshPath must be paths without a query")
	}
	if b.register == b.refresh {
		return nil, errors.New(pfx + "RegisterPath and RefreshPath must differ")
	}
	cred, err := b.cookie.Credential()
	if err != nil {
		return nil, fmt.Errorf(pfx+"Cookie: %w", err)
	}
	b.cred, b.cookieName = cred, cred.Name
	b.lifetime = b.cookie.EffectiveLifetime()
	if strings.EqualFold(b.cookieName, c.name) {
		return nil, fmt.Errorf(pfx+"Cookie: the bound cookie's name %q is the session cookie's", b.cookieName)
	}
	if b.challenge < 0 {
		return nil, fmt.Errorf(pfx+"ChallengeLifetime: %v is negative", b.challenge)
	}
	if b.idle < 0 || b.absolute < 0 {
		return nil, errors.New(pfx + "BoundIdleTimeout and BoundAbsoluteTimeout must not be negative")
	}
	if b.idle == 0 {
		b.idle = c.idle
	}
	if b.absolute == 0 {
		b.absolute = c.absolute
	}
	if b.idle > b.absolute {
		return nil, fmt.Errorf(pfx+"BoundIdleTimeout (%v) exceeds the bound absolute timeout (%v)", b.idle, b.absolute)
	}
	if b.idle <= c.touch {
		return nil, fmt.Errorf(pfx+"BoundIdleTimeout (%v) must exceed Options.TouchInterval (%v)", b.idle, c.touch)
	}
	return b, nil
}

// DeviceBound reports whether the request's session is bound to its
// device: the browser registered a DBSC key for it and this request
// carried a valid, unexpired bound cookie. A bound session whose request
// lacks one is anonymous, so DeviceBound is then false and so is UserID.
// Use it for policy: require it for administrators, or allow a bound
// session more.
func DeviceBound(c *gin.Context) bool {
	s, err := current(c)
	if err != nil {
		return false
	}
	s.accessed = true
	return s.token != "" && s.bound
}

// RequireDeviceBound returns a handler that lets only device-bound
// sessions through (see DeviceBound). Anything else gets 403 with a short
// plain-text explanation, and a logged-in session that is not bound yet
// gets a DBSC registration offered on that answer: a browser with DBSC
// registers in the background and the next attempt passes. Without
// Options.DeviceBinding nothing is ever bound, so every request is refused.
func RequireDeviceBound() gin.HandlerFunc {
	return func(c *gin.Context) {
		if DeviceBound(c) {
			c.Next()
			return
		}
		msg := "This page needs a session bound to your device (Device Bound Session Credentials), which this browser has not set up. "
		if s, err := current(c); err == nil && s.m.cfg.bind != nil && s.token != "" && s.rec.UserID != "" {
			if s.offerNow() {
				msg += "It has just been offered: if your browser supports it, reload this page in a moment."
			}
		} else {
			msg += "Log in with a browser that supports it."
		}
		c.Header("Cache-Control", "no-store")
		c.String(http.StatusForbidden, msg+"\n")
		c.Abort()
	}
}
