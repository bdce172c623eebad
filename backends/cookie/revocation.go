package cookie

import (
	"context"
	"sync"
	"time"
)

// Revocation is server-side state that lets cookie-only sessions be ended
// before they expire: a denylist of session handles and, per user, a
// revocation time before which every session of that user is refused.
// Handles are random, non-secret identifiers from inside the sealed
// cookie, never the cookie itself. Implementations must be safe for
// concurrent use; an error from any method is an outage, which the
// middleware answers with 503 rather than letting a revoked session in.
type Revocation interface {
	// RevokeSession refuses the session handle from now on. The entry may
	// be forgotten after until, the session's absolute deadline.
	RevokeSession(ctx context.Context, handle string, until time.Time) error

	// RevokeUser refuses every session of userID issued at or before
	// before, except the session keep (a handle; "" keeps none).
	RevokeUser(ctx context.Context, userID string, before time.Time, keep string) error

	// Revoked reports whether the session handle of userID, issued at
	// issued, has been revoked.
	Revoked(ctx context.Context, handle, userID string, issued time.Time) (bool, error)
}

// MemoryRevocation is a Revocation held in this process's memory. It suits
// a single instance and tests; several instances behind a load balancer
// need a shared implementation. The zero value is not usable: call
// NewMemoryRevocation. It is safe for concurrent use.
type MemoryRevocation struct {
	mu       sync.RWMutex
	sessions map[string]time.Time  // handle -> forget after
	users    map[string]userRevoke // user -> revocation
	maxAge   time.Duration
	now      func() time.Time
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
		sessions: make(map[string]time.Time),
		users:    make(map[string]userRevoke),
		maxAge:   maxAge,
		now:      time.Now,
	}
}

// RevokeSession implements Revocation.
func (m *MemoryRevocation) RevokeSession(_ context.Context, handle string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked()
	m.sessions[handle] = until
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
func (m *MemoryRevocation) Revoked(_ context.Context, handle, userID string, issued time.Time) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if _, ok := m.sessions[handle]; ok {
		return true, nil
	}
	if userID != "" {
		if u, ok := m.users[userID]; ok && !issued.After(u.before) && handle != u.keep {
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
		for h, until := range m.sessions {
			if now.After(until) {
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
