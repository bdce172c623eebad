package securesession

import (
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults of the remembered ("remember me") sessions.
const (
	// DefaultRememberIdleTimeout ends a remembered session after 7 days
	// without a request.
	DefaultRememberIdleTimeout = 7 * 24 * time.Hour

	// DefaultRememberAbsoluteTimeout ends a remembered session 30 days
	// after login whatever the activity (NIST SP 800-63B-4 allows at most
	// 30 days between authentications at AAL1).
	DefaultRememberAbsoluteTimeout = 30 * 24 * time.Hour
)

// LoginOption changes how Login and LoginToken log the user in. The only
// one is RememberMe.
type LoginOption func(*loginOptions)

type loginOptions struct {
	remember bool
}

// RememberMe makes this login a remembered session: its cookie is
// persistent (a Max-Age up to the session's deadline, so it survives a
// browser restart), and the server ends it after
// Options.RememberIdleTimeout without a request (default 7 days) or
// Options.RememberAbsoluteTimeout after the login (default 30 days)
// instead of the normal IdleTimeout and AbsoluteTimeout. Without it a
// login gets a browser-session cookie and the normal timeouts.
//
// The choice is made per login, typically from a "remember me" checkbox,
// and the session keeps it: Rotate, value changes and the cookie
// backend's re-seals keep its timeouts and its Max-Age. Each Login
// chooses again, so a Login without RememberMe (a re-authentication, say)
// makes the session normal; pass RememberMe again if Remembered(c) was
// true and the session should stay remembered.
//
// The timeouts are stored in the session's record and enforced on the
// server, never left to the cookie's Max-Age: the record's Deadline is
// Created + RememberAbsoluteTimeout and its Expires is at most LastSeen +
// RememberIdleTimeout, and the session's longer lifetime (Deadline -
// Created) is what marks it remembered, so every backend keeps the class
// without a field of its own (see lifecycle.go). The server enforces the
// stored times bounded by the current Options: shortening a remembered
// timeout applies to existing remembered sessions at once; lengthening
// the idle timeout applies from their next request, and lengthening the
// absolute timeout to later logins. With DeviceBinding a remembered
// session whose device binds keeps the remembered timeouts.
// LogoutEverywhere, LogoutOthers and RevokeSession end remembered sessions
// like any other.
//
// A remembered session can be up to 30 days past the user's last
// authentication (AuthTime): ask for the password again before a
// sensitive action (RequireRecentAuth), and offer remembering only where
// your authentication assurance allows it (NIST SP 800-63B-4: at most 30
// days between authentications at AAL1, 24 hours at AAL2).
func RememberMe() LoginOption {
	return func(o *loginOptions) { o.remember = true }
}

func loginOpts(opts []LoginOption) loginOptions {
	var lo loginOptions
	for _, f := range opts {
		if f != nil {
			f(&lo)
		}
	}
	return lo
}

// Remembered reports whether the request's session comes from a login
// given RememberMe. It is false for a normal or anonymous session, and
// without the middleware.
func Remembered(c *gin.Context) bool {
	s, err := current(c)
	if err != nil {
		return false
	}
	s.accessed = true
	return s.rec.UserID != "" && s.m.cfg.remembered(&s.rec)
}

// compileRemember validates and compiles the remembered timeouts; it runs
// after the other timeouts, TouchInterval and DeviceBinding are compiled.
func (c *config) compileRemember(o *Options) error {
	c.rememberIdle, c.rememberAbs = o.RememberIdleTimeout, o.RememberAbsoluteTimeout
	if c.rememberIdle < 0 {
		return fmt.Errorf("securesession: Options.RememberIdleTimeout: %v is negative", c.rememberIdle)
	}
	if c.rememberAbs < 0 {
		return fmt.Errorf("securesession: Options.RememberAbsoluteTimeout: %v is negative", c.rememberAbs)
	}
	if c.rememberIdle == 0 {
		c.rememberIdle = DefaultRememberIdleTimeout
	}
	if c.rememberAbs == 0 {
		c.rememberAbs = DefaultRememberAbsoluteTimeout
	}
	if c.rememberAbs > MaxCookieLifetime {
		return fmt.Errorf("securesession: Options.RememberAbsoluteTimeout: %v exceeds MaxCookieLifetime (400 days), the longest Max-Age browsers honour (RFC 6265bis): the cookie would end before the session", c.rememberAbs)
	}
	if c.rememberIdle > c.rememberAbs {
		return fmt.Errorf("securesession: Options.RememberIdleTimeout (%v) exceeds Options.RememberAbsoluteTimeout (%v)", c.rememberIdle, c.rememberAbs)
	}
	// A remembered session is told from the others by its longer life
	// (lifecycle.go), so it must outlive every other class.
	other, otherField := c.absolute, "Options.AbsoluteTimeout"
	if c.bind != nil && c.bind.absolute > other {
		other, otherField = c.bind.absolute, "Options.DeviceBinding.BoundAbsoluteTimeout"
	}
	if c.rememberAbs <= other {
		return fmt.Errorf("securesession: Options.RememberAbsoluteTimeout (%v%s) must be longer than %s (%v): a remembered session is one that outlives the others", c.rememberAbs, isDefault(o.RememberAbsoluteTimeout), otherField, other)
	}
	if c.touch >= c.rememberIdle {
		return fmt.Errorf("securesession: Options.TouchInterval (%v) must be less than Options.RememberIdleTimeout (%v%s)", c.touch, c.rememberIdle, isDefault(o.RememberIdleTimeout))
	}
	c.rememberSplit = time.Duration(math.Sqrt(float64(other) * float64(c.rememberAbs)))
	c.rememberSplit = min(max(c.rememberSplit, other), c.rememberAbs-1) // against rounding: other <= split < rememberAbs
	return nil
}

func isDefault(d time.Duration) string {
	if d == 0 {
		return ", the default"
	}
	return ""
}

// cookieMaxAge returns the Max-Age of the session's cookie: what
// Session.Options asked for, else the rest of a remembered session's life,
// else 0 (a browser-session cookie); never past the session's deadline.
func (s *session) cookieMaxAge(now time.Time) int {
	cfg := s.m.cfg
	var life time.Duration
	switch {
	case s.maxAge > 0:
		life = time.Duration(s.maxAge) * time.Second
		if _, abs := cfg.timeouts(&s.rec); life > abs {
			s.m.maxAgeWarn.Do(func() { s.warnMaxAge(life, abs) })
		}
	case s.rec.UserID != "" && cfg.remembered(&s.rec):
		life = MaxCookieLifetime // capped at the deadline below
	}
	return cfg.cookieMaxAge(life, &s.rec, now)
}

// warnMaxAge logs, once per middleware, that a Session.Options MaxAge
// asked for more than a session of this class can live.
func (s *session) warnMaxAge(asked, abs time.Duration) {
	cfg := s.m.cfg
	field := "AbsoluteTimeout"
	switch {
	case cfg.remembered(&s.rec):
		field = "RememberAbsoluteTimeout"
	case abs != cfg.absolute:
		field = "DeviceBinding.BoundAbsoluteTimeout"
	}
	cfg.logger.LogAttrs(s.c.Request.Context(), slog.LevelWarn,
		"securesession: Session.Options MaxAge is longer than the session's absolute timeout, Options."+field+
			"; the cookie's Max-Age stops at the session's deadline, where the server ends the session. "+
			"Only a Login given securesession.RememberMe() makes a session outlive Options.AbsoluteTimeout",
		slog.Duration("max_age", asked), slog.Duration("absolute_timeout", abs))
}
