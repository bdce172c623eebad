package gorm

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/token"
)

// This file holds how a token names its row: the keyed hash and what a
// request learnt of the row (rowRef, the Record.Opaque a Store leaves),
// and the error for a token the Store could not have issued.

// rowRef names the row of one token: its keyed hash (the id column),
// computed once per request, and what Find, Create or a write learnt of
// the row. It is the Record.Opaque this Store leaves, and it is trusted
// only for the same Store, cookie name and token, so that a Record handed
// back with another token is never taken for it.
type rowRef struct {
	store       *Store
	name, token string   // what id was computed from; compared, never shown
	id          string   // hex HMAC-SHA256 of (name, token)
	handle      string   // "" when not known (the row was not read in this request)
	kept        keptCols // when handle is known: what the row holds besides values and activity
}

// Format prints a rowRef without its token, whatever the verb, so that a
// Record logged with %v or %+v shows no credential.
func (r *rowRef) Format(f fmt.State, _ rune) { io.WriteString(f, "gorm.rowRef{redacted}") }

// LogValue keeps the token out of slog output too.
func (r *rowRef) LogValue() slog.Value { return slog.StringValue("gorm.rowRef{redacted}") }

// ref returns the row reference of tok under the cookie name: opaque if it
// is this Store's for the same name and token, otherwise a new one with
// the keyed hash computed. ok is false if tok is not shaped like one of
// ours.
func (s *Store) ref(name, tok string, opaque any) (r *rowRef, ok bool) {
	if r, _ := opaque.(*rowRef); r != nil && r.store == s && r.name == name && r.token == tok {
		return r, true
	}
	if !token.Valid(tok) {
		return nil, false
	}
	return &rowRef{store: s, name: name, token: tok, id: s.rowID(name, tok)}, true
}

// known returns r with the row's handle and kept columns, as the Opaque
// of a record just read or written.
func (r *rowRef) known(handle string, kept keptCols) *rowRef {
	next := *r
	next.handle, next.kept = handle, kept
	return &next
}

// rowID returns the id column of tok under the cookie name: the keyed
// hash (HMAC-SHA256) that the table holds instead of the token.
func (s *Store) rowID(name, tok string) string {
	if s.hookOnHash != nil {
		s.hookOnHash()
	}
	return s.hasher.Hex(name, tok)
}

// where returns the index into the two forms of a write for r and the
// arguments that form's WHERE starts with.
func (r *rowRef) where() (int, []any) {
	if r.handle == "" {
		return 0, []any{r.id}
	}
	return 1, []any{r.handle, r.id}
}

// rejected is the error for a token this Store could not have issued,
// returned before any statement: securesession.InvalidToken with the
// reason (oversized if it is longer than any token the Store issues,
// malformed otherwise), wrapped with the operation. It never contains the
// token.
func rejected(op, tok string) error {
	reason := securesession.RejectMalformed
	if len(tok) > token.Len {
		reason = securesession.RejectOversized
	}
	return fmt.Errorf("securesession/gorm: %s: %w", op, securesession.InvalidToken(reason))
}
