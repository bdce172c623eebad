package gorm

import (
	"context"
	"errors"
	"fmt"

	"github.com/gin-securesession/securesession"
)

// This file holds the securesession.Lister methods, ListUser and
// RevokeHandle: one statement each.

// ListUser implements securesession.Lister with one SELECT of the live rows
// of userID (the data column is not read), most recently seen first. An
// empty userID is rejected.
func (s *Store) ListUser(ctx context.Context, userID string) ([]securesession.SessionInfo, error) {
	if userID == "" {
		return nil, errors.New("securesession/gorm: ListUser: empty user ID")
	}
	now := encTime(s.now())
	var out []securesession.SessionInfo
	err := s.retry(ctx, func() error {
		out = out[:0]
		p, err := s.prepared(ctx, &s.stmts.listUser)
		if err != nil {
			return err
		}
		rows, err := p.QueryContext(ctx, userKey(userID), now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r sessionRow
			if err := rows.Scan(&r.Handle, &r.Created, &r.AuthTime, &r.LastSeen, &r.ExpiresAt, &r.UserAgent, &r.IP, &r.Binding); err != nil {
				return err
			}
			out = append(out, securesession.SessionInfo{
				Handle:    r.Handle,
				Created:   decTime(r.Created),
				AuthTime:  decTime(r.AuthTime),
				LastSeen:  decTime(r.LastSeen),
				Expires:   decExpires(r.ExpiresAt),
				UserAgent: r.UserAgent,
				IP:        r.IP,
				Binding:   r.Binding,
			})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeHandle implements securesession.Lister with one DELETE of the live
// row whose handle is handle, if and only if it belongs to userID. The
// handle survives rotations, so a session rotated since it was listed is
// still found. If no live session of userID has that handle (it ended
// already, it is another user's, or handle is malformed), RevokeHandle
// returns an error wrapping securesession.ErrNoRecord. An empty userID is
// rejected.
func (s *Store) RevokeHandle(ctx context.Context, userID, handle string) error {
	if userID == "" {
		return errors.New("securesession/gorm: RevokeHandle: empty user ID")
	}
	var n int64
	if validHandle(handle) {
		var err error
		if n, err = s.exec(ctx, &s.stmts.revokeHandle, handle, userKey(userID), encTime(s.now())); err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("securesession/gorm: RevokeHandle: %w", securesession.ErrNoRecord)
	}
	return nil
}

var _ securesession.Lister = (*Store)(nil)
