package gorm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// TestOneStatementPerOperation counts, at the driver, the statements each
// operation sends to SQLite. The SQL is the same on every database.
func TestOneStatementPerOperation(t *testing.T) {
	db, log := openCountingSQLite(t)
	c := newClock()
	s := newStore(t, db, Options{Now: c.Now})
	log.take() // the migration
	expect := func(op string, prefixes ...string) {
		t.Helper()
		got := log.take()
		if len(got) != len(prefixes) {
			t.Errorf("%s ran %d statements, want %d: %q", op, len(got), len(prefixes), got)
			return
		}
		for i, p := range prefixes {
			if !strings.HasPrefix(got[i], p) {
				t.Errorf("%s statement %d = %q, want %s", op, i, got[i], p)
			}
		}
	}

	rec := newRecord(c.Now(), "alice", "x")
	tok, err := s.Create(bg, "sid", rec)
	if err != nil {
		t.Fatal(err)
	}
	expect("Create", "INSERT")

	if _, found, err := s.Find(bg, "sid", tok); !found || err != nil {
		t.Fatal(found, err)
	}
	got := log.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "SELECT") || !strings.Contains(got[0], "expires_at >") {
		t.Errorf("Find ran %q; want one SELECT that excludes expired rows", got)
	}

	c.Advance(time.Second)
	rec.LastSeen = c.Now()
	if _, err := s.Update(bg, "sid", tok, rec); err != nil {
		t.Fatal(err)
	}
	expect("Update", "UPDATE")

	if _, err := s.Touch(bg, "sid", tok, rec); err != nil {
		t.Fatal(err)
	}
	got = log.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "UPDATE") || strings.Contains(got[0], "data") {
		t.Errorf("Touch ran %q; want one UPDATE not touching data", got)
	}

	if tok, err = s.Rotate(bg, "sid", tok, rec); err != nil {
		t.Fatal(err)
	}
	expect("Rotate", "UPDATE")

	if _, err := s.ListUser(bg, "alice"); err != nil {
		t.Fatal(err)
	}
	expect("ListUser", "SELECT")
	if err := s.RevokeHandle(bg, "alice", "00000000000000000000000000000000"); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("RevokeHandle(unknown) = %v, want ErrNoRecord", err)
	}
	expect("RevokeHandle", "DELETE")
	if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: "sid", Token: tok}); err != nil {
		t.Fatal(err)
	}
	expect("RevokeUser", "DELETE")
	if err := s.Delete(bg, "sid", tok); err != nil {
		t.Fatal(err)
	}
	expect("Delete", "DELETE")

	// Malformed tokens and handles never reach the database.
	s.Find(bg, "sid", "malformed")
	s.Update(bg, "sid", "malformed", rec)
	s.Touch(bg, "sid", "malformed", rec)
	s.Rotate(bg, "sid", "malformed", rec)
	s.Delete(bg, "sid", "malformed")
	s.RevokeHandle(bg, "alice", "malformed")
	expect("operations on a malformed token or handle")

	// A write that follows a Find in the same request addresses the
	// row by its primary key, with the hash Find computed.
	if tok, err = s.Create(bg, "sid", newRecord(c.Now(), "alice", "x")); err != nil {
		t.Fatal(err)
	}
	read, found, err := s.Find(bg, "sid", tok)
	if !found || err != nil {
		t.Fatal(found, err)
	}
	log.take()
	if _, err := s.Touch(bg, "sid", tok, &read); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(bg, "sid", tok, &read); err != nil {
		t.Fatal(err)
	}
	for _, q := range log.take() {
		if !strings.Contains(q, "WHERE handle = ") {
			t.Errorf("a write after Find ran %q; want it by handle", q)
		}
	}
}
