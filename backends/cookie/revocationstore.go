package cookie

import (
	"context"
	"errors"
	"time"

	"github.com/gin-securesession/securesession/internal/token"
)

// This file holds the contract between a SharedRevocation and the engine
// that stores its entries (memcached, a GORM database, ...).
//
// Threat model. A cookie is a bearer credential that needs no server to
// open: a copy taken before logout opens on every instance of the fleet.
// A SharedRevocation makes a revocation made on one instance refuse the
// copy on every instance within a stated bound (SharedRevocationOptions.
// MaxStaleness), without a network round trip on an ordinary request: each
// instance keeps a local copy of the entries of the sessions and users it
// has seen and follows the store's change log in the background. The
// instance that revokes refuses the cookie at once. When the store cannot
// be reached for longer than the bound, the default is to fail closed: the
// request gets a 503, never a silent logout and never an answer from state
// older than the bound.

// RevocationEntry is one revocation as a RevocationStore holds it. Nothing
// in it is a credential or names a user in clear: Key and Keep are salted
// hashes (see RevocationStore.Salt), computed by the SharedRevocation.
// A store gives Before and Until back to the nanosecond (time.Time.Equal):
// a Before rounded down to microseconds would let in a session issued in
// the same microsecond before the revocation.
type RevocationEntry struct {
	// Key names what is revoked: a session entry's key starts with 's', a
	// user entry's with 'u', and the rest is base64url. At most 64 bytes.
	Key string

	// Below is for a session entry: the tokens of the session whose
	// rotation count (Token.Gen) is below it are refused. AllTokens ends
	// the session.
	Below uint64

	// Before and Keep are for a user entry: every session of the user
	// issued at or before Before is refused, except the session whose
	// hashed handle is Keep ("" keeps none).
	Before time.Time
	Keep   string

	// Until is when the entry may be forgotten: every session it can
	// refuse has passed its absolute deadline by then.
	Until time.Time

	// Claim is for a session entry written by a rotation
	// (Revocation.RevokeSession): if the stored entry's Below is already
	// at or above this one's, Put writes nothing for it and fails with an
	// error wrapping ErrSuperseded, atomically with the merge. A store
	// does not keep it: Lookup and Changes return it false.
	Claim bool
}

// Merge returns e combined with a later write of the same key, newer. It
// is how a RevocationStore combines writes, and it never weakens a
// revocation: Below and Until only grow; Before and Keep come from the
// entry with the later Before (on a tie, a differing Keep keeps none).
// Merging is idempotent and the order of two writes does not change the
// result, so a store may merge with compare-and-swap and retry.
func (e RevocationEntry) Merge(newer RevocationEntry) RevocationEntry {
	out := e
	out.Claim = false
	out.Below = max(e.Below, newer.Below)
	if newer.Until.After(e.Until) {
		out.Until = newer.Until
	}
	switch {
	case newer.Before.After(e.Before):
		out.Before, out.Keep = newer.Before, newer.Keep
	case newer.Before.Equal(e.Before) && newer.Keep != e.Keep:
		out.Keep = ""
	}
	return out
}

// MaxRevocationKeyLen is the longest RevocationEntry.Key (and Keep) a
// SharedRevocation writes, and what a store must be able to hold.
const MaxRevocationKeyLen = 64

// ValidRevocationKey reports whether k is shaped like a RevocationEntry.Key:
// 's' or 'u', then base64url, at most MaxRevocationKeyLen bytes in all. A
// store refuses an entry or a lookup whose key fails it, before any store
// access.
func ValidRevocationKey(k string) bool {
	return len(k) >= 2 && len(k) <= MaxRevocationKeyLen && (k[0] == 's' || k[0] == 'u') && token.Base64URL(k[1:])
}

// ValidRevocationKeep reports whether k is shaped like a
// RevocationEntry.Keep: "" (keeps none) or a session entry's Key ('s',
// then base64url, at most MaxRevocationKeyLen bytes). A store refuses an
// entry whose Keep fails it, before any store access.
func ValidRevocationKeep(k string) bool {
	return k == "" || (k[0] == 's' && ValidRevocationKey(k))
}

// ErrChangesLost is returned, wrapped, by RevocationStore.Changes when the
// store cannot say what changed since the position it was given: the log
// was trimmed past it, an item of it was evicted, or the store was reset.
// The SharedRevocation then forgets every entry it holds locally and looks
// each key up again.
var ErrChangesLost = errors.New("securesession/cookie: revocation change log lost since the given position")

// RevocationStore is the shared storage behind a SharedRevocation: the
// entries, keyed by hashed session handle or user ID, and an ordered log
// of the writes to them. Implementations: backends/memcache.
// NewRevocationStore and backends/gorm.NewRevocationStore; the suites in
// backends/cookie/revocationtest (Run, RunFleet, RunFleetOutage) check
// any other, and its MemoryStore serves tests. Methods must be safe for
// concurrent use by many instances at once; the context carries the
// caller's deadline. Every error other than ErrChangesLost is an outage.
type RevocationStore interface {
	// Salt returns the store's random salt, at least 16 bytes, and since,
	// when the salt was created, creating both on the first call so that
	// every instance sharing the store gets the same ones: since is then
	// now, the caller's clock, kept to the nanosecond. The salt never
	// changes while the store keeps entries: a store that loses its salt
	// has lost its entries too, and must then report ErrChangesLost from
	// Changes.
	//
	// The store holds no revocation made before since, so a
	// SharedRevocation refuses every token issued before it: a store that
	// restarted empty, or was emptied, would otherwise let in again every
	// cookie revoked before. A salt created by a version of the store that
	// did not record since has the zero since, which refuses nothing.
	Salt(ctx context.Context, now time.Time) (salt []byte, since time.Time, err error)

	// Put merges each entry into the one stored under its Key (see
	// RevocationEntry.Merge), atomically per key: two instances writing
	// the same key at once lose neither write. A claimed entry
	// (RevocationEntry.Claim) whose key's stored Below is already at or
	// above its own is not written, and Put returns an error wrapping
	// ErrSuperseded; a claimed entry should be put alone. It appends the merged entry
	// to the change log under a new position, greater than every position
	// Changes has returned before. When Put returns, Lookup and Changes
	// on every instance see the write. The store may forget an entry after
	// its Until.
	Put(ctx context.Context, entries ...RevocationEntry) error

	// Lookup returns the stored entries of keys. A key with no entry
	// (never revoked, or forgotten after its Until) is left out.
	Lookup(ctx context.Context, keys []string) ([]RevocationEntry, error)

	// Changes returns the entries written after position since, in log
	// order, and the position to pass next. It may return only the first
	// part of them (the store chooses the batch size); a caller that wants
	// all of them calls again with next until no entry comes back. since 0
	// asks for no entries, only the current position. If the store cannot
	// tell what changed since since, Changes returns an error wrapping
	// ErrChangesLost, with next a position to start again from, or 0 if
	// it has none to give yet (an emptied table): the caller then reads
	// the current position with Changes(0) before it looks any key up.
	//
	// A write that a Lookup does not reflect is reported by Changes after
	// every position returned before that Lookup began: a caller that reads
	// a position, looks a key up and then follows the log from that
	// position misses no write to the key.
	Changes(ctx context.Context, since uint64) (entries []RevocationEntry, next uint64, err error)
}
