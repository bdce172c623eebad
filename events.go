package securesession

import (
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
	// EventBound: a device registered its DBSC key for the session (see
	// Options.DeviceBinding); Reason names the algorithm.
	EventBound
	// EventBoundRefreshed: a device proved its key and got a new bound
	// cookie.
	EventBoundRefreshed
	// EventBoundRefused: a request carried the session cookie of a bound
	// session without a valid, unexpired bound cookie and continued
	// anonymous (Reason says what was wrong), or a refresh named a DBSC
	// session that has ended. A copied cookie jar used elsewhere looks
	// like this.
	EventBoundRefused
	// EventBoundProofRefused: a registration or refresh proof failed
	// verification; Reason is "register: " or "refresh: " and the
	// dbsc.Reason. A wrong key or a forged proof looks like this.
	EventBoundProofRefused
	// EventSaveFailed: the automatic save could not store the session for
	// a reason other than the backend (a value that cannot be encoded, a
	// session too large for its cookie); Err names the key.
	EventSaveFailed
	// EventPlainHTTP: a Secure session cookie was sent in answer to a
	// plain-HTTP request for a host that is not loopback, and no trusted
	// proxy said the browser used HTTPS: the browser will drop the cookie,
	// so the user never stays logged in. Sent once per middleware.
	EventPlainHTTP
	// EventLoginRefused: a login was refused because the user already had
	// Options.MaxSessionsPerUser live sessions (policy RefuseNewLogin).
	EventLoginRefused
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
	EventBound:             "bound",
	EventBoundRefreshed:    "bound_refreshed",
	EventBoundRefused:      "bound_refused",
	EventBoundProofRefused: "bound_proof_refused",
	EventSaveFailed:        "save_failed",
	EventPlainHTTP:         "plain_http",
	EventLoginRefused:      "login_refused",
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
	case EventCreated, EventUnknown, EventBoundRefreshed:
		return slog.LevelDebug
	case EventRejected, EventCrossOriginDenied, EventBoundRefused, EventBoundProofRefused, EventPlainHTTP, EventLoginRefused:
		return slog.LevelWarn
	case EventBackendError, EventSaveFailed:
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

	// Reason gives detail: for EventRejected one of the RejectReason words
	// ("malformed", "tampered", ...); for rotations and revocations what
	// caused them ("login", "all sessions", ...).
	Reason string

	// Err is set for EventBackendError, EventCrossOriginDenied and
	// EventSaveFailed.
	Err error
}
