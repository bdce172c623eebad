package demoapp

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"os"

	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
)

// KeysEnv is the environment variable the examples read their keys from:
// comma-separated base64 32-byte keys, the first of which seals new
// sessions (generate one with `openssl rand -base64 32`).
const KeysEnv = "SESSION_KEYS"

// Keys returns the keys in $SESSION_KEYS. When the variable is unset it
// logs a loud warning and returns one random key, so that the example runs
// with nothing to configure; sessions then end whenever the process
// restarts, and several instances cannot share sessions. A malformed
// setting is fatal: falling back to a random key there would hide a
// configuration mistake in production.
func Keys() [][]byte {
	keys, err := sessionkeys.FromEnv(KeysEnv)
	if errors.Is(err, sessionkeys.ErrNoKeys) && os.Getenv(KeysEnv) == "" {
		key := make([]byte, sessionkeys.Size)
		rand.Read(key) // never fails (crypto/rand panics rather than return an error)
		slog.Warn("!!! " + KeysEnv + " is not set: generated a random session key for development. " +
			"Every session ends when this process stops. In production set " + KeysEnv +
			" to the output of `openssl rand -base64 32` (kept secret, e.g. in your secret manager).")
		return [][]byte{key}
	}
	if err != nil {
		Fatal("reading session keys", err)
	}
	return keys
}

// Fatal logs msg and err and exits. The examples use it for startup errors,
// which never contain a key or a password.
func Fatal(msg string, err error) {
	slog.Error(msg, "error", err)
	os.Exit(1)
}

// SingleKey returns the one key of a backend that takes exactly one (the
// memcache and SQL backends derive the key that hashes session IDs from
// it; changing it ends every session, so they do not rotate keys).
func SingleKey() []byte {
	keys := Keys()
	if len(keys) != 1 {
		Fatal("reading session keys", errors.New(KeysEnv+" holds several keys, but this backend takes exactly one; keep only the first"))
	}
	return keys[0]
}

// Getenv returns the environment variable name, or def when it is unset or
// empty.
func Getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
