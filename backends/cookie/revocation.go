package cookie

import (
	"context"
	"math"
	"sync"
	"time"
)

// AllTokens, passed to Revocation.RevokeSession as below, refuses every
// token of a session whatever its rotations: the session is over.
const AllTokens = math.MaxUint64

// Token describes one cookie to a Revocation. None of it is secret: the
// handle is a random identifier from inside the sealed cookie, never the
// cookie itself.
type Token struct {
	// Handle names the session (Record.Handle). It is stable across
	// Rotate; a Login starts a session with a new handle.
	Handle string

	// Gen counts the session's rotations: 0 for its first token, one more
	// for each Rotate. The tokens a rotation superseded have lower Gen.
	Gen uint64

	// UserID is the session's user, "" when anonymous.
	UserID string

	// Issued is when the session (its handle) began, on the Store's clock.
	// A Rotate keeps it.
	Issued time.Time

	// Deadline is the session's absolute deadline: the middleware refuses
	// the cookie after it whatever a Revocation says.
	Deadline time.Time
}

// Revocation is server-side state that lets cookie-only sessions be ended
// before they expire: per session, the generation below which its tokens
// are refused, and per user, a time at or before which every session the
// user began is refused. Implementations must be safe for concurrent use.
// An error from any method is an outage, which the middleware answers with
// 503 rather than letting a revoked session in.
type Revocation interface {
	// RevokeSession refuses the tokens of the session handle whose Gen is
	// below below: AllTokens ends the session (Logout), and a rotation to
	// generation g passes g, refusing the tokens it superseded while the
	// session goes on. A call must never lower a session's below. The
	// entry may be forgotten after until, the session's absolute deadline.
	RevokeSession(ctx context.Context, handle string, below uint64, until time.Time) error

	// RevokeUser refuses every session of userID issued at or before
	// before, except the session whose handle is keep ("" keeps none),
	// whatever its rotations.
	RevokeUser(ctx context.Context, userID string, before time.Time, keep string) error

	// Revoked reports whether tok has been revoked.
	Revoked(ctx context.Context, tok Token) (bool, error)
}

// MemoryRevocation is a Revocation held in this process's memory. It suits
// a single instance and tests; several instances behind a load balancer
// need a shared implementation. The zero value is not usable: call
// NewMemoryRevocation. It is safe for concurrent use.
type MemoryRevocation struct {
	mu       sync.RWMutex
	sessions map[string]sessionRevoke // handle -> revocation
	users    map[string]userRevoke    // user -> revocation
	maxAge   time.Duration
	now      func() time.Time
}

type sessionRevoke struct {
	below uint64
	until time.Time // forget after
}

type userRevoke struct {
	before time.Time
	keep   string
}

// NewMemoryRevocation returns an empty MemoryRevocation. Per-user entries
// are kept for maxAge (use the absolute timeout; 0 means 12 hours), after
// which every session they could refuse has expired anyway.
func NewMemoryRevocation(maxAge time.Duration) *MemoryRevocation {
	if maxAge <= 0 {
		maxAge = 12 * time.Hour
	}
	return &MemoryRevocation{
		sessions: make(map[string]sessionRevoke),
		users:    make(map[string]userRevoke),
		maxAge:   maxAge,
		now:      time.Now,
	}
}

// RevokeSession implements Revocation.
func (m *MemoryRevocation) RevokeSession(_ context.Context, handle string, below uint64, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked()
	r := m.sessions[handle]
	r.below = max(r.below, below)
	if until.After(r.until) {
		r.until = until
	}
	m.sessions[handle] = r
	return nil
}

// RevokeUser implements Revocation.
func (m *MemoryRevocation) RevokeUser(_ context.Context, userID string, before time.Time, keep string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked()
	m.users[userID] = userRevoke{before: before, keep: keep}
	return nil
}

// Revoked implements Revocation.
func (m *MemoryRevocation) Revoked(_ context.Context, tok Token) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r, ok := m.sessions[tok.Handle]; ok && tok.Gen < r.below {
		return true, nil
	}
	if tok.UserID != "" {
		if u, ok := m.users[tok.UserID]; ok && !tok.Issued.After(u.before) && tok.Handle != u.keep {
			return true, nil
		}
	}
	return false, nil
}

// pruneLocked drops entries that can no longer matter. It runs on writes,
// so the maps stay bounded by the revocations of one absolute timeout.
func (m *MemoryRevocation) pruneLocked() {
	now := m.now()
	if len(m.sessions) > 1024 {
		for h, r := range m.sessions {
			if now.After(r.until) {
				delete(m.sessions, h)
			}
		}
	}
	if len(m.users) > 1024 {
		for u, r := range m.users {
			if now.Sub(r.before) > m.maxAge {
				delete(m.users, u)
			}
		}
	}
}
