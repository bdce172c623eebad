package demoapp

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"os"

	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
)

// Fatal logs msg and err and exits. The examples use it for startup errors,
// which never contain a key or a password.
func Fatal(msg string, err error) {
	slog.Error(msg, "error", err)
	os.Exit(1)
}

// Getenv returns the environment variable name, or def when it is unset or
// empty.
func Getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// DevKeys is what the examples do when SESSION_KEYS is unset under DEV=1:
// it returns one random key, with a warning, so that the demo runs with
// nothing to configure (every session ends when the process stops). In
// any other case it returns keys and err unchanged: a production
// deployment without keys, or with a malformed setting, must not start.
func DevKeys(keys [][]byte, err error, dev bool) ([][]byte, error) {
	if !dev || !errors.Is(err, sessionkeys.ErrNoKeys) || os.Getenv(KeysEnv) != "" {
		return keys, err
	}
	key := make([]byte, sessionkeys.Size)
	rand.Read(key) // never fails (crypto/rand panics rather than return an error)
	slog.Warn(KeysEnv + " is not set: DEV=1 uses a random session key; every session ends when this process stops. " +
		"In production set " + KeysEnv + " to the output of `openssl rand -base64 32`, kept secret.")
	return [][]byte{key}, nil
}
