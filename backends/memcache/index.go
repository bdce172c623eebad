package memcache

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/wire"
)

// The per-user index: memcached cannot enumerate its keys, so each
// logged-in user has one more item, beside the generation item on the
// same server, that lists the user's sessions for ListUser, RevokeHandle
// (listing.go) and LoginLimited (limit.go). It is only a listing and a
// counter: whether a session is valid is decided by its session item and
// the generation item alone, so an index that is evicted, corrupt or
// stale never lets a session back.
//
// Index item, under indexKey(ref):
//
//	version || count || entry*
//	entry = handle[16] || key || prev || created || deadline || expires || user agent || ip
//
// key is the session item's key without Options.Prefix (a keyed hash of
// the cookie name and token, never the token); prev, after a rotation,
// the key of the item it replaced, which may still be live while the
// rotation is under way (it adds the new item and writes the index before
// it deletes the old item), so that ListUser and RevokeHandle find the
// session under one of the two whenever they look. Entries are dropped
// once their deadline has passed, when a write finds their session items
// gone, or to respect the bound.
//
// Why a rotation racing RevokeHandle (or a limited login's eviction)
// never survives it: the rotation's last step, its commit point, is the
// delete of the old item, and it fails if the item is gone. RevokeHandle
// deletes the live items the entry names and then writes the index by
// compare-and-swap. If it read the index before the rotation wrote it,
// the old item was still there for it to delete (the rotation then
// fails), or the rotation has written the index since, and the
// compare-and-swap conflicts: RevokeHandle reads the index again and
// finds the new item. If it read it after, it deletes both.

// MaxIndexedSessions is how many sessions a user's index holds: the most
// that ListUser lists and LoginLimited counts. A login beyond it drops
// dead entries first and then the least recently seen sessions from the
// index, down to three quarters of it (they stay valid, unlisted, until
// they end); a limited login
// (Options.MaxSessionsPerUser) ends them instead. A limit above
// MaxIndexedSessions makes LoginLimited fail with an error naming
// Options.MaxSessionsPerUser.
const MaxIndexedSessions = 64

// indexPruneTo is how many sessions a full index keeps, the new one
// included, when a login without a limit makes room: pruning reads every
// listed item to find the dead ones, so it leaves room for the next
// MaxIndexedSessions-indexPruneTo logins, which then read nothing more.
const indexPruneTo = MaxIndexedSessions * 3 / 4

// indexAttempts bounds the compare-and-swap retries of one index update.
// It is larger than casAttempts because every concurrent login of the
// user writes the index: each round one of them wins, so with n
// concurrent logins each gets through within n attempts.
const indexAttempts = 32

const tagIndex = "i"

// emptyIndexFor is how long an index with no entries is kept.
const emptyIndexFor = time.Minute

// indexEntry is one session in a user's index.
type indexEntry struct {
	handle            handle
	key               string // the session item's key without the prefix
	prev              string // the key of the item a rotation replaced, without the prefix, or ""
	created, deadline time.Time
	expires           time.Time // the idle expiry when the entry was written; activity moves the item's on
	userAgent, ip     string
}

// indexKey names the user's index item. Like the session keys it ends
// with a co-location suffix, so that it lives on the server of the user's
// generation item and a login reads both in one GetMulti.
func (s *Store) indexKey(r ref) string {
	base := s.cfg.prefix + tagIndex + base64.RawURLEncoding.EncodeToString(r[:])
	return colocator.key(base, crc32.ChecksumIEEE([]byte(s.genKey(r))))
}

// sessionKeyLen is the length of a session key without the prefix.
const sessionKeyLen = len(tagSession) + 43 + suffixLen

func (s *Store) sealIndex(key string, entries []indexEntry) []byte {
	b := make([]byte, 0, 8+len(entries)*(handleLen+sessionKeyLen+40))
	b = append(b, blobVersion)
	b = wire.AppendUvarint(b, uint64(len(entries)))
	for i := range entries {
		e := &entries[i]
		b = append(b, e.handle[:]...)
		b = wire.AppendString(b, e.key)
		b = wire.AppendString(b, e.prev)
		b = wire.AppendTime(b, e.created)
		b = wire.AppendTime(b, e.deadline)
		b = wire.AppendTime(b, e.expires)
		b = wire.AppendString(b, e.userAgent)
		b = wire.AppendString(b, e.ip)
	}
	return seal(s.aead, b, key)
}

// openIndex opens an index item's value in place (blob is overwritten).
func (s *Store) openIndex(blob []byte, key string) ([]indexEntry, error) {
	r, err := openReader(s.aead, blob, key)
	if err != nil {
		return nil, err
	}
	n := r.Count(handleLen + 6)
	if n > MaxIndexedSessions {
		return nil, errOpen
	}
	entries := make([]indexEntry, n)
	for i := range entries {
		e := &entries[i]
		copy(e.handle[:], r.Next(handleLen))
		e.key = r.String()
		e.prev = r.String()
		e.created = r.Time()
		e.deadline = r.Time()
		e.expires = r.Time()
		e.userAgent = r.String()
		e.ip = r.String()
		if !validSessionKey(e.key) || (e.prev != "" && !validSessionKey(e.prev)) {
			return nil, errOpen
		}
	}
	if r.Err() != nil || r.Len() != 0 {
		return nil, errOpen
	}
	return entries, nil
}

// validSessionKey reports whether k is a session key without the prefix.
func validSessionKey(k string) bool {
	return len(k) == sessionKeyLen && k[:len(tagSession)] == tagSession
}

// indexOf decodes an index item as read (nil: missing). A value that does
// not open (corrupt, tampered, another format) reads as an empty index:
// the index only lists, so the next write replaces it and the sessions it
// forgot are simply not listed.
func (s *Store) indexOf(it *gomemcache.Item, key string) []indexEntry {
	if it == nil {
		return nil
	}
	entries, err := s.openIndex(it.Value, key)
	if err != nil {
		return nil
	}
	return entries
}

// writeIndex stores entries as the user's index: an add when there was no
// index item (it is nil), else a compare-and-swap against the one read.
// It reports conflict when another writer came first. The item expires
// with the latest deadline of its entries; an empty index, still written
// so that the write conflicts with any other, after emptyIndexFor.
func (s *Store) writeIndex(key string, it *gomemcache.Item, entries []indexEntry, now time.Time) (conflict bool, err error) {
	until := now.Add(emptyIndexFor)
	for i := range entries {
		if entries[i].deadline.After(until) {
			until = entries[i].deadline
		}
	}
	exp, _ := expiration(until, now)
	val := s.sealIndex(key, entries)
	if len(key)+len(val)+itemOverhead > s.cfg.maxItemSize {
		// The client info is a copy of what the session items hold, and
		// the listing reads it from there: drop it before failing.
		bare := make([]indexEntry, len(entries))
		for i, e := range entries {
			e.userAgent, e.ip = "", ""
			bare[i] = e
		}
		val = s.sealIndex(key, bare)
		if n := len(key) + len(val) + itemOverhead; n > s.cfg.maxItemSize {
			return false, fmt.Errorf("user's session index would be %d bytes, over Options.MaxItemSize (%d): %w", n, s.cfg.maxItemSize, securesession.ErrTooLarge)
		}
	}
	if it == nil {
		err = s.add(&gomemcache.Item{Key: key, Value: val, Expiration: exp})
	} else {
		err = s.cas(&gomemcache.Item{Key: key, Value: val, Expiration: exp, CasID: it.CasID})
	}
	if isMiss(err) || errors.Is(err, gomemcache.ErrCASConflict) {
		return true, nil
	}
	return false, err
}

// itemKeys returns the keys of the session items e names: its item and
// the one a rotation under way may not have deleted yet.
func (s *Store) itemKeys(e *indexEntry) []string {
	var keys []string
	for _, k := range [...]string{e.key, e.prev} {
		if k != "" {
			keys = append(keys, s.cfg.prefix+k)
		}
	}
	return keys
}

// lookup reads the session items of the entries, in one GetMulti (they
// live on one server), and returns the live ones by their position in
// entries: present, genuine, of the user r, with the entry's handle,
// stamped with the current generation g and not expired as of now. An
// entry's item is preferred to its prev.
func (s *Store) lookup(r ref, g gen, entries []indexEntry, now time.Time) (map[int]*session, error) {
	var keys []string
	for i := range entries {
		keys = append(keys, s.itemKeys(&entries[i])...)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	items, err := s.getMulti(keys)
	if err != nil {
		return nil, err
	}
	live := make(map[int]*session, len(items))
	for i := range entries {
		e := &entries[i]
		for _, k := range s.itemKeys(e) {
			if v := s.liveItem(items[k], r, g, e.handle, now); v != nil {
				live[i] = v
				break
			}
		}
	}
	return live, nil
}

// liveItem decodes it, the session item an index entry names, if it is a
// live session of user r with handle h under generation g.
func (s *Store) liveItem(it *gomemcache.Item, r ref, g gen, h handle, now time.Time) *session {
	if it == nil {
		return nil
	}
	v, err := s.openSession(it.Value, it.Key)
	if err != nil || v.ref != r || v.handle != h || !v.current(g) || !now.Before(sessionExpires(&v.rec)) {
		return nil
	}
	return v
}

// entryFor is the index entry of the session rec stored under key.
func (s *Store) entryFor(key string, h handle, rec *securesession.Record) indexEntry {
	return indexEntry{
		handle:    h,
		key:       key[len(s.cfg.prefix):],
		created:   rec.Created,
		deadline:  rec.Deadline,
		expires:   sessionExpires(rec),
		userAgent: rec.UserAgent,
		ip:        rec.IP,
	}
}

// enter records e, a session of user r whose item has just been added
// stamped with generation g, in the user's index, starting from the index
// item it read with the generation (nil: none). It drops entries past
// their deadline and the entry e replaces (a rotation keeps the handle).
// With a limit, or when the index is full, it reads the other sessions'
// items (one GetMulti) and drops the dead ones; with a limit, if the user
// still has limit.Max others, it refuses (an error wrapping
// securesession.ErrTooManySessions) or ends the least recently seen ones
// (deletes their items, then writes the index without them). It retries
// on a conflicting write, re-reading the index. On any error the caller
// removes the session item it added.
//
// Why this holds the limit under concurrency: each login adds its item
// before it writes the index, and every write is a compare-and-swap of
// an index that lists every session of the user whose login has already
// written it, which each writer counts; a session leaves the index only
// once its items are gone. So once the logins are done, the index lists
// every live session, and no write left more than limit.Max.
func (s *Store) enter(ctx context.Context, op string, r ref, g gen, it *gomemcache.Item, e indexEntry, limit securesession.SessionLimit) error {
	ik := s.indexKey(r)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt >= indexAttempts {
				return fmt.Errorf("%s%s: user's session index: gave up after %d compare-and-swap conflicts", errPrefix, op, indexAttempts)
			}
			if err := ctx.Err(); err != nil {
				return errBackend(op, err)
			}
			// The generation too: a RevokeUser since the first read may
			// have made sessions live that the old one calls dead.
			var err error
			if g, it, _, err = s.userItems(r); err != nil {
				return errBackend(op, err)
			}
		}
		now := s.cfg.now()
		stored := s.indexOf(it, ik)
		others := make([]indexEntry, 0, len(stored)+1)
		for _, o := range stored {
			if o.handle != e.handle && now.Before(o.deadline) {
				others = append(others, o)
			}
		}
		room := MaxIndexedSessions - 1
		if limit.Max > 0 {
			room = limit.Max - 1
		}
		if limit.Max > 0 || len(others) > room {
			if limit.Max == 0 {
				room = indexPruneTo - 1
			}
			var err error
			if others, err = s.makeRoom(op, r, g, others, room, limit, now); err != nil {
				return err
			}
		}
		conflict, err := s.writeIndex(ik, it, append(others, e), now)
		switch {
		case err != nil:
			return errBackend(op, err)
		case !conflict:
			return nil
		}
	}
}

// makeRoom drops the dead sessions from others and, if more than room
// live ones remain, refuses the login (limit.Refuse), ends the least
// recently seen ones (a limit: their items are deleted) or, without a
// limit, drops them from the index, where they stay valid but unlisted.
func (s *Store) makeRoom(op string, r ref, g gen, others []indexEntry, room int, limit securesession.SessionLimit, now time.Time) ([]indexEntry, error) {
	live, err := s.lookup(r, g, others, now)
	if err != nil {
		return nil, errBackend(op, err)
	}
	type seen struct {
		i int
		v *session
	}
	var alive []seen
	for i := range others {
		if v := live[i]; v != nil {
			alive = append(alive, seen{i, v})
		}
	}
	if n := len(alive) - room; n > 0 {
		if limit.Refuse {
			return nil, errTooMany(op)
		}
		slices.SortFunc(alive, func(a, b seen) int {
			if c := a.v.rec.LastSeen.Compare(b.v.rec.LastSeen); c != 0 {
				return c
			}
			return a.v.rec.Created.Compare(b.v.rec.Created)
		})
		for _, a := range alive[:n] {
			delete(live, a.i)
			if limit.Max == 0 {
				continue // unlisted; it stays valid until it ends
			}
			for _, k := range s.itemKeys(&others[a.i]) {
				if err := s.delete(k); err != nil && !errors.Is(err, gomemcache.ErrCacheMiss) {
					return nil, errBackend(op, err)
				}
			}
		}
	}
	kept := others[:0]
	for i, o := range others {
		if live[i] != nil {
			kept = append(kept, o)
		}
	}
	return kept, nil
}

// userItems reads the user's generation and index items in one GetMulti
// (they live on one server). g is zero if the generation item is missing
// or does not open: then no session of the user is live.
func (s *Store) userItems(r ref) (g gen, ix *gomemcache.Item, ik string, err error) {
	gk, ik := s.genKey(r), s.indexKey(r)
	items, err := s.getMulti([]string{gk, ik})
	if err != nil {
		return gen{}, nil, ik, err
	}
	if gi := items[gk]; gi != nil {
		g, _, _ = s.openGen(gi.Value, gk)
	}
	return g, items[ik], ik, nil
}
