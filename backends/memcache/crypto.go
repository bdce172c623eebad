package memcache

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/token"
	"github.com/gin-securesession/securesession/internal/wire"
)

// This file holds the token, the keyed hashes that name items, the sealing
// of item values and the expirations; items.go holds what the sealed
// values contain.

// Token layout: base64url(random[32] || ref[16] XOR pad(random)).
const (
	randomLen  = 32
	refLen     = 16
	tokenBytes = randomLen + refLen
	tokenLen   = tokenBytes / 3 * 4 // 64 characters, no padding bits
)

// Key tags, after the prefix.
const (
	tagSession = "s"
	tagUser    = "u"
)

type ref [refLen]byte

func (r *ref) zero() bool { return *r == ref{} }

// Token rejections. They never carry the token.
var (
	errMalformed = fmt.Errorf("%s%w", errPrefix, securesession.InvalidToken(securesession.RejectMalformed))
	errOversized = fmt.Errorf("%s%w", errPrefix, securesession.InvalidToken(securesession.RejectOversized))
)

// parseToken checks tok's shape, before any store access, and returns the
// user reference it carries. A token longer than any this store issues is
// oversized; any other wrong length or a byte outside the base64url
// alphabet is malformed. It allocates nothing.
func (s *Store) parseToken(tok string) (ref, error) {
	var r ref
	switch {
	case len(tok) > tokenLen:
		return r, errOversized
	case len(tok) != tokenLen:
		return r, errMalformed
	}
	if !token.Base64URL(tok) {
		return r, errMalformed
	}
	// 64 characters carry exactly 48 bytes: every spelling is canonical.
	var b [tokenBytes]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(tok)); err != nil || n != tokenBytes {
		return r, errMalformed
	}
	p := s.pad(b[:randomLen])
	for i := range refLen {
		r[i] = b[randomLen+i] ^ p[i]
	}
	return r, nil
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

// userRef is the 16-byte keyed hash that names userID in tokens and in the
// generation key. It is never all zeros, which marks an anonymous token.
func (s *Store) userRef(userID string) ref {
	var r ref
	if userID == "" {
		return r
	}
	var sum [sha256.Size]byte
	m := s.refHash.get()
	m.Write([]byte(userID))
	s.refHash.done(m, &sum)
	copy(r[:], sum[:])
	if r.zero() {
		r[refLen-1] = 1
	}
	return r
}

// pad is the mask of the user reference in a token: a keyed hash of the
// token's random part.
func (s *Store) pad(random []byte) ref {
	var sum [sha256.Size]byte
	m := s.maskHash.get()
	m.Write(random)
	s.maskHash.done(m, &sum)
	var p ref
	copy(p[:], sum[:])
	return p
}

// keyedHash is HMAC-SHA256 under one key, with the keyed states
// precomputed: a pool of HMACs made once each by hmac.New, whose Reset
// restores the saved inner and outer pads instead of hashing the key
// again. Safe for concurrent use.
type keyedHash struct{ pool sync.Pool }

func newKeyedHash(key []byte) *keyedHash {
	k := append([]byte(nil), key...)
	h := new(keyedHash)
	h.pool.New = func() any { return hmac.New(sha256.New, k) }
	return h
}

// get returns an HMAC in its keyed initial state; done writes its sum to
// out and returns it to the pool.
func (h *keyedHash) get() hash.Hash {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	return m
}

func (h *keyedHash) done(m hash.Hash, out *[sha256.Size]byte) {
	m.Sum(out[:0])
	h.pool.Put(m)
}

// keyset holds the memcached keys of one session: its item and, when
// logged in, the user's generation item, on the same server.
type keyset struct {
	session, user string
}

// keys names the items of the session tok names under the cookie name:
// the session key is a keyed hash of (name, token), so the raw token never
// reaches memcached, followed by the co-location suffix.
func (s *Store) keys(name, tok string, r ref) keyset {
	sum := s.idHash.Sum(name, tok)
	var b [len(tagSession) + 43]byte
	copy(b[:], tagSession)
	base64.RawURLEncoding.Encode(b[len(tagSession):], sum[:])
	base := s.cfg.prefix + string(b[:])
	var ks keyset
	want := crc32.ChecksumIEEE([]byte(base))
	if !r.zero() {
		ks.user = s.genKey(r)
		want = crc32.ChecksumIEEE([]byte(ks.user))
	}
	ks.session = colocator.key(base, want)
	return ks
}

func (s *Store) genKey(r ref) string {
	return s.cfg.prefix + tagUser + base64.RawURLEncoding.EncodeToString(r[:])
}

// Sealed values: version || nonce[24] || XChaCha20-Poly1305(plaintext),
// with version || the item's key as associated data, so that a value
// copied under another key does not open.
const (
	blobVersion = 2
	sealHeader  = 1 + chacha20poly1305.NonceSizeX
	sealedExtra = sealHeader + chacha20poly1305.Overhead
)

var (
	errOpen    = errors.New("value failed authentication")
	errVersion = errors.New("value of another format version")
)

// seal encrypts plaintext for the item named key, in one allocation.
func seal(aead cipher.AEAD, plaintext []byte, key string) []byte {
	n := sealedExtra + len(plaintext)
	buf := make([]byte, n+1+len(key))
	ad := buf[n:]
	ad[0] = blobVersion
	copy(ad[1:], key)
	out := buf[:sealHeader]
	out[0] = blobVersion
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plaintext, ad)[:n:n]
}

// open decrypts blob, a value of the item named key, in place: blob is
// overwritten and the plaintext aliases it.
func open(aead cipher.AEAD, blob []byte, key string) ([]byte, error) {
	if len(blob) > 0 && blob[0] != blobVersion {
		return nil, errVersion
	}
	if len(blob) < sealedExtra {
		return nil, errOpen
	}
	var adBuf [1 + 256]byte
	ad := append(append(adBuf[:0], blobVersion), key...)
	pt, err := aead.Open(blob[sealHeader:sealHeader], blob[1:sealHeader], blob[sealHeader:], ad)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

// openReader opens blob, sealed under key, in place and returns a reader
// past the plaintext's format version, which must be blobVersion.
func openReader(aead cipher.AEAD, blob []byte, key string) (*wire.Reader, error) {
	pt, err := open(aead, blob, key)
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(pt)
	if r.Byte() != blobVersion {
		return nil, errOpen
	}
	return r, nil
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
