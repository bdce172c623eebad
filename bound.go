package securesession

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/internal/cachehdr"
	"github.com/gin-securesession/securesession/internal/cookiehdr"
)

// This file is the middleware's side of DBSC at request time: the check
// of every request to a bound session and the registration and refresh
// endpoints. The binding itself, and what a login's write sends for it, is
// in binding.go; the protocol (headers, proofs, keys) is package dbsc.

// bindRequest runs for every request when DBSC is on, after the session
// is loaded and before the handlers. It serves the registration and
// refresh endpoints (and then reports true: the request is answered), and
// otherwise checks the bound cookie of a bound session.
func (s *session) bindRequest() bool {
	bc := s.m.cfg.bind
	r := s.c.Request
	if r.Method == http.MethodPost && !s.viaHeader {
		switch r.URL.Path {
		case bc.register:
			s.serveRegister()
			return true
		case bc.refresh:
			s.serveRefresh()
			return true
		}
	}
	if s.token == "" || len(s.rec.Binding) == 0 || s.viaHeader {
		return false
	}
	s.checkBinding()
	return false
}

// checkBinding decides whether a request to a session with a binding
// stays authenticated.
func (s *session) checkBinding() {
	cfg := s.m.cfg
	now := s.now()
	b, err := decodeBinding(s.rec.Binding)
	if err != nil {
		// Whether the session is bound cannot be told: fail closed.
		s.bindEvent(EventBackendError, "", backendErr("decode", err))
		s.hold("binding unreadable")
		return
	}
	v, has := cookiehdr.Get(s.c.Request.Header, cfg.bind.cookieName)
	if !has {
		if b.isRegistered() && !now.Before(b.registered.Add(registrationGrace)) {
			s.hold("bound cookie missing")
		}
		return
	}
	ck, why := b.checkBound(v, now)
	switch {
	case why != "" && b.isRegistered():
		s.hold(why)
	case why != "":
		// Offered, and a bound cookie that does not verify: a stale
		// cookie from an earlier login. The session is not bound.
	case !b.isRegistered():
		// The registration was undone by a racing write; the cookie
		// proves it happened and carries the key back.
		if key, err := parseCompactKey(ck); err == nil && s.heal(b, key) {
			s.bound = true
		}
	default:
		s.bound = true
	}
}

// hold makes the request anonymous without touching the record: the
// session cookie alone does not authenticate a bound session, but the
// device can still refresh its bound cookie. Nothing the handlers store
// creates a new session that would replace the browser's session cookie;
// a Login still does.
func (s *session) hold(why string) {
	s.bindEvent(EventBoundRefused, why, nil)
	s.reset()
	s.held = true
}

func (s *session) bindEvent(kind EventKind, reason string, err error) {
	s.m.cfg.emit(s.c.Request.Context(), Event{Kind: kind, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Reason: reason, Err: err})
}

// heal stores key as registered, found in a valid bound cookie of a
// session whose registration a racing write undid.
func (s *session) heal(b *binding, key *dbsc.PublicKey) bool {
	b.key, b.registered = key.JWK(), s.now()
	if err := s.writeBinding(b); err != nil {
		return false
	}
	s.bindEvent(EventBound, "restored from the bound cookie", nil)
	return true
}

// writeBinding stores b in the session's record with one Update (the
// values are written back as they were read, never re-encoded) and sends
// the session cookie again if the backend re-sealed it.
func (s *session) writeBinding(b *binding) error {
	m := s.m
	rec := s.rec
	rec.Binding = b.encode()
	if b.isRegistered() && m.cfg.bind.absolute != m.cfg.absolute && !m.cfg.remembered(&rec) {
		rec.Deadline = rec.Created.Add(m.cfg.bind.absolute) // a remembered session keeps its own (lifecycle.go)
	}
	m.cfg.seen(&rec, s.now())
	rec.Reissue = false
	tok, err := m.b.Update(s.c.Request.Context(), s.name, s.token, &rec)
	if err != nil {
		if errors.Is(err, ErrNoRecord) {
			s.reset()
		}
		return err
	}
	return s.adopt(tok, rec, true)
}

// offerNow offers a registration to the logged-in, unbound session of
// this request (for RequireDeviceBound) and reports whether it did.
func (s *session) offerNow() bool {
	bc := s.m.cfg.bind
	if s.pending != nil || s.w.Written() || s.viaHeader || !s.m.cfg.secure(s.tr) {
		return false
	}
	b := bc.newOffer(s.now())
	if len(s.rec.Binding) > 0 {
		old, err := decodeBinding(s.rec.Binding)
		if err != nil || old.isRegistered() {
			return false // bound already: the device must refresh, not register
		}
		b.id, b.seed = old.id, old.seed // keep cookies from a registration in flight valid
	}
	if err := s.writeBinding(b); err != nil {
		s.report(classify("update", err))
		return false
	}
	s.sendOffer(bc.registrationHeader(b))
	return true
}

// serveRegister answers the browser's registration POST: it verifies the
// proof against the challenge the login response offered, stores the key
// (clearing the challenge in the same write, so that it is used once) and
// answers with the bound cookie and the session configuration.
func (s *session) serveRegister() {
	bc := s.m.cfg.bind
	now := s.now()
	fail := func(status int, msg string) {
		s.c.Header("Cache-Control", "no-store")
		s.c.String(status, msg+"\n")
	}
	if s.token == "" || len(s.rec.Binding) == 0 {
		fail(http.StatusBadRequest, "no session offered a registration")
		return
	}
	b, err := decodeBinding(s.rec.Binding)
	if err != nil || b.isRegistered() || b.challenge.IsZero() {
		fail(http.StatusBadRequest, "no registration is outstanding for this session")
		return
	}
	key, err := dbsc.VerifyRegistration(s.c.Request.Header.Get(dbsc.HeaderResponse), b.challenge, now)
	if err != nil {
		s.bindEvent(EventBoundProofRefused, "register: "+string(dbsc.ReasonOf(err)), nil)
		fail(http.StatusBadRequest, "registration refused")
		return
	}
	b.key, b.registered = key.JWK(), now
	b.challenge = dbsc.NewChallengeWithLifetime(now, bc.challenge+bc.lifetime) // sent ahead
	if err := s.writeBinding(b); err != nil {
		s.bindFailed(err)
		return
	}
	cfg, err := json.Marshal(dbsc.SessionConfig{
		SessionIdentifier: b.id,
		RefreshURL:        bc.refresh,
		Scope:             dbsc.Scope{IncludeSite: false},
		Credentials:       []dbsc.Credential{bc.cred},
	})
	if err != nil {
		s.bindFailed(fmt.Errorf("securesession: DBSC session config: %w", err))
		return
	}
	s.issueBound(b, key, now)
	s.bindEvent(EventBound, "registered "+string(key.Algorithm()), nil)
	s.c.Data(http.StatusOK, "application/json", cfg)
}

// issueBound sets a fresh bound cookie and sends the outstanding
// challenge ahead, so that the next refresh is one signed POST.
func (s *session) issueBound(b *binding, key *dbsc.PublicKey, now time.Time) {
	bc := s.m.cfg.bind
	h := s.w.ResponseWriter.Header()
	if line, err := bc.cookie.SetCookie(b.boundValue(key, now.Add(bc.lifetime)), now); err == nil {
		cookiehdr.Replace(h, bc.cookieName, line)
	}
	if v, err := dbsc.FormatChallenge(b.challenge, b.id); err == nil {
		h.Set(dbsc.HeaderChallenge, v)
	}
	cachehdr.NoStore(h)
}

// serveRefresh answers a refresh POST. Without a proof, or with a valid
// signature over a stale challenge (two tabs), it answers 403 with a fresh
// challenge; with a valid proof it issues a new bound cookie; for a
// session that no longer exists, or another DBSC session than the
// record's, it answers {"continue":false}, which ends the DBSC session in
// the browser. It never answers 401, which would end it too.
func (s *session) serveRefresh() {
	bc := s.m.cfg.bind
	now := s.now()
	req := s.c.Request
	id, err := dbsc.ParseSessionID(req.Header.Get(dbsc.HeaderSessionID))
	var b *binding
	if err == nil && s.token != "" && len(s.rec.Binding) > 0 {
		b, _ = decodeBinding(s.rec.Binding)
	}
	if b == nil || b.id != id {
		s.endRefresh(b == nil)
		return
	}
	if !b.isRegistered() {
		// A racing write undid the registration; the bound cookie, if
		// the browser still sends it, brings the key back.
		if v, ok := cookiehdr.Get(req.Header, bc.cookieName); ok {
			if ck, why := b.checkBound(v, now); why == "" {
				if key, err := parseCompactKey(ck); err == nil {
					b.key, b.registered = key.JWK(), now
				}
			}
		}
		if !b.isRegistered() {
			s.endRefresh(false)
			return
		}
	}
	key, err := dbsc.ParsePublicKey(b.key)
	if err != nil {
		s.bindFailed(backendErr("decode", err))
		return
	}
	proof := req.Header.Get(dbsc.HeaderResponse)
	if proof != "" {
		err = dbsc.VerifyRefresh(proof, key, b.challenge, now)
		if err == nil {
			b.challenge = dbsc.NewChallengeWithLifetime(now, bc.challenge+bc.lifetime)
			if err := s.writeBinding(b); err != nil {
				s.bindFailed(err)
				return
			}
			s.issueBound(b, key, now)
			s.bindEvent(EventBoundRefreshed, "", nil)
			s.c.Status(http.StatusOK)
			return
		}
		var pe *dbsc.ProofError
		if !errors.As(err, &pe) || !pe.Retryable() {
			s.bindEvent(EventBoundProofRefused, "refresh: "+string(dbsc.ReasonOf(err)), nil)
		}
	}
	// No proof, a stale challenge, or a refused proof: a fresh challenge.
	// Only the device's key can answer it.
	b.challenge = dbsc.NewChallengeWithLifetime(now, bc.challenge)
	if err := s.writeBinding(b); err != nil {
		s.bindFailed(err)
		return
	}
	v, err := dbsc.FormatChallenge(b.challenge, b.id)
	if err != nil {
		s.bindFailed(err)
		return
	}
	h := s.c.Writer.Header()
	h.Set(dbsc.HeaderChallenge, v)
	h.Set("Cache-Control", "no-store")
	s.c.Status(http.StatusForbidden)
}

// endRefresh answers {"continue":false}. When the session itself is gone
// the bound cookie is expired too; for another DBSC session of a live
// session (one from before the latest login) it is left alone, since the
// current registration uses the same cookie name.
func (s *session) endRefresh(gone bool) {
	if gone {
		s.expireBound()
	}
	s.bindEvent(EventBoundRefused, "refresh of an ended device binding", nil)
	s.c.Header("Cache-Control", "no-store")
	s.c.Data(http.StatusOK, "application/json", []byte(dbsc.EndSessionBody))
}

// bindFailed answers an endpoint whose write failed: a session that ended
// meanwhile ends the DBSC session, anything else goes to the
// ErrorHandler (503 for an outage), which Chromium retries later.
func (s *session) bindFailed(err error) {
	if errors.Is(err, ErrNoRecord) {
		s.endRefresh(true)
		return
	}
	cfg := s.m.cfg
	if !errors.As(err, new(*BackendError)) {
		err = classify("update", err)
	}
	cfg.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle), Err: err})
	cfg.errorHandler(s.c, err)
}
