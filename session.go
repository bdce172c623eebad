package securesession

import (
	"errors"
	"fmt"
	"time"

	"github.com/gin-contrib/sessions"

	"github.com/gin-securesession/securesession/internal/values"
)

// load reads the session named by tok. It returns an error only for a
// backend failure; every other problem leaves the session anonymous.
func (s *session) load(tok string) error {
	m := s.m
	cfg := m.cfg
	ctx := s.c.Request.Context()
	if tok == "" {
		return nil
	}
	if len(s.name)+1+len(tok) > MaxCookieSize {
		cfg.emit(ctx, Event{Kind: EventRejected, Session: fingerprint(tok), Reason: string(RejectOversized)})
		return nil
	}
	rec, found, err := m.b.Find(ctx, s.name, tok)
	switch {
	case errors.Is(err, ErrInvalidToken):
		cfg.emit(ctx, Event{Kind: EventRejected, Session: fingerprint(tok), Reason: rejectReason(err)})
		return nil
	case err != nil:
		return backendErr("find", err)
	case !found:
		cfg.emit(ctx, Event{Kind: EventUnknown, Session: fingerprint(tok)})
		return nil
	}
	if kind := cfg.expiry(&rec, s.now()); kind != 0 {
		cfg.emit(ctx, Event{Kind: kind, Session: shortHandle(rec.Handle), UserID: rec.UserID})
		s.dropExpired(tok, &rec)
		return nil
	}
	s.token, s.rec = tok, rec
	return nil
}

// rejectReason returns the reason of a rejection: the backend's
// RejectReason, or "malformed" for a bare ErrInvalidToken.
func rejectReason(err error) string {
	var ite *InvalidTokenError
	if errors.As(err, &ite) && ite.Reason != "" {
		return string(ite.Reason)
	}
	return string(RejectMalformed)
}

// values returns the decoded values, decoding them on first use.
func (s *session) values() map[any]any {
	s.accessed = true
	if s.vals == nil {
		if s.token != "" && len(s.rec.Values) > 0 {
			v, err := values.Decode(s.rec.Values)
			if err != nil {
				s.broken = true
				s.m.cfg.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle),
					Err: backendErr("decode", fmt.Errorf("stored session values: %w", err))})
				v = make(map[any]any)
			}
			s.vals = v
		} else {
			s.vals = make(map[any]any)
		}
	}
	return s.vals
}

// The methods below implement gin-contrib's sessions.Session.

// ID returns the session's Handle: a stable, non-secret identifier safe to
// log (never the token, which is a credential). It is "" for a session that
// has not been stored yet.
func (s *session) ID() string {
	s.accessed = true
	if s.token == "" {
		return ""
	}
	return s.rec.Handle
}

func (s *session) Get(key any) any { return s.values()[key] }

func (s *session) Set(key, val any) {
	s.values()[key] = val
	s.changed()
}

func (s *session) Delete(key any) {
	v := s.values()
	if _, ok := v[key]; ok {
		delete(v, key)
		s.changed()
	}
}

// Clear ends the session, as Logout does, so that gin-contrib's logout
// idiom session.Clear(); session.Save() logs the user out: the user and
// the values are dropped, the server record is deleted, and the cookie is
// expired with the attributes it was issued with. Values set after Clear
// in the same request start a new anonymous session. If the record cannot
// be deleted, the session is left as it was and the next save (Save, or
// the automatic one) tries again and reports the failure; Save returns
// ErrHeadersWritten if Clear came after the response headers.
func (s *session) Clear() {
	s.accessed = true
	if s.w.Written() {
		s.wantLogout() // Save reports ErrHeadersWritten
		return
	}
	if err := s.logout(); err != nil {
		s.wantLogout() // retried, and reported, at the save
	}
}

// wantLogout makes the next save a logout; it reopens the automatic save
// after a refused explicit Save.
func (s *session) wantLogout() {
	s.want = wantLogout
	if s.phase == phaseRefused {
		s.phase = phaseOpen
	}
}

const flashKey = "_flash"

func (s *session) AddFlash(value any, vars ...string) {
	key := flashKey
	if len(vars) > 0 {
		key = vars[0]
	}
	v := s.values()
	fl, _ := v[key].([]any)
	v[key] = append(fl, value)
	s.changed()
}

func (s *session) Flashes(vars ...string) []any {
	key := flashKey
	if len(vars) > 0 {
		key = vars[0]
	}
	v := s.values()
	fl, ok := v[key].([]any)
	if !ok {
		return nil
	}
	delete(v, key)
	s.changed()
	return fl
}

// Options applies gin-contrib's per-session options the way a user of
// gin-contrib means them, without weakening the cookie: MaxAge < 0 logs
// the session out at Save (server record deleted, cookie expired with its
// full attributes), MaxAge > 0 makes this session's cookie persistent for
// that many seconds, and MaxAge 0 restores the default (a persistent
// cookie for a session logged in with RememberMe, a browser-session
// cookie otherwise). Path, Domain, Secure, HttpOnly and SameSite are fixed
// by securesession.Options and ignored here.
//
// MaxAge only sets how long the browser keeps the cookie; it never
// lengthens the session, whose timeouts the server enforces. The rule:
// Max-Age never exceeds the time left before the session's own deadline
// (Options.AbsoluteTimeout after login, or Options.RememberAbsoluteTimeout
// after a Login given RememberMe), since the cookie would outlive the
// session. A MaxAge longer than the session's absolute timeout, which
// could never be honoured, is logged as a warning, once; use RememberMe at
// Login for a session that lasts longer. The setting holds for the cookies
// sent in this request.
func (s *session) Options(o sessions.Options) {
	s.accessed = true
	switch {
	case o.MaxAge < 0:
		s.wantLogout()
	case o.MaxAge > 0:
		s.maxAge = min(o.MaxAge, int(MaxCookieLifetime/time.Second))
		s.changed()
	default:
		s.maxAge = 0
	}
}

// Save stores the session now and sets its cookie. It returns
// ErrHeadersWritten if the response headers are already out, a
// *BackendError if the backend failed and ErrTooLarge if the session does
// not fit. Calling it is optional: a changed session is saved before the
// response headers are written.
func (s *session) Save() error {
	s.accessed = true
	if s.w.Written() {
		if s.dirty || s.want != wantNothing || s.pending != nil {
			return ErrHeadersWritten
		}
		return nil
	}
	err := s.commit(true)
	switch {
	case err != nil && s.phase == phaseOpen:
		s.phase = phaseRefused
	case err == nil && s.phase == phaseRefused:
		s.phase = phaseOpen
	}
	return s.report(err)
}
