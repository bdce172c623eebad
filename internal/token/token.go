// Package token generates and validates the opaque random session tokens of
// the server backends, and derives the keyed hash under which a backend
// stores a session, so that the raw token never reaches the store.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"sync"
)

// Size is the number of random bytes in a token: 256 bits, well over the
// 128 bits OWASP ASVS 5.0 (7.2.3) asks for.
const Size = 32

// Len is the length of an encoded token: unpadded base64url of Size bytes.
const Len = 43

// New returns a fresh token from crypto/rand.
func New() string {
	var b [Size]byte
	rand.Read(b[:]) // never returns an error (Go 1.24+); it crashes the program if the OS CSPRNG fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid reports whether s has the exact shape of a token: Len characters of
// the unpadded base64url alphabet whose last character carries no stray
// bits. It never allocates; call it before any store access.
func Valid(s string) bool {
	if len(s) != Len || !Base64URL(s) {
		return false
	}
	// 43 characters carry 258 bits; the last character's low 2 bits must be
	// zero in a canonical encoding, so no two strings name one token.
	return decodeIndex(s[Len-1])&3 == 0
}

// Base64URL reports whether every byte of s is in the base64url alphabet
// (A-Z, a-z, 0-9, '-' and '_'): no padding, no whitespace, no control or
// non-ASCII bytes. Go's base64 decoders, even in Strict mode, skip '\r' and
// '\n', so a token must pass this check before it is decoded, or one token
// would have many spellings. It never allocates.
func Base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func decodeIndex(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	default:
		return 63
	}
}

// Hasher computes the keyed hash under which a server backend stores a
// session: HMAC-SHA256(key, name || 0x00 || token). Binding the cookie name
// means a token moved to another cookie name finds nothing. A Hasher is
// safe for concurrent use.
type Hasher struct {
	key  []byte
	pool sync.Pool // HMACs keyed once by hmac.New; Reset restores the keyed state
}

// NewHasher returns a Hasher for key, which should be a derived sub-key of
// 32 bytes.
func NewHasher(key []byte) *Hasher {
	h := &Hasher{key: append([]byte(nil), key...)}
	h.pool.New = func() any { return hmac.New(sha256.New, h.key) }
	return h
}

// mac returns an HMAC in its keyed initial state, from the pool; put it
// back with h.pool.Put once its sum is taken.
func (h *Hasher) mac() hash.Hash {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	return m
}

// Sum returns the 32-byte keyed hash of (name, token).
func (h *Hasher) Sum(name, token string) [32]byte {
	m := h.mac()
	writeString(m, name)
	m.Write([]byte{0})
	writeString(m, token)
	var out [32]byte
	m.Sum(out[:0])
	h.pool.Put(m)
	return out
}

// Hex returns Sum as 64 lowercase hex characters.
func (h *Hasher) Hex(name, token string) string {
	s := h.Sum(name, token)
	return hex.EncodeToString(s[:])
}

// String returns the keyed hash of an arbitrary string under a purpose
// label (for example a per-user key), as 64 hex characters.
func (h *Hasher) String(purpose, s string) string {
	m := h.mac()
	writeString(m, purpose)
	m.Write([]byte{0})
	writeString(m, s)
	var out [32]byte
	m.Sum(out[:0])
	h.pool.Put(m)
	return hex.EncodeToString(out[:])
}

func writeString(h hash.Hash, s string) {
	if sw, ok := h.(interface{ WriteString(string) (int, error) }); ok {
		sw.WriteString(s)
		return
	}
	h.Write([]byte(s))
}
