package memcache

import (
	"context"
	"errors"
	"fmt"
	"slices"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
)

// This file holds the securesession.Lister methods, ListUser and
// RevokeHandle, which read and prune the per-user index (index.go).

var _ securesession.Lister = (*Store)(nil)

// ListUser implements securesession.Lister: it reads the user's
// generation and index items (one GetMulti), then the session items the
// index lists (one more), and returns the live ones, with the times,
// client info and binding of their items. Sessions the index does not
// hold (more than MaxIndexedSessions, or logged in before an evicted
// index was rebuilt) are not listed. If it found dead entries, it
// rewrites the index without them, by one compare-and-swap whose failure
// only leaves them for the next write. An empty userID is rejected. Safe
// for concurrent use.
func (s *Store) ListUser(ctx context.Context, userID string) ([]securesession.SessionInfo, error) {
	const op = "list"
	if userID == "" {
		return nil, errors.New(errPrefix + op + ": userID is empty")
	}
	if err := ctx.Err(); err != nil {
		return nil, errBackend(op, err)
	}
	r := s.userRef(userID)
	g, ix, ik, err := s.userItems(r)
	if err != nil {
		return nil, errBackend(op, err)
	}
	entries := s.indexOf(ix, ik)
	if g.zero() || len(entries) == 0 {
		return nil, nil
	}
	now := s.cfg.now()
	live, err := s.lookup(r, g, entries, now)
	if err != nil {
		return nil, errBackend(op, err)
	}
	var list []securesession.SessionInfo
	kept := make([]indexEntry, 0, len(entries))
	for i, e := range entries {
		v := live[i]
		if v == nil {
			continue
		}
		kept = append(kept, e)
		rec := &v.rec
		list = append(list, securesession.SessionInfo{
			Handle: v.handle.String(), Created: rec.Created, AuthTime: rec.AuthTime,
			LastSeen: rec.LastSeen, Expires: sessionExpires(rec),
			UserAgent: rec.UserAgent, IP: rec.IP, Binding: rec.Binding,
		})
	}
	if len(kept) < len(entries) {
		// Best effort: a conflict or failure leaves the dead entries to
		// the next write, which prunes them too; the listing is right
		// either way.
		_, _ = s.writeIndex(ik, ix, kept, now)
	}
	return list, nil
}

// RevokeHandle implements securesession.Lister. If handle is in userID's
// index and its session item is live, it deletes the item and then
// writes the index without the entry, by compare-and-swap; after a
// conflict it reads the index again, since a rotation may have moved the
// session to a new item, which it then deletes too (see index.go's
// comment for why a rotation racing it cannot survive). Otherwise (ended
// already, another user's, not indexed, not a handle) it returns an error
// wrapping securesession.ErrNoRecord. An empty userID is rejected. Safe
// for concurrent use.
func (s *Store) RevokeHandle(ctx context.Context, userID, hs string) error {
	const op = "revoke handle"
	if userID == "" {
		return errors.New(errPrefix + op + ": userID is empty")
	}
	h, ok := parseHandle(hs)
	if !ok {
		return errNoRecord(op)
	}
	r := s.userRef(userID)
	ended := false
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return errBackend(op, err)
		}
		g, ix, ik, err := s.userItems(r)
		if err != nil {
			return errBackend(op, err)
		}
		entries := s.indexOf(ix, ik)
		at := slices.IndexFunc(entries, func(e indexEntry) bool { return e.handle == h })
		if g.zero() || at < 0 {
			break
		}
		keys := s.itemKeys(&entries[at])
		items, err := s.getMulti(keys)
		if err != nil {
			return errBackend(op, err)
		}
		now := s.cfg.now()
		for _, k := range keys {
			if s.liveItem(items[k], r, g, h, now) == nil {
				continue
			}
			switch err := s.delete(k); {
			case err == nil:
				ended = true
			case !errors.Is(err, gomemcache.ErrCacheMiss):
				return errBackend(op, err)
			}
		}
		conflict, err := s.writeIndex(ik, ix, slices.Delete(entries, at, at+1), now)
		if err != nil {
			return errBackend(op, err)
		}
		if !conflict {
			break
		}
		if attempt >= indexAttempts {
			if ended {
				return nil // its item is gone, so no rotation of it can succeed
			}
			return fmt.Errorf("%s%s: user's session index: gave up after %d compare-and-swap conflicts", errPrefix, op, indexAttempts)
		}
	}
	if !ended {
		return errNoRecord(op)
	}
	return nil
}
