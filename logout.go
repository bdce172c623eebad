package securesession

import (
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"
)

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
	if err := s.end(rerr == nil); err != nil {
		return s.report(err)
	}
	if rerr != nil {
		return fmt.Errorf("securesession: LogoutEverywhere: this session is logged out, other sessions are not: %w", rerr)
	}
	s.m.cfg.emit(c.Request.Context(), Event{Kind: EventRevoked, Session: shortHandle(handle), UserID: userID, Reason: "all sessions"})
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
	if err := s.m.b.RevokeUser(c.Request.Context(), s.rec.UserID, Ref{Name: s.name, Token: s.token}); err != nil {
		if errors.Is(err, ErrCannotRevoke) {
			return fmt.Errorf("securesession: LogoutOthers: %w", err)
		}
		return s.report(backendErr("revoke user", err))
	}
	s.m.cfg.emit(c.Request.Context(), Event{Kind: EventRevoked, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Reason: "other sessions"})
	return nil
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
		list[i].DeviceBound = bindingRegistered(list[i].Binding)
		list[i].Binding = nil // holds the session's bound-cookie secret
	}
	return list, nil
}

// RevokeSession ends the current user's session whose Handle is handle
// (from ListSessions). A session's handle survives its rotations, so the
// session ends even if it was rotated since the list was shown. If it is
// the request's own session, this is Logout.
//
// If no session of the current user has that handle (it ended already,
// it belongs to another user, or handle is not one), RevokeSession
// returns an error wrapping ErrNoRecord and nothing is revoked: tell the
// user the session had already ended. This is not a *BackendError. It
// returns ErrNotLoggedIn for an anonymous session, ErrCannotList if the
// backend does not implement Lister, and a *BackendError if the backend
// failed.
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
	if err := s.m.lister.RevokeHandle(c.Request.Context(), s.rec.UserID, handle); errors.Is(err, ErrNoRecord) {
		return fmt.Errorf("securesession: RevokeSession: already ended: %w", err)
	} else if err != nil {
		return s.report(backendErr("revoke", err))
	}
	s.m.cfg.emit(c.Request.Context(), Event{Kind: EventRevoked, Session: shortHandle(handle), UserID: s.rec.UserID, Reason: "one session"})
	return nil
}
