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
// "__Host-session", and the three sealed items of that session (session
// record with generation {9,9,9}, activity, user generation), so that every
// fuzz worker agrees on the only values that may open.
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
	fuzzSession = "01173b49785771320368663b73afc3ec444657d6d945928e113fd15aa1a204896064ad92550cae4cfdbc3a59320036f5be21f7c7241dec3b00a53ab036e8389de809464e8bf907fe64f4aa802a02e65d739e8cd047011e78009115a7ffacaf1f4aa02e017dcedfe88359f62b6f8531c77d86ccc8aa647b92bcfb43bbe7655cb5e645ad5f495797a684f3e50566160e12be"
	fuzzSeen    = "019aebd897f1a8feb688d4f70d06a02acb06828f14c2dc9396b6d0120eb44778056c2da86e892f53365386fe25a9b82920392ab8451b9267e77c3bcf"
	fuzzGenItem = "01eaf67d5f27e20bf4df8bab4e3a507d9d87a01b1d7b25e704df246a7d9acf9a5ae4d604e796f4c426da835ccd0631e5aa4a4f3a1dc7a4d186ed827696c6b0553f8b4d"
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

// FuzzTokenRef: the token parser accepts exactly the 64-character
// base64url shape, never panics, and costs a bounded allocation whatever
// the input length.
func FuzzTokenRef(f *testing.F) {
	s := fuzzStore(f)
	r, ok := s.tokenRef(fuzzToken)
	if !ok || r != s.userRef("alice") {
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
		var ok bool
		if n := fuzzalloc.Bytes(func() { _, ok = s.tokenRef(tok) }); n > 4096 {
			t.Fatalf("parsing a %d-byte token allocated %d bytes", len(tok), n)
		}
		if ok != validToken(tok) {
			t.Fatalf("tokenRef ok=%v but validToken=%v for %q", ok, validToken(tok), tok)
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
	genuine := [3][]byte{unhex(fuzzSession), unhex(fuzzSeen), unhex(fuzzGenItem)}
	if v, err := s.openSession(genuine[0], ks.session); err != nil || v.rec.UserID != "alice" || v.gen != fuzzGen {
		f.Fatalf("the genuine session item does not open: %v", err)
	}
	if _, _, err := s.openSeen(genuine[1], ks.seen); err != nil {
		f.Fatalf("the genuine activity item does not open: %v", err)
	}
	if g, _, err := s.openGen(genuine[2], ks.user); err != nil || g != fuzzGen {
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
		kind %= 3
		var err error
		n := fuzzalloc.Bytes(func() {
			switch kind {
			case 0:
				_, err = s.openSession(blob, ks.session)
			case 1:
				_, _, err = s.openSeen(blob, ks.seen)
			case 2:
				_, _, err = s.openGen(blob, ks.user)
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
	pt, err := s.open(unhex(fuzzSession), ks.session)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pt)
	f.Add(pt[:len(pt)-1])
	f.Add(append([]byte{blobVersion}, bytes.Repeat([]byte{0xff}, 40)...))
	f.Add([]byte{blobVersion})
	f.Fuzz(func(t *testing.T, pt []byte) {
		blob := s.seal(pt, ks.session)
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
		if v.ref != again.ref || v.gen != again.gen || v.alt != again.alt || !bytes.Equal(a, b) {
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
	for k, v := range map[string]string{ks.session: fuzzSession, ks.seen: fuzzSeen, ks.user: fuzzGenItem} {
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
