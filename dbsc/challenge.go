package dbsc

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// DefaultChallengeLifetime is how long a challenge from [NewChallenge]
// stays valid. It covers the browser's round trip with room to spare;
// Chromium signs within milliseconds of receiving a challenge.
const DefaultChallengeLifetime = 5 * time.Minute

// challengeBytes is the entropy of a challenge: 256 bits, twice the
// minimum, so that guessing one is out of the question even with many
// outstanding.
const challengeBytes = 32

// maxChallengeLength bounds a challenge a caller constructs by hand; one
// from NewChallenge is 43 characters.
const maxChallengeLength = 256

// Challenge is a single-use nonce the browser must sign. This package does
// not store challenges: the session record holds the outstanding one (both
// fields), and the server clears it (sets it to the zero Challenge)
// atomically with accepting a proof for it, so that it is used at most
// once. The zero Challenge matches no proof.
//
// A Challenge is a plain value, safe to copy and to use concurrently.
type Challenge struct {
	// Value is the nonce: 43 base64url characters (256 bits from
	// crypto/rand) when made by NewChallenge. It is sent to the browser in
	// a header and comes back as the proof's jti claim. It is not a
	// credential, but there is no reason to log it.
	Value string

	// Expires is when the challenge stops being accepted.
	Expires time.Time
}

// NewChallenge returns a fresh random challenge that expires
// DefaultChallengeLifetime after now.
func NewChallenge(now time.Time) Challenge {
	return NewChallengeWithLifetime(now, DefaultChallengeLifetime)
}

// NewChallengeWithLifetime returns a fresh random challenge that expires
// lifetime after now. A lifetime of zero or less means
// DefaultChallengeLifetime.
func NewChallengeWithLifetime(now time.Time, lifetime time.Duration) Challenge {
	if lifetime <= 0 {
		lifetime = DefaultChallengeLifetime
	}
	var b [challengeBytes]byte
	rand.Read(b[:]) // never returns an error; it crashes the program instead
	return Challenge{
		Value: base64.RawURLEncoding.EncodeToString(b[:]),
		// Round(0) drops the monotonic reading, so a Challenge compares
		// the same before and after a trip through storage.
		Expires: now.Add(lifetime).Round(0),
	}
}

// IsZero reports whether c is the zero Challenge (none outstanding).
func (c Challenge) IsZero() bool { return c.Value == "" && c.Expires.IsZero() }

// Check reports whether jti, the claim from a verified proof, answers c at
// time now. It compares in constant time. A mismatch (including any jti
// against the zero Challenge) is ReasonChallengeMismatch; a match at or
// after c.Expires is ReasonExpiredChallenge. [VerifyRegistration] and
// [VerifyRefresh] call it after checking the signature.
func (c Challenge) Check(jti string, now time.Time) error {
	if c.Value == "" || subtle.ConstantTimeCompare([]byte(jti), []byte(c.Value)) != 1 {
		return invalid(ReasonChallengeMismatch, "jti is not the outstanding challenge")
	}
	if !now.Before(c.Expires) {
		return invalid(ReasonExpiredChallenge, "the challenge has expired")
	}
	return nil
}
