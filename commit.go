package securesession

import (
	"errors"
	"fmt"

	"github.com/gin-securesession/securesession/internal/values"
)

// This file holds the only code that writes to the backend: the save of a
// request's changes, rotations, logouts and the removal of expired
// records, with their failure handling.

// autoSave is the automatic save, run once: before the first byte of the
// response header, or after the handlers if they wrote nothing.
// canSetCookie is false once the headers are out.
func (s *session) autoSave(canSetCookie bool) {
	switch s.phase {
	case phaseOpen:
	case phaseRefused:
		s.phase = phaseSaved // the handler saw the error; do not retry behind its back
		return
	default:
		return
	}
	s.phase = phaseSaved
	if err := s.commit(canSetCookie); err != nil {
		s.fail(err)
	}
}

// commit writes what the request changed: a pending logout, a pending
// rotation, changed values, or (throttled) activity. canSetCookie is
// false once the headers are out; a change that needs a new cookie then
// fails with ErrHeadersWritten instead of leaving an orphan record.
func (s *session) commit(canSetCookie bool) error {
	if s.want == wantLogout {
		if !canSetCookie {
			return ErrHeadersWritten
		}
		return s.logout()
	}
	if s.pending != nil {
		return s.writePending(canSetCookie)
	}
	m := s.m
	cfg := m.cfg
	ctx := s.c.Request.Context()
	now := s.now()
	switch {
	case s.dirty:
		if s.broken {
			return backendErr("decode", errors.New("refusing to overwrite session values that could not be decoded"))
		}
		enc, err := values.Encode(nil, s.vals)
		if err != nil {
			return fmt.Errorf("securesession: encode session values: %w", err)
		}
		if s.token == "" {
			if len(enc) == 0 {
				s.dirty = false // nothing to store: no session is created
				return nil
			}
			if s.held {
				s.dirty = false // never replace a held bound session's cookie (bound.go)
				return nil
			}
			if !canSetCookie {
				return ErrHeadersWritten
			}
			rec := s.scratch()
			*rec = cfg.newRecord("", now)
			rec.Values = enc
			s.clientInfo(rec)
			tok, err := m.b.Create(ctx, s.name, rec)
			if err != nil {
				return classify("create", err)
			}
			s.token, s.rec, s.dirty = tok, *rec, false
			s.setCookie(tok, now)
			cfg.emit(ctx, Event{Kind: EventCreated, Session: shortHandle(rec.Handle)})
			return nil
		}
		rec := s.scratch()
		rec.Values = enc
		cfg.seen(rec, now)
		rec.Reissue = false
		tok, err := m.b.Update(ctx, s.name, s.token, rec)
		if err != nil {
			return s.writeFailed("update", err, canSetCookie)
		}
		s.dirty = false
		return s.adopt(tok, *rec, canSetCookie)
	case s.token != "" && (s.rec.Reissue || (s.accessed && cfg.touchDue(&s.rec, now))):
		rec := s.scratch()
		cfg.seen(rec, now)
		rec.Reissue = false
		tok, err := m.b.Touch(ctx, s.name, s.token, rec)
		if err != nil {
			return s.writeFailed("touch", err, canSetCookie)
		}
		return s.adopt(tok, *rec, canSetCookie)
	}
	return nil
}

// settle writes a pending rotation now, for a caller that returns the
// outcome to the handler (Login under a refusing limit, Rotate,
// LoginToken, LogoutEverywhere). After a failure the handler answers it,
// as after a failed Save: the automatic save must not write the rotation
// behind that answer.
func (s *session) settle() error {
	if s.pending == nil {
		return nil
	}
	err := s.writePending(!s.w.Written())
	if err != nil && s.pending != nil && s.phase == phaseOpen {
		s.phase = phaseRefused
	}
	return err
}

// writePending stores the rotated record under a fresh token, deleting the
// record of the token it replaces, and sends the new token.
func (s *session) writePending(canSetCookie bool) error {
	p := s.pending
	if !canSetCookie {
		return ErrHeadersWritten
	}
	m := s.m
	cfg := m.cfg
	now := s.now()
	enc, err := values.Encode(nil, s.vals)
	if err != nil {
		return fmt.Errorf("securesession: %s: encode session values: %w", p.op, err)
	}
	rec := s.scratch()
	rec.Values = enc
	cfg.seen(rec, now)
	s.clientInfo(rec)
	offer := s.offerBinding(rec, p.op)
	ctx := s.c.Request.Context()
	var tok string
	limited := m.limiter != nil && cfg.limit.Max > 0 && p.op == "login"
	if p.oldToken != "" {
		rec.Opaque = p.oldOpaque
		if limited {
			tok, err = m.limiter.LoginLimited(ctx, s.name, p.oldToken, rec, cfg.limit)
		} else {
			tok, err = m.b.Rotate(ctx, s.name, p.oldToken, rec)
		}
		switch {
		case errors.Is(err, ErrTooManySessions):
			return s.refuseLogin(err)
		case errors.Is(err, ErrNoRecord) && p.op == "login":
			// The pre-login session ended meanwhile; the user has just
			// authenticated, so the login stands on a new session.
			rec.Opaque = nil
			p.oldToken = ""
		case errors.Is(err, ErrNoRecord):
			// Logged out or revoked while this request ran: rotating must
			// not bring the session back under a new token.
			cfg.emit(ctx, Event{Kind: EventUnknown, Session: shortHandle(p.oldHandle), UserID: rec.UserID, Reason: "ended during the request"})
			s.reset()
			s.expireCookie(now)
			return fmt.Errorf("securesession: %s: %w", p.op, err)
		case err != nil:
			return classify("rotate", err)
		}
	}
	if p.oldToken == "" {
		if limited {
			tok, err = m.limiter.LoginLimited(ctx, s.name, "", rec, cfg.limit)
		} else {
			tok, err = m.b.Create(ctx, s.name, rec)
		}
		switch {
		case errors.Is(err, ErrTooManySessions):
			return s.refuseLogin(err)
		case err != nil:
			return classify("create", err)
		}
	}
	s.pending = nil
	s.token, s.rec, s.dirty = tok, *rec, false
	s.setCookie(tok, now)
	s.sendOffer(offer)
	kind := EventRotated
	if p.oldHandle == "" {
		kind = EventCreated
	}
	cfg.emit(ctx, Event{Kind: kind, Session: shortHandle(rec.Handle), UserID: rec.UserID, Reason: p.op})
	return nil
}

// refuseLogin undoes a pending login that the session limit refused: the
// request's session is again the one it was before Login, and nothing was
// written.
func (s *session) refuseLogin(err error) error {
	p, user := s.pending, s.rec.UserID
	s.pending = nil
	s.token, s.rec, s.vals, s.dirty = p.oldToken, p.oldRec, p.oldVals, p.oldDirty
	s.m.cfg.emit(s.c.Request.Context(), Event{Kind: EventLoginRefused, Session: shortHandle(p.oldHandle), UserID: user, Reason: "session limit"})
	return fmt.Errorf("securesession: login: %w", err)
}

// scratch returns s.next holding a copy of s.rec: the record a write
// changes and passes to the backend, so that it need not be allocated for
// every write, while s.rec stays as it was if the write fails.
func (s *session) scratch() *Record {
	s.next = s.rec
	return &s.next
}

// adopt records the token and record a backend returned after a write and
// sends the cookie if the token changed (the cookie backend re-seals).
func (s *session) adopt(tok string, rec Record, canSetCookie bool) error {
	changed := tok != s.token
	s.token, s.rec = tok, rec
	if changed || s.maxAge != 0 {
		if !canSetCookie {
			return ErrHeadersWritten
		}
		s.setCookie(tok, s.now())
	}
	return nil
}

// writeFailed handles an Update or Touch error. ErrNoRecord means the
// session was logged out or revoked while this request ran: the change is
// dropped, the session is not re-created, and the cookie is expired.
func (s *session) writeFailed(op string, err error, canSetCookie bool) error {
	if !errors.Is(err, ErrNoRecord) {
		return classify(op, err)
	}
	s.m.cfg.emit(s.c.Request.Context(), Event{Kind: EventUnknown, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Reason: "ended during the request"})
	s.reset()
	if canSetCookie {
		s.expireCookie(s.now())
	}
	if op == "update" {
		return fmt.Errorf("securesession: save: %w", err)
	}
	return nil
}

// classify wraps a backend error: ErrTooLarge and ErrNoRecord pass
// through (wrapped), everything else becomes a *BackendError.
func classify(op string, err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNoRecord) {
		return fmt.Errorf("securesession: %s: %w", op, err)
	}
	return backendErr(op, err)
}

// fail reports an error from the automatic save.
func (s *session) fail(err error) {
	cfg := s.m.cfg
	if errors.Is(err, ErrNoRecord) {
		return // handled: the session ended during the request
	}
	var be *BackendError
	if errors.As(err, &be) {
		cfg.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle), Err: err})
	} else {
		err = s.explainSaveError(err)
		cfg.emit(s.c.Request.Context(), Event{Kind: EventSaveFailed, Session: shortHandle(s.rec.Handle), Err: err})
	}
	if s.c.Writer.Written() {
		_ = s.c.Error(err) // too late for another status; gin's error list has it
		return
	}
	s.phase = phaseErrorHandler
	cfg.errorHandler(s.c, err)
	s.phase = phaseFailed
	s.c.Abort()
}

// logout deletes the session's records (the current one and the one a
// pending rotation replaces) and expires the cookie.
func (s *session) logout() error { return s.end(false) }

// end is logout; revoked says the backend's RevokeUser has just ended
// every session of the user, this one included (the Backend contract),
// so there is no record left to delete and no round trip is spent on it.
func (s *session) end(revoked bool) error {
	m := s.m
	cfg := m.cfg
	ctx := s.c.Request.Context()
	old := s.rec
	for _, tok := range []string{s.token, s.pendingOldToken()} {
		if tok == "" || revoked {
			continue
		}
		err := m.b.Delete(ctx, s.name, tok)
		if err != nil && !errors.Is(err, ErrCannotRevoke) {
			return backendErr("delete", err)
		}
	}
	now := s.now()
	had := s.token != "" || s.carried || s.pending != nil
	s.reset()
	s.held = false
	if had {
		s.expireCookie(now)
		s.expireBound()
		if cfg.clearSiteDataHdr != "" {
			s.w.ResponseWriter.Header().Set("Clear-Site-Data", cfg.clearSiteDataHdr)
		}
	}
	if old.Handle != "" || old.UserID != "" {
		cfg.emit(ctx, Event{Kind: EventLoggedOut, Session: shortHandle(old.Handle), UserID: old.UserID})
	}
	return nil
}

// dropExpired deletes the record of an expired session. The record is
// refused either way; a failure only delays its removal, so it is
// reported and not fatal.
func (s *session) dropExpired(tok string, rec *Record) {
	m := s.m
	ctx := s.c.Request.Context()
	if err := m.b.Delete(ctx, s.name, tok); err != nil && !errors.Is(err, ErrCannotRevoke) {
		m.cfg.emit(ctx, Event{Kind: EventBackendError, Session: shortHandle(rec.Handle), Err: backendErr("delete", err)})
	}
}
