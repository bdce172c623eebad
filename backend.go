package securesession

import (
	"context"
	"time"
)

// Backend is what the middleware needs from a session store: exactly the
// seven operations it calls. The contract is written in the method
// comments; backends/backendtest checks it, and backends/memory is a
// reference implementation short enough to read in one sitting. Any
// Backend also serves plain gin-contrib sessions.Sessions through
// [NewGinContribStore].
//
// A token is the credential the client holds: the value of the session
// cookie. A server backend generates an opaque random token and keeps the
// record under a keyed hash of it; the cookie backend seals the whole record
// into the token. Either way the middleware never interprets a token, and
// the name of the cookie that carried it is passed alongside so that a
// backend can bind the two: a token moved to another cookie name must not
// be found.
//
// Timeouts are decided by the middleware, on its own clock, from the times
// in the Record. A backend stores them and may use Record.Expires to let the
// record lapse on its own (a TTL, an expires_at column), but it does not need
// to enforce them exactly.
//
// The middleware always fills Record.Created, LastSeen, Deadline and
// Expires, never calls RevokeUser with an empty user ID, and sends a new
// cookie whenever a method returns a token different from the one it was
// given.
//
// Malformed tokens: every method given a token that is malformed,
// truncated, oversized or otherwise not one the backend could have issued
// returns an error wrapping ErrInvalidToken (preferably an
// *InvalidTokenError with its reason), before any store access, and never
// panics, whatever the bytes. This holds for Find, Update, Touch, Rotate,
// Delete and the token in RevokeUser's keep.
//
// Lifecycle: a backend that holds resources (connections, a sweeper
// goroutine) has a Close() error method; the application calls it after
// the server has stopped serving, and the middleware never does. Every
// backend in this module has Close, even where it has nothing to release.
//
// Concurrency: all methods must be safe for concurrent use. The context
// carries the request's deadline and cancellation.
type Backend interface {
	// Find returns the record that token names under the cookie name. If
	// the token is unknown, expired, revoked or deleted, found is false and
	// err is nil. If the token is malformed or fails authentication (the
	// client sent something we never issued), Find returns an error that
	// wraps ErrInvalidToken: the middleware treats it as "no session" and
	// reports a rejected-cookie event, never a failure. Any other error
	// means the backend could not answer (an outage); the middleware then
	// fails the request with a *BackendError instead of treating the client
	// as logged out.
	//
	// Find must not create, extend or otherwise write anything.
	Find(ctx context.Context, name, token string) (rec Record, found bool, err error)

	// Create stores rec as a new session and returns the token the client
	// must present from now on. A server backend generates the token from
	// crypto/rand with at least 128 bits of entropy. Create sets rec.Handle.
	Create(ctx context.Context, name string, rec *Record) (token string, err error)

	// Update replaces the record that token names with rec (user, values
	// and times) and returns the token the client must present from now on:
	// usually the same token for a server backend, a new sealed value for
	// the cookie backend. If the record no longer exists (logged out, revoked or
	// expired since Find) Update returns an error wrapping ErrNoRecord and
	// must not re-create it: a write that races a logout never brings the
	// session back.
	Update(ctx context.Context, name, token string, rec *Record) (newToken string, err error)

	// Touch records activity for the idle timeout: rec.LastSeen and
	// rec.Expires have moved forward and nothing else has changed. A server
	// backend need not rewrite the values; one that does writes the values
	// it holds, never rec's, so that a Touch racing an Update cannot undo
	// it. Binding is kept as stored. Like Update it returns
	// the token to present from now on and an error wrapping ErrNoRecord
	// if the record is gone. The middleware throttles Touch; a backend need not.
	Touch(ctx context.Context, name, token string, rec *Record) (newToken string, err error)

	// Rotate moves the session that oldToken names to a fresh token, with
	// rec as its record, atomically: a concurrent RevokeUser or
	// RevokeHandle sees the session under its old token or under its new
	// one, never neither, so a rotation never survives a revocation. It
	// returns the new token and sets rec.Handle, which stays the session's
	// Handle (it names the session, not one token). Afterwards
	// Find(oldToken) must report not found. If the record that oldToken
	// names no longer exists (logged out, revoked or expired since Find),
	// Rotate returns an error wrapping ErrNoRecord and stores nothing: a rotation racing a logout or a
	// "log out everywhere" must not bring the session back under a new
	// token. (For a login, which follows a fresh authentication, the
	// middleware then calls Create.) This is how a login defeats session
	// fixation.
	Rotate(ctx context.Context, name, oldToken string, rec *Record) (newToken string, err error)

	// Delete removes the record that token names, so that the token is
	// never found again. Deleting a record that does not exist is not an
	// error. A backend that keeps no server state and has no way to revoke
	// a token returns an error wrapping ErrCannotRevoke.
	Delete(ctx context.Context, name, token string) error

	// RevokeUser ends every session of userID, under every cookie name,
	// except the one that keep names (the zero Ref keeps none). userID is
	// never empty (anonymous sessions have no user to revoke) and is
	// compared byte for byte: no case folding, no trimming, no Unicode
	// normalisation ("Alice" never ends "alice"'s sessions). A session
	// that is rotating concurrently is ended too (see Rotate). A backend
	// that cannot do it returns an error wrapping ErrCannotRevoke.
	RevokeUser(ctx context.Context, userID string, keep Ref) error
}

// Lister is implemented by backends that can enumerate a user's sessions,
// for a "your active sessions" page. The middleware finds it by type
// assertion; see ListSessions and RevokeSession.
type Lister interface {
	// ListUser returns the live sessions of userID (compared byte for
	// byte, as in RevokeUser), in no particular order. Expired records are
	// not returned.
	ListUser(ctx context.Context, userID string) ([]SessionInfo, error)

	// RevokeHandle deletes the session whose Handle is handle if, and only
	// if, it belongs to userID. If no live session of userID has that
	// handle (it ended already, or it is another user's), it returns an
	// error wrapping ErrNoRecord, so that the application can say "already
	// ended" instead of reporting a revocation that did nothing.
	RevokeHandle(ctx context.Context, userID, handle string) error
}

// SessionLimiter is implemented by backends that can bound the number of
// live sessions of one user (Options.MaxSessionsPerUser, OWASP ASVS 5.0
// 7.1.2). The middleware finds it by type assertion and, when a limit is
// set, calls LoginLimited for every login instead of Rotate or Create.
type SessionLimiter interface {
	// LoginLimited stores rec, a login of rec.UserID, and returns its
	// token, so that afterwards the user has at most limit.Max live
	// sessions, the new one included. It is atomic with respect to other
	// logins of the same user: any number of concurrent LoginLimited calls
	// never leave more than limit.Max sessions.
	//
	// oldToken names the session the login replaces, or is "" for none:
	// LoginLimited then moves it to the new token with Rotate's guarantees
	// and Rotate's ErrNoRecord rule, and the replaced session does not
	// count against the limit. If the user already has limit.Max other
	// live sessions, then with limit.Refuse it stores nothing and returns
	// an error wrapping ErrTooManySessions; otherwise it ends the sessions
	// with the least recent LastSeen, as RevokeHandle would, until the new
	// one fits. It sets rec.Handle. An empty rec.UserID (a login has a
	// user) or a limit.Max below 1 is an error, and nothing is stored.
	LoginLimited(ctx context.Context, name, oldToken string, rec *Record, limit SessionLimit) (token string, err error)
}

// SessionLimit is the limit a SessionLimiter enforces at a login.
type SessionLimit struct {
	Max    int  // the most live sessions the user may have, at least 1
	Refuse bool // refuse the new login instead of ending the oldest sessions
}

// Ref names one session: the cookie name and the token it carried.
type Ref struct {
	Name  string // the cookie name the token was issued under
	Token string // the token itself; a credential, never logged
}

// Record is the state of one session as a backend stores it. The middleware
// fills every field except Handle and Opaque; a backend stores them and
// returns them unchanged from Find.
type Record struct {
	// Handle is a non-secret identifier of the session assigned by the
	// backend at Create and kept by Rotate: it names the session (a
	// device's login), not one token. It is safe to log and to show to the
	// user, it is never a credential, and no token can be derived from it.
	Handle string

	// UserID is the logged-in user, or "" for an anonymous session.
	UserID string

	// AuthTime is when the user last authenticated; zero when anonymous.
	AuthTime time.Time

	// Created is when this session began or was last rotated by a login.
	Created time.Time

	// LastSeen is the time of the last recorded activity.
	LastSeen time.Time

	// Deadline is the absolute timeout: the session ends then whatever the
	// activity.
	Deadline time.Time

	// Expires is when the session ends if there is no further activity:
	// the earlier of LastSeen plus the idle timeout and Deadline. Backends
	// may use it as a TTL.
	Expires time.Time

	// Values is the session data, encoded by the middleware. It is opaque
	// to backends, which must store it byte for byte.
	Values []byte

	// Binding is the session's device binding (DBSC, see
	// Options.DeviceBinding), encoded by the middleware: nil for a session
	// that is not bound. Like Values it is opaque to backends, which must
	// store it byte for byte and return it from Find; Update, Rotate and
	// Create carry it, and Touch must leave the stored one as it is. It
	// holds a per-session secret, so a backend keeps it as private as the
	// values (the cookie backend seals it into the cookie).
	Binding []byte

	// UserAgent and IP are optional client metadata for a "your active
	// sessions" page, set when Options.RecordClientInfo is true.
	UserAgent string // the client's User-Agent, at most 512 bytes
	IP        string // the client's IP address as gin's ClientIP reports it

	// Reissue may be set by Find to ask the middleware to write the record
	// back in this request (for example because the cookie was sealed
	// under a retired key).
	Reissue bool

	// Opaque is backend-private state that Find may set (a CAS token, say);
	// the middleware hands it back unchanged to Update, Touch, Rotate and
	// Delete for the same token and never reads it.
	Opaque any
}

// SessionInfo describes one live session of a user, as returned by a Lister.
type SessionInfo struct {
	Handle    string    // pass to RevokeSession to end this session
	Created   time.Time // when the session began or was last rotated by a login
	AuthTime  time.Time // when the user last authenticated
	LastSeen  time.Time // the last recorded activity (throttled by Options.TouchInterval)
	Expires   time.Time // when it ends without further activity
	UserAgent string    // recorded with Options.RecordClientInfo, else ""
	IP        string    // recorded with Options.RecordClientInfo, else ""

	// Binding is the record's Binding, which a Lister copies so that
	// ListSessions can tell bound sessions apart (a Lister that leaves it
	// nil reports every session unbound). ListSessions sets DeviceBound
	// from it and then clears it: the application never sees it.
	Binding []byte

	// DeviceBound is true for a session whose device registered a DBSC
	// key (see Options.DeviceBinding); set by ListSessions, never by a
	// backend.
	DeviceBound bool

	// Current is true for the session of the request that asked; set by
	// ListSessions, never by a backend.
	Current bool
}
