package gorm

import (
	"context"
	"strings"
	"time"
)

// This file holds the retry of an operation that failed without writing
// anything and may succeed if repeated: SQLite's busy lock, a deadlock
// victim and a serialization failure.

// busyRetries is how many times an operation that failed because
// SQLite's database was locked, or as a deadlock victim, is retried.
const busyRetries = 6

// retry runs op, running it again after a short pause while it fails in a
// way that wrote nothing and may succeed if repeated: SQLite's database
// was locked, or the database broke a deadlock by rolling op's statement
// back. Every operation of the Store is one statement (Rotate's included)
// or, for LoginLimited, one whole transaction, rolled back, so it is safe
// to repeat after such a failure.
func (s *Store) retry(ctx context.Context, op func() error) error {
	if s.noRetry {
		return op()
	}
	return retryBusy(ctx, op)
}

// retryBusy runs op, then again after a pause that doubles from 2 ms, up
// to busyRetries more times, while its error is retryable; it stops
// early, returning op's last error, when ctx is done.
func retryBusy(ctx context.Context, op func() error) error {
	delay := 2 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil || attempt == busyRetries || !retryable(err) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}

// retryable reports whether err is SQLite's "database is locked"
// (SQLITE_BUSY or SQLITE_LOCKED), a deadlock victim (MySQL and MariaDB
// error 1213, PostgreSQL SQLSTATE 40P01) or a PostgreSQL serialization
// failure (SQLSTATE 40001, under a REPEATABLE READ or SERIALIZABLE
// default, when a locking statement waited for another's commit), by its
// text so that no driver is imported: the cgo and pure-Go SQLite drivers
// all use SQLite's own messages, and the MySQL and PostgreSQL drivers the
// server's.
func retryable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "database table is locked") ||
		strings.Contains(msg, "SQLITE_BUSY") ||
		strings.Contains(msg, "Error 1213") || // ER_LOCK_DEADLOCK
		strings.Contains(msg, "(SQLSTATE 40P01)") ||
		strings.Contains(msg, "(SQLSTATE 40001)")
}

// retry runs op again after a short pause while it fails as Store.retry
// retries: each op is one statement or one whole transaction, rolled
// back, so repeating it is safe.
func (s *RevocationStore) retry(ctx context.Context, op func() error) error {
	return retryBusy(ctx, op)
}
