package gorm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testservers"
	"github.com/gin-securesession/securesession/internal/token"
)

func TestNewStoreRejectsBadOptions(t *testing.T) {
	db := openSQLite(t)
	for _, tc := range []struct {
		opts  Options
		field string
	}{
		{Options{}, "Options.Key"},
		{Options{Key: testKey[:16]}, "Options.Key"},
		{Options{Key: bytes.Repeat([]byte{7}, 32)}, "Options.Key"},
		{Options{Key: testKey, TableName: "sessions; DROP TABLE users"}, "Options.TableName"},
		{Options{Key: testKey, TableName: "1sessions"}, "Options.TableName"},
		{Options{Key: testKey, TableName: strings.Repeat("s", 41)}, "Options.TableName"},
		{Options{Key: testKey, CleanupBatch: -1}, "Options.CleanupBatch"},
	} {
		s, err := NewStore(db, tc.opts)
		if err == nil {
			s.Close()
			t.Errorf("NewStore(%+v): no error", tc.opts)
			continue
		}
		if !strings.HasPrefix(err.Error(), "securesession/gorm: ") || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("NewStore error %q does not name %s", err, tc.field)
		}
		if strings.Contains(err.Error(), string(testKey)) {
			t.Errorf("error %q contains the key", err)
		}
	}
	if _, err := NewStore(nil, Options{Key: testKey}); err == nil {
		t.Error("NewStore(nil db): no error")
	}
}

// TestSchemaIndexesIDUserKeyAndExpiresAtExceptOnSQLite: the id and
// user_key are indexed everywhere, and expires_at everywhere but on
// SQLite, where that index would cost every login, write and activity
// refresh a page of the write-ahead log (Cleanup walks the rowids
// there). A second NewStore changes nothing.
func TestSchemaIndexesIDUserKeyAndExpiresAtExceptOnSQLite(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		sqlite := db.Dialector.Name() == "sqlite"
		for _, table := range []string{"", "custom_sessions"} {
			for range 2 { // a second NewStore migrates the existing table
				s := newStore(t, db, Options{TableName: table})
				m := db.Table(s.table).Migrator()
				if !m.HasTable(s.table) {
					t.Fatalf("table %s missing", s.table)
				}
				for _, idx := range []string{"idx_" + s.table + "_id", "idx_" + s.table + "_user_key", "idx_" + s.table + "_expires_at"} {
					want := !sqlite || !strings.HasSuffix(idx, "_expires_at")
					if got := m.HasIndex(s.table, idx); got != want {
						t.Errorf("index %s: present %v, want %v", idx, got, want)
					}
				}
			}
		}
	})
}

func TestRawTokenNeverStored(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice", "some values")
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		if !token.Valid(tok) {
			t.Fatalf("Create returned a malformed token")
		}
		rec2 := newRecord(c.Now(), "alice", "v2")
		tok2, err := s.Rotate(bg, "sid", tok, rec2)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(tok2)
		rows, err := db.Table(s.table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			n++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				b := []byte(fmt.Sprint(v))
				if bs, ok := v.([]byte); ok {
					b = bs
				}
				for _, secret := range [][]byte{[]byte(tok), []byte(tok2), raw} {
					if bytes.Contains(b, secret) {
						t.Errorf("column %s holds a raw token", cols[i])
					}
				}
			}
		}
		if n != 1 {
			t.Errorf("%d rows after Create+Rotate, want 1", n)
		}
		var id string
		if err := db.Table(s.table).Select("id").Where("handle = ?", rec2.Handle).Scan(&id).Error; err != nil {
			t.Fatal(err)
		}
		if id != s.hasher.Hex("sid", tok2) {
			t.Errorf("the id column is not the keyed hash of the current token")
		}
	})
}

func TestRecordRoundTripsExactly(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice@example.com", "")
		rec.Values = bytes.Repeat([]byte{0, 1, 2, 0xff}, 256<<10) // 1 MiB: no 4 KB cap
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		got, found, err := s.Find(bg, "sid", tok)
		if err != nil || !found {
			t.Fatalf("Find = %v, %v", found, err)
		}
		want := *rec
		if !recordsEqual(got, want) {
			t.Errorf("Find = %+v\nwant %+v", summary(got), summary(want))
		}

		// An anonymous session with zero AuthTime and no values.
		anon := newRecord(c.Now(), "", "")
		anon.Values = nil
		tok, err = s.Create(bg, "sid", anon)
		if err != nil {
			t.Fatal(err)
		}
		got, found, err = s.Find(bg, "sid", tok)
		if err != nil || !found || !recordsEqual(got, *anon) || !got.AuthTime.IsZero() || got.Values != nil {
			t.Errorf("anonymous Find = %+v, %v, %v", summary(got), found, err)
		}
	})
}

func recordsEqual(a, b securesession.Record) bool {
	return a.Handle == b.Handle && a.UserID == b.UserID &&
		a.AuthTime.Equal(b.AuthTime) && a.Created.Equal(b.Created) &&
		a.LastSeen.Equal(b.LastSeen) && a.Deadline.Equal(b.Deadline) &&
		a.Expires.Equal(b.Expires) && bytes.Equal(a.Values, b.Values) &&
		a.UserAgent == b.UserAgent && a.IP == b.IP
}

func summary(r securesession.Record) securesession.Record {
	if len(r.Values) > 32 {
		r.Values = r.Values[:32]
	}
	return r
}

func TestFindRejectsMalformedTokenAndOtherCookieName(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		tok, err := s.Create(bg, "sid", newRecord(c.Now(), "alice", "x"))
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "short", tok + "A", tok[:42] + "=", strings.Repeat("A", 42) + "B", "' OR 1=1 --" + tok[11:]} {
			_, found, err := s.Find(bg, "sid", bad)
			if found || !errors.Is(err, securesession.ErrInvalidToken) {
				t.Errorf("Find(malformed) = %v, %v; want ErrInvalidToken", found, err)
			}
			if err != nil && strings.Contains(err.Error(), bad) && bad != "" {
				t.Errorf("error text contains the token")
			}
		}
		if _, found, err := s.Find(bg, "other", tok); found || err != nil {
			t.Errorf("Find under another cookie name = %v, %v; want not found", found, err)
		}
		if _, found, err := s.Find(bg, "sid", token.New()); found || err != nil {
			t.Errorf("Find(unknown token) = %v, %v; want not found", found, err)
		}
	})
}

func TestExpiredRowNeverServed(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice", "x")
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(30*time.Minute - time.Nanosecond)
		if _, found, err := s.Find(bg, "sid", tok); !found || err != nil {
			t.Fatalf("Find 1ns before expiry = %v, %v", found, err)
		}
		c.Advance(time.Nanosecond) // now == Expires: expired
		if _, found, err := s.Find(bg, "sid", tok); found || err != nil {
			t.Errorf("Find at expiry = %v, %v; want not found", found, err)
		}
		rec.LastSeen, rec.Expires = c.Now(), c.Now().Add(30*time.Minute)
		if _, err := s.Touch(bg, "sid", tok, rec); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("Touch of expired row: %v; want ErrNoRecord", err)
		}
		if _, err := s.Update(bg, "sid", tok, rec); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("Update of expired row: %v; want ErrNoRecord", err)
		}
		if _, found, _ := s.Find(bg, "sid", tok); found {
			t.Error("expired session came back after Touch/Update")
		}
		if list, err := s.ListUser(bg, "alice"); err != nil || len(list) != 0 {
			t.Errorf("ListUser lists expired sessions: %v, %v", list, err)
		}
	})
}

func TestZeroExpiresNeverLapses(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice", "x")
		rec.Expires, rec.Deadline = time.Time{}, time.Time{}
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(100 * 365 * 24 * time.Hour)
		if n, err := s.Cleanup(bg); n != 0 || err != nil {
			t.Errorf("Cleanup = %d, %v", n, err)
		}
		got, found, err := s.Find(bg, "sid", tok)
		if !found || err != nil || !got.Expires.IsZero() {
			t.Errorf("Find = %v, %v, Expires %v; want found with zero Expires", found, err, got.Expires)
		}
	})
}

func TestUpdateAfterLogoutDoesNotResurrect(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "alice", "x")
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		// Request A has read the session; request B logs out.
		read, _, _ := s.Find(bg, "sid", tok)
		if err := s.Delete(bg, "sid", tok); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(bg, "sid", tok); err != nil {
			t.Errorf("second Delete: %v", err)
		}
		read.Values = []byte("written by A")
		if _, err := s.Update(bg, "sid", tok, &read); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("Update after logout: %v; want ErrNoRecord", err)
		}
		if _, err := s.Touch(bg, "sid", tok, &read); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("Touch after logout: %v; want ErrNoRecord", err)
		}
		if n := countRows(t, s); n != 0 {
			t.Errorf("%d rows after logout and update; want 0", n)
		}
		if _, found, _ := s.Find(bg, "sid", tok); found {
			t.Error("session resurrected")
		}
	})
}

func TestUpdateReplacesAndTouchKeepsData(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		rec := newRecord(c.Now(), "", "v1")
		tok, err := s.Create(bg, "sid", rec)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
		upd := newRecord(c.Now(), "bob", "v2")
		if nt, err := s.Update(bg, "sid", tok, upd); err != nil || nt != tok {
			t.Fatalf("Update = %v; token changed %v", err, nt != tok)
		}
		// Touch with stale values in the record: only the times move.
		c.Advance(time.Minute)
		touch := newRecord(c.Now(), "mallory", "stale")
		touch.Expires = c.Now().Add(30 * time.Minute)
		if nt, err := s.Touch(bg, "sid", tok, touch); err != nil || nt != tok {
			t.Fatalf("Touch = %v", err)
		}
		got, found, err := s.Find(bg, "sid", tok)
		if !found || err != nil {
			t.Fatal(found, err)
		}
		if string(got.Values) != "v2" || got.UserID != "bob" || !got.Created.Equal(upd.Created) {
			t.Errorf("Touch rewrote data: %+v", got)
		}
		if !got.LastSeen.Equal(touch.LastSeen) || !got.Expires.Equal(touch.Expires) {
			t.Errorf("Touch did not move LastSeen/Expires: %+v", got)
		}
	})
}

func TestRotateMovesTheRowAndLeavesOldTokenDead(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		old, err := s.Create(bg, "sid", newRecord(c.Now(), "", "cart"))
		if err != nil {
			t.Fatal(err)
		}
		// A rotation that fails after its UPDATE ran (and is rolled back)
		// changes nothing: the old session survives.
		s.hookInRotation = func() error { return errors.New("injected failure after the UPDATE") }
		if _, err := s.Rotate(bg, "sid", old, newRecord(c.Now(), "alice", "cart")); err == nil {
			t.Fatal("Rotate with a failing UPDATE succeeded")
		}
		if _, found, err := s.Find(bg, "sid", old); !found || err != nil {
			t.Fatalf("old session lost by a failed rotation: %v, %v", found, err)
		}
		s.hookInRotation = nil

		rec := newRecord(c.Now(), "alice", "cart")
		nt, err := s.Rotate(bg, "sid", old, rec)
		if err != nil {
			t.Fatal(err)
		}
		if nt == old || !validHandle(rec.Handle) {
			t.Fatalf("Rotate did not issue a new token and a handle")
		}
		if _, found, err := s.Find(bg, "sid", old); found || err != nil {
			t.Errorf("old token after Rotate: %v, %v; want not found", found, err)
		}
		got, found, err := s.Find(bg, "sid", nt)
		if !found || err != nil || got.UserID != "alice" || string(got.Values) != "cart" {
			t.Errorf("new token after Rotate: %+v, %v, %v", got, found, err)
		}
		// Rotating from a token whose record is gone stores nothing: a
		// rotation racing a logout must not bring the session back.
		if _, err := s.Rotate(bg, "sid", old, newRecord(c.Now(), "alice", "")); !errors.Is(err, securesession.ErrNoRecord) {
			t.Errorf("Rotate from a gone token: %v, want ErrNoRecord", err)
		}
		if n := countRows(t, s); n != 1 {
			t.Errorf("%d rows, want 1", n)
		}
	})
}

// sessionsOf creates n sessions of user under cookie name and returns their
// tokens.
func sessionsOf(t *testing.T, s *Store, name, user string, n int) []string {
	t.Helper()
	var toks []string
	for i := 0; i < n; i++ {
		tok, err := s.Create(bg, name, newRecord(s.now(), user, "x"))
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	return toks
}

func alive(t *testing.T, s *Store, name string, toks ...string) int {
	t.Helper()
	n := 0
	for _, tok := range toks {
		if _, found, err := s.Find(bg, name, tok); err != nil {
			t.Fatal(err)
		} else if found {
			n++
		}
	}
	return n
}

func TestRevokeUserWithAndWithoutKeep(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		alice := sessionsOf(t, s, "sid", "alice", 3)
		aliceAdmin := sessionsOf(t, s, "admin_sid", "alice", 1)
		bob := sessionsOf(t, s, "sid", "bob", 2)
		anon := sessionsOf(t, s, "sid", "", 2)

		if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: "sid", Token: alice[1]}); err != nil {
			t.Fatal(err)
		}
		if n := alive(t, s, "sid", alice...); n != 1 || alive(t, s, "sid", alice[1]) != 1 {
			t.Errorf("after RevokeUser with keep: %d of alice's sessions alive, want only the kept one", n)
		}
		if alive(t, s, "admin_sid", aliceAdmin...) != 0 {
			t.Error("RevokeUser missed the session under another cookie name")
		}
		if alive(t, s, "sid", bob...) != 2 || alive(t, s, "sid", anon...) != 2 {
			t.Error("RevokeUser touched other users' sessions")
		}

		// The same token under another cookie name is not the kept session.
		if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: "other", Token: alice[1]}); err != nil {
			t.Fatal(err)
		}
		if alive(t, s, "sid", alice[1]) != 0 {
			t.Error("keep matched a token under the wrong cookie name")
		}
		sessionsOf(t, s, "sid", "alice", 2)
		if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.ListUser(bg, "alice"); len(l) != 0 {
			t.Errorf("%d sessions of alice after RevokeUser without keep", len(l))
		}
		if alive(t, s, "sid", bob...) != 2 || alive(t, s, "sid", anon...) != 2 {
			t.Error("RevokeUser touched other users' sessions")
		}
		if err := s.RevokeUser(bg, "", securesession.Ref{}); err == nil {
			t.Error("RevokeUser(\"\") would end every anonymous session")
		}
		if alive(t, s, "sid", anon...) != 2 {
			t.Error("anonymous sessions revoked")
		}
	})
}

func TestListUserAndRevokeHandleTouchOnlyThatUser(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		a1 := newRecord(c.Now(), "alice", "x")
		a1.UserAgent, a1.IP = "Firefox", "2001:db8::1"
		ta1, err := s.Create(bg, "sid", a1)
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
		a2 := newRecord(c.Now(), "alice", "x")
		ta2, _ := s.Create(bg, "sid", a2)
		bob := newRecord(c.Now(), "bob", "x")
		tb, _ := s.Create(bg, "sid", bob)

		list, err := s.ListUser(bg, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("ListUser(alice) = %d sessions, want 2", len(list))
		}
		byHandle := map[string]securesession.SessionInfo{}
		for _, si := range list {
			byHandle[si.Handle] = si
		}
		si, ok := byHandle[a1.Handle]
		if !ok || si.UserAgent != "Firefox" || si.IP != "2001:db8::1" || !si.Created.Equal(a1.Created) ||
			!si.LastSeen.Equal(a1.LastSeen) || !si.Expires.Equal(a1.Expires) || !si.AuthTime.Equal(a1.AuthTime) || si.Current {
			t.Errorf("ListUser entry = %+v, want metadata of %+v", si, a1)
		}
		if _, ok := byHandle[a2.Handle]; !ok {
			t.Error("ListUser misses a session")
		}

		// Bob cannot revoke Alice's session by its handle: to him there
		// is no such session.
		if err := s.RevokeHandle(bg, "bob", a1.Handle); !errors.Is(err, securesession.ErrNoRecord) {
			t.Fatalf("RevokeHandle of another user's session = %v, want ErrNoRecord", err)
		}
		if alive(t, s, "sid", ta1) != 1 {
			t.Error("RevokeHandle deleted another user's session")
		}
		if err := s.RevokeHandle(bg, "alice", a1.Handle); err != nil {
			t.Fatal(err)
		}
		if alive(t, s, "sid", ta1) != 0 || alive(t, s, "sid", ta2, tb) != 2 {
			t.Error("RevokeHandle deleted the wrong sessions")
		}
		for _, h := range []string{"", "nothex", strings.ToUpper(a2.Handle), a2.Handle + " ", " " + a2.Handle, a2.Handle[:31], a1.Handle} {
			if err := s.RevokeHandle(bg, "alice", h); !errors.Is(err, securesession.ErrNoRecord) {
				t.Errorf("RevokeHandle(%q) = %v, want ErrNoRecord", h, err)
			}
		}
		if alive(t, s, "sid", ta2) != 1 {
			t.Error("a handle that differs from a session's in case or spaces ended it")
		}
		if l, _ := s.ListUser(bg, "bob"); len(l) != 1 || l[0].Handle != bob.Handle {
			t.Errorf("ListUser(bob) = %+v", l)
		}
	})
}

// checkOutage asserts that every operation reports an error, never "not
// found".
func checkOutage(t *testing.T, s *Store, tok string) {
	t.Helper()
	rec := newRecord(s.now(), "alice", "x")
	if _, found, err := s.Find(bg, "sid", tok); err == nil || found || errors.Is(err, securesession.ErrInvalidToken) {
		t.Errorf("Find during outage = found %v, err %v; want a database error", found, err)
	}
	if _, err := s.Create(bg, "sid", rec); err == nil {
		t.Error("Create during outage: no error")
	}
	if _, err := s.Update(bg, "sid", tok, rec); err == nil || errors.Is(err, securesession.ErrNoRecord) {
		t.Errorf("Update during outage: %v; want a database error", err)
	}
	if _, err := s.Touch(bg, "sid", tok, rec); err == nil || errors.Is(err, securesession.ErrNoRecord) {
		t.Errorf("Touch during outage: %v; want a database error", err)
	}
	if _, err := s.Rotate(bg, "sid", tok, rec); err == nil {
		t.Error("Rotate during outage: no error")
	}
	if err := s.Delete(bg, "sid", tok); err == nil {
		t.Error("Delete during outage: no error")
	}
	if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err == nil {
		t.Error("RevokeUser during outage: no error")
	}
	if _, err := s.ListUser(bg, "alice"); err == nil {
		t.Error("ListUser during outage: no error")
	}
}

func TestDatabaseOutageIsAnErrorNotNotFound(t *testing.T) {
	t.Run("sqlite closed", func(t *testing.T) {
		db := openSQLite(t)
		s := newStore(t, db, Options{})
		tok, err := s.Create(bg, "sid", newRecord(s.now(), "alice", "x"))
		if err != nil {
			t.Fatal(err)
		}
		closeDB(db)
		checkOutage(t, s, tok)
	})
	t.Run("postgres stopped", func(t *testing.T) {
		testservers.Postgres(t) // skips or fails, as configured, if PostgreSQL is absent
		dsn, stop, err := testservers.StartPostgres()
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		db := openPostgresDSN(t, dsn)
		s := newStore(t, db, Options{})
		tok, err := s.Create(bg, "sid", newRecord(s.now(), "alice", "x"))
		if err != nil {
			t.Fatal(err)
		}
		stop()
		checkOutage(t, s, tok)
	})
}

func TestConcurrentWritersOnSQLiteDoNotFail(t *testing.T) {
	db := openSQLite(t)
	s := newStore(t, db, Options{})
	const workers, rounds = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			user := fmt.Sprintf("user%d", w%4)
			rec := newRecord(time.Now(), user, "start")
			tok, err := s.Create(bg, "sid", rec)
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < rounds; i++ {
				now := time.Now()
				rec.Values = []byte(fmt.Sprintf("round %d", i))
				rec.LastSeen, rec.Expires = now, now.Add(30*time.Minute)
				var err error
				switch i % 5 {
				case 0, 1:
					_, err = s.Update(bg, "sid", tok, rec)
				case 2:
					_, err = s.Touch(bg, "sid", tok, rec)
				case 3:
					tok, err = s.Rotate(bg, "sid", tok, rec)
				case 4:
					_, _, err = s.Find(bg, "sid", tok)
					if err == nil {
						_, err = s.ListUser(bg, user)
					}
				}
				if err != nil {
					errs <- err
				}
			}
			if err := s.Delete(bg, "sid", tok); err != nil {
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent request failed: %v", err)
	}
	if n := countRows(t, s); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

func TestCleanupDeletesExpiredRowsInBatches(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now, CleanupBatch: 3})
		var deletes atomic.Int64
		if err := db.Callback().Delete().After("gorm:delete").Register("test:count", func(tx *gormdb.DB) {
			if tx.Statement.Table == s.table {
				deletes.Add(1)
			}
		}); err != nil {
			t.Fatal(err)
		}
		expired := sessionsOf(t, s, "sid", "alice", 10)
		c.Advance(20 * time.Minute)
		live := sessionsOf(t, s, "sid", "alice", 2)
		c.Advance(15 * time.Minute) // the first 10 are 5 minutes past expiry
		n, err := s.Cleanup(bg)
		if err != nil || n != 10 {
			t.Fatalf("Cleanup = %d, %v; want 10", n, err)
		}
		if d := deletes.Load(); d != 4 {
			t.Errorf("%d DELETE statements for 10 rows in batches of 3, want 4", d)
		}
		if countRows(t, s) != 2 || alive(t, s, "sid", live...) != 2 || alive(t, s, "sid", expired...) != 0 {
			t.Error("Cleanup deleted the wrong rows")
		}
		if n, err := s.Cleanup(bg); n != 0 || err != nil {
			t.Errorf("second Cleanup = %d, %v", n, err)
		}
	})
}

func TestSweeperRunsAndCloseLeavesNoGoroutine(t *testing.T) {
	db := openSQLite(t)
	c := newClock()
	sqlDB, _ := db.DB()
	sqlDB.Ping()
	before := runtime.NumGoroutine()

	s, err := NewStore(db, Options{Key: testKey, Now: c.Now, CleanupInterval: 5 * time.Millisecond, CleanupBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	sessionsOf(t, s, "sid", "alice", 5)
	c.Advance(time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for countRows(t, s) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("sweeper did not delete expired rows")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("sweeper goroutine still running after Close")
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before NewStore", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// With the sweeper disabled, no goroutine starts and Close is a no-op.
	s2, err := NewStore(db, Options{Key: testKey, CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if s2.done != nil {
		t.Error("a sweeper started with CleanupInterval < 0")
	}
	s2.Close()

	// Close while a sweep is in flight returns promptly.
	s3, err := NewStore(db, Options{Key: testKey, CleanupInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); s3.Close() }()
	}
	wg.Wait()
}
