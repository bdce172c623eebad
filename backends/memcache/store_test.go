package memcache

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
)

const cookie = "__Host-session"

// proxied returns a store whose client talks to a fresh memcached through a
// counting proxy, the proxy, and the server.
func proxied(t *testing.T, opts Options) (*Store, *proxy, *gomemcache.Client) {
	t.Helper()
	m := testServer(t)
	p := newProxy(t, m.Addr())
	c := newClient(t, p.Addr())
	return newTestStore(t, c, opts), p, c
}

func mustCreate(t *testing.T, s *Store, name string, rec *securesession.Record) string {
	t.Helper()
	tok, err := s.Create(bg, name, rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return tok
}

func mustFind(t *testing.T, s *Store, name, tok string) securesession.Record {
	t.Helper()
	rec, found, err := s.Find(bg, name, tok)
	if err != nil || !found {
		t.Fatalf("Find: found=%v err=%v; want the session", found, err)
	}
	return rec
}

func mustNotFind(t *testing.T, s *Store, name, tok string) {
	t.Helper()
	rec, found, err := s.Find(bg, name, tok)
	if err != nil || found {
		t.Fatalf("Find: found=%v (user %q) err=%v; want not found", found, rec.UserID, err)
	}
}

func keysOf(s *Store, name, tok string) keyset {
	r, err := s.parseToken(tok)
	if err != nil {
		panic("bad token")
	}
	return s.keys(name, tok, r)
}

func rawMiss(t *testing.T, c *gomemcache.Client, key string) {
	t.Helper()
	if _, err := c.Get(key); !errors.Is(err, gomemcache.ErrCacheMiss) {
		t.Fatalf("raw get of a deleted item: err=%v; want a cache miss", err)
	}
}

func TestKeysAndValuesNeverContainRawTokenOrUser(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	const secretValue = "VALUE-IN-THE-CLEAR"
	var toks []string
	for _, user := range []string{"", "alice@example.com"} {
		toks = append(toks, mustCreate(t, s, cookie, newRecord(now, user, secretValue)))
	}
	lines, err := m.Command("lru_crawler metadump all")
	if err != nil {
		t.Fatal(err)
	}
	// The crawler may list an item twice when it moves between LRU
	// segments during the crawl: count each key once.
	var keys []string
	for _, l := range lines {
		if k, ok := strings.CutPrefix(l, "key="); ok {
			k, _, _ = strings.Cut(k, " ")
			k, _ = url.QueryUnescape(k)
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) != 4 { // 2 sessions, 1 generation, 1 index
		t.Fatalf("metadump lists %d keys, want 4: %q", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, DefaultPrefix) {
			t.Errorf("key %q lacks the prefix", k)
		}
		for _, tok := range toks {
			for _, part := range []string{tok, tok[:22], tok[22:43], tok[43:]} {
				if strings.Contains(k, part) {
					t.Errorf("memcached key %q contains part of a raw token", k)
				}
			}
		}
		if strings.Contains(k, "alice") {
			t.Errorf("memcached key %q contains the user ID", k)
		}
		lines, err := m.Command("get " + k)
		if err != nil {
			t.Fatal(err)
		}
		v := strings.Join(lines, "\n")
		for _, secret := range append([]string{"alice", secretValue}, toks...) {
			if strings.Contains(v, secret) {
				t.Errorf("the value under %q contains %q in the clear", k, secret)
			}
		}
	}
}

func TestTokensOfOneUserShareNoVisibleBytes(t *testing.T) {
	s := newTestStore(t, gomemcache.New("127.0.0.1:1"), Options{})
	r := s.userRef("alice")
	a, b := s.newToken(r), s.newToken(r)
	if a[43:] == b[43:] || a[:43] == b[:43] {
		t.Fatalf("two tokens of one user share a visible part")
	}
	for _, tok := range []string{a, b} {
		if got, err := s.parseToken(tok); err != nil || got != r {
			t.Fatalf("tokenRef does not recover the user reference")
		}
	}
}

func TestBlobMovedToAnotherKeyIsRejected(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	for _, user := range []string{"", "mallory"} {
		a := mustCreate(t, s, cookie, newRecord(now, user, "a"))
		b := mustCreate(t, s, cookie, newRecord(now, user, "b"))
		ka, kb := keysOf(s, cookie, a), keysOf(s, cookie, b)
		pairs := [][2]string{{ka.session, kb.session}}
		if user != "" {
			pairs = append(pairs, [2]string{ka.user, kb.session})
		}
		for _, pair := range pairs {
			it, err := c.Get(pair[0])
			if err != nil {
				t.Fatal(err)
			}
			orig, err := c.Get(pair[1])
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Set(&gomemcache.Item{Key: pair[1], Value: it.Value, Expiration: 600}); err != nil {
				t.Fatal(err)
			}
			_, found, err := s.Find(bg, cookie, b)
			if found || !errors.Is(err, securesession.ErrInvalidToken) {
				t.Fatalf("user %q: value of %s pasted under %s: found=%v err=%v; want an ErrInvalidToken error", user, pair[0][:4], pair[1][:4], found, err)
			}
			orig.Expiration = 600
			if err := c.Set(orig); err != nil {
				t.Fatal(err)
			}
			mustFind(t, s, cookie, b)
		}
	}
	// A store with another key cannot open this store's values.
	tok := mustCreate(t, s, cookie, newRecord(now, "", "x"))
	other := newTestStore(t, c, Options{})
	if _, found, _ := other.Find(bg, cookie, tok); found {
		t.Fatal("a store with another key found the session")
	}
}

// TestMalformedTokensCostNoRoundTrip: every method that takes a token
// (RevokeUser through the session to keep) rejects a malformed one with
// an error wrapping ErrInvalidToken, without a panic and before any store
// access, whatever bytes it holds: truncations, extensions, padding,
// whitespace, CR and LF (memcached's command separators), NUL, other
// control characters and non-ASCII bytes. Nothing is revoked.
func TestMalformedTokensCostNoRoundTrip(t *testing.T) {
	s, p, _ := proxied(t, Options{})
	good := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", ""))
	p.Take()
	bad := []string{
		"", "x", good[:63], good[:1], good + "A", good + good, strings.Repeat("=", 64), good[:62] + "==",
		good[:63] + "+", good[:63] + "/", good[:63] + ".",
		good[:63] + "\n", good[:63] + "\r", good[:62] + "\r\n", "\r\n" + good[2:], good[:32] + "\r\n" + good[34:],
		good[:32] + " " + good[33:], " " + good[1:], good[:63] + "\t", good[:63] + "\x00", "\x00" + good[1:], good[:32] + "\x00" + good[33:],
		good[:63] + "\x7f", good[:63] + "\x1b", good[:62] + "é", good[:63] + "\xff", good[:60] + "\U0001F600",
		strings.Repeat("A", 1<<12),
	}
	for _, tok := range bad {
		want := securesession.RejectMalformed
		if len(tok) > len(good) {
			want = securesession.RejectOversized
		}
		check := func(method string, found bool, err error) {
			t.Helper()
			var inv *securesession.InvalidTokenError
			if found || !errors.As(err, &inv) || inv.Reason != want || !strings.HasPrefix(err.Error(), errPrefix) {
				t.Errorf("%s(%.70q): found=%v err=%v; want InvalidToken(%s)", method, tok, found, err, want)
			}
		}
		rec := newRecord(time.Now(), "alice", "")
		_, found, err := s.Find(bg, cookie, tok)
		check("Find", found, err)
		_, err = s.Update(bg, cookie, tok, rec)
		check("Update", false, err)
		_, err = s.Touch(bg, cookie, tok, rec)
		check("Touch", false, err)
		_, err = s.Rotate(bg, cookie, tok, rec)
		check("Rotate", false, err)
		check("Delete", false, s.Delete(bg, cookie, tok))
		if tok == "" {
			continue // the zero Ref: keep nothing
		}
		check("RevokeUser(keep)", false, s.RevokeUser(bg, "alice", securesession.Ref{Name: cookie, Token: tok}))
	}
	if cmds := p.Take(); len(cmds) != 0 {
		t.Fatalf("malformed tokens reached memcached: %q", verbs(cmds))
	}
	mustFind(t, s, cookie, good)
}

func TestExpirationOver30DaysIsSentAsAbsoluteTime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		at   time.Time
		want int32
		ok   bool
	}{
		{now.Add(time.Second), 1, true},
		{now.Add(1500 * time.Millisecond), 2, true},
		{now.Add(30 * 24 * time.Hour), 30 * 24 * 3600, true},
		{now.Add(30*24*time.Hour + time.Second), 1_800_000_000 + 30*24*3600 + 1, true},
		{now.Add(400 * 24 * time.Hour), 1_800_000_000 + 400*24*3600, true},
		{now, 0, false},
		{now.Add(-time.Hour), 0, false},
		{time.Time{}, 0, false},
		{time.Unix(1<<40, 0), 1<<31 - 1, true},
	}
	for _, c := range cases {
		got, ok := expiration(c.at, now)
		if got != c.want || ok != c.ok {
			t.Errorf("expiration(%v) = %d, %v; want %d, %v", c.at.Sub(now), got, ok, c.want, c.ok)
		}
		if ok && got <= 0 {
			t.Errorf("expiration(%v) = %d: never 0 (forever) or negative", c.at.Sub(now), got)
		}
	}

	// On the wire, with the store's clock.
	s, p, c := proxied(t, Options{})
	wall := time.Now()
	rec := newRecord(wall, "alice", "v")
	rec.Deadline = wall.Add(40 * 24 * time.Hour)
	rec.Expires = rec.Deadline // an idle timeout as long as the deadline
	tok := mustCreate(t, s, cookie, rec)
	ks := keysOf(s, cookie, tok)
	sent := map[string]int64{}
	for _, cmd := range p.Take() {
		f := strings.Fields(cmd)
		if len(f) >= 4 && (f[0] == "add" || f[0] == "set" || f[0] == "cas") {
			sent[f[1]], _ = strconv.ParseInt(f[3], 10, 64)
		}
	}
	want := rec.Deadline.Unix()
	if got := sent[ks.session]; got < want || got > want+1 {
		t.Fatalf("session item sent with exptime %d; want the absolute time %d", got, want)
	}
	// The generation item outlives the deadline by the session's lifetime.
	if got, want := sent[ks.user], want+40*24*3600; got < want || got > want+1 {
		t.Fatalf("generation item sent with exptime %d; want the absolute time %d", got, want)
	}
	// memcached agrees: the item is there and expires in 40 days.
	mustFind(t, s, cookie, tok)
	if _, err := c.Get(ks.session); err != nil {
		t.Fatalf("the 40-day session is not stored: %v", err)
	}
}

func TestPastExpiryIsNeverStored(t *testing.T) {
	s, p, c := proxied(t, Options{})
	now := time.Now()
	rec := newRecord(now.Add(-13*time.Hour), "", "v") // deadline an hour ago
	tok := mustCreate(t, s, cookie, rec)
	if cmds := p.Take(); len(cmds) != 0 {
		t.Fatalf("a record already past its deadline was written: %q", verbs(cmds))
	}
	mustNotFind(t, s, cookie, tok)

	tok = mustCreate(t, s, cookie, newRecord(now, "", "v"))
	ks := keysOf(s, cookie, tok)
	rec = newRecord(now, "", "w")
	rec.Deadline = now.Add(-time.Second)
	if _, err := s.Update(bg, cookie, tok, rec); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Update past the deadline: %v; want ErrNoRecord", err)
	}
	rawMiss(t, c, ks.session)
}

func TestLogoutDeletesTheItems(t *testing.T) {
	s, p, c := proxied(t, Options{})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v"))
	ks := keysOf(s, cookie, tok)
	p.Take()
	if err := s.Delete(bg, cookie, tok); err != nil {
		t.Fatal(err)
	}
	if got := verbs(p.Take()); strings.Join(got, " ") != "delete" {
		t.Fatalf("logout sent %q; want one explicit delete", got)
	}
	rawMiss(t, c, ks.session)
	mustNotFind(t, s, cookie, tok)
	if err := s.Delete(bg, cookie, tok); err != nil {
		t.Fatalf("deleting a deleted session: %v; want nil", err)
	}
}

func TestWriteRacingLogoutDoesNotResurrect(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	tok := mustCreate(t, s, cookie, newRecord(now, "alice", "v"))
	ks := keysOf(s, cookie, tok)
	read := mustFind(t, s, cookie, tok)               // request A reads
	if err := s.Delete(bg, cookie, tok); err != nil { // request B logs out
		t.Fatal(err)
	}
	rec := read
	rec.Values = []byte("written by A")
	if _, err := s.Update(bg, cookie, tok, &rec); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Update after logout (CAS from Find): %v; want ErrNoRecord", err)
	}
	rec.Opaque = nil // as through the gin-contrib adapter
	if _, err := s.Update(bg, cookie, tok, &rec); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Update after logout (no CAS ID): %v; want ErrNoRecord", err)
	}
	rec.LastSeen = now.Add(time.Minute)
	if _, err := s.Touch(bg, cookie, tok, &rec); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Touch after logout: %v; want ErrNoRecord", err)
	}
	rawMiss(t, c, ks.session)
	mustNotFind(t, s, cookie, tok)

	// Many times, truly concurrently.
	for i := 0; i < 50; i++ {
		tok := mustCreate(t, s, cookie, newRecord(now, "alice", "v"))
		read := mustFind(t, s, cookie, tok)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			s.Delete(bg, cookie, tok)
		}()
		go func() {
			defer wg.Done()
			rec := read
			rec.Values = []byte("late write")
			s.Update(bg, cookie, tok, &rec)
		}()
		wg.Wait()
		mustNotFind(t, s, cookie, tok)
	}
}

func TestConcurrentWriterCASConflictRetries(t *testing.T) {
	s, p, _ := proxied(t, Options{})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v0"))
	a := mustFind(t, s, cookie, tok)
	b := mustFind(t, s, cookie, tok)
	a.Values = []byte("from A")
	if _, err := s.Update(bg, cookie, tok, &a); err != nil {
		t.Fatal(err)
	}
	p.Take()
	b.Values = []byte("from B")
	if _, err := s.Update(bg, cookie, tok, &b); err != nil {
		t.Fatalf("Update after a concurrent write: %v; want a retry that succeeds", err)
	}
	if got := strings.Join(verbs(p.Take()), " "); got != "cas gets cas" {
		t.Fatalf("conflicting update sent %q; want cas, re-read, cas", got)
	}
	if got := mustFind(t, s, cookie, tok); string(got.Values) != "from B" {
		t.Fatalf("values %q; want the last write", got.Values)
	}
}

func TestAuthenticatedReadIsOneRoundTrip(t *testing.T) {
	s, p, _ := proxied(t, Options{})
	now := time.Now()
	for _, user := range []string{"alice", ""} {
		tok := mustCreate(t, s, cookie, newRecord(now, user, "v"))
		p.Take()
		rec := mustFind(t, s, cookie, tok)
		cmds := p.Take()
		wantKeys := 2 // the session and the user's generation
		if user == "" {
			wantKeys = 1
		}
		if len(cmds) != 1 || !strings.HasPrefix(cmds[0], "gets ") || len(strings.Fields(cmds[0])) != 1+wantKeys {
			t.Fatalf("user %q: Find sent %d commands %q; want one gets of %d keys", user, len(cmds), verbs(cmds), wantKeys)
		}
		rec.Values = []byte("changed")
		if _, err := s.Update(bg, cookie, tok, &rec); err != nil {
			t.Fatal(err)
		}
		if cmds := p.Take(); len(cmds) != 1 || verbs(cmds)[0] != "cas" {
			t.Fatalf("user %q: Update after Find sent %q; want one cas", user, verbs(cmds))
		}
		rec = mustFind(t, s, cookie, tok)
		p.Take()
		rec.LastSeen = now.Add(time.Minute)
		rec.Expires = rec.LastSeen.Add(securesession.DefaultIdleTimeout)
		if _, err := s.Touch(bg, cookie, tok, &rec); err != nil {
			t.Fatal(err)
		}
		if cmds := p.Take(); len(cmds) != 1 || verbs(cmds)[0] != "cas" {
			t.Fatalf("user %q: Touch after Find sent %q; want one cas", user, verbs(cmds))
		}
	}
}

// TestTouchMovesTheTimesAndKeepsTheStoredValues: Touch rewrites the
// session item with the new activity times and memcached expiry, but with
// the values it holds, never the caller's: a Touch whose read predates a
// concurrent Update re-reads and keeps the Update's values. After a
// logout, Touch reports ErrNoRecord and writes nothing.
func TestTouchMovesTheTimesAndKeepsTheStoredValues(t *testing.T) {
	s, p, c := proxied(t, Options{})
	now := time.Now()
	tok := mustCreate(t, s, cookie, newRecord(now, "alice", "data"))
	ks := keysOf(s, cookie, tok)
	stale := mustFind(t, s, cookie, tok) // the touching request's read
	other := mustFind(t, s, cookie, tok) // another request writes meanwhile
	other.Values = []byte("written meanwhile")
	if _, err := s.Update(bg, cookie, tok, &other); err != nil {
		t.Fatal(err)
	}
	later := now.Add(20 * time.Minute)
	stale.LastSeen, stale.Expires = later, later.Add(securesession.DefaultIdleTimeout)
	stale.Values = []byte("the caller's stale copy")
	p.Take()
	if _, err := s.Touch(bg, cookie, tok, &stale); err != nil {
		t.Fatal(err)
	}
	cmds := p.Take()
	if got := strings.Join(verbs(cmds), " "); got != "cas gets cas" {
		t.Fatalf("Touch after a concurrent write sent %q; want cas, re-read, cas", got)
	}
	f := strings.Fields(cmds[len(cmds)-1])
	if exp, _ := strconv.Atoi(f[3]); f[1] != ks.session || exp < int(40*time.Minute/time.Second) || exp > int(50*time.Minute/time.Second) {
		t.Fatalf("Touch wrote %q; want the session item with the idle expiry (20+30 minutes from now)", f[:4])
	}
	got := mustFind(t, s, cookie, tok)
	if !got.LastSeen.Equal(later) || !got.Expires.Equal(later.Add(securesession.DefaultIdleTimeout)) {
		t.Fatalf("after Touch Find reports LastSeen %v Expires %v; want %v and %v", got.LastSeen, got.Expires, later, later.Add(securesession.DefaultIdleTimeout))
	}
	if string(got.Values) != "written meanwhile" {
		t.Fatalf("values %q after Touch; want the concurrent Update's", got.Values)
	}
	if err := s.Delete(bg, cookie, tok); err != nil {
		t.Fatal(err)
	}
	got.LastSeen = later.Add(time.Minute)
	if _, err := s.Touch(bg, cookie, tok, &got); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Touch after logout: %v; want ErrNoRecord", err)
	}
	rawMiss(t, c, ks.session)
}

func TestRevokeUserEndsOtherSessionsInOneGetMulti(t *testing.T) {
	s, p, c := proxied(t, Options{})
	now := time.Now()
	laptop := mustCreate(t, s, cookie, newRecord(now, "alice", "laptop"))
	phone := mustCreate(t, s, cookie, newRecord(now, "alice", "phone"))
	admin := mustCreate(t, s, "__Host-admin", newRecord(now, "alice", "admin"))
	bob := mustCreate(t, s, cookie, newRecord(now, "bob", "bob"))
	anon := mustCreate(t, s, cookie, newRecord(now, "", "anon"))

	if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: cookie, Token: laptop}); err != nil {
		t.Fatal(err)
	}
	p.Take()
	mustNotFind(t, s, cookie, phone)
	if cmds := p.Take(); len(cmds) != 1 || verbs(cmds)[0] != "gets" {
		t.Fatalf("Find of a revoked session sent %q; want one gets", verbs(cmds))
	}
	mustNotFind(t, s, "__Host-admin", admin)
	if got := mustFind(t, s, cookie, laptop); string(got.Values) != "laptop" {
		t.Fatalf("kept session values %q", got.Values)
	}
	mustFind(t, s, cookie, bob)
	mustFind(t, s, cookie, anon)

	// The kept session still works for writes, and survives a second
	// revocation that keeps it again.
	rec := mustFind(t, s, cookie, laptop)
	rec.Values = []byte("laptop2")
	if _, err := s.Update(bg, cookie, laptop, &rec); err != nil {
		t.Fatal(err)
	}
	tablet := mustCreate(t, s, cookie, newRecord(now, "alice", "tablet"))
	if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: cookie, Token: laptop}); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, tablet)
	mustFind(t, s, cookie, laptop)

	// Without keep, everything goes; a new login works.
	if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, laptop)
	again := mustCreate(t, s, cookie, newRecord(now, "alice", "again"))
	mustFind(t, s, cookie, again)
	mustFind(t, s, cookie, bob)

	// An evicted generation item fails closed.
	c.Delete(keysOf(s, cookie, again).user)
	mustNotFind(t, s, cookie, again)

	// keep naming another user's session keeps nothing of it and revokes
	// alice's sessions all the same.
	a2 := mustCreate(t, s, cookie, newRecord(now, "alice", ""))
	if err := s.RevokeUser(bg, "alice", securesession.Ref{Name: cookie, Token: bob}); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, a2)
	mustFind(t, s, cookie, bob)
}

func TestUpdateThatChangesUserMovesToANewToken(t *testing.T) {
	m := testServer(t)
	s := newTestStore(t, newClient(t, m.Addr()), Options{})
	now := time.Now()
	tok := mustCreate(t, s, cookie, newRecord(now, "", "v"))
	rec := mustFind(t, s, cookie, tok)
	rec.UserID = "alice"
	nt, err := s.Update(bg, cookie, tok, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if nt == tok {
		t.Fatal("the token did not change with the user")
	}
	mustNotFind(t, s, cookie, tok)
	if got := mustFind(t, s, cookie, nt); got.UserID != "alice" {
		t.Fatalf("user %q", got.UserID)
	}
	if err := s.RevokeUser(bg, "alice", securesession.Ref{}); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, nt)
}

func TestRotateDeletesTheOldSession(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	now := time.Now()
	old := mustCreate(t, s, cookie, newRecord(now, "", "v"))
	ks := keysOf(s, cookie, old)
	nt, err := s.Rotate(bg, cookie, old, newRecord(now, "alice", "v"))
	if err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, old)
	rawMiss(t, c, ks.session)
	mustFind(t, s, cookie, nt)
	// Rotating away from a token that is already gone stores nothing: a
	// rotation racing a logout must not bring the session back.
	if _, err := s.Rotate(bg, cookie, old, newRecord(now, "alice", "v")); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Rotate from a gone token: %v, want ErrNoRecord", err)
	}
}

func TestTooLargeIsRefusedBeforeWriting(t *testing.T) {
	s, p, _ := proxied(t, Options{MaxItemSize: 4096})
	rec := newRecord(time.Now(), "alice", strings.Repeat("x", 5000))
	if _, err := s.Create(bg, cookie, rec); !errors.Is(err, securesession.ErrTooLarge) || !strings.Contains(err.Error(), "MaxItemSize") {
		t.Fatalf("Create of an oversized record: %v; want ErrTooLarge naming MaxItemSize", err)
	}
	if cmds := p.Take(); len(cmds) != 0 {
		t.Fatalf("an oversized record reached memcached: %q", verbs(cmds))
	}
	// Against the default limit memcached itself enforces (1 MiB).
	s2, _, _ := proxied(t, Options{})
	rec = newRecord(time.Now(), "", strings.Repeat("x", 2<<20))
	if _, err := s2.Create(bg, cookie, rec); !errors.Is(err, securesession.ErrTooLarge) {
		t.Fatalf("Create of a 2 MiB record: %v; want ErrTooLarge", err)
	}
	rec = newRecord(time.Now(), "", strings.Repeat("x", 900<<10))
	tok := mustCreate(t, s2, cookie, rec)
	if got := mustFind(t, s2, cookie, tok); len(got.Values) != 900<<10 {
		t.Fatalf("900 KiB values came back as %d bytes", len(got.Values))
	}
}

func TestOptionsAreValidated(t *testing.T) {
	c := gomemcache.New("127.0.0.1:1")
	key := newKey(t)
	cases := []struct {
		opts  Options
		field string
	}{
		{Options{}, "Options.Key"},
		{Options{Key: key[:16]}, "Options.Key"},
		{Options{Key: make([]byte, 32)}, "Options.Key"},
		{Options{Key: key, Prefix: "has space"}, "Options.Prefix"},
		{Options{Key: key, Prefix: "ctl\x01"}, "Options.Prefix"},
		{Options{Key: key, Prefix: "é"}, "Options.Prefix"},
		{Options{Key: key, Prefix: strings.Repeat("p", MaxPrefixLen+1)}, "Options.Prefix"},
		{Options{Key: key, MaxItemSize: 100}, "Options.MaxItemSize"},
	}
	for _, tc := range cases {
		_, err := NewStore(c, tc.opts)
		if err == nil || !strings.HasPrefix(err.Error(), errPrefix) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("NewStore(%+v): %v; want an error naming %s", tc.opts.Prefix, err, tc.field)
		}
	}
	if _, err := NewStore(nil, Options{Key: key}); err == nil {
		t.Error("NewStore(nil client) succeeded")
	}
	s, err := NewStore(c, Options{Key: key, Prefix: strings.Repeat("~", MaxPrefixLen)})
	if err != nil {
		t.Fatal(err)
	}
	ks := s.keys(strings.Repeat("n", 4000), s.newToken(s.userRef("u")), s.userRef("u"))
	for _, k := range []string{ks.session, ks.user} {
		if len(k) > 250 {
			t.Errorf("key of %d bytes with the longest prefix", len(k))
		}
	}
}

func TestOutageIsAnErrorNotALogout(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	c.Timeout = 200 * time.Millisecond
	s := newTestStore(t, c, Options{})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v"))
	m.Stop()
	_, found, err := s.Find(bg, cookie, tok)
	if err == nil || found || errors.Is(err, securesession.ErrInvalidToken) {
		t.Fatalf("Find with memcached down: found=%v err=%v; want an outage error", found, err)
	}
	if _, err := s.Create(bg, cookie, newRecord(time.Now(), "", "")); err == nil {
		t.Fatal("Create with memcached down succeeded")
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	mustNotFind(t, s, cookie, tok) // memcached lost it; no error once it is back
	mustFind(t, s, cookie, mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v")))
}

func TestErrorsNeverContainTokensOrKeys(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v"))
	ks := keysOf(s, cookie, tok)
	c.Set(&gomemcache.Item{Key: ks.session, Value: []byte("garbage"), Expiration: 60})
	_, _, err := s.Find(bg, cookie, tok)
	if err == nil {
		t.Fatal("garbage accepted")
	}
	m.Stop()
	_, _, err2 := s.Find(bg, cookie, tok)
	for _, e := range []error{err, err2} {
		msg := fmt.Sprint(e)
		if strings.Contains(msg, tok) || strings.Contains(msg, ks.session[len(DefaultPrefix)+1:]) {
			t.Fatalf("error text %q reveals the token or its key", msg)
		}
	}
}

// TestHandleNamesTheSessionAcrossRotations: the Handle is drawn at Create
// and kept by Update, Touch and Rotate (the login of a new user over the
// session included), so that it names the device's session and not one
// token; two sessions never share one, and it is not part of any token or
// memcached key.
func TestHandleNamesTheSessionAcrossRotations(t *testing.T) {
	m := testServer(t)
	s := newTestStore(t, newClient(t, m.Addr()), Options{})
	now := time.Now()
	rec := newRecord(now, "", "cart")
	tok := mustCreate(t, s, cookie, rec)
	h := rec.Handle
	if len(h) != 32 || h == mustCreate(t, s, cookie, newRecord(now, "", "")) {
		t.Fatalf("Handle %q: want 32 hex characters, distinct per session", h)
	}
	if strings.Contains(tok, h) || strings.Contains(keysOf(s, cookie, tok).session, h) {
		t.Fatal("the Handle appears in the token or its key")
	}
	check := func(step string, got string) {
		t.Helper()
		if got != h {
			t.Fatalf("%s: Handle %q, want %q", step, got, h)
		}
	}
	got := mustFind(t, s, cookie, tok)
	check("Find", got.Handle)
	got.Values = []byte("cart2")
	if _, err := s.Update(bg, cookie, tok, &got); err != nil {
		t.Fatal(err)
	}
	check("Update", got.Handle)
	got = mustFind(t, s, cookie, tok)
	got.LastSeen = now.Add(time.Minute)
	if _, err := s.Touch(bg, cookie, tok, &got); err != nil {
		t.Fatal(err)
	}
	check("Touch", got.Handle)
	got = mustFind(t, s, cookie, tok)
	login := newRecord(now, "alice", "cart2")
	login.Opaque = got.Opaque
	tok2, err := s.Rotate(bg, cookie, tok, login)
	if err != nil {
		t.Fatal(err)
	}
	check("Rotate (login)", login.Handle)
	check("Find after the login", mustFind(t, s, cookie, tok2).Handle)
	again := newRecord(now, "alice", "")
	tok3, err := s.Rotate(bg, cookie, tok2, again) // no Opaque: read first
	if err != nil {
		t.Fatal(err)
	}
	check("Rotate (same user, no Find)", again.Handle)
	check("Find after the rotation", mustFind(t, s, cookie, tok3).Handle)
}

// TestCloseClosesIdleConnectionsAndLeavesTheClientUsable: after Close
// the next command dials a new connection, and it works.
func TestCloseClosesIdleConnectionsAndLeavesTheClientUsable(t *testing.T) {
	s, p, _ := proxied(t, Options{})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v"))
	conns := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns) / 2 // each accepted connection and its upstream
	}
	before := conns()
	mustFind(t, s, cookie, tok)
	if got := conns(); got != before {
		t.Fatalf("a read dialled %d new connections before Close; want the pooled one", got-before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, cookie, tok)
	if got := conns(); got != before+1 {
		t.Fatalf("after Close a read dialled %d new connections; want 1 (the idle one was closed)", got-before)
	}
}
