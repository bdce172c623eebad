package securesession

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/internal/cachehdr"
	"github.com/gin-securesession/securesession/internal/cookiehdr"
	"github.com/gin-securesession/securesession/internal/wire"
)

// This file is the middleware's side of DBSC: the binding kept in
// Record.Binding, the bound cookie, the registration and refresh
// endpoints, and the check of every request to a bound session. The
// protocol itself (headers, proofs, keys) is package dbsc.
//
// A binding goes through two states. At Login it is offered: the login
// response carries Secure-Session-Registration, and the record keeps the
// challenge, the DBSC session identifier and a per-session secret, the
// seed. When the browser registers, the record gains the key: from then
// on a request that carries the session cookie without a valid bound
// cookie is anonymous.
//
// The bound cookie needs no server key and no per-refresh state: its
// value is its expiry, the registered key and an HMAC of both under the
// seed. So a write racing a refresh (another tab's request, loaded
// before the refresh and saved after it) cannot invalidate the cookie
// just issued, and a write racing the registration, which can undo it
// (the cookie backend's stale re-sealed cookie arrives last), is healed by
// the next request: its bound cookie proves the registration and carries
// the key back into the record.

// bindingVersion is the first byte of an encoded binding.
const bindingVersion = 1

// seedLen is the size of the per-session secret that authenticates bound
// cookies.
const seedLen = 32

// binding is the decoded Record.Binding.
type binding struct {
	id         string // the DBSC session identifier
	seed       []byte // seedLen random bytes: the bound cookie's HMAC key
	key        []byte // the registered key's canonical JWK; nil while offered
	registered time.Time
	challenge  dbsc.Challenge // the outstanding one, or zero
}

func (b *binding) isRegistered() bool { return len(b.key) > 0 }

func (b *binding) encode() []byte {
	out := make([]byte, 0, 1+len(b.id)+len(b.seed)+len(b.key)+len(b.challenge.Value)+32)
	out = append(out, bindingVersion)
	out = wire.AppendString(out, b.id)
	out = wire.AppendBytes(out, b.seed)
	out = wire.AppendBytes(out, b.key)
	out = wire.AppendTime(out, b.registered)
	out = wire.AppendString(out, b.challenge.Value)
	return wire.AppendTime(out, b.challenge.Expires)
}

var errBadBinding = errors.New("stored device binding is malformed")

func decodeBinding(p []byte) (*binding, error) {
	if len(p) == 0 || p[0] != bindingVersion {
		return nil, errBadBinding
	}
	r := wire.NewReader(p[1:])
	b := &binding{id: r.String(), seed: r.Bytes(), key: r.Bytes(), registered: r.Time()}
	b.challenge.Value = r.String()
	b.challenge.Expires = r.Time()
	if r.Err() != nil || r.Len() != 0 || len(b.seed) != seedLen || b.id == "" {
		return nil, errBadBinding
	}
	if len(b.key) == 0 {
		b.key = nil
	}
	return b, nil
}

// bindingRegistered reports whether an encoded binding has a key.
func bindingRegistered(p []byte) bool {
	b, err := decodeBinding(p)
	return err == nil && b.isRegistered()
}

// newOffer returns the binding of a session whose login offers DBSC.
func (bc *bindConfig) newOffer(now time.Time) *binding {
	seed := make([]byte, seedLen)
	rand.Read(seed) // never fails
	return &binding{id: dbsc.NewSessionID(), seed: seed, challenge: dbsc.NewChallengeWithLifetime(now, bc.challenge)}
}

// The bound cookie's value is base64url(raw), where raw is
//
//	expiry (8 bytes, Unix seconds, big-endian) ‖ key ‖ HMAC-SHA256(seed, label ‖ id ‖ 0 ‖ expiry ‖ key)
//
// and key is the registered key in compact form: 'E' ‖ x ‖ y for P-256,
// 'R' ‖ len(e) ‖ e ‖ n for RSA. Nothing in it is secret; the HMAC makes it
// unforgeable without the seed.
const boundLabel = "securesession dbsc bound cookie v1\x00"

var b64 = base64.RawURLEncoding

func (b *binding) mac(expiry, key []byte) []byte {
	m := hmac.New(sha256.New, b.seed)
	m.Write([]byte(boundLabel))
	m.Write([]byte(b.id))
	m.Write([]byte{0})
	m.Write(expiry)
	m.Write(key)
	return m.Sum(nil)
}

// boundValue returns the bound cookie value for key that expires at exp.
func (b *binding) boundValue(key *dbsc.PublicKey, exp time.Time) string {
	// Rounded up to the second: the browser counts Max-Age from when it
	// receives the cookie, so the server never refuses a cookie the
	// browser still holds for valid.
	secs := exp.Unix()
	if exp.After(time.Unix(secs, 0)) {
		secs++
	}
	raw := binary.BigEndian.AppendUint64(nil, uint64(secs))
	raw = appendCompactKey(raw, key)
	raw = append(raw, b.mac(raw[:8], raw[8:])...)
	return b64.EncodeToString(raw)
}

// maxBoundValue bounds the bound cookie value read from a request: a
// 4096-bit RSA key in compact form is 517 bytes.
const maxBoundValue = 1024

// checkBound verifies a bound cookie value against b at now. It returns
// the key the cookie carries, in compact form, or a reason for refusing
// it. The HMAC authenticates the key under the session's seed, which only
// ever signs keys of this session's registrations, so a registered
// session needs no parse of it: the hot path is one HMAC.
func (b *binding) checkBound(v string, now time.Time) (compactKey []byte, why string) {
	if len(v) > maxBoundValue {
		return nil, "bound cookie malformed"
	}
	raw, err := b64.DecodeString(v)
	if err != nil || len(raw) < 8+1+sha256.Size {
		return nil, "bound cookie malformed"
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(sum, b.mac(body[:8], body[8:])) {
		return nil, "bound cookie invalid"
	}
	if exp := int64(binary.BigEndian.Uint64(body[:8])); now.Unix() >= exp {
		return nil, "bound cookie expired"
	}
	return body[8:], ""
}

func appendCompactKey(out []byte, k *dbsc.PublicKey) []byte {
	switch pub := k.Public().(type) {
	case *ecdsa.PublicKey:
		pt, _ := pub.Bytes() // 0x04 ‖ x ‖ y for a valid P-256 key
		return append(append(out, 'E'), pt[1:]...)
	case *rsa.PublicKey:
		e := big.NewInt(int64(pub.E)).Bytes()
		out = append(out, 'R', byte(len(e)))
		return append(append(out, e...), pub.N.Bytes()...)
	}
	return out
}

func parseCompactKey(p []byte) (*dbsc.PublicKey, error) {
	var jwk string
	switch {
	case len(p) == 65 && p[0] == 'E':
		jwk = `{"crv":"P-256","kty":"EC","x":"` + b64.EncodeToString(p[1:33]) + `","y":"` + b64.EncodeToString(p[33:]) + `"}`
	case len(p) > 2 && p[0] == 'R' && int(p[1]) > 0 && len(p) > 2+int(p[1]):
		e, n := p[2:2+int(p[1])], p[2+int(p[1]):]
		jwk = `{"e":"` + b64.EncodeToString(e) + `","kty":"RSA","n":"` + b64.EncodeToString(n) + `"}`
	default:
		return nil, errBadBinding
	}
	return dbsc.ParsePublicKey([]byte(jwk))
}

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

// offerBinding is called by a Login's write: it gives the new record an
// offered binding and returns the Secure-Session-Registration value to
// send once the write succeeds, or "" when DBSC is off or cannot work for
// this request.
func (s *session) offerBinding(rec *Record, op string) string {
	bc := s.m.cfg.bind
	if bc == nil || op != "login" || s.viaHeader || !s.m.cfg.secure(s.tr) {
		// Plain-HTTP development (InsecureAllowHTTP) cannot bind: DBSC
		// needs HTTPS and the bound cookie is always Secure.
		return ""
	}
	b := bc.newOffer(s.now())
	rec.Binding = b.encode()
	return bc.registrationHeader(b)
}

func (bc *bindConfig) registrationHeader(b *binding) string {
	v, err := dbsc.FormatRegistration(dbsc.Registration{Path: bc.register, Algorithms: bc.algs, Challenge: b.challenge})
	if err != nil {
		return "" // the path and algorithms were checked by New
	}
	return v
}

// sendOffer puts the registration header on the response.
func (s *session) sendOffer(v string) {
	if v != "" {
		s.w.ResponseWriter.Header().Set(dbsc.HeaderRegistration, v)
	}
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

// expireBound deletes the bound cookie, with the attributes it was issued
// with, when the session ends.
func (s *session) expireBound() {
	bc := s.m.cfg.bind
	if bc == nil || s.viaHeader {
		return
	}
	if line, err := bc.cookie.Expire(); err == nil {
		cookiehdr.Replace(s.w.ResponseWriter.Header(), bc.cookieName, line)
	}
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
