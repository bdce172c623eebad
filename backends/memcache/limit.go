package memcache

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-securesession/securesession"
)

// This file holds the securesession.SessionLimiter method, LoginLimited,
// which stores a login as Create or Rotate do (store.go) with a limit for
// the index (index.go) to enforce.

var _ securesession.SessionLimiter = (*Store)(nil)

// LoginLimited implements securesession.SessionLimiter: it stores rec as
// Create does (or, with oldToken, moves that session to a new token as
// Rotate does, with the same ErrNoRecord rule) and records it in the
// user's index, so that the user keeps at most limit.Max live sessions,
// the new one included and the replaced one not counted: it reads the
// other sessions' items (one GetMulti) and, if there are limit.Max of
// them, refuses with an error wrapping securesession.ErrTooManySessions
// and stores nothing (limit.Refuse), or ends the least recently seen ones
// (deletes their items). The new session's item is added before the
// index is written and the old session's is deleted last, so a refused
// login leaves the old session as it was, and a login that fails removes
// its new item again; see enter for why concurrent logins never leave
// more than limit.Max. Only sessions the index holds are counted (see
// MaxIndexedSessions); a limit over MaxIndexedSessions fails. Safe for
// concurrent use.
func (s *Store) LoginLimited(ctx context.Context, name, oldToken string, rec *securesession.Record, limit securesession.SessionLimit) (string, error) {
	const op = "login"
	if limit.Max < 1 || limit.Max > MaxIndexedSessions {
		return "", fmt.Errorf("%s%s: Options.MaxSessionsPerUser %d is outside 1 to %d, the sessions a user's index holds (MaxIndexedSessions)", errPrefix, op, limit.Max, MaxIndexedSessions)
	}
	if rec.UserID == "" {
		return "", errors.New(errPrefix + op + ": empty user ID (a login has a user)")
	}
	if oldToken == "" {
		return s.create(ctx, op, name, rec, newHandle(), nil, "", limit)
	}
	r, err := s.parseToken(oldToken)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", errBackend(op, err)
	}
	return s.move(ctx, op, name, s.keys(name, oldToken, r), r, rec, limit)
}
