package securesession

import (
	"errors"
	"net/http"
)

// Errors a Backend returns to the middleware. Backends wrap them with %w and
// may add context; the middleware tests for them with errors.Is.
var (
	// ErrInvalidToken marks a token that is malformed, truncated, oversized
	// or fails authentication. It is untrusted input to be rejected, not a
	// failure to report: the request continues with an anonymous session.
	// Backends return it as an *InvalidTokenError carrying the reason.
	ErrInvalidToken = errors.New("securesession: invalid session token")

	// ErrNoRecord is returned by Update, Touch and Rotate when the session
	// ended (logged out, revoked or expired) after it was read, and by
	// Lister.RevokeHandle and RevokeSession when no live session has the
	// handle.
	ErrNoRecord = errors.New("securesession: session no longer exists")

	// ErrCannotRevoke is returned by a backend that keeps no server state
	// and so cannot end a session before it expires (the cookie backend
	// without a revocation checker).
	ErrCannotRevoke = errors.New("securesession: backend cannot revoke sessions on the server")

	// ErrTooLarge is returned by Save (and reported by the automatic save)
	// when the session does not fit: for the cookie backend, when the cookie
	// name plus value would exceed 4096 bytes. Nothing is written.
	ErrTooLarge = errors.New("securesession: session too large")
)

// RejectReason says why a backend refused a token as untrusted input. The
// set is small and fixed; events and log records carry exactly these words
// as their reason.
type RejectReason string

// The reasons a token is refused.
const (
	// RejectMalformed: not the shape of a token the backend issues (wrong
	// length, a byte outside the base64url alphabet, a non-canonical
	// spelling, a payload that does not decode).
	RejectMalformed RejectReason = "malformed"
	// RejectOversized: longer than any token the backend issues, or the
	// cookie is over the 4096 bytes browsers keep.
	RejectOversized RejectReason = "oversized"
	// RejectUnknownVersion: a format version this backend does not read.
	RejectUnknownVersion RejectReason = "unknown-version"
	// RejectUnknownKey: sealed under a key the backend does not hold (a
	// retired key, or another deployment's).
	RejectUnknownKey RejectReason = "unknown-key"
	// RejectTampered: failed authentication.
	RejectTampered RejectReason = "tampered"
	// RejectWrongName: issued under another cookie name, for backends that
	// can tell this apart from tampering.
	RejectWrongName RejectReason = "wrong-name"
)

// InvalidTokenError is how a backend rejects a token: errors.Is(err,
// ErrInvalidToken) reports true for it, and the middleware reads Reason
// with errors.As for its rejected event. It never holds the token.
type InvalidTokenError struct {
	Reason RejectReason
}

// InvalidToken returns an *InvalidTokenError for reason.
func InvalidToken(reason RejectReason) error { return &InvalidTokenError{Reason: reason} }

// Error returns "securesession: invalid session token (<reason>)".
func (e *InvalidTokenError) Error() string {
	return ErrInvalidToken.Error() + " (" + string(e.Reason) + ")"
}

// Is reports whether target is ErrInvalidToken.
func (e *InvalidTokenError) Is(target error) bool { return target == ErrInvalidToken }

// Errors the middleware returns to the application.
var (
	// ErrNoMiddleware is returned by Login, Rotate, Logout and the other
	// request functions when the securesession middleware did not run for
	// the request.
	ErrNoMiddleware = errors.New("securesession: middleware not installed for this request (add securesession.New to the router)")

	// ErrHeadersWritten is returned when a session change needs a
	// Set-Cookie header but the response headers were already sent.
	ErrHeadersWritten = errors.New("securesession: response headers already written; change the session before writing the body")

	// ErrTooManySessions is returned by Login and LoginToken when the user
	// already has Options.MaxSessionsPerUser live sessions and the policy
	// is RefuseNewLogin. The request's session is left as it was before
	// Login; tell the user to log out elsewhere (or end a session from a
	// ListSessions page) and try again. A SessionLimiter wraps it.
	ErrTooManySessions = errors.New("securesession: the user has as many live sessions as Options.MaxSessionsPerUser allows")

	// ErrNotLoggedIn is returned by LogoutEverywhere, ListSessions and
	// RevokeSession when the current session has no user.
	ErrNotLoggedIn = errors.New("securesession: no user is logged in")

	// ErrCannotList is returned by ListSessions and RevokeSession when the
	// backend does not implement Lister.
	ErrCannotList = errors.New("securesession: backend cannot list a user's sessions")
)

// BackendError reports that the backend could not answer: a network error,
// a database outage, a timeout. The middleware never turns it into an
// anonymous session (a silent logout); it passes it to Options.ErrorHandler,
// which by default stops the request with 503 Service Unavailable.
//
// Op names the backend operation: "find", "create", "update", "touch",
// "rotate", "delete", "revoke user", "revoke" (one session, by handle),
// "list", or "decode" (stored values that do not decode).
type BackendError struct {
	Op  string // the backend operation that failed
	Err error  // the backend's error, never containing a token
}

// Error returns "securesession: backend <op>: <cause>".
func (e *BackendError) Error() string {
	return "securesession: backend " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the backend's error, for errors.Is and errors.As.
func (e *BackendError) Unwrap() error { return e.Err }

// StatusCode returns 503 Service Unavailable.
func (e *BackendError) StatusCode() int { return http.StatusServiceUnavailable }

func backendErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var be *BackendError
	if errors.As(err, &be) {
		return err
	}
	return &BackendError{Op: op, Err: err}
}
