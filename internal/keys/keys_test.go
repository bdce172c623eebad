package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math"
	"math/big"
	"strings"
	"testing"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// refused checks that Check refuses key with an error that names the
// field, says how to generate a key and gives away nothing of the key.
func refused(t *testing.T, key []byte, want string) {
	t.Helper()
	err := Check("Options.Key", key)
	if err == nil {
		t.Fatalf("Check(%q) accepted the key", key)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "Options.Key: ") || !strings.Contains(msg, want) || !strings.Contains(msg, "openssl rand -base64 32") {
		t.Errorf("Check(%q) = %q, want the field, %q and how to generate a key", key, msg, want)
	}
	for _, form := range []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), string(key[:8])} {
		if strings.Contains(msg, form) {
			t.Errorf("error %q contains the key", msg)
		}
	}
}

func TestCheckRefusesTypedAndEncodedText(t *testing.T) {
	for name, key := range map[string]string{
		"the old example key":           "0123456789abcdef0123456789ABCDEF",
		"its mirror":                    "fedcba9876543210FEDCBA9876543210",
		"hex of 16 random bytes":        hex.EncodeToString(randomBytes(16)),
		"base64 of 24 random bytes":     base64.StdEncoding.EncodeToString(randomBytes(24)),
		"base64url of 24 random bytes":  base64.URLEncoding.EncodeToString(randomBytes(24)),
		"base64 of 32 bytes, truncated": base64.StdEncoding.EncodeToString(randomBytes(32))[:32],
		"padded base64":                 base64.StdEncoding.EncodeToString(randomBytes(22)),
		"a passphrase":                  "correct horse battery staple 123",
		"a word and a number":           "supersecretsessionkey12345678901",
	} {
		t.Run(name, func(t *testing.T) {
			if len(key) != Size {
				t.Fatalf("test key is %d bytes", len(key))
			}
			refused(t, []byte(key), "characters of text")
		})
	}
}

func TestCheckRefusesKeysOfFewDistinctBytes(t *testing.T) {
	eight := randomBytes(8)
	eight[0] = 0 // not text, so the distinct-value rule is the one tested
	for name, key := range map[string][]byte{
		"one byte":                {7: 0, 31: 0},
		"a secret padded":         append([]byte("s3cr3t!"), make([]byte, 25)...),
		"two bytes alternating":   bytes.Repeat([]byte{1, 2}, 16),
		"8 random bytes, 4 times": bytes.Repeat(eight, 4),
		"twelve values":           bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xff}, 3)[:32],
	} {
		t.Run(name, func(t *testing.T) {
			want := "distinct byte values"
			if name == "one byte" {
				want = "copies of one byte"
			}
			refused(t, key, want)
		})
	}
}

func TestCheckRefusesWrongLengths(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		err := Check("keys[0]", randomBytes(n))
		if err == nil || !strings.Contains(err.Error(), "must be exactly 32 random bytes") {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

// The rules are exactly as narrow as the doc comment says: one byte
// outside the text set, or a thirteenth distinct value, makes a key
// acceptable. A change of either rule must change this test.
func TestCheckRuleBoundaries(t *testing.T) {
	text := []byte("0123456789abcdef0123456789ABCDE")
	if err := Check("k", append(text, 0)); err != nil {
		t.Errorf("31 text bytes and a NUL: %v", err)
	}
	if err := Check("k", append(text, '!')); err != nil {
		t.Errorf("31 text bytes and '!': %v", err)
	}
	thirteen := bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff}, 3)[:32]
	if err := Check("k", thirteen); err != nil {
		t.Errorf("13 distinct values: %v", err)
	}
}

func TestCheckAcceptsRandomAndFixedTestKeys(t *testing.T) {
	for i := range 20000 {
		if k := randomBytes(Size); Check("k", k) != nil {
			t.Fatalf("random key %d refused: %v", i, Check("k", k))
		}
	}
	// The fixed keys of the fuzz tests in backends/cookie and
	// backends/memcache.
	for _, add := range []int{0, 3} {
		k := make([]byte, Size)
		for i := range k {
			k[i] = byte(i*7 + add)
		}
		if err := Check("k", k); err != nil {
			t.Errorf("i*7+%d: %v", add, err)
		}
	}
}

// TestFalsePositiveBound recomputes the bound stated on Check from the
// rules as implemented, so that widening a rule cannot leave the comment
// behind.
func TestFalsePositiveBound(t *testing.T) {
	textValues := 0
	for b := range 256 {
		if isText(byte(b)) {
			textValues++
		}
	}
	if textValues != 68 {
		t.Fatalf("the text set has %d values, the comment says 68", textValues)
	}
	pText := new(big.Rat).SetFrac(pow(textValues, Size), pow(256, Size))

	// Keys with exactly d distinct values: C(256,d) * S(32,d) * d!.
	stirling := make([][]*big.Int, Size+1)
	for n := range stirling {
		stirling[n] = make([]*big.Int, Size+1)
		for k := range stirling[n] {
			stirling[n][k] = new(big.Int)
		}
	}
	stirling[0][0].SetInt64(1)
	for n := 1; n <= Size; n++ {
		for k := 1; k <= n; k++ {
			v := new(big.Int).Mul(big.NewInt(int64(k)), stirling[n-1][k])
			stirling[n][k].Add(v, stirling[n-1][k-1])
		}
	}
	few := new(big.Int)
	for d := 1; d < MinDistinct; d++ {
		v := new(big.Int).Binomial(256, int64(d))
		v.Mul(v, stirling[Size][d])
		v.Mul(v, new(big.Int).MulRange(1, int64(d)))
		few.Add(few, v)
	}
	pFew := new(big.Rat).SetFrac(few, pow(256, Size))

	log2 := func(r *big.Rat) float64 { f, _ := r.Float64(); return math.Log2(f) }
	if got := log2(pText); math.Abs(got-(-61.2)) > 0.05 {
		t.Errorf("P(text) = 2^%.2f, the comment says 2^-61.2", got)
	}
	if got := log2(pFew); math.Abs(got-(-75.7)) > 0.05 {
		t.Errorf("P(fewer than %d distinct) = 2^%.2f, the comment says 2^-75.7", MinDistinct, got)
	}
	if got := log2(new(big.Rat).Add(pText, pFew)); got >= -61 {
		t.Errorf("false-positive bound 2^%.2f, the comment says below 2^-61", got)
	}
}

func pow(b, e int) *big.Int { return new(big.Int).Exp(big.NewInt(int64(b)), big.NewInt(int64(e)), nil) }
