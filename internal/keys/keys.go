// Package keys validates secret keys and derives purpose-separated sub-keys
// from them with HKDF-SHA256, so that one configured secret never serves
// two purposes.
package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// Size is the required length of every configured key: 32 bytes from a
// CSPRNG (for example `openssl rand -base64 32`, base64-decoded).
const Size = 32

// MinDistinct is the fewest distinct byte values Check accepts in a key.
const MinDistinct = 13

// Check returns an error naming field if key is not exactly Size bytes or
// is obviously not random. It refuses a key that is
//
//   - one byte repeated;
//   - text: every byte an ASCII letter, digit, space or one of "+/-_=",
//     the characters of passwords, passphrases and of hex, base64 and
//     base64url encodings, which is what a key that was typed, or an
//     encoded key that was never decoded, looks like (such as the
//     32-character "0123456789abcdef0123456789ABCDEF");
//   - made of fewer than MinDistinct distinct byte values (a short secret
//     padded with zeros, a repeated pattern); 32 random bytes have about
//     30.
//
// False positives: for 32 bytes from a CSPRNG, the probability that every
// byte falls in the 68-value text set is (68/256)^32 = 2^-61.2; that
// at most 12 distinct values occur is, summing over d <= 12 the
// C(256,d)·S(32,d)·d!/256^32 keys with exactly d distinct values (S the
// Stirling numbers of the second kind), 2^-75.7. By the union bound a
// random key is refused with probability below 2^-61. Refusing every
// all-printable-ASCII key, or every key with fewer than 16 distinct
// values, would refuse random keys with probability 2^-45.8 and 2^-54.8,
// which is why the rules are these narrower ones.
//
// The error never contains the key or any part of it.
func Check(field string, key []byte) error {
	if len(key) != Size {
		return fmt.Errorf("%s: key must be exactly %d random bytes, got %d (generate one with `openssl rand -base64 32`)", field, Size, len(key))
	}
	var seen [256]bool
	distinct, text := 0, true
	for _, b := range key {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
		text = text && isText(b)
	}
	switch {
	case distinct == 1:
		return fmt.Errorf("%s: key is %d copies of one byte; use %d bytes from a CSPRNG (generate one with `openssl rand -base64 32` and decode it)", field, Size, Size)
	case text:
		return fmt.Errorf("%s: key is %d characters of text (letters, digits, spaces, base64 punctuation), not %d random bytes: "+
			"a typed secret is guessable, and a base64 or hex key must be decoded first (generate one with `openssl rand -base64 32` and decode it)", field, Size, Size)
	case distinct < MinDistinct:
		return fmt.Errorf("%s: key has only %d distinct byte values where %d random bytes have about 30 (a padded or repeated secret?); "+
			"generate one with `openssl rand -base64 32` and decode it", field, distinct, Size)
	}
	return nil
}

// isText reports whether b is an ASCII letter, digit, space or one of the
// base64 and base64url punctuation characters "+/-_=": 68 of the 256
// byte values.
func isText(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case ' ', '+', '/', '-', '_', '=':
		return true
	}
	return false
}

// Derive returns a 32-byte sub-key of key for purpose (an HKDF info string
// such as "securesession/v1 memcache id-hash").
func Derive(key []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, key, nil, purpose, Size)
	if err != nil {
		// Only possible for an output length over 255*32 bytes.
		panic("securesession/internal/keys: " + err.Error())
	}
	return k
}
