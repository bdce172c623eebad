// Package sessionkeys reads securesession keys from configuration: a
// comma-separated list of base64-encoded 32-byte keys, the first of which
// seals new sessions while the others only open existing ones (key
// rotation). It is separate from package config so that an application on
// the cookie backend can use it without importing the database and
// memcached drivers.
//
// Generate a key with
//
//	openssl rand -base64 32
//
// To rotate, put a new key first and keep the old one second for at least
// the absolute session timeout (12 hours by default), then drop it.
package sessionkeys

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gin-securesession/securesession/internal/keys"
)

// Size is the length every key must decode to.
const Size = 32

// ErrNoKeys is returned by Parse for an empty setting and by FromEnv for an
// unset or empty variable.
var ErrNoKeys = errors.New("sessionkeys: no session key configured (generate one with `openssl rand -base64 32`)")

// Parse decodes s, a comma-separated list of base64 keys (standard or URL
// alphabet, padded or not; spaces around each key are ignored). Every key
// must decode to exactly Size bytes that do not look typed or patterned:
// the bytes of a password or of hex or base64 text, a short secret padded
// out, one byte repeated (the same check every backend's constructor
// makes; a key from `openssl rand -base64 32` passes with overwhelming
// probability). Errors name the position of a bad key and why it was
// refused, never its content.
func Parse(s string) ([][]byte, error) {
	if strings.TrimSpace(s) == "" {
		return nil, ErrNoKeys
	}
	parts := strings.Split(s, ",")
	list := make([][]byte, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("sessionkeys: key %d of %d is empty (remove the extra comma)", i+1, len(parts))
		}
		k, err := decode(p)
		if err != nil {
			return nil, fmt.Errorf("sessionkeys: key %d of %d is not valid base64 (generate one with `openssl rand -base64 32`)", i+1, len(parts))
		}
		if len(k) != Size {
			return nil, fmt.Errorf("sessionkeys: key %d of %d decodes to %d bytes; it must be exactly %d random bytes (generate one with `openssl rand -base64 32`)", i+1, len(parts), len(k), Size)
		}
		if err := keys.Check(fmt.Sprintf("sessionkeys: key %d of %d", i+1, len(parts)), k); err != nil {
			return nil, err
		}
		list = append(list, k)
	}
	return list, nil
}

// FromEnv parses the environment variable name with Parse. The error names
// the variable.
func FromEnv(name string) ([][]byte, error) {
	list, err := Parse(os.Getenv(name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return list, nil
}

func decode(s string) ([]byte, error) {
	// base64 errors quote the offending byte offset only, but decoding is
	// done here without wrapping them anyway, so no part of a key can reach
	// an error message.
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("invalid base64")
}
