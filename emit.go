package securesession

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
)

// eventKey keys the hash that identifies rejected cookies in events.
var eventKey = func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}()

func shortHandle(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// fingerprint returns a short keyed hash of an untrusted cookie value.
func fingerprint(v string) string {
	m := hmac.New(sha256.New, eventKey)
	m.Write([]byte(v))
	var sum [32]byte
	return hex.EncodeToString(m.Sum(sum[:0])[:8])
}

// emit sends e to Options.OnEvent and to the logger.
func (cfg *config) emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = cfg.now()
	}
	if cfg.onEvent != nil {
		cfg.onEvent(e)
	}
	lvl := e.Kind.level()
	if !cfg.logger.Enabled(ctx, lvl) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("event", e.Kind.String()))
	if e.Session != "" {
		attrs = append(attrs, slog.String("session", e.Session))
	}
	if e.UserID != "" {
		attrs = append(attrs, slog.String("user", e.UserID))
	}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("err", e.Err.Error()))
	}
	cfg.logger.LogAttrs(ctx, lvl, "securesession: "+e.Kind.String(), attrs...)
}
