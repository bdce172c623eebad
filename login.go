package securesession

import (
	"errors"
	"time"

	"github.com/gin-gonic/gin"
)

// Login records that userID has authenticated and defeats session
// fixation: the session gets a new token, its values are carried over
// (unless it belonged to a different user, in which case they are
// dropped), the record under the old token is deleted so the pre-login
// cookie is anonymous, the auth time is set to now and the absolute
// timeout restarts. Call it after checking the user's credentials and
// before writing the response body; UserID reports the new user at once.
//
// The backend write happens once, when the session is saved (before the
// response headers go out, or at an explicit Save), so values set after
// Login in the same handler cost no second write. A backend failure then
// stops the request through Options.ErrorHandler (503 by default) and the
// user is not logged in; call sessions.Default(c).Save() right after Login
// to handle the error in the handler instead. Login itself returns
// ErrHeadersWritten if the response headers are already out.
//
// With Options.MaxSessionsPerUser and the RefuseNewLogin policy the write
// happens inside Login instead, which returns ErrTooManySessions when the
// user has no session to spare (the request's session then stays as it
// was) or a *BackendError if the backend failed (the user is then not
// logged in, and the automatic save does not try again unless the handler
// changes the session).
//
// By default the session gets a browser-session cookie and the normal
// timeouts (Options.IdleTimeout, Options.AbsoluteTimeout); with
// RememberMe() it gets a persistent cookie and the remembered ones.
func Login(c *gin.Context, userID string, opts ...LoginOption) error {
	if userID == "" {
		return errors.New("securesession: Login: empty user ID")
	}
	s, err := current(c)
	if err != nil {
		return err
	}
	if err := s.rotate(userID, "login", loginOpts(opts).remember); err != nil {
		return err
	}
	if s.m.cfg.limit.Refuse {
		// The limit may refuse this login: write now, so that Login can
		// say so and the handler can answer.
		return s.report(s.settle())
	}
	return nil
}

// LoginToken is Login for an API client that carries its session in an
// Authorization header (see Options.AuthorizationHeader): no cookie is
// set, and the new token is returned so the application can put it in the
// response body (it is also sent in the TokenHeader response header). The
// backend write happens at once, so a failure is returned as a
// *BackendError. The response is marked Cache-Control: no-store. It
// returns an error if Options.AuthorizationHeader is off. RememberMe()
// gives the session the remembered timeouts, as for Login.
func LoginToken(c *gin.Context, userID string, opts ...LoginOption) (string, error) {
	s, err := current(c)
	if err != nil {
		return "", err
	}
	if !s.m.cfg.bearer {
		return "", errors.New("securesession: LoginToken: Options.AuthorizationHeader is off, so a token could not be used")
	}
	if userID == "" {
		return "", errors.New("securesession: LoginToken: empty user ID")
	}
	if s.carried && !s.viaHeader {
		return "", errors.New("securesession: LoginToken: the request carries a session cookie; use Login for browser sessions")
	}
	s.viaHeader = true
	if err := s.rotate(userID, "login", loginOpts(opts).remember); err != nil {
		return "", err
	}
	if err := s.settle(); err != nil {
		return "", s.report(err)
	}
	return s.token, nil
}

// Rotate gives the session a new token, carrying its values, user and
// auth time over and deleting the record under the old token. Call it on a
// privilege change other than login (a role switch, a step-up
// authentication). The absolute timeout is not restarted, and a remembered
// session stays remembered, with its Max-Age and timeouts. A request
// without a session is left alone. The write happens at once: a backend
// failure is returned as a *BackendError and the session is unchanged.
func Rotate(c *gin.Context) error {
	s, err := current(c)
	if err != nil {
		return err
	}
	if s.token == "" && s.pending == nil {
		s.accessed = true
		return nil
	}
	if err := s.rotate("", "rotate", false); err != nil {
		return err
	}
	return s.report(s.settle())
}

// rotate prepares a new record for the session (for userID, with the
// remembered timeouts if remember, or for the same user and timeouts when
// userID is "") and marks it to replace the current token at the next
// save.
func (s *session) rotate(userID, op string, remember bool) error {
	s.accessed = true
	if s.w.Written() {
		return ErrHeadersWritten
	}
	if s.broken {
		return backendErr("decode", errors.New("cannot rotate a session whose values could not be decoded"))
	}
	m := s.m
	now := s.now()
	vals := s.values()
	p := s.pending
	if p == nil {
		p = &pendingRotation{oldToken: s.token, oldOpaque: s.rec.Opaque, oldHandle: s.rec.Handle, oldRec: s.rec, oldVals: vals, oldDirty: s.dirty, op: op}
	}
	rec := s.rec
	if userID != "" {
		if s.rec.UserID != "" && s.rec.UserID != userID {
			s.vals = make(map[any]any) // another user's data never leaks into this login
		}
		rec = m.cfg.newSession(userID, now, remember)
		p.op = op
	}
	rec.Handle, rec.Opaque, rec.Values = "", nil, nil
	s.token, s.rec, s.pending = "", rec, p
	s.want = wantNothing
	s.changed()
	return nil
}

// UserID returns the logged-in user of the request's session, or "" if
// the session is anonymous or the middleware is not installed.
func UserID(c *gin.Context) string {
	s, err := current(c)
	if err != nil {
		return ""
	}
	s.accessed = true
	return s.rec.UserID
}

// AuthTime returns when the user of the request's session last
// authenticated (the time of Login), or the zero time if the session is
// anonymous. Use it to require a recent login before a sensitive action
// (OWASP ASVS 3.7.1).
func AuthTime(c *gin.Context) time.Time {
	s, err := current(c)
	if err != nil {
		return time.Time{}
	}
	s.accessed = true
	return s.rec.AuthTime
}
