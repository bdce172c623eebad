package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/memory"
)

const name = "__Host-session"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T, max int) (*memory.Store, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s, err := memory.NewStore(memory.Options{MaxSessions: max, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func record(now time.Time, user string, idle time.Duration) *securesession.Record {
	return &securesession.Record{
		UserID: user, Created: now, LastSeen: now,
		Deadline: now.Add(12 * time.Hour), Expires: now.Add(idle),
		Values: []byte{1, 2, 3},
	}
}

func TestFullStoreEvictsTheSessionClosestToExpiry(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 3)
	var toks []string
	for i, idle := range []time.Duration{30 * time.Minute, 10 * time.Minute, 20 * time.Minute} {
		tok, err := s.Create(ctx, name, record(c.t, "u"+string(rune('a'+i)), idle))
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	if _, err := s.Create(ctx, name, record(c.t, "ud", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := s.Len(); got != 3 {
		t.Fatalf("Len = %d after a fourth session in a store of 3, want 3", got)
	}
	for i, want := range []bool{true, false, true} {
		if _, found, _ := s.Find(ctx, name, toks[i]); found != want {
			t.Errorf("session %d found = %v, want %v (the one with the nearest expiry is evicted)", i, found, want)
		}
	}
}

func TestExpiredRecordsAreSweptAndNeverFound(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 0)
	old, _ := s.Create(ctx, name, record(c.t, "", time.Minute))
	c.t = c.t.Add(time.Minute)
	if _, found, err := s.Find(ctx, name, old); found || err != nil {
		t.Fatalf("Find at its expiry: found=%v err=%v, want not found", found, err)
	}
	if _, err := s.Touch(ctx, name, old, record(c.t, "", time.Minute)); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Touch of an expired record: %v, want ErrNoRecord", err)
	}
	if _, err := s.Create(ctx, name, record(c.t, "", time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := s.Len(); got != 1 {
		t.Fatalf("Len = %d, want 1: the expired record is swept on the next write", got)
	}
}

func TestHandleIsStableAcrossRotationAndRevokesTheRotatedSession(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 0)
	rec := record(c.t, "alice", time.Hour)
	tok, _ := s.Create(ctx, name, rec)
	handle := rec.Handle
	next := record(c.t, "alice", time.Hour)
	rotated, err := s.Rotate(ctx, name, tok, next)
	if err != nil {
		t.Fatal(err)
	}
	if next.Handle != handle {
		t.Fatalf("Handle changed on Rotate: %q -> %q", handle, next.Handle)
	}
	if err := s.RevokeHandle(ctx, "alice", handle); err != nil {
		t.Fatalf("RevokeHandle with the handle listed before the rotation: %v", err)
	}
	if _, found, _ := s.Find(ctx, name, rotated); found {
		t.Fatal("the rotated session survived RevokeHandle of its handle")
	}
	if err := s.RevokeHandle(ctx, "alice", handle); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("RevokeHandle of an ended session: %v, want ErrNoRecord", err)
	}
}

func TestRevokeHandleOfAnotherUsersSessionDoesNothing(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 0)
	rec := record(c.t, "alice", time.Hour)
	tok, _ := s.Create(ctx, name, rec)
	if err := s.RevokeHandle(ctx, "Alice", rec.Handle); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("RevokeHandle by another user: %v, want ErrNoRecord", err)
	}
	if _, found, _ := s.Find(ctx, name, tok); !found {
		t.Fatal("another user's RevokeHandle ended alice's session")
	}
}

func TestNegativeMaxSessionsIsRefused(t *testing.T) {
	if _, err := memory.NewStore(memory.Options{MaxSessions: -1}); err == nil {
		t.Fatal("NewStore accepted MaxSessions -1")
	}
}
