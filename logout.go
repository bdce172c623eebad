package securesession

import (
	"errors"
	"fmt"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession/internal/values"
)

// current returns the request's session, or ErrNoMiddleware.
func current(c *gin.Context) (*session, error) {
	v, ok := c.Get(sessions.DefaultKey)
	if !ok {
		return nil, ErrNoMiddleware
	}
	s, ok := v.(*session)
	if !ok {
		return nil, ErrNoMiddleware
	}
	return s, nil
}

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
func Login(c *gin.Context, userID string) error {
	if userID == "" {
		return errors.New("securesession: Login: empty user ID")
	}
	s, err := current(c)
	if err != nil {
		return err
	}
	return s.rotate(userID, "login")
}

// LoginToken is Login for an API client that carries its session in an
// Authorization header (see Options.AuthorizationHeader): no cookie is
// set, and the new token is returned so the application can put it in the
// response body (it is also sent in the TokenHeader response header). The
// backend write happens at once, so a failure is returned as a
// *BackendError. The response is marked Cache-Control: no-store. It
// returns an error if Options.AuthorizationHeader is off.
func LoginToken(c *gin.Context, userID string) (string, error) {
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
	if s.hadCookie && !s.viaHeader {
		return "", errors.New("securesession: LoginToken: the request carries a session cookie; use Login for browser sessions")
	}
	s.viaHeader = true
	if err := s.rotate(userID, "login"); err != nil {
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
// authentication). The absolute timeout is not restarted. A request
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
	if err := s.rotate("", "rotate"); err != nil {
		return err
	}
	return s.report(s.settle())
}

// pendingRotation is a Login or Rotate not yet written to the backend: the
// new record is in session.rec, and the token it replaces is here.
type pendingRotation struct {
	oldToken  string
	oldOpaque any
	oldHandle string
	op        string
}

// rotate prepares a new record for the session (for userID, or for the
// same user when userID is "") and marks it to replace the current token
// at the next save.
func (s *session) rotate(userID, op string) error {
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
		p = &pendingRotation{oldToken: s.token, oldOpaque: s.rec.Opaque, oldHandle: s.rec.Handle, op: op}
	}
	rec := s.rec
	if userID != "" {
		if s.rec.UserID != "" && s.rec.UserID != userID {
			clear(vals) // another user's data never leaks into this login
		}
		rec = Record{UserID: userID, AuthTime: now, Created: now, Deadline: now.Add(m.cfg.absolute)}
		p.op = op
	}
	rec.Handle, rec.Opaque, rec.Values = "", nil, nil
	s.token, s.rec, s.pending = "", rec, p
	s.logoutPending = false
	s.changed()
	return nil
}

// settle writes a pending rotation now.
func (s *session) settle() error {
	if s.pending == nil {
		return nil
	}
	return s.writePending(!s.w.Written())
}

// writePending stores the rotated record under a fresh token, deleting the
// record of the token it replaces, and sends the new token.
func (s *session) writePending(canSetCookie bool) error {
	p := s.pending
	if !canSetCookie {
		return ErrHeadersWritten
	}
	m := s.m
	now := s.now()
	enc, err := values.Encode(nil, s.vals)
	if err != nil {
		return fmt.Errorf("securesession: %s: encode session values: %w", p.op, err)
	}
	rec := s.rec
	rec.Values = enc
	rec.LastSeen = now
	rec.Expires = earlier(now.Add(m.cfg.idle), rec.Deadline)
	s.clientInfo(&rec)
	ctx := s.c.Request.Context()
	var tok string
	if p.oldToken != "" {
		rec.Opaque = p.oldOpaque
		tok, err = m.b.Rotate(ctx, m.cfg.name, p.oldToken, &rec)
		switch {
		case errors.Is(err, ErrNoRecord) && p.op == "login":
			// The pre-login session ended meanwhile; the user has just
			// authenticated, so the login stands on a new session.
			rec.Opaque = nil
			p.oldToken = ""
		case errors.Is(err, ErrNoRecord):
			// Logged out or revoked while this request ran: rotating must
			// not bring the session back under a new token.
			m.emit(ctx, Event{Kind: EventUnknown, Session: shortHandle(p.oldHandle), UserID: rec.UserID, Reason: "ended during the request"})
			s.reset()
			s.expireCookie(now)
			return fmt.Errorf("securesession: %s: %w", p.op, err)
		case err != nil:
			return m.classify("rotate", err)
		}
	}
	if p.oldToken == "" {
		if tok, err = m.b.Create(ctx, m.cfg.name, &rec); err != nil {
			return m.classify("create", err)
		}
	}
	s.pending = nil
	s.token, s.rec, s.dirty = tok, rec, false
	s.setCookie(tok, now)
	kind := EventRotated
	if p.oldHandle == "" {
		kind = EventCreated
	}
	m.emit(ctx, Event{Kind: kind, Session: shortHandle(rec.Handle), UserID: rec.UserID, Reason: p.op})
	return nil
}

// Logout ends the session: the server record is deleted, the values are
// cleared, and the cookie is expired with the same name, Path, Domain,
// Secure, SameSite and Partitioned it was issued with, on a response
// marked Cache-Control: no-store (and Clear-Site-Data if configured). A
// replayed copy of the old cookie is then anonymous. Values set after
// Logout in the same request start a new anonymous session (for a
// "you have been logged out" flash, say).
//
// With the cookie backend and no revocation checker the server has no
// record to delete: the browser's cookie is expired, but a copy taken
// before logout stays valid until its timeouts (see backends/cookie).
//
// Logout returns a *BackendError if the record could not be deleted; the
// session and cookie are then left as they were, so the application can
// report the failure and the user can retry.
func Logout(c *gin.Context) error {
	s, err := current(c)
	if err != nil {
		return err
	}
	s.accessed = true
	if s.w.Written() {
		return ErrHeadersWritten
	}
	return s.report(s.logout())
}

func (s *session) logout() error {
	m := s.m
	ctx := s.c.Request.Context()
	old := s.rec
	for _, tok := range []string{s.token, s.pendingOldToken()} {
		if tok == "" {
			continue
		}
		err := m.b.Delete(ctx, m.cfg.name, tok)
		if err != nil && !errors.Is(err, ErrCannotRevoke) {
			return backendErr("delete", err)
		}
	}
	now := s.now()
	had := s.token != "" || s.hadCookie || s.pending != nil
	s.reset()
	if had {
		s.expireCookie(now)
		if m.cfg.clearSiteDataHdr != "" {
			s.w.ResponseWriter.Header().Set("Clear-Site-Data", m.cfg.clearSiteDataHdr)
		}
	}
	if old.Handle != "" || old.UserID != "" {
		m.emit(ctx, Event{Kind: EventLoggedOut, Session: shortHandle(old.Handle), UserID: old.UserID})
	}
	return nil
}

// loggedIn returns the request's session for an operation on its user:
// it writes a pending Login first (so the user's new session counts), and
// returns ErrNotLoggedIn for an anonymous session.
func loggedIn(c *gin.Context) (*session, error) {
	s, err := current(c)
	if err != nil {
		return nil, err
	}
	s.accessed = true
	if err := s.settle(); err != nil {
		return nil, s.report(err)
	}
	if s.token == "" || s.rec.UserID == "" {
		return nil, ErrNotLoggedIn
	}
	return s, nil
}

// LogoutEverywhere ends every session of the current user, on every
// device, and logs this request out as Logout does. It returns
// ErrNotLoggedIn if the session has no user, an error wrapping
// ErrCannotRevoke if the backend cannot revoke sessions on the server (the
// current session is then still logged out), and a *BackendError if the
// backend failed.
//
// Outside a request (an admin page, a password reset by e-mail) call the
// backend's RevokeUser directly.
func LogoutEverywhere(c *gin.Context) error {
	s, err := loggedIn(c)
	if err != nil {
		return err
	}
	if s.w.Written() {
		return ErrHeadersWritten
	}
	userID, handle := s.rec.UserID, s.rec.Handle
	rerr := s.m.b.RevokeUser(c.Request.Context(), userID, Ref{})
	if rerr != nil && !errors.Is(rerr, ErrCannotRevoke) {
		return s.report(backendErr("revoke user", rerr))
	}
	if err := s.logout(); err != nil {
		return s.report(err)
	}
	if rerr != nil {
		return fmt.Errorf("securesession: LogoutEverywhere: this session is logged out, other sessions are not: %w", rerr)
	}
	s.m.emit(c.Request.Context(), Event{Kind: EventRevoked, Session: shortHandle(handle), UserID: userID, Reason: "all sessions"})
	return nil
}

// LogoutOthers ends every session of the current user except this one, as
// OWASP ASVS asks after a password change. Errors are as for
// LogoutEverywhere; the current session is never touched.
func LogoutOthers(c *gin.Context) error {
	s, err := loggedIn(c)
	if err != nil {
		return err
	}
	if err := s.m.b.RevokeUser(c.Request.Context(), s.rec.UserID, Ref{Name: s.m.cfg.name, Token: s.token}); err != nil {
		if errors.Is(err, ErrCannotRevoke) {
			return fmt.Errorf("securesession: LogoutOthers: %w", err)
		}
		return s.report(backendErr("revoke user", err))
	}
	s.m.emit(c.Request.Context(), Event{Kind: EventRevoked, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Reason: "other sessions"})
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

// ListSessions returns the live sessions of the current user, marking the
// request's own with Current. It returns ErrNotLoggedIn for an anonymous
// session and ErrCannotList if the backend does not implement Lister.
func ListSessions(c *gin.Context) ([]SessionInfo, error) {
	s, err := loggedIn(c)
	if err != nil {
		return nil, err
	}
	if s.m.lister == nil {
		return nil, ErrCannotList
	}
	list, err := s.m.lister.ListUser(c.Request.Context(), s.rec.UserID)
	if err != nil {
		return nil, s.report(backendErr("list", err))
	}
	for i := range list {
		list[i].Current = list[i].Handle == s.rec.Handle
	}
	return list, nil
}

// RevokeSession ends the current user's session whose Handle is handle
// (from ListSessions). A handle of another user's session is ignored. If
// it is the request's own session, this is Logout.
func RevokeSession(c *gin.Context, handle string) error {
	s, err := loggedIn(c)
	if err != nil {
		return err
	}
	if s.m.lister == nil {
		return ErrCannotList
	}
	if handle == s.rec.Handle {
		return Logout(c)
	}
	if err := s.m.lister.RevokeHandle(c.Request.Context(), s.rec.UserID, handle); err != nil {
		return s.report(backendErr("revoke", err))
	}
	s.m.emit(c.Request.Context(), Event{Kind: EventRevoked, Session: shortHandle(handle), UserID: s.rec.UserID, Reason: "one session"})
	return nil
}
