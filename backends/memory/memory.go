// Package memory is a securesession backend that keeps sessions in this
// process's memory: a mutex-guarded map, bounded, with expired records
// swept in expiry order.
//
// It is the reference implementation of the securesession.Backend
// contract, of securesession.Lister and of securesession.SessionLimiter,
// short enough to read in one sitting, and the model for third-party backends. It suits tests and
// single-instance applications, as scs's memstore does; sessions end when
// the process exits, and several instances behind a load balancer do not
// share them (use backends/memcache or backends/gorm).
//
// What it shows a backend author:
//   - the token is 256 bits from crypto/rand, checked for shape before any
//     lookup (a malformed token is securesession.ErrInvalidToken);
//   - the store never keeps the token itself, only a hash of it bound to
//     the cookie name, so a token moved to another cookie name finds
//     nothing;
//   - Update, Touch and Rotate of a record that has ended return
//     securesession.ErrNoRecord and write nothing, so a write racing a
//     logout never brings a session back;
//   - Rotate moves the record to a new token in one step under the lock,
//     so a concurrent RevokeUser either sees the record under its old
//     token or under its new one, never neither;
//   - a session's Handle is random, assigned at Create and kept by
//     Rotate: it names the device's session, not one token, so
//     RevokeHandle ends the session whatever its rotations;
//   - LoginLimited counts a user's sessions and makes room in the same step
//     as the login's write, so concurrent logins never exceed the limit.
package memory

import (
	"container/heap"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/token"
)

// DefaultMaxSessions is the number of sessions a Store holds when
// Options.MaxSessions is zero.
const DefaultMaxSessions = 100_000

// Options configures a Store. The zero value is usable.
type Options struct {
	// MaxSessions bounds the records held. When a new session would exceed
	// it, expired records are swept and then the live record closest to its
	// expiry is evicted, as memcached evicts under memory pressure: for
	// that session it is a logout. Default DefaultMaxSessions (100,000,
	// some 50 MB with small values). Must not be negative.
	MaxSessions int

	// Now is the clock that decides which records have expired. Default
	// time.Now. It is called concurrently and must be safe for that.
	Now func() time.Time
}

// Store keeps sessions in memory. It implements securesession.Backend,
// securesession.Lister and securesession.SessionLimiter. All its methods are safe for concurrent use; each
// takes one mutex for a few map operations and never does I/O under it.
type Store struct {
	mu      sync.Mutex
	byKey   map[key]*entry
	byUser  map[string]map[*entry]struct{}
	handles map[string]*entry
	expiry  expiryHeap
	max     int
	now     func() time.Time
}

// key is the SHA-256 of (cookie name, 0, token): the token itself is never
// kept. The hash need not be keyed here, since whoever can read this
// process's memory can read any key too.
type key [sha256.Size]byte

func keyOf(name, tok string) key {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(tok))
	var k key
	h.Sum(k[:0])
	return k
}

type entry struct {
	key   key
	rec   securesession.Record
	index int // in the expiry heap
}

// NewStore returns an empty Store. It returns an error naming the field
// for a negative Options.MaxSessions.
func NewStore(opts Options) (*Store, error) {
	if opts.MaxSessions < 0 {
		return nil, fmt.Errorf("securesession/memory: Options.MaxSessions: must not be negative, got %d", opts.MaxSessions)
	}
	s := &Store{
		byKey:   make(map[key]*entry),
		byUser:  make(map[string]map[*entry]struct{}),
		handles: make(map[string]*entry),
		max:     opts.MaxSessions,
		now:     opts.Now,
	}
	if s.max == 0 {
		s.max = DefaultMaxSessions
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Close releases nothing: the Store starts no goroutine and holds no
// connection. It exists so that every backend has the same lifecycle.
func (s *Store) Close() error { return nil }

// Len returns the number of records held, expired ones not yet swept
// included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

func invalid() error {
	return fmt.Errorf("securesession/memory: %w", securesession.ErrInvalidToken)
}

func noRecord() error {
	return fmt.Errorf("securesession/memory: %w", securesession.ErrNoRecord)
}

// live returns the unexpired entry under k. Callers hold s.mu.
func (s *Store) live(k key, now time.Time) *entry {
	e := s.byKey[k]
	if e == nil || !now.Before(e.rec.Expires) {
		return nil
	}
	return e
}

// Find implements securesession.Backend: one map lookup under the lock.
func (s *Store) Find(_ context.Context, name, tok string) (securesession.Record, bool, error) {
	if !token.Valid(tok) {
		return securesession.Record{}, false, invalid()
	}
	k := keyOf(name, tok)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(k, now)
	if e == nil {
		return securesession.Record{}, false, nil
	}
	return e.rec, true, nil
}

// Create implements securesession.Backend. It assigns a fresh random
// Handle and, at MaxSessions, sweeps and evicts as Options.MaxSessions
// says.
func (s *Store) Create(_ context.Context, name string, rec *securesession.Record) (string, error) {
	tok := token.New()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(name, tok, rec, now)
	return tok, nil
}

// add stores rec as a new session under tok with a fresh Handle, making
// room as Options.MaxSessions says. Callers hold s.mu.
func (s *Store) add(name, tok string, rec *securesession.Record, now time.Time) {
	rec.Handle = newHandle()
	s.sweep(now)
	for len(s.byKey) >= s.max {
		s.remove(s.expiry[0])
	}
	s.insert(&entry{key: keyOf(name, tok), rec: stored(rec)})
}

// Update implements securesession.Backend: the record is replaced in
// place, under the same token and Handle.
func (s *Store) Update(_ context.Context, name, tok string, rec *securesession.Record) (string, error) {
	return tok, s.replace(name, tok, rec)
}

// Touch implements securesession.Backend. The values are kept as they
// are; only the activity times move.
func (s *Store) Touch(_ context.Context, name, tok string, rec *securesession.Record) (string, error) {
	if !token.Valid(tok) {
		return "", invalid()
	}
	k := keyOf(name, tok)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(k, now)
	if e == nil {
		return "", noRecord()
	}
	e.rec.LastSeen, e.rec.Expires = rec.LastSeen, rec.Expires
	heap.Fix(&s.expiry, e.index)
	rec.Handle = e.rec.Handle
	return tok, nil
}

func (s *Store) replace(name, tok string, rec *securesession.Record) error {
	if !token.Valid(tok) {
		return invalid()
	}
	k := keyOf(name, tok)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(k, now)
	if e == nil {
		return noRecord()
	}
	rec.Handle = e.rec.Handle
	s.reindexUser(e, rec.UserID)
	e.rec = stored(rec)
	heap.Fix(&s.expiry, e.index)
	return nil
}

// Rotate implements securesession.Backend: the record moves to a fresh
// token in one step under the lock, keeping its Handle, and the old token
// names nothing from then on.
func (s *Store) Rotate(_ context.Context, name, oldToken string, rec *securesession.Record) (string, error) {
	if !token.Valid(oldToken) {
		return "", invalid()
	}
	old := keyOf(name, oldToken)
	tok := token.New()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(old, now)
	if e == nil {
		return "", noRecord()
	}
	s.move(e, name, tok, rec)
	return tok, nil
}

// move gives e the token tok and the record rec, keeping its Handle.
// Callers hold s.mu.
func (s *Store) move(e *entry, name, tok string, rec *securesession.Record) {
	delete(s.byKey, e.key)
	e.key = keyOf(name, tok)
	s.byKey[e.key] = e
	rec.Handle = e.rec.Handle
	s.reindexUser(e, rec.UserID)
	e.rec = stored(rec)
	heap.Fix(&s.expiry, e.index)
}

// LoginLimited implements securesession.SessionLimiter. Everything
// happens under the one lock, so concurrent logins of a user are simply
// serialised: count the user's other live sessions (the one oldToken names
// does not count), refuse or end the least recently seen until the login
// fits, then rotate oldToken's session or create a new one.
func (s *Store) LoginLimited(_ context.Context, name, oldToken string, rec *securesession.Record, limit securesession.SessionLimit) (string, error) {
	switch {
	case rec.UserID == "":
		return "", errors.New("securesession/memory: LoginLimited: empty user ID (a login has a user)")
	case limit.Max < 1:
		return "", fmt.Errorf("securesession/memory: LoginLimited: limit.Max is %d, must be at least 1", limit.Max)
	}
	var old key
	if oldToken != "" {
		if !token.Valid(oldToken) {
			return "", invalid()
		}
		old = keyOf(name, oldToken)
	}
	tok := token.New()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var replaced *entry
	if oldToken != "" {
		if replaced = s.live(old, now); replaced == nil {
			return "", noRecord()
		}
	}
	var others []*entry
	for e := range s.byUser[rec.UserID] {
		if e != replaced && now.Before(e.rec.Expires) {
			others = append(others, e)
		}
	}
	if excess := len(others) - (limit.Max - 1); excess > 0 {
		if limit.Refuse {
			return "", fmt.Errorf("securesession/memory: %w", securesession.ErrTooManySessions)
		}
		slices.SortFunc(others, func(a, b *entry) int { return a.rec.LastSeen.Compare(b.rec.LastSeen) })
		for _, e := range others[:excess] {
			s.remove(e)
		}
	}
	if replaced != nil {
		s.move(replaced, name, tok, rec)
		return tok, nil
	}
	s.add(name, tok, rec, now)
	return tok, nil
}

// Delete implements securesession.Backend. Deleting a record that does not
// exist is not an error.
func (s *Store) Delete(_ context.Context, name, tok string) error {
	if !token.Valid(tok) {
		return invalid()
	}
	k := keyOf(name, tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byKey[k]; e != nil {
		s.remove(e)
	}
	return nil
}

// RevokeUser implements securesession.Backend: every record of userID is
// removed, except the one keep names.
func (s *Store) RevokeUser(_ context.Context, userID string, keep securesession.Ref) error {
	var kept key
	if keep.Token != "" {
		if !token.Valid(keep.Token) {
			return invalid()
		}
		kept = keyOf(keep.Name, keep.Token)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := range s.byUser[userID] {
		if keep.Token == "" || e.key != kept {
			s.remove(e)
		}
	}
	return nil
}

// ListUser implements securesession.Lister. The user ID is compared
// exactly: no case folding, trimming or normalisation.
func (s *Store) ListUser(_ context.Context, userID string) ([]securesession.SessionInfo, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []securesession.SessionInfo
	for e := range s.byUser[userID] {
		if !now.Before(e.rec.Expires) {
			continue
		}
		r := &e.rec
		list = append(list, securesession.SessionInfo{
			Handle: r.Handle, Created: r.Created, AuthTime: r.AuthTime, LastSeen: r.LastSeen,
			Expires: r.Expires, UserAgent: r.UserAgent, IP: r.IP,
			Binding: append([]byte(nil), r.Binding...),
		})
	}
	return list, nil
}

// RevokeHandle implements securesession.Lister. It returns an error
// wrapping securesession.ErrNoRecord if no live session of userID has
// that handle (it ended already, or it is another user's).
func (s *Store) RevokeHandle(_ context.Context, userID, handle string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.handles[handle]
	if e == nil || e.rec.UserID != userID || !now.Before(e.rec.Expires) {
		return noRecord()
	}
	s.remove(e)
	return nil
}

// stored returns the copy of rec that the Store keeps: Values and Binding
// are copied (the caller may reuse its slices), Opaque and Reissue are not
// kept.
func stored(rec *securesession.Record) securesession.Record {
	r := *rec
	r.Values = append([]byte(nil), rec.Values...)
	r.Binding = append([]byte(nil), rec.Binding...)
	r.Opaque, r.Reissue = nil, false
	return r
}

func newHandle() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// insert, remove, reindexUser and sweep keep the maps and the heap in
// step. Callers hold s.mu.

func (s *Store) insert(e *entry) {
	s.byKey[e.key] = e
	s.handles[e.rec.Handle] = e
	s.addUser(e)
	heap.Push(&s.expiry, e)
}

func (s *Store) remove(e *entry) {
	delete(s.byKey, e.key)
	delete(s.handles, e.rec.Handle)
	s.dropUser(e)
	heap.Remove(&s.expiry, e.index)
}

func (s *Store) reindexUser(e *entry, userID string) {
	if e.rec.UserID == userID {
		return
	}
	s.dropUser(e)
	e.rec.UserID = userID
	s.addUser(e)
}

func (s *Store) addUser(e *entry) {
	if e.rec.UserID == "" {
		return
	}
	set := s.byUser[e.rec.UserID]
	if set == nil {
		set = make(map[*entry]struct{})
		s.byUser[e.rec.UserID] = set
	}
	set[e] = struct{}{}
}

func (s *Store) dropUser(e *entry) {
	set := s.byUser[e.rec.UserID]
	delete(set, e)
	if len(set) == 0 {
		delete(s.byUser, e.rec.UserID)
	}
}

// sweep removes the expired records, earliest first: each costs
// O(log n), and a write pays only for the records that expired before it.
func (s *Store) sweep(now time.Time) {
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].rec.Expires) {
		s.remove(s.expiry[0])
	}
}

// expiryHeap orders entries by Expires, earliest first.
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].rec.Expires.Before(h[j].rec.Expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

var (
	_ securesession.Backend        = (*Store)(nil)
	_ securesession.Lister         = (*Store)(nil)
	_ securesession.SessionLimiter = (*Store)(nil)
)
