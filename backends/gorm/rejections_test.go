package gorm

import (
	"errors"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession"
)

// TestEveryMethodRefusesAMalformedTokenBeforeAnyStatement: Find, Update,
// Touch, Rotate, Delete and RevokeUser's keep token all refuse a token the
// Store could not have issued with the same typed error and reason, send
// nothing to the database, and never echo the token. A RevokeUser whose
// keep token is malformed revokes nothing: revoking every session instead
// would log out the one meant to stay.
func TestEveryMethodRefusesAMalformedTokenBeforeAnyStatement(t *testing.T) {
	db, log := openCountingSQLite(t)
	c := newClock()
	s := newStore(t, db, Options{Now: c.Now})
	tok, err := s.Create(bg, "sid", newRecord(c.Now(), "alice", "x"))
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	cases := []struct {
		tok    string
		reason securesession.RejectReason
	}{
		{"short", securesession.RejectMalformed},
		{tok[:42], securesession.RejectMalformed},
		{tok[:42] + "B", securesession.RejectMalformed}, // stray bits: not the canonical spelling
		{"' OR 1=1 --" + tok[11:], securesession.RejectMalformed},
		{strings.Repeat("=", len(tok)), securesession.RejectMalformed},
		{tok + "A", securesession.RejectOversized},
		{strings.Repeat(tok, 100), securesession.RejectOversized},
	}
	for _, tc := range cases {
		rec := newRecord(c.Now(), "alice", "y")
		_, found, findErr := s.Find(bg, "sid", tc.tok)
		if found {
			t.Errorf("Find(%q) found a session", tc.tok)
		}
		_, updateErr := s.Update(bg, "sid", tc.tok, rec)
		_, touchErr := s.Touch(bg, "sid", tc.tok, rec)
		_, rotateErr := s.Rotate(bg, "sid", tc.tok, rec)
		for op, err := range map[string]error{
			"Find":       findErr,
			"Update":     updateErr,
			"Touch":      touchErr,
			"Rotate":     rotateErr,
			"Delete":     s.Delete(bg, "sid", tc.tok),
			"RevokeUser": s.RevokeUser(bg, "alice", securesession.Ref{Name: "sid", Token: tc.tok}),
		} {
			var ite *securesession.InvalidTokenError
			switch {
			case !errors.Is(err, securesession.ErrInvalidToken) || !errors.As(err, &ite):
				t.Errorf("%s(%.20q) = %v, want an *InvalidTokenError", op, tc.tok, err)
			case ite.Reason != tc.reason:
				t.Errorf("%s(%.20q): reason %q, want %q", op, tc.tok, ite.Reason, tc.reason)
			case errors.Is(err, securesession.ErrNoRecord):
				t.Errorf("%s(%.20q) = %v: a malformed token is not a session that ended", op, tc.tok, err)
			case strings.Contains(err.Error(), tc.tok):
				t.Errorf("%s: the error shows the token", op)
			}
		}
		if got := log.take(); len(got) != 0 {
			t.Errorf("token %.20q: %d statements reached the database: %q", tc.tok, len(got), got)
		}
	}
	if _, found, err := s.Find(bg, "sid", tok); !found || err != nil {
		t.Fatalf("the session did not survive the malformed calls: %v, %v", found, err)
	}
}
