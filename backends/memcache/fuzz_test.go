package memcache

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/fuzzalloc"
	"github.com/gin-securesession/securesession/internal/record"
)

// A fixed key, a token it issued for user alice under the cookie name
// "__Host-session", and the two sealed items of that session (session
// record with generation {9,9,9}, user generation), so that every fuzz
// worker agrees on the only values that may open.
var (
	fuzzKey = func() []byte {
		k := make([]byte, 32)
		for i := range k {
			k[i] = byte(i*7 + 3)
		}
		return k
	}()
	fuzzGen = gen{9, 9, 9}
)

const (
	fuzzToken   = "Ad7W2bFSkJ3p_H_rpUN8Mt2IBZ3temDFMCKUXg-VKMjSkBI_g-tL7DgZgQLAO5fM"
	fuzzSession = "02d9df680f0219458e02532c52a5d362be1ed6fbdaa4d35990026548c656438f410de9e73d793c12c0b01d89a63d2ed80416758cb9727658ea35306168f452db1d02caf15b6d7915ea51c75257abdcb6cc86507679857f137005a9a16873a1f9226f9e48865954de6f69f66d1fdb3344b0efcf54e08ecbd81ad9e4260e7c3fba1c25ebee5efff3389ae77d18c8cb015c1caa5b90f46dbd7b267abbdeee74701cce"
	fuzzGenItem = "02146a7f580193be43d6f02b1dbedef4c7dc05f886d5140c7f4f23b095b7d3dcefd3878865c2e41283d3320b65f8a0a4b3f72dc1fd2178a52d226eb47bbad32bd682af"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// fuzzStore returns a store under fuzzKey on an unreachable client: the
// decoders under test never touch the network.
func fuzzStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := NewStore(gomemcache.New("127.0.0.1:1"), Options{Key: fuzzKey})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// wellFormed is the shape of a token, written out independently of the
// parser: 64 characters of the base64url alphabet.
func wellFormed(tok string) bool {
	if len(tok) != tokenLen {
		return false
	}
	for _, c := range []byte(tok) {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", rune(c)) {
			return false
		}
	}
	return true
}

// FuzzTokenRef: the token parser accepts exactly the 64-character
// base64url shape, rejects anything longer as oversized and anything else
// as malformed, never panics, and costs a bounded allocation whatever the
// input length.
func FuzzTokenRef(f *testing.F) {
	s := fuzzStore(f)
	r, err := s.parseToken(fuzzToken)
	if err != nil || r != s.userRef("alice") {
		f.Fatal("the genuine token does not carry alice's reference")
	}
	f.Add(fuzzToken)
	f.Add(fuzzToken[:63])
	f.Add(fuzzToken + "A")
	f.Add(strings.Repeat("=", 64))
	f.Add(strings.Repeat("A", 1<<12))
	f.Add("")
	for _, tok := range controlSeeds(fuzzToken) {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var err error
		if n := fuzzalloc.Bytes(func() { _, err = s.parseToken(tok) }); n > 4096 {
			t.Fatalf("parsing a %d-byte token allocated %d bytes", len(tok), n)
		}
		want := securesession.RejectMalformed
		if len(tok) > tokenLen {
			want = securesession.RejectOversized
		}
		var inv *securesession.InvalidTokenError
		switch {
		case wellFormed(tok) && err != nil:
			t.Fatalf("a well-formed token was refused: %v", err)
		case !wellFormed(tok) && (!errors.As(err, &inv) || inv.Reason != want):
			t.Fatalf("parseToken(%q): %v; want InvalidToken(%s)", tok, err, want)
		}
	})
}

// controlSeeds returns variants of the genuine token tok with whitespace,
// CR and LF (memcached's command separators), NUL, other control
// characters and non-ASCII bytes put in, replacing a character (so the
// length is still right) or added, and truncations.
func controlSeeds(tok string) []string {
	var seeds []string
	for _, ins := range []string{" ", "\t", "\r", "\n", "\r\n", "\x00", "\x01", "\x1b", "\x7f", "\x80", "\xff", "é", "\u2028", "%0d%0a"} {
		for _, at := range []int{0, len(tok) / 2, len(tok) - len(ins)} {
			seeds = append(seeds, tok[:at]+ins+tok[at+len(ins):]) // same length
		}
		seeds = append(seeds, tok+ins, ins+tok)
	}
	seeds = append(seeds, tok[:len(tok)-2]+"\r\nget x", tok[:1], tok[:len(tok)/2], tok[1:], " "+tok[1:]+" ")
	return seeds
}

// FuzzOpenItems: a sealed item opens only if it is byte for byte the one
// the store sealed for that key. Every other blob (a mutation, a
// truncation, one sealed for another key) fails authentication, without a
// panic and with bounded allocation.
func FuzzOpenItems(f *testing.F) {
	s := fuzzStore(f)
	ks := keysOf(s, cookie, fuzzToken)
	genuine := [2][]byte{unhex(fuzzSession), unhex(fuzzGenItem)}
	if v, err := s.openSession(bytes.Clone(genuine[0]), ks.session); err != nil || v.rec.UserID != "alice" || v.gen != fuzzGen {
		f.Fatalf("the genuine session item does not open: %v", err)
	}
	if g, _, err := s.openGen(bytes.Clone(genuine[1]), ks.user); err != nil || g != fuzzGen {
		f.Fatalf("the genuine generation item does not open: %v", err)
	}
	for i, g := range genuine {
		f.Add(uint8(i), g)
		f.Add(uint8(i), g[:len(g)-1])
		f.Add(uint8(i+1), g) // the right blob under the wrong key
	}
	f.Add(uint8(0), []byte{1})
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, kind uint8, blob []byte) {
		kind %= 2
		var err error
		opened := bytes.Clone(blob) // the store opens in place
		n := fuzzalloc.Bytes(func() {
			switch kind {
			case 0:
				_, err = s.openSession(opened, ks.session)
			case 1:
				_, _, err = s.openGen(opened, ks.user)
			}
		})
		if limit := uint64(2*len(blob)) + 4096; n > limit {
			t.Fatalf("opening %d bytes allocated %d (limit %d)", len(blob), n, limit)
		}
		if err == nil && !bytes.Equal(blob, genuine[kind]) {
			t.Fatalf("a blob that is not the genuine item %d opened: %x", kind, blob)
		}
	})
}

// FuzzSessionPlaintext reaches the decoder behind the AEAD: it seals
// arbitrary plaintext under the store's key, as an attacker who had the key
// could, and opens it. Decoding must never panic or over-allocate, and a
// session that decodes must re-encode to one that decodes the same.
func FuzzSessionPlaintext(f *testing.F) {
	s := fuzzStore(f)
	ks := keysOf(s, cookie, fuzzToken)
	pt, err := open(s.aead, unhex(fuzzSession), ks.session)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pt)
	f.Add(pt[:len(pt)-1])
	f.Add(append([]byte{blobVersion}, bytes.Repeat([]byte{0xff}, 40)...))
	f.Add([]byte{blobVersion})
	f.Fuzz(func(t *testing.T, pt []byte) {
		blob := seal(s.aead, pt, ks.session)
		var v *session
		n := fuzzalloc.Bytes(func() { v, err = s.openSession(blob, ks.session) })
		if limit := uint64(6*len(blob)) + 4096; n > limit {
			t.Fatalf("decoding %d bytes allocated %d (limit %d)", len(blob), n, limit)
		}
		if err != nil {
			return
		}
		again, err := s.openSession(s.sealSession(ks.session, v), ks.session)
		if err != nil {
			t.Fatalf("a decoded session does not re-encode: %v", err)
		}
		a, b := record.Append(nil, &v.rec), record.Append(nil, &again.rec)
		if v.ref != again.ref || v.gen != again.gen || v.alt != again.alt || v.handle != again.handle || !bytes.Equal(a, b) {
			t.Fatal("round trip changed the session")
		}
	})
}

// FuzzFind runs the whole read path against a real memcached holding the
// genuine session: only the genuine token under its own cookie name finds
// it; everything else is not found or rejected as invalid, never an error
// of another kind and never another session.
func FuzzFind(f *testing.F) {
	m := testServer(f)
	c := newClient(f, m.Addr())
	s, err := NewStore(c, Options{Key: fuzzKey})
	if err != nil {
		f.Fatal(err)
	}
	ks := keysOf(s, cookie, fuzzToken)
	for k, v := range map[string]string{ks.session: fuzzSession, ks.user: fuzzGenItem} {
		if err := c.Set(&gomemcache.Item{Key: k, Value: unhex(v), Expiration: 3600}); err != nil {
			f.Fatal(err)
		}
	}
	if rec, found, err := s.Find(bg, cookie, fuzzToken); !found || err != nil || rec.UserID != "alice" {
		f.Fatalf("the genuine token does not find its session: found=%v err=%v", found, err)
	}
	f.Add(cookie, fuzzToken)
	f.Add("__Host-other", fuzzToken)
	f.Add(cookie, fuzzToken[:63]+"B")
	f.Add(cookie, "B"+fuzzToken[1:])
	f.Add(cookie, strings.ToUpper(fuzzToken))
	f.Add(cookie, fuzzToken+"=")
	f.Add(cookie, "")
	for _, tok := range controlSeeds(fuzzToken) {
		f.Add(cookie, tok)
	}
	f.Add(cookie+"\r\n", fuzzToken)
	f.Add(cookie+" ", fuzzToken)
	f.Add(cookie+"\x00", fuzzToken)
	f.Add("\r\nflush_all\r\n", fuzzToken)
	f.Fuzz(func(t *testing.T, name, tok string) {
		rec, found, err := s.Find(bg, name, tok)
		if err != nil && !errors.Is(err, securesession.ErrInvalidToken) {
			t.Fatalf("Find(%q, %q): %v; want found, not found or invalid", name, tok, err)
		}
		if found && (tok != fuzzToken || name != cookie) {
			t.Fatalf("Find(%q, %q) found user %q: a forgery was accepted", name, tok, rec.UserID)
		}
	})
}
