package securesession

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"
)

// EventKind says what happened to a session.
type EventKind uint8

// The session events. Their String forms are stable and are used as the
// "event" attribute of log records.
const (
	// EventCreated: a new session was stored (the first Set of an
	// anonymous visitor, or a Login without a prior session).
	EventCreated EventKind = iota + 1
	// EventRotated: Login or Rotate gave the session a new token and
	// deleted the old record.
	EventRotated
	// EventLoggedOut: Logout deleted the record and expired the cookie.
	EventLoggedOut
	// EventRevoked: LogoutEverywhere or RevokeSession ended sessions of a
	// user on the server.
	EventRevoked
	// EventExpiredIdle: a session was refused because it had been idle for
	// longer than the idle timeout.
	EventExpiredIdle
	// EventExpiredAbsolute: a session was refused because it had reached
	// its absolute timeout.
	EventExpiredAbsolute
	// EventRejected: a cookie was malformed, oversized, tampered with or
	// sealed under an unknown key; the request continued anonymous.
	EventRejected
	// EventUnknown: a well-formed token named no session (never issued,
	// logged out, revoked or already expired); the request continued
	// anonymous and nothing was stored for the token.
	EventUnknown
	// EventBackendError: the backend failed; Err holds the *BackendError.
	EventBackendError
	// EventCrossOriginDenied: an unsafe cross-origin request was refused.
	EventCrossOriginDenied
)

var eventNames = [...]string{
	EventCreated:           "created",
	EventRotated:           "rotated",
	EventLoggedOut:         "logged_out",
	EventRevoked:           "revoked",
	EventExpiredIdle:       "expired_idle",
	EventExpiredAbsolute:   "expired_absolute",
	EventRejected:          "rejected",
	EventUnknown:           "unknown",
	EventBackendError:      "backend_error",
	EventCrossOriginDenied: "cross_origin_denied",
}

// String returns the event's stable name, e.g. "logged_out".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown_event"
}

func (k EventKind) level() slog.Level {
	switch k {
	case EventCreated, EventUnknown:
		return slog.LevelDebug
	case EventRejected, EventCrossOriginDenied:
		return slog.LevelWarn
	case EventBackendError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Event describes something that happened to a session, for monitoring.
// It never contains a raw session token or cookie value.
type Event struct {
	Kind EventKind // what happened
	Time time.Time // when, on Options.Now's clock

	// Session identifies the session without revealing its token: the
	// first 16 hex characters of the backend's Handle, or, for a rejected
	// cookie, of a keyed hash of the cookie value under a key random to
	// this process. Empty when there is no session.
	Session string

	// UserID is the session's user, if any.
	UserID string

	// Reason gives detail for rejections ("tampered", "oversized", ...).
	Reason string

	// Err is set for EventBackendError and EventCrossOriginDenied.
	Err error
}

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

func (m *middleware) emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = m.cfg.now()
	}
	if m.cfg.onEvent != nil {
		m.cfg.onEvent(e)
	}
	lvl := e.Kind.level()
	if !m.cfg.logger.Enabled(ctx, lvl) {
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
	m.cfg.logger.LogAttrs(ctx, lvl, "securesession: "+e.Kind.String(), attrs...)
}
