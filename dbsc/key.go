package dbsc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Limits on the keys this package accepts.
const (
	// MaxJWKSize is the largest jwk header member accepted, in bytes of
	// JSON, checked before the key is parsed. A canonical 4096-bit RSA JWK
	// is about 720 bytes; a P-256 one about 130.
	MaxJWKSize = 2 << 10

	// MinRSABits and MaxRSABits bound an RS256 key's modulus. Below 2048
	// bits RSA is too weak; above 4096 a key only costs verification time.
	MinRSABits = 2048
	MaxRSABits = 4096
)

// PublicKey is a verified DBSC public key: a P-256 key for ES256 or an
// RSA key of MinRSABits to MaxRSABits bits with a public exponent of at
// least 65537 for RS256. Get one from [VerifyRegistration] (the key the
// browser registered) or [ParsePublicKey] (the stored form). A PublicKey
// is immutable and safe for concurrent use.
type PublicKey struct {
	alg   Algorithm
	ec    *ecdsa.PublicKey
	rsa   *rsa.PublicKey
	jwk   string // canonical RFC 7638 JSON: the stored form
	thumb string
}

// Algorithm returns ES256 or RS256.
func (k *PublicKey) Algorithm() Algorithm { return k.alg }

// JWK returns the key's storable form: its canonical JWK JSON as RFC 7638
// defines it (only the required members, in lexical order, no
// whitespace), for example
//
//	{"crv":"P-256","kty":"EC","x":"…","y":"…"}
//
// Store it with the session record and read it back with
// [ParsePublicKey]. It is public, not a secret, but it identifies the
// device, so treat it like other personal data.
func (k *PublicKey) JWK() []byte { return []byte(k.jwk) }

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the key in
// base64url without padding (43 characters): a stable, compact key
// identifier, safe to log, for "this device" lists or to compare keys.
func (k *PublicKey) Thumbprint() string { return k.thumb }

// Equal reports whether k and x are the same key.
func (k *PublicKey) Equal(x *PublicKey) bool {
	return k != nil && x != nil && k.jwk == x.jwk
}

// Public returns a copy of the key as an *ecdsa.PublicKey or an
// *rsa.PublicKey.
func (k *PublicKey) Public() crypto.PublicKey {
	if k.ec != nil {
		b, _ := k.ec.Bytes()
		pub, _ := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
		return pub
	}
	return &rsa.PublicKey{N: new(big.Int).Set(k.rsa.N), E: k.rsa.E}
}

// ParsePublicKey parses the stored form that [PublicKey.JWK] returned. It
// accepts only that exact canonical encoding and applies every check a
// registration does. An error here means the stored data is corrupt: it
// is reported as a programming or storage error and does not wrap
// ErrInvalidProof.
func ParsePublicKey(jwk []byte) (*PublicKey, error) {
	if len(jwk) > MaxJWKSize {
		return nil, fmt.Errorf("dbsc: stored public key is over %d bytes", MaxJWKSize)
	}
	k, err := parseJWK(jwk, "")
	if err != nil {
		return nil, fmt.Errorf("dbsc: stored public key is unusable (%s)", ReasonOf(err))
	}
	if k.jwk != string(jwk) {
		return nil, fmt.Errorf("dbsc: stored public key is not in canonical form")
	}
	return k, nil
}

// privateMembers are JWK members that only a private or symmetric key
// has. A client that sends one is broken or probing; the key is refused
// and nothing of it is stored.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK parses an untrusted JWK strictly. want is the alg from the JWS
// header, or "" to take the algorithm from the key type. Errors are
// ReasonBadKey; the caller has bounded len(data).
func parseJWK(data []byte, want Algorithm) (*PublicKey, error) {
	var kty, crv, x, y, n, e, alg, use string
	var hasKty, hasCrv, hasX, hasY, hasN, hasE bool
	err := members(data, func(name string, v json.RawMessage) error {
		if slices.Contains(privateMembers, name) {
			return errPrivate
		}
		var dst *string
		switch name {
		case "kty":
			dst, hasKty = &kty, true
		case "crv":
			dst, hasCrv = &crv, true
		case "x":
			dst, hasX = &x, true
		case "y":
			dst, hasY = &y, true
		case "n":
			dst, hasN = &n, true
		case "e":
			dst, hasE = &e, true
		case "alg":
			dst = &alg
		case "use":
			dst = &use
		default:
			return nil // kid, key_ops, ext…: not security-relevant here
		}
		s, ok := jsonString(v)
		if !ok {
			return errNotObject
		}
		*dst = s
		return nil
	})
	if err == errPrivate {
		return nil, invalid(ReasonBadKey, "jwk has private key members")
	}
	if err != nil {
		return nil, invalid(ReasonBadKey, "jwk is not a well-formed JSON object")
	}
	if use != "" && use != "sig" {
		return nil, invalid(ReasonBadKey, `jwk "use" is not "sig"`)
	}
	var k *PublicKey
	switch {
	case hasKty && kty == "EC" && !hasN && !hasE:
		if !hasCrv || crv != "P-256" || !hasX || !hasY {
			return nil, invalid(ReasonBadKey, "EC jwk is not P-256 with x and y")
		}
		k, err = parseECKey(x, y)
	case hasKty && kty == "RSA" && !hasCrv && !hasX && !hasY:
		if !hasN || !hasE {
			return nil, invalid(ReasonBadKey, "RSA jwk lacks n or e")
		}
		k, err = parseRSAKey(n, e)
	default:
		return nil, invalid(ReasonBadKey, "jwk is not an EC or RSA public key")
	}
	if err != nil {
		return nil, err
	}
	if want != "" && k.alg != want {
		return nil, invalid(ReasonBadKey, "jwk key type does not match alg")
	}
	if alg != "" && Algorithm(alg) != k.alg {
		return nil, invalid(ReasonBadKey, `jwk "alg" does not match the key type`)
	}
	return k, nil
}

var errPrivate = errors.New("private member")

func parseECKey(x, y string) (*PublicKey, error) {
	xb, ok1 := decodeB64(x)
	yb, ok2 := decodeB64(y)
	// RFC 7518 §6.2.1.2: each coordinate is exactly the field size.
	if !ok1 || !ok2 || len(xb) != 32 || len(yb) != 32 {
		return nil, invalid(ReasonBadKey, "EC jwk coordinates are not 32-byte canonical base64url")
	}
	pt := make([]byte, 0, 65)
	pt = append(append(append(pt, 4), xb...), yb...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
	if err != nil {
		return nil, invalid(ReasonBadKey, "EC jwk point is not on P-256")
	}
	canon := `{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`
	return newKey(ES256, pub, nil, canon), nil
}

func parseRSAKey(n, e string) (*PublicKey, error) {
	// Bound the encoded length before decoding.
	if len(n) > (MaxRSABits/8*4+2)/3 || len(e) > 8 {
		return nil, invalid(ReasonBadKey, "RSA jwk is larger than 4096 bits")
	}
	nb, ok1 := decodeB64(n)
	eb, ok2 := decodeB64(e)
	// RFC 7518 §2 Base64urlUInt: the minimum number of octets, so no
	// leading zero octet.
	if !ok1 || !ok2 || len(nb) == 0 || nb[0] == 0 || len(eb) == 0 || eb[0] == 0 {
		return nil, invalid(ReasonBadKey, "RSA jwk n or e is not minimal canonical base64url")
	}
	N := new(big.Int).SetBytes(nb)
	if bits := N.BitLen(); bits < MinRSABits || bits > MaxRSABits || N.Bit(0) == 0 {
		return nil, invalid(ReasonBadKey, "RSA modulus is not an odd number of 2048 to 4096 bits")
	}
	if len(eb) > 4 {
		return nil, invalid(ReasonBadKey, "RSA exponent out of range")
	}
	var E int64
	for _, c := range eb {
		E = E<<8 | int64(c)
	}
	// FIPS 186-5 requires 2^16 < e; Go needs e to fit an int32. Every
	// platform key provider uses 65537.
	if E < 65537 || E > 1<<31-1 || E&1 == 0 {
		return nil, invalid(ReasonBadKey, "RSA exponent is not an odd number from 65537 to 2^31-1")
	}
	canon := `{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`
	return newKey(RS256, nil, &rsa.PublicKey{N: N, E: int(E)}, canon), nil
}

func newKey(alg Algorithm, ec *ecdsa.PublicKey, r *rsa.PublicKey, canon string) *PublicKey {
	sum := sha256.Sum256([]byte(canon))
	return &PublicKey{alg: alg, ec: ec, rsa: r, jwk: canon, thumb: b64.EncodeToString(sum[:])}
}
