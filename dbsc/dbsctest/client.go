package dbsctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"

	"github.com/gin-securesession/securesession/dbsc"
)

// Fault is a way for a Client to misbehave. The zero Fault is Honest.
type Fault int

// The faults a Client can be told to commit with [Client.With].
const (
	// Honest proofs are exactly what Chromium 156 sends.
	Honest Fault = iota
	// WrongKey signs with a second key of the same algorithm: at
	// registration the jwk still names the client's key, at refresh the
	// signer is not the registered device.
	WrongKey
	// WrongTyp sets typ to "JWT" instead of "dbsc+jwt".
	WrongTyp
	// TamperedHeader adds a kid member to the header after signing.
	TamperedHeader
	// TamperedPayload sends the current challenge with a signature made
	// over another one: an old signature pasted onto a fresh challenge.
	TamperedPayload
	// AlgNone sends alg "none" with an empty signature.
	AlgNone
	// HS256PublicKey sends alg "HS256" with an HMAC keyed by the public
	// key's DER encoding: the key-confusion attack on verifiers that let
	// the token pick the algorithm.
	HS256PublicKey
	// DERSignature sends an ES256 signature in ASN.1 DER rather than the
	// 64-byte r‖s JWS requires (a common client bug). RS256 clients
	// ignore it.
	DERSignature
)

var faultNames = []string{"Honest", "WrongKey", "WrongTyp", "TamperedHeader", "TamperedPayload", "AlgNone", "HS256PublicKey", "DERSignature"}

// String returns the Fault's name, such as "WrongKey".
func (f Fault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Client is the browser's side of DBSC: one device key. It is immutable
// (With returns a copy) and safe for concurrent use.
type Client struct {
	alg   dbsc.Algorithm
	key   crypto.Signer
	jwk   string
	fault Fault
	other *otherKey // shared by every copy made with With
}

// otherKey is the second key WrongKey signs with, generated on first use.
type otherKey struct {
	once sync.Once
	key  crypto.Signer
	err  error
}

// NewClient returns a Client with a fresh key: P-256 for ES256, 2048-bit
// RSA for RS256.
func NewClient(alg dbsc.Algorithm) (*Client, error) {
	key, err := generate(alg)
	if err != nil {
		return nil, err
	}
	return NewClientWithKey(key)
}

// NewClientWithKey returns a Client for an existing key: an
// *ecdsa.PrivateKey on P-256 (ES256) or an *rsa.PrivateKey (RS256). Reusing
// one key across tests saves RSA key generation.
func NewClientWithKey(key crypto.Signer) (*Client, error) {
	c := &Client{key: key, other: new(otherKey)}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("dbsctest: ECDSA key is not P-256")
		}
		pt, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("dbsctest: %w", err)
		}
		c.alg = dbsc.ES256
		c.jwk = `{"crv":"P-256","kty":"EC","x":"` + enc(pt[1:33]) + `","y":"` + enc(pt[33:]) + `"}`
	case *rsa.PrivateKey:
		c.alg = dbsc.RS256
		e := big.NewInt(int64(k.E)).Bytes()
		c.jwk = `{"e":"` + enc(e) + `","kty":"RSA","n":"` + enc(k.N.Bytes()) + `"}`
	default:
		return nil, fmt.Errorf("dbsctest: unsupported key type %T", key)
	}
	return c, nil
}

func generate(alg dbsc.Algorithm) (crypto.Signer, error) {
	switch alg {
	case dbsc.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case dbsc.RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("dbsctest: unsupported algorithm %q", alg)
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// With returns a copy of c, with the same key, that commits fault f in
// every proof it makes.
func (c *Client) With(f Fault) *Client {
	d := *c
	d.fault = f
	return &d
}

// Fault returns the fault c commits (Honest by default).
func (c *Client) Fault() Fault { return c.fault }

// Algorithm returns ES256 or RS256.
func (c *Client) Algorithm() dbsc.Algorithm { return c.alg }

// Public returns the client's public key.
func (c *Client) Public() crypto.PublicKey { return c.key.Public() }

// JWK returns the client's public key as canonical (RFC 7638) JWK JSON,
// as it appears in the registration proof.
func (c *Client) JWK() []byte { return []byte(c.jwk) }

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the client's key,
// base64url without padding.
func (c *Client) Thumbprint() string {
	sum := sha256.Sum256([]byte(c.jwk))
	return enc(sum[:])
}

// RegistrationProof returns the Secure-Session-Response value that
// registers the client's key for challenge: a JWS whose header carries the
// key as jwk.
func (c *Client) RegistrationProof(challenge string) (string, error) {
	return c.sign(challenge, true)
}

// RefreshProof returns the Secure-Session-Response value that answers
// challenge on a refresh: a JWS without jwk.
func (c *Client) RefreshProof(challenge string) (string, error) {
	return c.sign(challenge, false)
}

// AnswerRegistration answers a Secure-Session-Registration header value:
// it checks that the client's algorithm is offered and returns the path
// to POST and the proof to send there.
func (c *Client) AnswerRegistration(header string) (path, proof string, err error) {
	r, err := ParseRegistration(header)
	if err != nil {
		return "", "", err
	}
	if !slices.Contains(r.Algorithms, c.alg) {
		return "", "", fmt.Errorf("dbsctest: the server does not offer %s", c.alg)
	}
	proof, err = c.RegistrationProof(r.Challenge.Value)
	return r.Path, proof, err
}

// AnswerChallenge answers a Secure-Session-Challenge header value: it
// returns the session identifier it names and the refresh proof.
func (c *Client) AnswerChallenge(header string) (sessionID, proof string, err error) {
	ch, id, err := ParseChallenge(header)
	if err != nil {
		return "", "", err
	}
	proof, err = c.RefreshProof(ch)
	return id, proof, err
}

// jwsHeader has Chromium's member order.
type jwsHeader struct {
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk,omitempty"`
	Kid string          `json:"kid,omitempty"`
	Typ string          `json:"typ"`
}

func (c *Client) sign(challenge string, withJWK bool) (string, error) {
	h := jwsHeader{Alg: string(c.alg), Typ: "dbsc+jwt"}
	if withJWK {
		h.JWK = json.RawMessage(c.jwk)
	}
	signedJTI := challenge
	switch c.fault {
	case WrongTyp:
		h.Typ = "JWT"
	case AlgNone:
		h.Alg = "none"
	case HS256PublicKey:
		h.Alg = "HS256"
	case TamperedPayload:
		signedJTI = challenge + "-stale"
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	sent, err := json.Marshal(map[string]string{"jti": challenge})
	if err != nil {
		return "", err
	}
	signed, _ := json.Marshal(map[string]string{"jti": signedJTI})
	input := enc(hb) + "." + enc(signed)

	var sig []byte
	switch c.fault {
	case AlgNone:
	case HS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(c.key.Public())
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, der)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		key := c.key
		if c.fault == WrongKey {
			if key, err = c.other.get(c.alg); err != nil {
				return "", err
			}
		}
		if sig, err = signWith(key, input, c.fault == DERSignature); err != nil {
			return "", err
		}
	}
	if c.fault == TamperedHeader {
		h.Kid = "tampered"
		if hb, err = json.Marshal(h); err != nil {
			return "", err
		}
	}
	return enc(hb) + "." + enc(sent) + "." + enc(sig), nil
}

func (o *otherKey) get(alg dbsc.Algorithm) (crypto.Signer, error) {
	o.once.Do(func() { o.key, o.err = generate(alg) })
	return o.key, o.err
}

// signWith signs input with SHA-256: ECDSA as r‖s (or DER if der is
// set), RSA as PKCS #1 v1.5.
func signWith(key crypto.Signer, input string, der bool) ([]byte, error) {
	h := sha256.Sum256([]byte(input))
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if der {
			return ecdsa.SignASN1(rand.Reader, k, h[:])
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			return nil, err
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	case *rsa.PrivateKey:
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	}
	return nil, fmt.Errorf("dbsctest: unsupported key type %T", key)
}
