package sessionkeys_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
)

// Fixed keys that pass the randomness check; k2's standard base64 holds
// '+' and '/', so the two alphabets spell it differently.
var (
	k1 = mustHex("43d6f1d797ce591c442437e1e633cba3c49a7061c3820d7fe89dcced92d70386")
	k2 = mustHex("541e7feaf6e263c7feb4f602df5800fa68ce102b5635af6579b0bfaee1eb911b")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParse(t *testing.T) {
	std, url := base64.StdEncoding.EncodeToString(k1), base64.RawURLEncoding.EncodeToString(k2)
	if !strings.ContainsAny(base64.StdEncoding.EncodeToString(k2), "+/") || !strings.ContainsAny(url, "-_") {
		t.Fatal("k2 does not tell the alphabets apart")
	}
	keys, err := sessionkeys.Parse(" " + std + " ,\n" + url)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !bytes.Equal(keys[0], k1) || !bytes.Equal(keys[1], k2) {
		t.Fatalf("Parse = %x", keys)
	}

	short := base64.StdEncoding.EncodeToString(k1[:31])
	for in, want := range map[string]string{
		"":                    "no session key configured",
		"  ":                  "no session key configured",
		std + ",":             "key 2 of 2 is empty",
		std + "," + short:     "key 2 of 2 decodes to 31 bytes; it must be exactly 32",
		"not base64!!," + std: "key 1 of 2 is not valid base64",
	} {
		_, err := sessionkeys.Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error %v, want %q", in, err, want)
			continue
		}
		if strings.Contains(err.Error(), std) || strings.Contains(err.Error(), short) {
			t.Errorf("error %q contains a key", err)
		}
	}
	if _, err := sessionkeys.Parse(""); !errors.Is(err, sessionkeys.ErrNoKeys) {
		t.Errorf("empty: %v, want ErrNoKeys", err)
	}
}

// A key that decodes to 32 bytes is still refused when the bytes are
// text or a pattern: someone base64-encoded a password, or a hex string.
func TestParseRefusesKeysThatAreNotRandom(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(k1)
	for name, tc := range map[string]struct {
		key  []byte
		want string
	}{
		"typed text":       {[]byte("0123456789abcdef0123456789ABCDEF"), "characters of text"},
		"hex, not decoded": {[]byte(hex.EncodeToString(k1[:16])), "characters of text"},
		"all zero":         {make([]byte, 32), "copies of one byte"},
		"a pattern":        {bytes.Repeat([]byte{1, 2}, 16), "distinct byte values"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := base64.StdEncoding.EncodeToString(tc.key)
			_, err := sessionkeys.Parse(good + "," + bad)
			if err == nil {
				t.Fatal("Parse accepted the key")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "sessionkeys: key 2 of 2: ") || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "openssl rand -base64 32") {
				t.Errorf("error %q, want key 2 of 2 refused with %q and how to generate one", msg, tc.want)
			}
			for _, secret := range []string{bad, good, string(tc.key)} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains a key", msg)
				}
			}
		})
	}
}

func TestFromEnvNamesTheVariable(t *testing.T) {
	t.Setenv("SK_TEST", "")
	if _, err := sessionkeys.FromEnv("SK_TEST"); err == nil || !strings.HasPrefix(err.Error(), "SK_TEST: ") || !errors.Is(err, sessionkeys.ErrNoKeys) {
		t.Fatalf("FromEnv: %v", err)
	}
}
