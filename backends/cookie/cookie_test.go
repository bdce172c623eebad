package cookie_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

const name = "__Host-session"

func sample() *securesession.Record {
	now := time.Now()
	return &securesession.Record{
		UserID: "alice", AuthTime: now, Created: now, LastSeen: now,
		Deadline: now.Add(12 * time.Hour), Expires: now.Add(30 * time.Minute),
		Values: []byte{1, 1, 3, 1, 'k', 3, 1, 'v'},
	}
}

func mustCreate(t testing.TB, s *cookie.Store, rec *securesession.Record) string {
	t.Helper()
	tok, err := s.Create(context.Background(), name, rec)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestCookieValueIsOpaque(t *testing.T) {
	s := newStore(t)
	rec := sample()
	rec.UserID = "alice@example.com"
	tok := mustCreate(t, s, rec)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "alice") || strings.Contains(tok, "alice") {
		t.Fatal("the user ID is readable in the cookie")
	}
	// Two seals of the same record differ (random nonce and handle).
	if first, second := mustCreate(t, s, sample()), mustCreate(t, s, sample()); first == second {
		t.Fatal("two cookies for equal records are identical")
	}
}

func TestRoundTripKeepsEveryField(t *testing.T) {
	s := newStore(t)
	rec := sample()
	rec.UserAgent, rec.IP = "Firefox", "192.0.2.1"
	tok := mustCreate(t, s, rec)
	got, found, err := s.Find(context.Background(), name, tok)
	if err != nil || !found {
		t.Fatalf("Find: found=%v err=%v", found, err)
	}
	if got.UserID != rec.UserID || !got.AuthTime.Equal(rec.AuthTime) || !got.Deadline.Equal(rec.Deadline) ||
		!got.LastSeen.Equal(rec.LastSeen) || string(got.Values) != string(rec.Values) || got.IP != rec.IP ||
		got.UserAgent != rec.UserAgent || got.Handle != rec.Handle || got.Handle == "" {
		t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, *rec)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := newKey(t), newKey(t)
	before := newStoreWith(t, cookie.Options{Keys: [][]byte{oldKey}})
	tok := mustCreate(t, before, sample())

	during := newStoreWith(t, cookie.Options{Keys: [][]byte{newKey, oldKey}})
	rec, found, err := during.Find(context.Background(), name, tok)
	if err != nil || !found {
		t.Fatalf("a cookie sealed under the old key must open during rotation: %v", err)
	}
	if !rec.Reissue {
		t.Fatal("a cookie opened with an old key must ask to be re-sealed")
	}
	resealed, err := during.Update(context.Background(), name, tok, &rec)
	if err != nil {
		t.Fatal(err)
	}
	after := newStoreWith(t, cookie.Options{Keys: [][]byte{newKey}})
	if _, found, err := after.Find(context.Background(), name, resealed); !found || err != nil {
		t.Fatalf("the re-sealed cookie must open with the new key alone: %v", err)
	}
	if _, _, err := after.Find(context.Background(), name, tok); !errors.Is(err, securesession.ErrInvalidToken) {
		t.Fatalf("after the old key is dropped its cookies are invalid, got %v", err)
	}
	if r2, _, _ := during.Find(context.Background(), name, resealed); r2.Reissue {
		t.Fatal("a cookie under the current key must not be re-sealed")
	}
}

// An unknown key ID is refused before any decryption: a wrong key of the
// right ID length is not tried.
func TestUnknownKeyIDRejected(t *testing.T) {
	s := newStore(t)
	tok := mustCreate(t, s, sample())
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	raw[1] ^= 0xff
	_, _, err := s.Find(context.Background(), name, base64.RawURLEncoding.EncodeToString(raw))
	if !errors.Is(err, securesession.ErrInvalidToken) || !strings.Contains(err.Error(), "unknown key ID") {
		t.Fatalf("got %v", err)
	}
}

func TestCookieBoundToItsName(t *testing.T) {
	s := newStore(t)
	tok := mustCreate(t, s, sample())
	if _, _, err := s.Find(context.Background(), "__Host-other", tok); !errors.Is(err, securesession.ErrInvalidToken) {
		t.Fatalf("a cookie presented under another name: %v", err)
	}
}

func TestOversizedSessionIsErrTooLarge(t *testing.T) {
	s := newStore(t)
	rec := sample()
	rec.Values = make([]byte, 3100)
	if _, err := s.Create(context.Background(), name, rec); !errors.Is(err, securesession.ErrTooLarge) {
		t.Fatalf("Create with 3100 bytes of values: %v, want ErrTooLarge", err)
	}
	rec.Values = make([]byte, 2800)
	tok, err := s.Create(context.Background(), name, rec)
	if err != nil {
		t.Fatalf("2800 bytes of values must fit: %v", err)
	}
	if len(name)+1+len(tok) > securesession.MaxCookieSize {
		t.Fatalf("cookie is %d bytes", len(name)+1+len(tok))
	}
}

func TestOversizedIncomingCookieRejectedBeforeDecoding(t *testing.T) {
	s := newStore(t)
	_, _, err := s.Find(context.Background(), name, strings.Repeat("A", securesession.MaxCookieSize))
	if !errors.Is(err, securesession.ErrInvalidToken) || !strings.Contains(err.Error(), "oversized") {
		t.Fatalf("got %v", err)
	}
}

func TestWithoutRevocationDeleteSaysItCannot(t *testing.T) {
	s := newStore(t)
	tok := mustCreate(t, s, sample())
	if err := s.Delete(context.Background(), name, tok); !errors.Is(err, securesession.ErrCannotRevoke) {
		t.Fatalf("Delete = %v, want ErrCannotRevoke", err)
	}
	if err := s.RevokeUser(context.Background(), "alice", securesession.Ref{}); !errors.Is(err, securesession.ErrCannotRevoke) {
		t.Fatalf("RevokeUser = %v, want ErrCannotRevoke", err)
	}
}

func TestRevocationKeepsTheKeptSession(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	ctx := context.Background()
	a, b := mustCreate(t, s, sample()), mustCreate(t, s, sample())
	if err := s.RevokeUser(ctx, "alice", securesession.Ref{Name: name, Token: a}); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Find(ctx, name, a); !found {
		t.Fatal("the kept session was revoked")
	}
	if _, found, _ := s.Find(ctx, name, b); found {
		t.Fatal("another session of the user survived RevokeUser")
	}
	rec, _, _ := s.Find(ctx, name, a)
	if err := s.Delete(ctx, name, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, name, a, &rec); !errors.Is(err, securesession.ErrNoRecord) {
		t.Fatalf("Update after Delete = %v, want ErrNoRecord (no resurrection)", err)
	}
}

// TestTamperCampaign flips every bit of the first bytes of a valid cookie
// (before and after base64), truncates and extends it, and swaps parts of
// two users' cookies: no mutation may open.
func TestTamperCampaign(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	alice := mustCreate(t, s, sample())
	bobRec := sample()
	bobRec.UserID = "bob"
	bob := mustCreate(t, s, bobRec)
	raw, _ := base64.RawURLEncoding.DecodeString(alice)
	rawBob, _ := base64.RawURLEncoding.DecodeString(bob)
	tried, accepted := 0, 0
	try := func(v string) {
		tried++
		if v == alice || v == bob {
			return
		}
		if _, found, err := s.Find(ctx, name, v); found || (err != nil && !errors.Is(err, securesession.ErrInvalidToken)) {
			accepted++
			t.Errorf("mutation accepted or misclassified: found=%v err=%v", found, err)
		}
	}
	for i := 0; i < len(raw); i++ {
		for bit := 0; bit < 8; bit++ {
			m := append([]byte(nil), raw...)
			m[i] ^= 1 << bit
			try(base64.RawURLEncoding.EncodeToString(m))
		}
	}
	for i := 0; i < len(alice); i++ {
		try(alice[:i])
		try(alice[:i] + alice[i+1:])
		for _, c := range "A_-z0" {
			try(alice[:i] + string(c) + alice[i+1:])
		}
	}
	for _, ext := range []string{"A", "AA", "AAA", "====", "%3D", alice} {
		try(alice + ext)
	}
	try(base64.StdEncoding.EncodeToString(raw))
	try(base64.URLEncoding.EncodeToString(raw))
	try(strings.ToUpper(alice))
	try(strings.ToLower(alice))
	// Splice Alice's header onto Bob's ciphertext and the reverse.
	for cut := 1; cut < min(len(raw), len(rawBob)); cut += 3 {
		m := append(append([]byte(nil), raw[:cut]...), rawBob[cut:]...)
		try(base64.RawURLEncoding.EncodeToString(m))
		m = append(append([]byte(nil), rawBob[:cut]...), raw[cut:]...)
		try(base64.RawURLEncoding.EncodeToString(m))
	}
	if accepted != 0 || tried < 2000 {
		t.Fatalf("%d of %d mutations accepted", accepted, tried)
	}
	t.Logf("%d mutations tried, none accepted", tried)
}

// fuzzKey and genuine are a fixed test key and a cookie it sealed (user
// alice, created 2026-11-24 12:00 UTC), so that every fuzz worker agrees
// on the one value that may open.
var fuzzKey = func() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i * 7)
	}
	return k
}()

const genuine = "Aq5r2_q6VDZ-8IkJ4H5SWb4H2H8jjp7pWA2W-hBQ0Gi8XSaoSt4Pv05N9K-AcNpHDAQg6Xce_5UgNTt-na0ngmVv32afJ16boNXZi9wYRVKpTikVx3063LJgRqvgp3PCndCAruyItA5OjeoTEJiWO4X-9mGwwI-g81zh_oeLxqDmIrQ6jQ"

// FuzzFind checks that no input panics or is misclassified, and that no
// input other than the genuine cookie opens.
func FuzzFind(f *testing.F) {
	s, err := cookie.NewStore(cookie.Options{Keys: [][]byte{fuzzKey}})
	if err != nil {
		f.Fatal(err)
	}
	if rec, found, err := s.Find(context.Background(), name, genuine); !found || err != nil || rec.UserID != "alice" {
		f.Fatalf("the genuine cookie does not open: %v", err)
	}
	addSeeds(f)
	f.Fuzz(func(t *testing.T, v string) {
		_, found, err := s.Find(context.Background(), name, v)
		if err != nil && !errors.Is(err, securesession.ErrInvalidToken) {
			t.Fatalf("error not classified as invalid input: %v", err)
		}
		if found && v != genuine {
			t.Fatalf("a mutated cookie opened: %q", v)
		}
	})
}

// addSeeds seeds a fuzz target with the genuine cookie, its truncations
// and extensions, and whitespace, control and non-ASCII bytes alone and
// inside it (Go's base64 skips CR and LF even in Strict mode).
func addSeeds(f *testing.F) {
	mid := len(genuine) / 2
	for _, v := range []string{
		genuine, genuine[:len(genuine)-1], genuine + "A", genuine + genuine, genuine[:mid],
		"", "AQ", strings.Repeat("A", 80),
		genuine[:mid] + "\r\n" + genuine[mid:], "\r\n" + genuine, genuine + "\r\n", genuine + "\n",
		genuine[:3] + "\r" + genuine[3:], genuine[:10] + " " + genuine[10:], " " + genuine, genuine + " ",
		genuine[:7] + "\t" + genuine[7:], genuine[:5] + "\x00" + genuine[5:], genuine + "\x00",
		genuine[:7] + "é" + genuine[7:], genuine[:7] + "\xff" + genuine[7:], genuine[:len(genuine)-1] + "\x80",
		strings.Repeat("\r\n", 60), strings.Repeat("\n", 120), "AQAB" + strings.Repeat("\r\n", 60),
		strings.Repeat(" ", 120), strings.Repeat("\t", 120), strings.Repeat("\x00", 120), strings.Repeat("é", 60),
	} {
		f.Add(v)
	}
}

// FuzzMethods passes the input as the token of every other method: none
// may panic, each rejects anything but the genuine cookie as invalid
// input, and Delete and RevokeUser's keep never act on the genuine
// session through another spelling of it.
func FuzzMethods(f *testing.F) {
	plain, err := cookie.NewStore(cookie.Options{Keys: [][]byte{fuzzKey}})
	if err != nil {
		f.Fatal(err)
	}
	addSeeds(f)
	f.Fuzz(func(t *testing.T, v string) {
		if v == genuine {
			return
		}
		ctx := context.Background()
		for op, fn := range map[string]func(context.Context, string, string, *securesession.Record) (string, error){
			"Update": plain.Update, "Touch": plain.Touch, "Rotate": plain.Rotate,
		} {
			rec := sample()
			if tok, err := fn(ctx, name, v, rec); tok != "" || !errors.Is(err, securesession.ErrInvalidToken) {
				t.Fatalf("%s: token=%t err=%v, want ErrInvalidToken", op, tok != "", err)
			}
		}
		s, _ := cookie.NewStore(cookie.Options{
			Keys:       [][]byte{fuzzKey},
			Revocation: cookie.NewMemoryRevocation(0),
			Now:        func() time.Time { return time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC) },
		})
		if err := s.Delete(ctx, name, v); err != nil && !errors.Is(err, securesession.ErrInvalidToken) {
			t.Fatalf("Delete: %v", err)
		}
		if _, found, _ := s.Find(ctx, name, genuine); !found {
			t.Fatal("Delete of another spelling ended the genuine session")
		}
		if err := s.RevokeUser(ctx, "alice", securesession.Ref{Name: name, Token: v}); err != nil {
			t.Fatalf("RevokeUser: %v", err)
		}
		if _, found, _ := s.Find(ctx, name, genuine); found {
			t.Fatal("RevokeUser kept the genuine session through another spelling of it")
		}
	})
}

func BenchmarkFind(b *testing.B) {
	s := newStoreB(b)
	tok := mustCreate(b, s, sample())
	b.ReportAllocs()
	for b.Loop() {
		if _, found, _ := s.Find(context.Background(), name, tok); !found {
			b.Fatal("not found")
		}
	}
}

func newStoreB(b *testing.B) *cookie.Store {
	s, err := cookie.NewStore(cookie.Options{Keys: [][]byte{newKey(b)}})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// Go's lenient base64 ignores the spare low bits of a final character, so
// without a strict decoder several spellings open as one cookie. Found by
// the header tamper check flipping the last character.
func TestNonCanonicalSpellingRejected(t *testing.T) {
	s := newStore(t)
	for i := 0; i < 20; i++ {
		rec := sample()
		rec.UserID = strings.Repeat("a", i+1) // vary the length until it leaves spare bits
		tok := mustCreate(t, s, rec)
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		if len(raw)%3 == 0 {
			continue // no spare bits to flip
		}
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", tok[len(tok)-1])
		alt := tok[:len(tok)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])
		if alt == tok {
			alt = tok[:len(tok)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last&^1])
		}
		if lenient, _ := base64.RawURLEncoding.DecodeString(alt); string(lenient) != string(raw) {
			t.Fatalf("test setup: %q and %q decode differently", tok, alt)
		}
		if _, found, err := s.Find(context.Background(), name, alt); found || !errors.Is(err, securesession.ErrInvalidToken) {
			t.Fatalf("non-canonical spelling opened: found=%v err=%v", found, err)
		}
		return
	}
	t.Fatal("no token with spare bits in 20 tries")
}

// The open cache must not let a cookie outlive its revocation, nor serve a
// cookie under a name it was not sealed for.
func TestCachedCookieStillRevocableAndNameBound(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	ctx := context.Background()
	tok := mustCreate(t, s, sample())
	for i := 0; i < 2; i++ { // the second Find is served from the cache
		if _, found, err := s.Find(ctx, name, tok); !found || err != nil {
			t.Fatalf("Find %d: %v", i, err)
		}
	}
	if _, found, err := s.Find(ctx, "__Host-other", tok); found || !errors.Is(err, securesession.ErrInvalidToken) {
		t.Fatalf("cached cookie served under another name: found=%v err=%v", found, err)
	}
	if err := s.Delete(ctx, name, tok); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Find(ctx, name, tok); found {
		t.Fatal("a revoked cookie was served from the cache")
	}
}

func TestCacheDisabledBehavesTheSame(t *testing.T) {
	s := newStoreWith(t, cookie.Options{CacheSize: -1})
	tok := mustCreate(t, s, sample())
	for i := 0; i < 2; i++ {
		if rec, found, err := s.Find(context.Background(), name, tok); !found || err != nil || rec.UserID != "alice" {
			t.Fatalf("Find %d without a cache: %v", i, err)
		}
	}
}

// The cache empties a full shard instead of growing: many distinct
// sessions must all keep working.
func TestCacheStaysBoundedAndCorrect(t *testing.T) {
	s := newStoreWith(t, cookie.Options{CacheSize: 32})
	ctx := context.Background()
	toks := make([]string, 200)
	for i := range toks {
		rec := sample()
		rec.UserID = strings.Repeat("u", i%7+1)
		toks[i] = mustCreate(t, s, rec)
	}
	for round := 0; round < 2; round++ {
		for i, tok := range toks {
			rec, found, err := s.Find(ctx, name, tok)
			if !found || err != nil || rec.UserID != strings.Repeat("u", i%7+1) {
				t.Fatalf("round %d token %d: found=%v err=%v user=%q", round, i, found, err, rec.UserID)
			}
		}
	}
}

// Each rejection carries the reason the middleware reports in its event.
func TestRejectionsCarryTheirReason(t *testing.T) {
	s := newStore(t)
	tok := mustCreate(t, s, sample())
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, tc := range []struct {
		kind, tok string
		want      securesession.RejectReason
	}{
		{"oversized", strings.Repeat("A", securesession.MaxCookieSize), securesession.RejectOversized},
		{"truncated", tok[:40], securesession.RejectMalformed},
		{"line break", tok[:50] + "\r\n" + tok[50:], securesession.RejectMalformed},
		{"version", flip(0), securesession.RejectUnknownVersion},
		{"key ID", flip(1), securesession.RejectUnknownKey},
		{"ciphertext", flip(len(raw) - 1), securesession.RejectTampered},
	} {
		_, _, err := s.Find(context.Background(), name, tc.tok)
		var ite *securesession.InvalidTokenError
		if !errors.As(err, &ite) || ite.Reason != tc.want {
			t.Errorf("%s: %v; want an InvalidTokenError with reason %s", tc.kind, err, tc.want)
		}
	}
}

// NewStore's errors name the Options field at fault.
func TestNewStoreErrorsNameTheField(t *testing.T) {
	k := newKey(t)
	for _, tc := range []struct {
		keys [][]byte
		want string
	}{
		{nil, "securesession/cookie: Options.Keys: at least one"},
		{[][]byte{make([]byte, 31)}, "securesession/cookie: Options.Keys[0]: "},
		{[][]byte{k, []byte("secret")}, "securesession/cookie: Options.Keys[1]: "},
		{[][]byte{k, k}, "securesession/cookie: Options.Keys[1] repeats Options.Keys[0]"},
	} {
		if _, err := cookie.NewStore(cookie.Options{Keys: tc.keys}); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("NewStore(%d keys): %v; want an error starting %q", len(tc.keys), err, tc.want)
		}
	}
}

// A MemoryRevocation given in Options takes Options.Now unless its own
// SetClock chose a clock.
func TestRevocationTakesTheStoreClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	rev := cookie.NewMemoryRevocation(0)
	s := newStoreWith(t, cookie.Options{Revocation: rev, Now: func() time.Time { return now }})
	rec := sample()
	rec.Deadline = now.Add(time.Minute) // in the store's past only if it used time.Now
	tok := mustCreate(t, s, rec)
	if err := s.Delete(ctx, name, tok); err != nil {
		t.Fatal(err)
	}
	if rev.Len() != 1 {
		t.Fatalf("the revocation holds %d entries; an entry due at the store clock's deadline must be kept", rev.Len())
	}
}
