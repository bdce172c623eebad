package gorm

import (
	"context"
	"fmt"
	"time"

	gormdb "gorm.io/gorm"
)

// Cleanup deletes the rows that expired before Now(), in DELETEs of at most
// Options.CleanupBatch rows each, and returns how many it deleted. The
// background sweeper calls it every Options.CleanupInterval; call it
// yourself if the sweeper is disabled. It stops between batches when ctx is
// done. Safe for concurrent use, also with the sweeper.
func (s *Store) Cleanup(ctx context.Context) (deleted int64, err error) {
	now := encTime(s.now())
	var after int64 // SQLite: the last rowid looked at
	for {
		// Select a bounded batch of keys, then delete exactly those rows
		// that are still expired: portable (MySQL rejects LIMIT in an IN
		// subquery) and never deletes a row that an Update extended in
		// between. The key is the handle, found through the expires_at
		// index; on SQLite, where neither has an index (see
		// createSQLiteTable), the rowid, in rowid order from where the
		// last batch stopped, so that one Cleanup reads the table once.
		var keys []any
		err := s.retry(ctx, func() error {
			keys = keys[:0]
			q := s.sweepTx(ctx).Model(&sessionRow{})
			if s.sweepKey == "rowid" {
				q = q.Where("rowid > ? AND expires_at <= ?", after, now).Order("rowid")
			} else {
				q = q.Where("expires_at <= ?", now)
			}
			return q.Limit(s.batch).Pluck(s.sweepKey, &keys).Error
		})
		if err != nil || len(keys) == 0 {
			return deleted, err
		}
		if s.sweepKey == "rowid" {
			last, ok := keys[len(keys)-1].(int64)
			if !ok {
				return deleted, fmt.Errorf("securesession/gorm: cleanup: the driver returned a rowid of type %T, want int64", keys[len(keys)-1])
			}
			after = last
		}
		var n int64
		err = s.retry(ctx, func() error {
			res := s.sweepTx(ctx).Where(s.sweepKey+" IN ? AND expires_at <= ?", keys, now).Delete(&sessionRow{})
			n = res.RowsAffected
			return res.Error
		})
		deleted += n
		if err != nil || len(keys) < s.batch {
			return deleted, err
		}
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
	}
}

// sweepTx returns a fresh GORM statement on the sessions table, without
// GORM's default transaction: each DELETE is one statement, atomic on its
// own.
func (s *Store) sweepTx(ctx context.Context) *gormdb.DB {
	return s.single.WithContext(ctx).Table(s.table)
}

func (s *Store) sweeper(interval time.Duration) {
	sweep(s.sweepCtx, interval, s.stop, s.done, s.Cleanup, s.onError)
}

// sweep calls cleanup every interval until stop is closed, then closes
// done. An error is passed to onError unless it comes from ctx ending
// (Close cancels it).
func sweep(ctx context.Context, interval time.Duration, stop <-chan struct{}, done chan<- struct{}, cleanup func(context.Context) (int64, error), onError func(error)) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := cleanup(ctx); err != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}
