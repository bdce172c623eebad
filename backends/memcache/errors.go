package memcache

import (
	"errors"
	"fmt"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
)

// This file holds the package's errors, shared by every other file: the
// prefix, the error values of each kind, and which memcached answers mean
// the item was missing or not stored.

const errPrefix = "securesession/memcache: "

func errStored(op, what string, err error) error {
	if errors.Is(err, errVersion) {
		return fmt.Errorf("%s%s: stored %s item has another format version: %w", errPrefix, op, what,
			securesession.InvalidToken(securesession.RejectUnknownVersion))
	}
	return fmt.Errorf("%s%s: stored %s item failed authentication (tampered, or copied from another key): %w", errPrefix, op, what,
		securesession.InvalidToken(securesession.RejectTampered))
}

func errNoRecord(op string) error {
	return fmt.Errorf("%s%s: %w", errPrefix, op, securesession.ErrNoRecord)
}

func errBackend(op string, err error) error {
	return fmt.Errorf("%s%s: %w", errPrefix, op, err)
}

func errDeadline(op string) error {
	return fmt.Errorf("%s%s: Record.Deadline is zero; a session must have an absolute deadline", errPrefix, op)
}

func isMiss(err error) bool {
	return errors.Is(err, gomemcache.ErrCacheMiss) || errors.Is(err, gomemcache.ErrNotStored)
}

func errTooMany(op string) error {
	return fmt.Errorf("%s%s: %w", errPrefix, op, securesession.ErrTooManySessions)
}
