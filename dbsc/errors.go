package dbsc

import (
	"errors"
	"fmt"
)

// ErrInvalidProof marks a proof, session identifier or key sent by the
// client that this package refuses. It is untrusted input to be rejected,
// not a failure to report: answer the refresh with 403 and a fresh
// challenge (see [ProofError.Retryable]) or fail the registration, and
// carry on. Every such error is a *[ProofError]; errors.Is(err,
// ErrInvalidProof) tests for the class and [ReasonOf] names the reason.
//
// Errors that do not wrap ErrInvalidProof are programming errors on the
// server's side (a nil key, a header value that cannot be formatted, a
// corrupt stored key) and should be reported, not shown to the client.
var ErrInvalidProof = errors.New("dbsc: invalid proof")

// Reason says why untrusted input was refused. The set is fixed and small
// so that it can label metrics and events; the values are safe to log.
type Reason string

// The reasons a [ProofError] can carry.
const (
	// ReasonMalformed: not a compact JWS, not strict base64url, not a JSON
	// object, a duplicated member, a missing or mistyped claim, a crit
	// header, or a session identifier outside the allowed alphabet.
	ReasonMalformed Reason = "malformed"
	// ReasonOversized: the proof is over MaxProofSize, its jwk over
	// MaxJWKSize, or a session identifier over MaxSessionIDLength. Checked
	// before anything is decoded.
	ReasonOversized Reason = "oversized"
	// ReasonBadAlg: alg is not ES256 or RS256 ("none" and HS256 included),
	// or does not match the key.
	ReasonBadAlg Reason = "bad-alg"
	// ReasonBadTyp: typ is not exactly "dbsc+jwt".
	ReasonBadTyp Reason = "bad-typ"
	// ReasonBadSignature: the signature does not verify under the key.
	ReasonBadSignature Reason = "bad-signature"
	// ReasonChallengeMismatch: the signature is valid but jti is not the
	// outstanding challenge (a race between tabs, a replayed proof, or a
	// challenge already used).
	ReasonChallengeMismatch Reason = "challenge-mismatch"
	// ReasonExpiredChallenge: the signature is valid and jti is the
	// outstanding challenge, but the challenge has expired.
	ReasonExpiredChallenge Reason = "expired-challenge"
	// ReasonBadKey: the jwk is missing, not a public P-256 or RSA key of
	// 2048 to 4096 bits, not canonically encoded, off the curve, carries
	// private members, or differs from the stored key.
	ReasonBadKey Reason = "bad-key"
)

// ProofError reports why a proof or other client input was refused. It
// wraps [ErrInvalidProof]. Its message is built from fixed text only: it
// never contains the proof, the key, the challenge or any other value the
// client sent, so it is safe to log.
type ProofError struct {
	Reason Reason // one of the Reason constants
	detail string // fixed text, never client data
}

func invalid(r Reason, detail string) error { return &ProofError{Reason: r, detail: detail} }

// Error returns "dbsc: invalid proof: <reason>: <detail>".
func (e *ProofError) Error() string {
	if e.detail == "" {
		return fmt.Sprintf("%v: %s", ErrInvalidProof, e.Reason)
	}
	return fmt.Sprintf("%v: %s: %s", ErrInvalidProof, e.Reason, e.detail)
}

// Unwrap returns ErrInvalidProof.
func (e *ProofError) Unwrap() error { return ErrInvalidProof }

// Retryable reports whether the proof was correctly signed by the expected
// key and failed only on its challenge (ReasonChallengeMismatch or
// ReasonExpiredChallenge). That is the benign race of two tabs refreshing
// at once, or a slow client: answer with 403 and a fresh challenge. It is
// not evidence of theft, and a replayed proof cannot get further than
// this, since only the key holder can sign the fresh challenge.
func (e *ProofError) Retryable() bool {
	return e.Reason == ReasonChallengeMismatch || e.Reason == ReasonExpiredChallenge
}

// ReasonOf returns the Reason of the *ProofError in err's chain, or "" if
// there is none (err is nil or a programming error).
func ReasonOf(err error) Reason {
	var pe *ProofError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ""
}
