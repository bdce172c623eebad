package dbsc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"time"
)

// MaxProofSize is the longest proof (the Secure-Session-Response header
// value, without surrounding quotes) accepted, in bytes, checked before
// anything is decoded. A registration proof with a 4096-bit RSA jwk is
// under 2 KiB.
const MaxProofSize = 8 << 10

// proofType is the only typ a DBSC proof may carry.
const proofType = "dbsc+jwt"

// proof is a decoded, not yet verified, DBSC JWS.
type proof struct {
	alg          Algorithm
	jwk          json.RawMessage // nil when the header has none
	jti          string
	signingInput string // header.payload, as received
	sig          []byte
}

// VerifyRegistration verifies the proof a browser sends to the
// registration endpoint, the value of its Secure-Session-Response header
// (bare, as Chromium 156 sends it, or in double quotes), against ch, the
// challenge sent in the Secure-Session-Registration header, at time now.
// On success it returns the key the browser registered, to be stored with
// the session (see [PublicKey.JWK]); the caller must clear ch from the
// record atomically with storing the key, so that the challenge is used
// once.
//
// The proof is a compact JWS whose protected header is
// {"alg":"ES256"|"RS256","jwk":{…},"typ":"dbsc+jwt"} and whose payload is
// {"jti":"<challenge>"}; the signature is checked with the key in jwk, and
// only then the challenge. Every refusal is a *[ProofError] wrapping
// ErrInvalidProof.
//
// VerifyRegistration is safe for concurrent use.
func VerifyRegistration(header string, ch Challenge, now time.Time) (*PublicKey, error) {
	p, err := parseProof(header)
	if err != nil {
		return nil, err
	}
	if p.jwk == nil {
		return nil, invalid(ReasonBadKey, "registration proof has no jwk")
	}
	key, err := parseJWK(p.jwk, p.alg)
	if err != nil {
		return nil, err
	}
	if err := key.verify(p.signingInput, p.sig); err != nil {
		return nil, err
	}
	if err := ch.Check(p.jti, now); err != nil {
		return nil, err
	}
	return key, nil
}

// VerifyRefresh verifies the proof a browser sends on a refresh retry, the
// value of its Secure-Session-Response header, against the key stored at
// registration and ch, the challenge sent in the 403's
// Secure-Session-Challenge header (or ahead of time), at time now. The
// caller must clear ch from the record atomically with accepting the
// proof.
//
// Chromium 156's refresh proof header is {"alg":…,"typ":"dbsc+jwt"} with
// no jwk; if a jwk is present it must be the stored key. The alg must be
// the stored key's: a proof cannot switch an EC key to RS256, or any key
// to HS256. The signature is checked before the challenge, so a
// *ProofError whose Retryable method reports true means the device holds
// the key and only needs a fresh challenge.
//
// A nil key is a programming error (not ErrInvalidProof). VerifyRefresh
// is safe for concurrent use.
func VerifyRefresh(header string, key *PublicKey, ch Challenge, now time.Time) error {
	if key == nil {
		return errors.New("dbsc: VerifyRefresh: nil key")
	}
	p, err := parseProof(header)
	if err != nil {
		return err
	}
	if p.alg != key.alg {
		return invalid(ReasonBadAlg, "alg is not the registered key's algorithm")
	}
	if p.jwk != nil {
		k, err := parseJWK(p.jwk, p.alg)
		if err != nil {
			return err
		}
		if !k.Equal(key) {
			return invalid(ReasonBadKey, "jwk is not the registered key")
		}
	}
	if err := key.verify(p.signingInput, p.sig); err != nil {
		return err
	}
	return ch.Check(p.jti, now)
}

// parseProof splits and decodes a compact JWS, checking sizes first and
// then, in order, the header's alg, typ and crit, and the payload's jti.
// It does not verify the signature.
func parseProof(v string) (*proof, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) > MaxProofSize {
		return nil, invalid(ReasonOversized, "proof is over 8 KiB")
	}
	if v == "" {
		return nil, invalid(ReasonMalformed, "no proof")
	}
	h, rest, ok1 := strings.Cut(v, ".")
	pl, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return nil, invalid(ReasonMalformed, "not a compact JWS of three parts")
	}
	hb, ok := decodeB64(h)
	if !ok {
		return nil, invalid(ReasonMalformed, "header is not canonical unpadded base64url")
	}
	p := &proof{signingInput: v[:len(h)+1+len(pl)]}
	var alg, typ string
	var hasAlg, hasTyp, hasCrit, oversized, badType bool
	err := members(hb, func(name string, val json.RawMessage) error {
		switch name {
		case "alg":
			alg, hasAlg = jsonString(val)
			badType = badType || !hasAlg
		case "typ":
			typ, hasTyp = jsonString(val)
			badType = badType || !hasTyp
		case "crit":
			hasCrit = true
		case "jwk":
			if len(val) > MaxJWKSize {
				oversized = true
				return errors.New("stop")
			}
			p.jwk = val
		}
		return nil
	})
	if oversized {
		return nil, invalid(ReasonOversized, "jwk is over 2 KiB")
	}
	if err != nil || badType {
		return nil, invalid(ReasonMalformed, "header is not a JSON object of unique, well-typed members")
	}
	if !hasAlg || Algorithm(alg) != ES256 && Algorithm(alg) != RS256 {
		return nil, invalid(ReasonBadAlg, "alg is not ES256 or RS256")
	}
	p.alg = Algorithm(alg)
	if !hasTyp || typ != proofType {
		return nil, invalid(ReasonBadTyp, `typ is not "dbsc+jwt"`)
	}
	if hasCrit {
		// No JWS extension is understood here, so RFC 7515 §4.1.11
		// requires refusing any crit.
		return nil, invalid(ReasonMalformed, "crit header names an unsupported extension")
	}

	pb, ok := decodeB64(pl)
	if !ok {
		return nil, invalid(ReasonMalformed, "payload is not canonical unpadded base64url")
	}
	var hasJTI bool
	err = members(pb, func(name string, val json.RawMessage) error {
		if name == "jti" {
			if p.jti, hasJTI = jsonString(val); !hasJTI {
				return errNotObject
			}
		}
		// Chromium 156 sends only jti. aud, iat and authorization from
		// the W3C draft are not sent; if a later build adds them they
		// are ignored, which keeps this build and later ones working.
		return nil
	})
	if err != nil || !hasJTI {
		return nil, invalid(ReasonMalformed, "payload is not a JSON object with a jti string")
	}

	if p.sig, ok = decodeB64(s); !ok {
		return nil, invalid(ReasonMalformed, "signature is not canonical unpadded base64url")
	}
	return p, nil
}

// verify checks sig over input: for ES256 exactly 64 bytes r‖s (RFC 7518
// §3.4, not ASN.1 DER), for RS256 PKCS #1 v1.5 of the modulus's length.
func (k *PublicKey) verify(input string, sig []byte) error {
	h := sha256.Sum256([]byte(input))
	ok := false
	switch k.alg {
	case ES256:
		if len(sig) == 64 {
			r := new(big.Int).SetBytes(sig[:32])
			s := new(big.Int).SetBytes(sig[32:])
			ok = ecdsa.Verify(k.ec, h[:], r, s)
		}
	case RS256:
		ok = len(sig) == k.rsa.Size() && rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, h[:], sig) == nil
	}
	if !ok {
		return invalid(ReasonBadSignature, "signature does not verify under the key")
	}
	return nil
}
