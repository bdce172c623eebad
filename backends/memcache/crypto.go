package memcache

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"math"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Token layout: base64url(random[32] || ref[16] XOR pad(random)).
const (
	randomLen   = 32
	refLen      = 16
	tokenBytes  = randomLen + refLen
	tokenLen    = tokenBytes / 3 * 4 // 64 characters, no padding bits
	genLen      = 16
	blobVersion = 1
)

// Key tags, after the prefix.
const (
	tagSession = "s"
	tagSeen    = "t"
	tagUser    = "u"
)

type ref [refLen]byte

func (r *ref) zero() bool { return *r == ref{} }

type gen [genLen]byte

func (g *gen) zero() bool { return *g == gen{} }

func newGen() gen {
	var g gen
	for g.zero() {
		rand.Read(g[:])
	}
	return g
}

var errOpen = errors.New("value failed authentication")

// validToken reports whether tok has the exact shape of a token this store
// issues: tokenLen characters of the base64url alphabet. It does not
// allocate.
func validToken(tok string) bool {
	if len(tok) != tokenLen {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// userRef is the 16-byte keyed hash that names userID in tokens and in the
// generation key. It is never all zeros, which marks an anonymous token.
func (s *Store) userRef(userID string) ref {
	var r ref
	if userID == "" {
		return r
	}
	m := hmac.New(sha256.New, s.refKey)
	m.Write([]byte(userID))
	var sum [32]byte
	copy(r[:], m.Sum(sum[:0]))
	if r.zero() {
		r[refLen-1] = 1
	}
	return r
}

func (s *Store) pad(random []byte) ref {
	m := hmac.New(sha256.New, s.maskKey)
	m.Write(random)
	var sum [32]byte
	var p ref
	copy(p[:], m.Sum(sum[:0]))
	return p
}

// newToken returns a fresh token carrying r (the zero ref for an anonymous
// session).
func (s *Store) newToken(r ref) string {
	var b [tokenBytes]byte
	rand.Read(b[:randomLen]) // never fails (Go 1.24+)
	p := s.pad(b[:randomLen])
	for i := range refLen {
		b[randomLen+i] = r[i] ^ p[i]
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// tokenRef checks tok's shape and returns the user reference it carries.
func (s *Store) tokenRef(tok string) (ref, bool) {
	var r ref
	if !validToken(tok) {
		return r, false
	}
	var b [tokenBytes]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(tok)); err != nil || n != tokenBytes {
		return r, false
	}
	p := s.pad(b[:randomLen])
	for i := range refLen {
		r[i] = b[randomLen+i] ^ p[i]
	}
	return r, true
}

// keyset holds the memcached keys of one session.
type keyset struct {
	session, seen, user string
}

func (s *Store) keys(name, tok string, r ref) keyset {
	sum := s.idHash.Sum(name, tok)
	h := base64.RawURLEncoding.EncodeToString(sum[:])
	var ks keyset
	base := s.cfg.prefix + tagSession + h
	want := crc32.ChecksumIEEE([]byte(base))
	if !r.zero() {
		ks.user = s.genKey(r)
		want = crc32.ChecksumIEEE([]byte(ks.user))
	}
	ks.session = colocator.key(base, want)
	ks.seen = colocator.key(s.cfg.prefix+tagSeen+h, want)
	return ks
}

func (s *Store) genKey(r ref) string {
	return s.cfg.prefix + tagUser + base64.RawURLEncoding.EncodeToString(r[:])
}

func (s *Store) handle(name, tok string) string {
	return s.handleHash.Hex(name, tok)[:32]
}

// seal encrypts plaintext for the item named key: version || nonce ||
// ciphertext, with version || key as associated data.
func (s *Store) seal(plaintext []byte, key string) []byte {
	out := make([]byte, 1+chacha20poly1305.NonceSizeX, 1+chacha20poly1305.NonceSizeX+len(plaintext)+chacha20poly1305.Overhead)
	out[0] = blobVersion
	rand.Read(out[1:])
	return s.aead.Seal(out, out[1:1+chacha20poly1305.NonceSizeX], plaintext, s.ad(key))
}

func (s *Store) open(blob []byte, key string) ([]byte, error) {
	if len(blob) < 1+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead || blob[0] != blobVersion {
		return nil, errOpen
	}
	pt, err := s.aead.Open(nil, blob[1:1+chacha20poly1305.NonceSizeX], blob[1+chacha20poly1305.NonceSizeX:], s.ad(key))
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

func (s *Store) ad(key string) []byte {
	ad := make([]byte, 0, 1+len(key))
	ad = append(ad, blobVersion)
	return append(ad, key...)
}

// maxRelative is the largest expiration memcached reads as relative
// seconds; anything larger is an absolute Unix time.
const maxRelative = 30 * 24 * 60 * 60

// expiration converts an absolute expiry to memcached's exptime as of now:
// relative seconds (rounded up) up to 30 days, an absolute Unix time
// beyond. ok is false when t is zero or not after now: such an item must
// not be stored. The result is never 0 (no expiry) and never negative.
func expiration(t, now time.Time) (exp int32, ok bool) {
	if t.IsZero() {
		return 0, false
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0, false
	}
	secs := int64(d / time.Second) // no rounding arithmetic: d may be saturated
	if d%time.Second != 0 {
		secs++
	}
	if secs <= maxRelative {
		return int32(secs), true
	}
	abs := t.Unix()
	if t.Nanosecond() > 0 {
		abs++
	}
	if abs > math.MaxInt32 {
		abs = math.MaxInt32 // January 2038: the protocol's limit; earlier, never later
	}
	return int32(abs), true
}
