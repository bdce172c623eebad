package cookie

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
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
	// Rotate; only a change of user starts a session with a new handle.
	Handle string

	// Gen counts the session's rotations: 0 for its first token, one more
	// for each Rotate. The tokens a rotation superseded have lower Gen.
	Gen uint64

	// UserID is the session's user, "" when anonymous.
	UserID string

	// Issued is when the session began or its user last logged in again,
	// on the Store's clock. A rotation that is not a login keeps it.
	Issued time.Time

	// Deadline is the session's absolute deadline: the middleware refuses
	// the cookie after it whatever a Revocation says.
	Deadline time.Time
}

// ErrSuperseded is returned, wrapped, by Revocation.RevokeSession for a
// rotation to a generation that the session's tokens were already refused
// below: another rotation of the same token, or its logout, got there
// first. Two requests that rotate one cookie at once thus have one winner,
// as on a server-side backend; the Store's Rotate answers the other with
// securesession.ErrNoRecord.
var ErrSuperseded = errors.New("securesession/cookie: the token was already superseded by another rotation or a logout")

// Revocation is server-side state that lets cookie-only sessions be ended
// before they expire: per session, the generation below which its tokens
// are refused, and per user, a time at or before which every session the
// user began is refused. Implementations must be safe for concurrent use.
// An error from any method other than ErrSuperseded is an outage, which
// the middleware answers with 503 rather than letting a revoked session
// in.
//
// Each entry comes with the time after which it may be forgotten: by then
// every session it can refuse is past its absolute deadline.
type Revocation interface {
	// RevokeSession refuses the tokens of the session handle whose Gen is
	// below below: AllTokens ends the session (Logout), and a rotation to
	// generation g passes g, refusing the tokens it superseded while the
	// session goes on. A call must never lower a session's below. A
	// rotation (below other than AllTokens) whose session's below is
	// already at or above below changes nothing and returns an error
	// wrapping ErrSuperseded, atomically with the check: of two rotations
	// of one token, exactly one succeeds. The entry may be forgotten after
	// until, the session's absolute deadline.
	RevokeSession(ctx context.Context, handle string, below uint64, until time.Time) error

	// RevokeUser refuses every session of userID issued at or before
	// before, except the session whose handle is keep ("" keeps none),
	// whatever its rotations. A later call for the same user replaces an
	// earlier one. The entry may be forgotten after until, which the Store
	// sets to before plus the longest session it has sealed or opened.
	RevokeUser(ctx context.Context, userID string, before time.Time, keep string, until time.Time) error

	// Revoked reports whether tok has been revoked. If a user entry
	// refuses tok and tok.Deadline is after the entry's until, the entry
	// must be kept until tok.Deadline: tok's own deadline is the proof of
	// how long the refusal is needed.
	Revoked(ctx context.Context, tok Token) (bool, error)
}

// MemoryRevocation is a Revocation held in this process's memory. It suits
// a single instance and tests; several instances behind a load balancer
// need a shared implementation, and a restart forgets every revocation.
// The zero value is not usable: call NewMemoryRevocation. It is safe for
// concurrent use.
//
// It holds one entry per session ended or rotated (one per session,
// whatever its number of rotations) and one per user revoked, each until
// the latest absolute deadline of the sessions it can refuse, so its size
// is bounded by the logouts, rotations and user revocations of one session
// lifetime. An entry costs about 155 bytes of heap for a session and 170
// for a user with a 12-byte ID (measured on 64-bit Go 1.26 with the
// Store's 32-character handles; add the length of longer user IDs): 100,000
// logouts within an absolute timeout hold about 16 MB.
//
// Pruning is in expiry order (a min-heap per shard): a write costs
// O(log n) and forgets at most two expired entries, so no write scans the
// table. Reads take a shard's read lock, which writes hold only for that
// O(log n) update, and the table is split into 64 shards, so a flood of
// writes does not hold up the check that every request makes.
type MemoryRevocation struct {
	minRetention time.Duration
	now          func() time.Time
	clockSet     bool // SetClock was called: the Store does not replace it
	seed         maphash.Seed
	shards       [revShards]revShard
}

const (
	revShards = 64
	// revPrunePerWrite bounds the expired entries one write forgets: more
	// than one, so that the table shrinks while writes go on, and few, so
	// that a write never waits on a mass expiry.
	revPrunePerWrite = 2
)

type revShard struct {
	mu       sync.RWMutex
	sessions map[string]*revEntry
	users    map[string]*revEntry
	expiry   expiryHeap // every entry of both maps, soonest until first
	_        [64]byte   // keep shards on separate cache lines
}

// revEntry is a session entry (user false: below) or a user entry (user
// true: before and keep). Times are Unix nanoseconds.
type revEntry struct {
	key    string
	keep   string
	until  int64
	before int64
	below  uint64
	index  int32 // position in the shard's expiry heap
	user   bool
}

// NewMemoryRevocation returns an empty MemoryRevocation. Entries are kept
// until the Store says every session they can refuse has ended (see
// Revocation); minRetention, if positive, keeps per-user entries at least
// that long after they were written as well. 0 adds no minimum: with the
// Store's derivation none is needed.
func NewMemoryRevocation(minRetention time.Duration) *MemoryRevocation {
	m := &MemoryRevocation{minRetention: max(minRetention, 0), now: time.Now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].sessions = make(map[string]*revEntry)
		m.shards[i].users = make(map[string]*revEntry)
	}
	return m
}

// SetClock replaces the clock that decides when an entry may be forgotten
// (default: the clock of the Store it is given to, its Options.Now).
// Use the clock the Store and the middleware use. Call it before the
// MemoryRevocation is used.
func (m *MemoryRevocation) SetClock(now func() time.Time) { m.now, m.clockSet = now, true }

// adoptClock is how a Store shares its clock, unless SetClock chose one.
func (m *MemoryRevocation) adoptClock(now func() time.Time) {
	if !m.clockSet {
		m.now = now
	}
}

// Len returns the number of entries held, sessions and users, expired ones
// not yet forgotten included. It is for monitoring the table's size.
func (m *MemoryRevocation) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		n += len(sh.sessions) + len(sh.users)
		sh.mu.RUnlock()
	}
	return n
}

func (m *MemoryRevocation) shard(key string) *revShard {
	return &m.shards[maphash.String(m.seed, key)%revShards]
}

// nanos converts t to Unix nanoseconds, clamping times outside int64's
// range (the zero time among them) to its ends.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// RevokeSession implements Revocation.
func (m *MemoryRevocation) RevokeSession(_ context.Context, handle string, below uint64, until time.Time) error {
	now, u := nanos(m.now()), nanos(until)
	sh := m.shard(handle)
	sh.mu.Lock()
	if e := sh.sessions[handle]; e != nil {
		if below != AllTokens && e.below >= below {
			sh.mu.Unlock()
			return fmt.Errorf("securesession/cookie: rotate to generation %d: %w", below, ErrSuperseded)
		}
		e.below = max(e.below, below)
		sh.extendLocked(e, u)
	} else {
		e = &revEntry{key: strings.Clone(handle), below: below, until: u}
		sh.sessions[e.key] = e
		heap.Push(&sh.expiry, slot{until: u, e: e})
	}
	sh.pruneLocked(now)
	sh.mu.Unlock()
	return nil
}

// RevokeUser implements Revocation.
func (m *MemoryRevocation) RevokeUser(_ context.Context, userID string, before time.Time, keep string, until time.Time) error {
	t := m.now()
	now, b := nanos(t), nanos(before)
	u := nanos(until)
	if m.minRetention > 0 {
		u = max(u, nanos(t.Add(m.minRetention)))
	}
	sh := m.shard(userID)
	sh.mu.Lock()
	if e := sh.users[userID]; e != nil {
		if b >= e.before {
			e.before, e.keep = b, strings.Clone(keep)
		}
		sh.extendLocked(e, u)
	} else {
		e = &revEntry{key: strings.Clone(userID), keep: strings.Clone(keep), before: b, until: u, user: true}
		sh.users[e.key] = e
		heap.Push(&sh.expiry, slot{until: u, e: e})
	}
	sh.pruneLocked(now)
	sh.mu.Unlock()
	return nil
}

// Revoked implements Revocation. It takes read locks only, unless a user
// entry must be kept longer for the session it refuses.
func (m *MemoryRevocation) Revoked(_ context.Context, tok Token) (bool, error) {
	sh := m.shard(tok.Handle)
	sh.mu.RLock()
	e := sh.sessions[tok.Handle]
	refused := e != nil && tok.Gen < e.below
	sh.mu.RUnlock()
	if refused || tok.UserID == "" {
		return refused, nil
	}
	sh = m.shard(tok.UserID)
	deadline := nanos(tok.Deadline)
	sh.mu.RLock()
	e = sh.users[tok.UserID]
	refused = e != nil && nanos(tok.Issued) <= e.before && tok.Handle != e.keep
	extend := refused && deadline > e.until
	sh.mu.RUnlock()
	if extend {
		sh.mu.Lock()
		if sh.users[tok.UserID] == e {
			sh.extendLocked(e, deadline)
		}
		sh.mu.Unlock()
	}
	return refused, nil
}

// extendLocked moves e's until to u if that is later.
func (sh *revShard) extendLocked(e *revEntry, u int64) {
	if u > e.until {
		e.until = u
		sh.expiry[e.index].until = u
		heap.Fix(&sh.expiry, int(e.index))
	}
}

// pruneLocked forgets at most revPrunePerWrite entries whose until has
// passed, soonest first.
func (sh *revShard) pruneLocked(now int64) {
	for i := 0; i < revPrunePerWrite && len(sh.expiry) > 0 && sh.expiry[0].until < now; i++ {
		e := heap.Pop(&sh.expiry).(slot).e
		if e.user {
			delete(sh.users, e.key)
		} else {
			delete(sh.sessions, e.key)
		}
	}
}

// expiryHeap is a container/heap of entries, soonest until first, each
// entry knowing its index so that an extension is an O(log n) Fix. A slot
// holds a copy of its entry's until, so that comparisons stay in the
// slice instead of chasing a pointer per comparison.
type expiryHeap []slot

type slot struct {
	until int64
	e     *revEntry
}

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].e.index, h[j].e.index = int32(i), int32(j)
}
func (h *expiryHeap) Push(x any) {
	s := x.(slot)
	s.e.index = int32(len(*h))
	*h = append(*h, s)
}
func (h *expiryHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = slot{}
	*h = old[:len(old)-1]
	s.e.index = -1
	return s
}
