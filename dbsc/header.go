package dbsc

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// The HTTP header names DBSC uses, as Chromium 156 speaks them. The older
// Sec-Session-* names of early write-ups do nothing in that build.
const (
	// HeaderRegistration (server → browser, on any response) asks the
	// browser to create a key and register it; see [FormatRegistration].
	HeaderRegistration = "Secure-Session-Registration"

	// HeaderResponse (browser → server) carries the signed proof, a JWT,
	// on the registration POST and on a refresh retry. Pass its value to
	// [VerifyRegistration] or [VerifyRefresh].
	HeaderResponse = "Secure-Session-Response"

	// HeaderChallenge (server → browser) carries a challenge for a
	// session: on the 403 answer to a refresh POST without a proof, or
	// ahead of time on a 200; see [FormatChallenge].
	HeaderChallenge = "Secure-Session-Challenge"

	// HeaderSessionID (browser → server) names the DBSC session on a
	// refresh POST; see [ParseSessionID].
	HeaderSessionID = "Sec-Secure-Session-Id"
)

// Algorithm is a JWS signature algorithm a DBSC key may use.
type Algorithm string

// The algorithms Chromium supports and this package accepts. No other
// algorithm is ever accepted, in particular not "none" or the HMAC family.
const (
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256, signature r‖s
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048–4096 bits
)

// Registration is the content of a Secure-Session-Registration header.
type Registration struct {
	// Algorithms lists the algorithms offered, in order of preference.
	// Nil or empty means ES256 then RS256 (Chromium picks one its key
	// provider supports; a TPM may only do RS256).
	Algorithms []Algorithm

	// Path is the registration endpoint on this origin, such as
	// "/dbsc/register": it must start with a single "/", and may contain
	// only URL path and query characters (no quote, backslash, space,
	// fragment or control characters). Required.
	Path string

	// Challenge is the challenge the registration proof must sign; the
	// session record keeps it. Required.
	Challenge Challenge
}

// FormatRegistration returns the value of a Secure-Session-Registration
// header in the form Chromium 156 parses:
//
//	(ES256 RS256);path="/dbsc/register";challenge="<challenge>"
//
// It returns an error (never wrapping ErrInvalidProof) for an unknown
// algorithm, a missing or unsafe path, or a challenge that cannot be
// written as a structured-field string.
func FormatRegistration(r Registration) (string, error) {
	algs := r.Algorithms
	if len(algs) == 0 {
		algs = []Algorithm{ES256, RS256}
	}
	if err := checkPath(r.Path); err != nil {
		return "", fmt.Errorf("dbsc: registration path: %w", err)
	}
	if err := checkChallenge(r.Challenge); err != nil {
		return "", fmt.Errorf("dbsc: registration: %w", err)
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, a := range algs {
		if a != ES256 && a != RS256 {
			return "", errors.New("dbsc: registration: algorithms must be ES256 or RS256")
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(a))
	}
	b.WriteString(`);path=`)
	appendSFString(&b, r.Path)
	b.WriteString(`;challenge=`)
	appendSFString(&b, r.Challenge.Value)
	return b.String(), nil
}

// FormatChallenge returns the value of a Secure-Session-Challenge header
// for the DBSC session sessionID, in the form Chromium 156 parses:
//
//	"<challenge>";id="<session id>"
//
// It returns an error (never wrapping ErrInvalidProof) for a zero or
// unwritable challenge or an invalid session identifier (see
// [SessionConfig.SessionIdentifier]).
func FormatChallenge(c Challenge, sessionID string) (string, error) {
	if err := checkChallenge(c); err != nil {
		return "", fmt.Errorf("dbsc: challenge header: %w", err)
	}
	if err := checkSessionID(sessionID); err != nil {
		return "", fmt.Errorf("dbsc: challenge header: %w", err)
	}
	var b strings.Builder
	appendSFString(&b, c.Value)
	b.WriteString(`;id=`)
	appendSFString(&b, sessionID)
	return b.String(), nil
}

// MaxSessionIDLength is the longest session identifier this package
// writes or accepts.
const MaxSessionIDLength = 128

// ParseSessionID returns the session identifier in the value of a
// Sec-Secure-Session-Id request header. Chromium 156 sends it bare; a
// structured-field string (in double quotes) is accepted too. The
// identifier must be 1 to MaxSessionIDLength characters from
// A–Z a–z 0–9 - _ . ~ (what this package lets a server issue); anything
// else is untrusted input and gives a *ProofError (ReasonMalformed or
// ReasonOversized). Look the identifier up in the session record and
// compare it there: it is not a credential, and knowing it proves nothing.
func ParseSessionID(v string) (string, error) {
	if len(v) > MaxSessionIDLength+2 {
		return "", invalid(ReasonOversized, "session identifier too long")
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) > MaxSessionIDLength {
		return "", invalid(ReasonOversized, "session identifier too long")
	}
	if checkSessionID(v) != nil {
		return "", invalid(ReasonMalformed, "session identifier is empty or has characters outside A-Z a-z 0-9 - _ . ~")
	}
	return v, nil
}

// NewSessionID returns a random session identifier: 22 base64url
// characters (128 bits from crypto/rand). Any identifier in the allowed
// alphabet works; a random one reveals nothing about the user or the
// session token.
func NewSessionID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkSessionID accepts 1 to MaxSessionIDLength unreserved URL
// characters: safe bare in a header (Chromium echoes the identifier
// unquoted), inside a structured-field string, in JSON and in a log line.
func checkSessionID(id string) error {
	if id == "" || len(id) > MaxSessionIDLength {
		return fmt.Errorf("session identifier must be 1 to %d characters", MaxSessionIDLength)
	}
	for i := 0; i < len(id); i++ {
		if !isUnreserved(id[i]) {
			return errors.New("session identifier may contain only A-Z a-z 0-9 - _ . ~")
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// checkPath accepts a path-absolute URL reference with an optional query:
// it starts with one "/" (never "//", which would name another host, nor
// "/\", which browsers read the same way), and contains only RFC 3986
// path and query characters.
func checkPath(p string) error {
	if p == "" {
		return errors.New("required")
	}
	if p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return errors.New(`must be a path on this origin, starting with a single "/"`)
	}
	if len(p) > 2048 {
		return errors.New("longer than 2048 bytes")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if isUnreserved(c) || strings.IndexByte("/?%!$&'()*+,;=:@", c) >= 0 {
			continue
		}
		return errors.New("may contain only URL path and query characters (no quote, backslash, space, # or control characters)")
	}
	return nil
}

// checkChallenge accepts a non-zero challenge whose value is printable
// ASCII of bounded length: what a structured-field string can carry.
func checkChallenge(c Challenge) error {
	if c.Value == "" {
		return errors.New("challenge is empty")
	}
	if len(c.Value) > maxChallengeLength {
		return fmt.Errorf("challenge is longer than %d bytes", maxChallengeLength)
	}
	for i := 0; i < len(c.Value); i++ {
		if c.Value[i] < 0x20 || c.Value[i] > 0x7e {
			return errors.New("challenge must be printable ASCII")
		}
	}
	return nil
}

// appendSFString writes s as an RFC 8941 sf-string. The caller has checked
// that s is printable ASCII; quote and backslash are escaped.
func appendSFString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}
