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
// CSPRNG (for example `openssl rand -base64 32`).
const Size = 32

// Check returns an error naming field if key is not exactly Size bytes or
// is obviously not random (all bytes equal).
func Check(field string, key []byte) error {
	if len(key) != Size {
		return fmt.Errorf("%s: key must be exactly %d random bytes, got %d (generate one with `openssl rand -base64 32`)", field, Size, len(key))
	}
	same := true
	for _, b := range key[1:] {
		if b != key[0] {
			same = false
			break
		}
	}
	if same {
		return fmt.Errorf("%s: key is %d copies of one byte; use %d bytes from a CSPRNG", field, Size, Size)
	}
	return nil
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
