package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewTokensAreValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := New()
		if !Valid(tok) {
			t.Fatalf("New() = %q is not Valid", tok)
		}
		if seen[tok] {
			t.Fatal("duplicate token")
		}
		seen[tok] = true
	}
}

func TestValidRejectsNonCanonicalAndForeignShapes(t *testing.T) {
	good := New()
	for name, s := range map[string]string{
		"empty": "", "short": good[:42], "long": good + "A", "padded": good + "=",
		"std alphabet": strings.Repeat("+", 42) + "A", "space": " " + good[1:], "path": "../../etc/passwd" + good[16:],
		"stray bits": good[:42] + "B", "nul": good[:42] + "\x00",
	} {
		if Valid(s) {
			t.Errorf("%s: Valid(%q) = true", name, s)
		}
	}
}

// Go's base64 decoders skip CR and LF even in Strict mode; Base64URL is the
// check that keeps them, and every other byte outside the alphabet, out.
func TestBase64URLRejectsEveryByteOutsideTheAlphabet(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if !Base64URL(alphabet) || !Base64URL("") {
		t.Fatal("the alphabet itself is rejected")
	}
	for c := 0; c < 256; c++ {
		if strings.IndexByte(alphabet, byte(c)) >= 0 {
			continue
		}
		if s := "AAAA" + string([]byte{byte(c)}) + "AAAA"; Base64URL(s) {
			t.Errorf("byte %#02x accepted", c)
		}
	}
}

func TestHasherBindsTheCookieName(t *testing.T) {
	h := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	tok := New()
	if h.Hex("a", tok) == h.Hex("b", tok) {
		t.Fatal("the same token under two names hashes the same")
	}
	if h.Hex("a", "b"+tok) == h.Hex("ab", tok) {
		t.Fatal("name/token boundary is ambiguous")
	}
	if strings.Contains(h.Hex("a", tok), tok) {
		t.Fatal("hash contains the token")
	}
}

func FuzzValid(f *testing.F) {
	f.Add(New())
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if !Valid(s) {
			return
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != Size || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("Valid accepted %q, which is not a canonical token", s)
		}
	})
}

// TestHasherSumIsTheHMACOfNameZeroToken pins the stored-key format: the
// pooled HMAC gives exactly HMAC-SHA256(key, name || 0x00 || token), call
// after call, so keys written by one version are found by the next.
func TestHasherSumIsTheHMACOfNameZeroToken(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	h := NewHasher(key)
	for i, tc := range [][2]string{{"__Host-session", "tok1"}, {"other", "tok2"}, {"__Host-session", "tok1"}} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(tc[0] + "\x00" + tc[1]))
		var want [32]byte
		m.Sum(want[:0])
		if got := h.Sum(tc[0], tc[1]); got != want {
			t.Fatalf("call %d: Sum(%q, %q) = %x, want %x", i, tc[0], tc[1], got, want)
		}
	}
}
