package gorm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
)

// TestRevokeHandleOfARotatedSessionEndsIt: the victim's session list shows
// the attacker's session; the attacker rotates it; the victim's "end this
// session" must still end it. (The handle was the row's key, which every
// rotation changed: the revocation matched nothing, reported success, and
// the attacker stayed.)
func TestRevokeHandleOfARotatedSessionEndsIt(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice", "x")
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.ListUser(bg, "alice")
		if err != nil || len(list) != 1 {
			t.Fatalf("ListUser = %v, %v", list, err)
		}
		listed := list[0].Handle
		read, _, _ := s.Find(bg, "sid", tok)
		rotated, err := s.Rotate(bg, "sid", tok, &read)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeHandle(bg, "alice", listed); err != nil {
			t.Fatalf("RevokeHandle of the listed, since rotated, session: %v", err)
		}
		if alive(t, s, "sid", tok, rotated) != 0 {
			t.Fatal("the session rotated after it was listed survived RevokeHandle")
		}
		if err := s.RevokeHandle(bg, "alice", listed); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("RevokeHandle of an ended session = %v, want ErrNoRecord", err)
		}
	})
}

// TestHandleSurvivesRotationButNotAChangeOfUser: the handle names one
// user's session on one device. It is random, so it says nothing about
// the token, and it stays the same across rotations of the same user; a
// login as someone else on that session gives it a new one.
func TestHandleSurvivesRotationButNotAChangeOfUser(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice", "x")
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		h := rec.Handle
		if !validHandle(h) {
			t.Fatalf("Create set handle %q", h)
		}
		other := newRecord(c.Now(), "alice", "x")
		if _, err := s.Create(bg, "sid", other); err != nil {
			t.Fatal(err)
		}
		if other.Handle == h {
			t.Fatal("two sessions got the same handle")
		}
		if id := s.hasher.Hex("sid", tok); strings.Contains(id, h) || strings.Contains(tok, h) {
			t.Fatal("the handle is part of the token or of its keyed hash")
		}

		// Rotations with and without the Opaque of a Find, and Update and
		// Touch, keep the handle.
		for i := 0; i < 2; i++ {
			next := newRecord(c.Now(), "alice", "y")
			if i == 1 {
				read, found, err := s.Find(bg, "sid", tok)
				if !found || err != nil {
					t.Fatal(found, err)
				}
				next = &read
			}
			if tok, err = s.Rotate(bg, "sid", tok, next); err != nil {
				t.Fatal(err)
			}
			if next.Handle != h {
				t.Fatalf("rotation %d changed the handle", i)
			}
			if _, err := s.Update(bg, "sid", tok, next); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Touch(bg, "sid", tok, next); err != nil {
				t.Fatal(err)
			}
		}
		if got, _, _ := s.Find(bg, "sid", tok); got.Handle != h {
			t.Fatalf("Find after rotations: handle %q, want %q", got.Handle, h)
		}

		// A login as bob on alice's session: a new handle, and alice can
		// no longer end it by the old one.
		read, _, _ := s.Find(bg, "sid", tok)
		bob := newRecord(c.Now(), "bob", "")
		bob.Opaque = read.Opaque
		btok, err := s.Rotate(bg, "sid", tok, bob)
		if err != nil {
			t.Fatal(err)
		}
		if bob.Handle == h || !validHandle(bob.Handle) {
			t.Fatalf("a change of user kept handle %q", bob.Handle)
		}
		if err := s.RevokeHandle(bg, "alice", h); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("alice's RevokeHandle of the handle her session had: %v, want ErrNoRecord", err)
		}
		if got, found, _ := s.Find(bg, "sid", btok); !found || got.Handle != bob.Handle || got.UserID != "bob" {
			t.Errorf("bob's session after the login: %+v, %v", got, found)
		}
	})
}

// TestOpaqueOfAnotherTokenIsNotTrusted: the keyed hash carried in
// Record.Opaque is used only for the token it was computed for.
func TestOpaqueOfAnotherTokenIsNotTrusted(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	s := newStore(t, db, Options{Now: c.Now})
	// A Store with another key on the same table.
	otherKey, _ := hex.DecodeString("5f0c8e2a9b7d41c6e3f8a0b2d4c6e8f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3")
	other := newStore(t, db, Options{Now: c.Now, Key: otherKey})
	ta, err := s.Create(bg, "sid", newRecord(c.Now(), "alice", "a"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := s.Create(bg, "sid", newRecord(c.Now(), "bob", "b"))
	if err != nil {
		t.Fatal(err)
	}
	recA, _, _ := s.Find(bg, "sid", ta)
	recA.Values = []byte("written with bob's token")
	if _, err := s.Update(bg, "sid", tb, &recA); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Find(bg, "sid", ta); string(got.Values) != "a" {
		t.Errorf("an Update with bob's token wrote alice's row (%q)", got.Values)
	}
	if got, _, _ := s.Find(bg, "sid", tb); string(got.Values) != "written with bob's token" {
		t.Errorf("bob's row = %q", got.Values)
	}
	// Another Store's Opaque (another key) is not trusted either.
	ot, err := other.Create(bg, "sid", newRecord(c.Now(), "alice", "o"))
	if err != nil {
		t.Fatal(err)
	}
	recO, _, _ := other.Find(bg, "sid", ot)
	if _, err := s.Update(bg, "sid", ot, &recO); !errors.Is(err, securesession.ErrNoRecord) {
		t.Errorf("Update with a token of another Store = %v, want ErrNoRecord", err)
	}
}

// TestRecordPrintsNoToken: the Opaque a Find leaves holds the token (to
// recognise it later); printing or logging the Record must not show it.
func TestRecordPrintsNoToken(t *testing.T) {
	s := newStore(t, openSQLite(t), Options{})
	tok, err := s.Create(bg, "sid", newRecord(s.now(), "alice", "x"))
	if err != nil {
		t.Fatal(err)
	}
	rec, _, _ := s.Find(bg, "sid", tok)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("record", "rec", rec, "opaque", rec.Opaque)
	for _, out := range []string{fmt.Sprint(rec), fmt.Sprintf("%+v", rec), fmt.Sprintf("%#v", rec), fmt.Sprintf("%s", rec.Opaque), logged.String()} {
		if strings.Contains(out, tok) || strings.Contains(out, s.hasher.Hex("sid", tok)) {
			t.Errorf("printed record shows the token or its hash: %s", out)
		}
	}
}

// TestNewStoreRefusesTheEarlierTableLayout: a table whose primary key is
// the token hash (before handles) cannot be migrated in place, and one
// without user keys would keep rows that no RevokeUser reaches; NewStore
// says so and changes nothing.
func TestNewStoreRefusesTheEarlierTableLayout(t *testing.T) {
	type tokenHashKeyed struct {
		ID        string `gorm:"column:id;primaryKey;size:64"`
		UserID    string `gorm:"column:user_id;size:255;not null;index"`
		ExpiresAt int64  `gorm:"column:expires_at;not null;index"`
	}
	type withoutUserKey struct {
		Handle    string `gorm:"column:handle;primaryKey;size:32"`
		ID        string `gorm:"column:id;size:64;not null;uniqueIndex"`
		UserID    string `gorm:"column:user_id;size:255;not null;index"`
		ExpiresAt int64  `gorm:"column:expires_at;not null;index"`
	}
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		for table, row := range map[string]any{
			"earlier_token_keyed": &tokenHashKeyed{ID: strings.Repeat("a", 64), UserID: "alice", ExpiresAt: 1},
			"earlier_no_user_key": &withoutUserKey{Handle: strings.Repeat("b", 32), ID: strings.Repeat("a", 64), UserID: "alice", ExpiresAt: 1},
		} {
			if err := db.Table(table).AutoMigrate(row); err != nil {
				t.Fatal(err)
			}
			if err := db.Table(table).Create(row).Error; err != nil {
				t.Fatal(err)
			}
			s, err := NewStore(db, Options{Key: testKey, TableName: table, CleanupInterval: -1})
			if err == nil {
				s.Close()
				t.Fatalf("NewStore accepted table %s of an earlier layout", table)
			}
			if !strings.HasPrefix(err.Error(), "securesession/gorm: ") || !strings.Contains(err.Error(), "earlier version") {
				t.Errorf("NewStore error %q does not explain", err)
			}
			var n int64
			if err := db.Table(table).Count(&n).Error; err != nil || n != 1 {
				t.Errorf("the earlier table %s was changed: %d rows, %v", table, n, err)
			}
			if db.Migrator().HasColumn(table, "user_key") {
				t.Errorf("NewStore migrated the earlier table %s", table)
			}
		}
	})
}

// TestRevokeHandleOfAnExpiredSessionIsNoRecord: the sweeper has not yet
// removed an expired row, but the session has ended; "end this session"
// must say it had already ended, as for a row that is gone.
func TestRevokeHandleOfAnExpiredSessionIsNoRecord(t *testing.T) {
	c := newClock()
	s := newStore(t, openSQLite(t), Options{Now: c.Now})
	rec := newRecord(c.Now(), "alice", "x")
	if _, err := s.Create(bg, "sid", rec); err != nil {
		t.Fatal(err)
	}
	c.Advance(31 * time.Minute)
	if err := s.RevokeHandle(bg, "alice", rec.Handle); !errors.Is(err, securesession.ErrNoRecord) {
		t.Errorf("RevokeHandle of an expired session = %v, want ErrNoRecord", err)
	}
}
