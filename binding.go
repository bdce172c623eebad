package securesession

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/big"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/internal/cookiehdr"
	"github.com/gin-securesession/securesession/internal/wire"
)

// This file holds the DBSC binding kept in Record.Binding and the headers
// a login's write sends for it; bound.go serves the registration and
// refresh endpoints and checks every request to a bound session. The
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
