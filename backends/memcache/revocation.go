package memcache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	sscookie "github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/internal/wire"
)

// DefaultRevocationPrefix is the key prefix when RevocationStoreOptions.
// Prefix is empty.
const DefaultRevocationPrefix = "ssrev:"

// DefaultLogRetention is the default RevocationStoreOptions.LogRetention.
const DefaultLogRetention = 10 * time.Minute

// DefaultBatchSize is the default RevocationStoreOptions.BatchSize.
const DefaultBatchSize = 200

// MinLogRetention is the shortest RevocationStoreOptions.LogRetention: a
// log item must outlive the grace during which a missing one is taken for
// a write in flight, by far.
const MinLogRetention = time.Minute

// MaxBatchSize is the largest RevocationStoreOptions.BatchSize.
const MaxBatchSize = 10000

const (
	// logGrace is how long a missing log item may be a write in flight
	// (see RevocationStore): a writer's set after its incr takes well
	// under this.
	logGrace = 5 * time.Second
	// logInflight is how many of the newest positions may be in flight.
	logInflight = 1024
	// revCASAttempts bounds the compare-and-swap retries of one entry.
	// Each conflict means another writer of the key succeeded, so this is
	// more than the concurrent writers of one key there should ever be.
	revCASAttempts = 64
	// saltLen is the size of a salt this store creates; minSaltLen the
	// least it accepts from the server.
	saltLen    = 32
	minSaltLen = 16
	// maxRevKey is the longest RevocationEntry.Key and Keep.
	maxRevKey = 64
	// maxKeyLen is memcached's limit on key length.
	maxKeyLen = 250
)

// Tags and format version of the values.
const (
	tagEntryValue = 'E'
	tagLogValue   = 'L'
	tagSaltValue  = 'S'
	revVersion    = 1
)

// RevocationStoreOptions configures NewRevocationStore. The zero value
// gives every default. It is read once by NewRevocationStore.
type RevocationStoreOptions struct {
	// Prefix starts every memcached key the store writes, so that several
	// applications (and a session Store) can share servers. Default
	// DefaultRevocationPrefix ("ssrev:"). It must be printable ASCII
	// without spaces, at most MaxPrefixLen bytes.
	Prefix string

	// LogRetention is how long a change-log item lives. An instance that
	// has not synced for longer finds items gone, gets
	// cookie.ErrChangesLost and looks its keys up again, which is safe but
	// costs one Lookup of every key it holds. Default DefaultLogRetention
	// (10 minutes); at least MinLogRetention.
	LogRetention time.Duration

	// BatchSize is the most log items one Changes reads (in one
	// GetMulti), and the most keys one Lookup sends in one GetMulti.
	// Default DefaultBatchSize (200); at most MaxBatchSize.
	BatchSize int

	// Now is the clock from which item expirations and the time of each
	// log write are computed. Default time.Now. It is called concurrently
	// and must be safe for that. It must agree with the memcached servers'
	// clocks, and with the other instances', to within a few seconds.
	Now func() time.Time
}

// RevocationStore is a cookie.RevocationStore on memcached: what a
// cookie.SharedRevocation keeps so that a logout on one instance of a
// fleet refuses the cookie on every other.
//
// What is stored, under RevocationStoreOptions.Prefix ("ssrev:"):
//
//   - the salt item "<prefix>salt": a tag byte, the format version, the
//     salt's since (see cookie.RevocationStore.Salt) and 32 random bytes,
//     created by the first Salt (an add, so that concurrent instances
//     agree on one) and stored without expiry. The whole value is the
//     salt keys are hashed with, as versions that stored 32 bare bytes
//     read it;
//   - the counter item "<prefix>q" followed by a 7-character suffix that
//     puts it on the salt's server: the last position of the change log, a
//     decimal number moved on by memcached's incr. It is created at a
//     random multiple of 2^32, not at 0, so that a counter lost while the
//     salt survives does not restart at positions a reader has already
//     passed. It is stored without expiry;
//   - one entry item per revoked key, "<prefix>e<key>" (the key is the
//     SharedRevocation's salted hash: 's' or 'u' and base64url, at most 64
//     bytes), holding the merged cookie.RevocationEntry and expiring at its
//     Until (as relative seconds up to 30 days, as an absolute Unix time
//     beyond; an entry whose Until has passed is not written);
//   - one log item per position, "<prefix>l<position>", holding the entry
//     as merged by the write that took the position, and the time of that
//     write, expiring RevocationStoreOptions.LogRetention after it.
//
// Values are a fixed binary encoding, not sealed: nothing in them is a
// credential or names a user in clear. Each starts with a tag byte (entry,
// log or salt) and a format version, and is parsed strictly: a value that does
// not parse exactly, or that names another key or position than the item
// it was read from, is an error naming the kind of item, never a panic and
// never an entry.
//
// Memory: a revoked session costs one entry item and one log item. With
// the SharedRevocation's 33-byte keys and the default prefix their values
// are 57 and 74 bytes, which memcached 1.6 (64-bit, CAS on) stores as
// items of 156 bytes each, in 192-byte slab chunks: 384 bytes while the
// log item lives, 192 after it expired. A user revocation that keeps a
// session makes items of 187 bytes, in the same chunks. So 100,000
// logouts within LogRetention hold about 38 MB, and within an absolute
// session lifetime 19 MB (a test pins the item sizes).
//
// Put merges each entry into its entry item by compare-and-swap (gets,
// merge, cas; add when the item is missing; again after a conflict), then
// takes as many log positions as it has entries with one incr of the
// counter, then sets one log item per position: four round trips for
// one entry (the first read, which also reads the salt, the cas, the incr
// and the set). The entry is written before its position is taken, so a
// reader that read the counter and then looked a key up misses no write
// to the key: a write it did not see took a position after the one it
// read. If Put fails after an entry item was written but before its
// position was taken, the instances that hold the key learn of the write
// only when they look it up again: the caller must treat the error as the
// outage it is (the middleware answers 503, and the user logs out again).
//
// Changes reads the counter and the salt (one GetMulti, one server), then
// the log items after since, at most BatchSize of them, in one GetMulti.
// A salt other than the one Salt last returned, a missing salt, a missing
// counter or a counter below since (memcached restarted, or lost the
// items) is cookie.ErrChangesLost. A missing log item is either a writer
// between its incr and its set, whose item will be there in a moment, or
// an item that is gone (expired after LogRetention, evicted, or never
// written because its writer failed after taking the position). Changes
// stops before the first missing item, without error, while it may still
// be in flight: it was first seen missing less than 5 seconds ago, it is
// among the 1024 newest positions, and no later item in the batch was
// written more than 5 seconds ago (that writer took its position after
// this one's). Otherwise the item is gone and Changes returns
// cookie.ErrChangesLost, after which the SharedRevocation looks every key
// up again, which is safe. A write whose log item is late thus reaches the
// other instances up to 5 seconds later than their sync interval says.
//
// Many servers: gomemcache's selector spreads the entry and log items over
// the servers. The salt and the counter live on one server (with the
// default ServerList): while it is down, Put, Lookup and Changes fail,
// every instance stops syncing, and the fleet fails closed once
// SharedRevocationOptions.MaxStaleness has passed.
//
// Limits: memcached forgets everything on restart and, by default, evicts
// items under memory pressure. A restart of the salt's server is seen by
// every instance (ErrChangesLost, then a new salt) and loses the
// revocations made before it, so the new salt's since refuses every
// cookie session issued before the new salt was created (the restart,
// and the moments until the first instance synced after it): the users
// of those sessions log in again, and no revoked cookie comes back to
// life. A restart of
// another server loses the entry items it held without changing the
// salt: those revocations are forgotten. An evicted entry item is a
// revocation forgotten too.
// Run the servers that hold a revocation store with -M (answer "out of
// memory" instead of evicting, which Put reports as an error) and with
// memory for the revocations of one absolute session lifetime; better,
// give them servers of their own. Anyone who can write to the servers can
// delete revocations: keep them on a private network, as for Store.
//
// A RevocationStore is safe for concurrent use, and any number of them, in
// any number of processes, may share the servers. It starts no goroutines;
// the connections are the gomemcache client's (see Close).
type RevocationStore struct {
	conn      *Store // the client, and the retries of broken connections
	prefix    string
	saltKey   string
	seqKey    string
	retention time.Duration
	batch     int
	now       func() time.Time

	mu      sync.Mutex
	salt    []byte               // the salt Salt last returned, or the first one read
	missing map[uint64]time.Time // log positions seen missing, and when first
}

var _ sscookie.RevocationStore = (*RevocationStore)(nil)

// NewRevocationStore returns a RevocationStore on client's servers. It
// fails if client is nil or opts is invalid; it does not contact the
// servers.
func NewRevocationStore(client *gomemcache.Client, opts RevocationStoreOptions) (*RevocationStore, error) {
	if client == nil {
		return nil, errors.New(errPrefix + "NewRevocationStore: client is nil")
	}
	s := &RevocationStore{
		conn:      &Store{client: client},
		prefix:    opts.Prefix,
		retention: opts.LogRetention,
		batch:     opts.BatchSize,
		now:       opts.Now,
		missing:   make(map[uint64]time.Time),
	}
	if s.prefix == "" {
		s.prefix = DefaultRevocationPrefix
	}
	if len(s.prefix) > MaxPrefixLen {
		return nil, fmt.Errorf("%sRevocationStoreOptions.Prefix is %d bytes, more than %d (memcached keys are limited to 250 bytes)", errPrefix, len(s.prefix), MaxPrefixLen)
	}
	for i := 0; i < len(s.prefix); i++ {
		if b := s.prefix[i]; b <= ' ' || b >= 0x7f {
			return nil, fmt.Errorf("%sRevocationStoreOptions.Prefix %q must be printable ASCII without spaces or control characters (memcached key rules)", errPrefix, s.prefix)
		}
	}
	switch {
	case s.retention == 0:
		s.retention = DefaultLogRetention
	case s.retention < MinLogRetention:
		return nil, fmt.Errorf("%sRevocationStoreOptions.LogRetention %v is shorter than %v", errPrefix, s.retention, MinLogRetention)
	}
	switch {
	case s.batch == 0:
		s.batch = DefaultBatchSize
	case s.batch < 0 || s.batch > MaxBatchSize:
		return nil, fmt.Errorf("%sRevocationStoreOptions.BatchSize %d is outside 1 to %d", errPrefix, s.batch, MaxBatchSize)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.saltKey = s.prefix + "salt"
	s.seqKey = colocator.key(s.prefix+"q", crc32.ChecksumIEEE([]byte(s.saltKey)))
	// The longest keys are an entry's and a log item's; both fit.
	if n := max(len(s.entryKey(strings.Repeat("s", maxRevKey))), len(s.logKey(^uint64(0)))); n > maxKeyLen {
		return nil, fmt.Errorf("%sRevocationStoreOptions.Prefix: keys would be %d bytes, over memcached's %d", errPrefix, n, maxKeyLen)
	}
	return s, nil
}

// Close closes the idle connections the gomemcache client holds, as
// Store.Close does; the client stays usable. Call it after the
// SharedRevocation using the store has stopped.
func (s *RevocationStore) Close() error {
	if err := s.conn.client.Close(); err != nil {
		return errBackend("revocation store: close", err)
	}
	return nil
}

func (s *RevocationStore) entryKey(key string) string { return s.prefix + "e" + key }

func (s *RevocationStore) logKey(pos uint64) string {
	return s.prefix + "l" + strconv.FormatUint(pos, 10)
}

func errRev(op string, err error) error {
	return fmt.Errorf("%srevocation store: %s: %w", errPrefix, op, err)
}

func errRevLost(op, why string) error {
	return fmt.Errorf("%srevocation store: %s: %s: %w", errPrefix, op, why, sscookie.ErrChangesLost)
}

// errRevStored names the kind of item whose value did not parse. It never
// includes the value.
func errRevStored(op, what, key string) error {
	return fmt.Errorf("%srevocation store: %s: stored %s item %q is malformed (not written by this store, or by another format version)", errPrefix, op, what, key)
}

func checkEntry(op string, e *sscookie.RevocationEntry) error {
	switch {
	case !sscookie.ValidRevocationKey(e.Key):
		return fmt.Errorf("%srevocation store: %s: RevocationEntry.Key is not 's' or 'u' followed by base64url, at most %d bytes", errPrefix, op, maxRevKey)
	case !sscookie.ValidRevocationKeep(e.Keep):
		return fmt.Errorf("%srevocation store: %s: RevocationEntry.Keep is neither empty nor a session entry's key ('s' followed by base64url, at most %d bytes)", errPrefix, op, maxRevKey)
	case e.Until.IsZero():
		return fmt.Errorf("%srevocation store: %s: RevocationEntry.Until is zero; an entry must say when it may be forgotten", errPrefix, op)
	}
	return nil
}

// appendEntry encodes e: key, below, before, keep, until.
func appendEntry(b []byte, e *sscookie.RevocationEntry) []byte {
	b = wire.AppendString(b, e.Key)
	b = wire.AppendUvarint(b, e.Below)
	b = wire.AppendTime(b, e.Before)
	b = wire.AppendString(b, e.Keep)
	return wire.AppendTime(b, e.Until)
}

func readEntry(r *wire.Reader) (e sscookie.RevocationEntry, ok bool) {
	e.Key = r.String()
	e.Below = r.Uvarint()
	e.Before = r.Time()
	e.Keep = r.String()
	e.Until = r.Time()
	return e, r.Err() == nil && sscookie.ValidRevocationKey(e.Key) && sscookie.ValidRevocationKeep(e.Keep) && !e.Until.IsZero()
}

// entryValue is an entry item's value: tag, version, entry.
func entryValue(e *sscookie.RevocationEntry) []byte {
	b := make([]byte, 0, 2+len(e.Key)+len(e.Keep)+40)
	b = append(b, tagEntryValue, revVersion)
	return appendEntry(b, e)
}

// parseEntryValue decodes an entry item's value, which must hold the entry
// of key.
func parseEntryValue(v []byte, key string) (sscookie.RevocationEntry, bool) {
	r := wire.NewReader(v)
	if r.Byte() != tagEntryValue || r.Byte() != revVersion {
		return sscookie.RevocationEntry{}, false
	}
	e, ok := readEntry(r)
	return e, ok && r.Len() == 0 && e.Key == key
}

// logValue is a log item's value: tag, version, position, time of the
// write, entry.
func logValue(pos uint64, written time.Time, e *sscookie.RevocationEntry) []byte {
	b := make([]byte, 0, 2+10+10+len(e.Key)+len(e.Keep)+40)
	b = append(b, tagLogValue, revVersion)
	b = wire.AppendUvarint(b, pos)
	b = wire.AppendTime(b, written)
	return appendEntry(b, e)
}

// parseLogValue decodes a log item's value, which must be that of pos.
func parseLogValue(v []byte, pos uint64) (e sscookie.RevocationEntry, written time.Time, ok bool) {
	r := wire.NewReader(v)
	if r.Byte() != tagLogValue || r.Byte() != revVersion || r.Uvarint() != pos {
		return sscookie.RevocationEntry{}, time.Time{}, false
	}
	written = r.Time()
	e, ok = readEntry(r)
	return e, written, ok && r.Len() == 0
}

// parseSeq decodes the counter item's value: a decimal number, as incr
// keeps it (memcached may pad it with trailing spaces after a decr).
func parseSeq(v []byte) (uint64, bool) {
	n, err := strconv.ParseUint(string(bytes.TrimRight(v, " ")), 10, 64)
	return n, err == nil
}

// Salt implements cookie.RevocationStore. It reads the salt item, and
// creates it with 32 random bytes and since now when it is missing; when
// another instance created it first, it reads that one back. It reads the
// server on every call, so that after Changes reported a reset it returns
// the new salt; Changes, Put and Lookup then check the salt item against
// this one. A salt item written by a version that kept no since (the bare
// salt) is read with the zero since.
func (s *RevocationStore) Salt(ctx context.Context, now time.Time) ([]byte, time.Time, error) {
	const op = "salt"
	for range casAttempts {
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, errRev(op, err)
		}
		it, err := s.conn.get(s.saltKey)
		if errors.Is(err, gomemcache.ErrCacheMiss) {
			v := newSaltValue(now)
			// The one item stored without expiry, on purpose: losing it
			// is a reset of the store.
			switch err := s.conn.add(&gomemcache.Item{Key: s.saltKey, Value: v}); {
			case err == nil:
				s.setSalt(v)
				salt, since, _ := parseSaltValue(v)
				return salt, since, nil
			case isMiss(err):
				continue // another instance created it first: read that one
			default:
				return nil, time.Time{}, errRev(op, err)
			}
		}
		if err != nil {
			return nil, time.Time{}, errRev(op, err)
		}
		salt, since, ok := parseSaltValue(it.Value)
		if !ok {
			return nil, time.Time{}, errRevStored(op, "salt", s.saltKey)
		}
		s.setSalt(it.Value)
		return salt, since, nil
	}
	return nil, time.Time{}, fmt.Errorf("%srevocation store: %s: the salt item kept disappearing after %d attempts to create it", errPrefix, op, casAttempts)
}

// newSaltValue returns a new salt item's value: the tag, the format
// version, since (now, in nanoseconds since 1970, big-endian) and 32
// random bytes.
func newSaltValue(now time.Time) []byte {
	v := make([]byte, 2+8+saltLen)
	v[0], v[1] = tagSaltValue, revVersion
	binary.BigEndian.PutUint64(v[2:], uint64(now.UnixNano()))
	rand.Read(v[10:])
	return v
}

// parseSaltValue returns the salt of a salt item's value, and its since:
// the zero time for a bare salt of at least minSaltLen bytes, as versions
// that kept no since wrote it. The salt is a copy of the whole value, not
// only its random bytes: a version that kept no since hashes with the
// whole value, and both versions must name every key alike while they
// run side by side (a rolling deploy, a rollback).
func parseSaltValue(v []byte) (salt []byte, since time.Time, ok bool) {
	if len(v) == 2+8+saltLen && v[0] == tagSaltValue && v[1] == revVersion {
		return bytes.Clone(v), time.Unix(0, int64(binary.BigEndian.Uint64(v[2:]))), true
	}
	return bytes.Clone(v), time.Time{}, len(v) >= minSaltLen
}

func (s *RevocationStore) setSalt(salt []byte) {
	s.mu.Lock()
	if !bytes.Equal(s.salt, salt) {
		s.salt = bytes.Clone(salt)
		clear(s.missing)
	}
	s.mu.Unlock()
}

// sameSalt reports whether the salt item read from the server is the one
// this client knows (from Salt, or from the first read that found one),
// adopting it when this client knows none yet. A client that knows no
// salt and reads none has nothing to compare: true.
func (s *RevocationStore) sameSalt(it *gomemcache.Item) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.salt == nil {
		if it != nil && len(it.Value) >= minSaltLen {
			s.salt = bytes.Clone(it.Value)
		}
		return true
	}
	return it != nil && bytes.Equal(it.Value, s.salt)
}

// errSaltChanged is what Put and Lookup return when the salt on the
// server is not the one Salt returned: the store was reset, and a key
// hashed with the old salt names nothing. An outage until the
// SharedRevocation syncs (its Changes reports the reset) and takes the new
// salt.
func errSaltChanged(op string) error {
	return fmt.Errorf("%srevocation store: %s: the salt on the server is not the one Salt returned (memcached restarted or lost it); sync again", errPrefix, op)
}

// Put implements cookie.RevocationStore: per entry a merge by
// compare-and-swap into its entry item (the first read together with the
// salt), then one incr of the counter for all the entries, then one set
// per log item. An entry whose merged Until has passed is not written.
// An entry with an invalid Key or Keep, or a zero Until, fails the call
// before anything is sent.
func (s *RevocationStore) Put(ctx context.Context, entries ...sscookie.RevocationEntry) error {
	const op = "put"
	for i := range entries {
		if err := checkEntry(op, &entries[i]); err != nil {
			return err
		}
	}
	merged := make([]sscookie.RevocationEntry, 0, len(entries))
	var failed error
	for i := range entries {
		if err := ctx.Err(); err != nil {
			failed = errRev(op, err)
			break
		}
		m, ok, err := s.merge(ctx, op, &entries[i], i == 0)
		if err != nil {
			failed = err
			break
		}
		if ok {
			merged = append(merged, m)
		}
	}
	// The entries already merged are logged even when a later one
	// failed: an entry written and not logged would reach only the
	// instances that look its key up again.
	if len(merged) == 0 {
		return failed
	}
	last, err := s.advance(op, uint64(len(merged)))
	if err != nil {
		return err
	}
	now := s.now()
	exp, _ := expiration(now.Add(s.retention), now)
	first := last - uint64(len(merged)) + 1
	for i := range merged {
		pos := first + uint64(i)
		it := &gomemcache.Item{Key: s.logKey(pos), Value: logValue(pos, now, &merged[i]), Expiration: exp}
		if err := s.conn.set(it); err != nil && failed == nil {
			failed = errRev(op, err) // the others are still sent: fewer gaps
		}
	}
	return failed
}

// merge merges e into its entry item and returns what the item holds
// after, and false when that has already expired (nothing was written).
// withSalt reads the salt item in the first read, to refuse writing under
// a salt that is no longer the store's.
func (s *RevocationStore) merge(ctx context.Context, op string, e *sscookie.RevocationEntry, withSalt bool) (sscookie.RevocationEntry, bool, error) {
	key := s.entryKey(e.Key)
	for attempt := range revCASAttempts {
		if attempt > 0 {
			if err := ctx.Err(); err != nil {
				return sscookie.RevocationEntry{}, false, errRev(op, err)
			}
		}
		var it *gomemcache.Item
		if withSalt && attempt == 0 {
			items, err := s.conn.getMulti([]string{key, s.saltKey})
			if err != nil {
				return sscookie.RevocationEntry{}, false, errRev(op, err)
			}
			if !s.sameSalt(items[s.saltKey]) {
				return sscookie.RevocationEntry{}, false, errSaltChanged(op)
			}
			it = items[key]
		} else {
			var err error
			it, err = s.conn.get(key)
			if err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
				return sscookie.RevocationEntry{}, false, errRev(op, err)
			}
		}
		m := *e
		m.Claim = false
		if it != nil {
			stored, ok := parseEntryValue(it.Value, e.Key)
			if !ok {
				return sscookie.RevocationEntry{}, false, errRevStored(op, "entry", key)
			}
			if e.Claim && stored.Below >= e.Below {
				return sscookie.RevocationEntry{}, false, fmt.Errorf("%srevocation store: %s: %w", errPrefix, op, sscookie.ErrSuperseded)
			}
			m = stored.Merge(*e)
			if sameEntry(&m, &stored) {
				return m, true, nil // it already says as much
			}
		}
		exp, ok := expiration(m.Until, s.now())
		if !ok {
			return m, false, nil // every session it could refuse has ended
		}
		next := &gomemcache.Item{Key: key, Value: entryValue(&m), Expiration: exp}
		var err error
		if it == nil {
			err = s.conn.add(next)
		} else {
			next.CasID = it.CasID
			err = s.conn.cas(next)
		}
		switch {
		case err == nil:
			return m, true, nil
		case isMiss(err), errors.Is(err, gomemcache.ErrCASConflict):
			// Another writer came first, or the item expired: again.
		default:
			return sscookie.RevocationEntry{}, false, errRev(op, err)
		}
	}
	return sscookie.RevocationEntry{}, false, fmt.Errorf("%srevocation store: %s: entry item: gave up after %d compare-and-swap conflicts", errPrefix, op, revCASAttempts)
}

func sameEntry(a, b *sscookie.RevocationEntry) bool {
	return a.Key == b.Key && a.Below == b.Below && a.Before.Equal(b.Before) && a.Keep == b.Keep && a.Until.Equal(b.Until)
}

// advance takes n log positions with one incr and returns the last. A
// missing counter is created first, at a random multiple of 2^32 (see
// RevocationStore). An incr that met a broken connection is sent again:
// if the first was applied, a position is skipped, which readers see as a
// lost log item and answer by looking their keys up again, the safe side.
func (s *RevocationStore) advance(op string, n uint64) (uint64, error) {
	for range casAttempts {
		var last uint64
		err := s.conn.resend(func() (err error) {
			last, err = s.conn.client.Increment(s.seqKey, n)
			return err
		})
		if err == nil {
			return last, nil
		}
		if !errors.Is(err, gomemcache.ErrCacheMiss) {
			return 0, errRev(op, err)
		}
		if err := s.conn.add(&gomemcache.Item{Key: s.seqKey, Value: seqStart()}); err != nil && !isMiss(err) {
			return 0, errRev(op, err)
		}
	}
	return 0, fmt.Errorf("%srevocation store: %s: the counter item kept disappearing", errPrefix, op)
}

// seqStart is the value a new counter starts at: a random multiple of
// 2^32 in [2^51, 2^52), so that positions have 16 digits for the next
// 5*10^15 writes and incr is far from wrapping at 2^64.
func seqStart() []byte {
	var b [8]byte
	rand.Read(b[:])
	hi := binary.LittleEndian.Uint64(b[:])%(1<<19) + 1<<19
	return strconv.AppendUint(nil, hi<<32, 10)
}

// Lookup implements cookie.RevocationStore: one GetMulti per BatchSize
// keys, the first together with the salt item. A key that is not a valid
// RevocationEntry.Key fails the call before anything is sent.
func (s *RevocationStore) Lookup(ctx context.Context, keys []string) ([]sscookie.RevocationEntry, error) {
	const op = "lookup"
	for _, k := range keys {
		if !sscookie.ValidRevocationKey(k) {
			return nil, fmt.Errorf("%srevocation store: %s: a key is not 's' or 'u' followed by base64url, at most %d bytes", errPrefix, op, maxRevKey)
		}
	}
	var out []sscookie.RevocationEntry
	mkeys := make([]string, 0, min(len(keys), s.batch)+1)
	for start := 0; start < len(keys); start += s.batch {
		if err := ctx.Err(); err != nil {
			return nil, errRev(op, err)
		}
		chunk := keys[start:min(start+s.batch, len(keys))]
		mkeys = mkeys[:0]
		for _, k := range chunk {
			mkeys = append(mkeys, s.entryKey(k))
		}
		if start == 0 {
			mkeys = append(mkeys, s.saltKey)
		}
		items, err := s.conn.getMulti(mkeys)
		if err != nil {
			return nil, errRev(op, err)
		}
		if start == 0 {
			if !s.sameSalt(items[s.saltKey]) {
				return nil, errSaltChanged(op)
			}
		}
		for i, k := range chunk {
			it := items[mkeys[i]]
			if it == nil {
				continue
			}
			e, ok := parseEntryValue(it.Value, k)
			if !ok {
				return nil, errRevStored(op, "entry", mkeys[i])
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// Changes implements cookie.RevocationStore: one GetMulti of the counter
// and the salt, one of the log items after since (at most BatchSize). See
// RevocationStore for when a missing log item is a write in flight,
// and when the log is lost.
func (s *RevocationStore) Changes(ctx context.Context, since uint64) ([]sscookie.RevocationEntry, uint64, error) {
	const op = "changes"
	if err := ctx.Err(); err != nil {
		return nil, since, errRev(op, err)
	}
	items, err := s.conn.getMulti([]string{s.seqKey, s.saltKey})
	if err != nil {
		return nil, since, errRev(op, err)
	}
	seqItem := items[s.seqKey]
	if !s.sameSalt(items[s.saltKey]) {
		seq, err := s.current(op, seqItem)
		if err != nil {
			return nil, since, err
		}
		return nil, seq, errRevLost(op, "the salt changed (memcached restarted or lost it)")
	}
	seq, err := s.current(op, seqItem)
	if err != nil {
		return nil, since, err
	}
	switch {
	case since == 0:
		return nil, seq, nil
	case seqItem == nil:
		return nil, seq, errRevLost(op, "the counter item is gone")
	case seq < since:
		return nil, seq, errRevLost(op, "the counter is below the given position")
	case seq == since:
		return nil, since, nil
	}
	hi := min(seq, since+uint64(s.batch))
	keys := make([]string, 0, hi-since)
	for p := since + 1; p <= hi; p++ {
		keys = append(keys, s.logKey(p))
	}
	logs, err := s.conn.getMulti(keys)
	if err != nil {
		return nil, since, errRev(op, err)
	}
	now := s.now()
	entries := make([]sscookie.RevocationEntry, 0, len(logs))
	for i, k := range keys {
		p := since + 1 + uint64(i)
		it := logs[k]
		if it == nil {
			if s.inFlight(p, seq, keys[i+1:], logs, now) {
				s.forgetMissing(p)
				return entries, p - 1, nil
			}
			s.forgetMissing(seq + 1)
			return nil, seq, errRevLost(op, fmt.Sprintf("log item %d is gone (expired after LogRetention, evicted, or its writer failed)", p))
		}
		e, _, ok := parseLogValue(it.Value, p)
		if !ok {
			s.forgetMissing(seq + 1)
			return nil, seq, fmt.Errorf("%srevocation store: %s: stored log item %q is malformed, so what changed is unknown: %w", errPrefix, op, k, sscookie.ErrChangesLost)
		}
		entries = append(entries, e)
	}
	s.forgetMissing(hi + 1)
	return entries, hi, nil
}

// current returns the counter's value, creating the counter when it is
// missing.
func (s *RevocationStore) current(op string, it *gomemcache.Item) (uint64, error) {
	if it != nil {
		seq, ok := parseSeq(it.Value)
		if !ok {
			return 0, errRevStored(op, "counter", s.seqKey)
		}
		return seq, nil
	}
	if err := s.conn.add(&gomemcache.Item{Key: s.seqKey, Value: seqStart()}); err != nil && !isMiss(err) {
		return 0, errRev(op, err)
	}
	it, err := s.conn.get(s.seqKey)
	if err != nil {
		return 0, errRev(op, err)
	}
	seq, ok := parseSeq(it.Value)
	if !ok {
		return 0, errRevStored(op, "counter", s.seqKey)
	}
	return seq, nil
}

// inFlight reports whether the missing log item of position p may still
// be written by a writer between its incr and its set; later holds the
// keys of the batch after p.
func (s *RevocationStore) inFlight(p, seq uint64, later []string, logs map[string]*gomemcache.Item, now time.Time) bool {
	if seq-p >= logInflight {
		return false
	}
	for i, k := range later {
		it := logs[k]
		if it == nil {
			continue
		}
		// A later position was taken after p; if its write is older than
		// the grace, p's writer has had longer than that.
		if _, written, ok := parseLogValue(it.Value, p+1+uint64(i)); ok && now.Sub(written) > logGrace {
			return false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first, seen := s.missing[p]
	if !seen {
		s.missing[p] = now
		return true
	}
	return now.Sub(first) <= logGrace
}

// forgetMissing drops the missing positions below p from the record.
func (s *RevocationStore) forgetMissing(p uint64) {
	s.mu.Lock()
	for q := range s.missing {
		if q < p {
			delete(s.missing, q)
		}
	}
	s.mu.Unlock()
}
