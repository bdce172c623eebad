package revocationtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gin-securesession/securesession/backends/cookie"
)

// ErrDown is what every method of a MemoryStore returns, wrapped, while
// SetDown(true) is in force: an outage.
var ErrDown = errors.New("securesession/cookie/revocationtest: store is down")

// memoryBatch is the most entries one Changes call returns, small so that
// the suites exercise paging.
const memoryBatch = 64

// MemoryStore is a cookie.RevocationStore held in this process's memory,
// for tests: several SharedRevocations over one MemoryStore are a fleet in
// one process. It keeps every entry and the whole change log until
// LoseLog, and has switches that inject the faults a real store has. The
// zero value is not usable: call NewMemoryStore. It is safe for
// concurrent use.
type MemoryStore struct {
	mu      sync.Mutex
	salt    []byte // nil until the first Salt, and after Reset
	since   time.Time
	entries map[string]cookie.RevocationEntry
	log     []cookie.RevocationEntry // log[i] is at position base+1+i
	base    uint64
	down    bool
	hook    func(keys []string)
}

var _ cookie.RevocationStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore. Its salt is created by the
// first Salt, as a real store's is.
func NewMemoryStore() *MemoryStore {
	// Position 1 is the start: 0 asks Changes for the position only.
	return &MemoryStore{entries: make(map[string]cookie.RevocationEntry), base: 1}
}

// Reset empties the store as a memcached restart does: every entry, the
// change log (Changes from any position returned before returns an error
// wrapping cookie.ErrChangesLost) and the salt are gone, and the next
// Salt creates a new one.
func (m *MemoryStore) Reset() {
	m.mu.Lock()
	m.salt, m.since = nil, time.Time{}
	clear(m.entries)
	m.base += uint64(len(m.log)) + 1
	m.log = nil
	m.mu.Unlock()
}

// SetDown makes every method fail with an error wrapping ErrDown (down
// true) or work again (false), as a store that cannot be reached. No
// entry is lost.
func (m *MemoryStore) SetDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

// LoseLog trims the change log: Changes from any position returned before
// returns an error wrapping cookie.ErrChangesLost, as after an evicted
// log item. The entries are kept.
func (m *MemoryStore) LoseLog() {
	m.mu.Lock()
	// Skip a position, so that every position returned before is behind
	// the new start of the log.
	m.base += uint64(len(m.log)) + 1
	m.log = nil
	m.mu.Unlock()
}

// AfterLookupRead sets a function that Lookup calls after it has read the
// entries and before it returns them, without holding the store's lock:
// a test can write meanwhile, as another instance would between a
// Lookup's read and its reply. nil removes it.
func (m *MemoryStore) AfterLookupRead(f func(keys []string)) {
	m.mu.Lock()
	m.hook = f
	m.mu.Unlock()
}

// Len returns the number of entries held.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *MemoryStore) check(op string) error {
	if m.down {
		return fmt.Errorf("securesession/cookie/revocationtest: %s: %w", op, ErrDown)
	}
	return nil
}

// Salt implements cookie.RevocationStore: the first call, and the first
// after Reset, creates 32 random bytes with since now.
func (m *MemoryStore) Salt(_ context.Context, now time.Time) ([]byte, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("salt"); err != nil {
		return nil, time.Time{}, err
	}
	if m.salt == nil {
		m.salt = make([]byte, 32)
		rand.Read(m.salt)
		m.since = now
	}
	return append([]byte(nil), m.salt...), m.since, nil
}

// Put implements cookie.RevocationStore.
func (m *MemoryStore) Put(_ context.Context, entries ...cookie.RevocationEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("put"); err != nil {
		return err
	}
	for i, e := range entries {
		if !cookie.ValidRevocationKey(e.Key) || !cookie.ValidRevocationKeep(e.Keep) {
			return fmt.Errorf("securesession/cookie/revocationtest: put: entry %d of %d: its Key or Keep is not shaped as a SharedRevocation makes them", i+1, len(entries))
		}
	}
	for i, e := range entries {
		cur, ok := m.entries[e.Key]
		if e.Claim && ok && cur.Below >= e.Below {
			return fmt.Errorf("securesession/cookie/revocationtest: put: entry %d of %d: %w", i+1, len(entries), cookie.ErrSuperseded)
		}
		e.Claim = false
		if ok {
			e = cur.Merge(e)
		}
		m.entries[e.Key] = e
		m.log = append(m.log, e)
	}
	return nil
}

// Lookup implements cookie.RevocationStore.
func (m *MemoryStore) Lookup(_ context.Context, keys []string) ([]cookie.RevocationEntry, error) {
	m.mu.Lock()
	if err := m.check("lookup"); err != nil {
		m.mu.Unlock()
		return nil, err
	}
	for _, k := range keys {
		if !cookie.ValidRevocationKey(k) {
			m.mu.Unlock()
			return nil, fmt.Errorf("securesession/cookie/revocationtest: lookup: a key is not shaped as a SharedRevocation makes them")
		}
	}
	var out []cookie.RevocationEntry
	for _, k := range keys {
		if e, ok := m.entries[k]; ok {
			out = append(out, e)
		}
	}
	hook := m.hook
	m.mu.Unlock()
	if hook != nil {
		hook(keys)
	}
	return out, nil
}

// Changes implements cookie.RevocationStore.
func (m *MemoryStore) Changes(_ context.Context, since uint64) ([]cookie.RevocationEntry, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check("changes"); err != nil {
		return nil, 0, err
	}
	end := m.base + uint64(len(m.log))
	if since == 0 {
		return nil, end, nil
	}
	if since < m.base || since > end {
		return nil, end, fmt.Errorf("securesession/cookie/revocationtest: changes since %d: %w", since, cookie.ErrChangesLost)
	}
	from := since - m.base
	to := min(from+memoryBatch, uint64(len(m.log)))
	out := append([]cookie.RevocationEntry(nil), m.log[from:to]...)
	return out, m.base + to, nil
}
