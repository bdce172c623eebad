package sessionkeys_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
)

func TestParse(t *testing.T) {
	k1 := bytes.Repeat([]byte{1, 2}, 16)
	k2 := bytes.Repeat([]byte{0xfb, 0xff}, 16) // URL and standard alphabets differ
	std, url := base64.StdEncoding.EncodeToString(k1), base64.RawURLEncoding.EncodeToString(k2)
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

func TestFromEnvNamesTheVariable(t *testing.T) {
	t.Setenv("SK_TEST", "")
	if _, err := sessionkeys.FromEnv("SK_TEST"); err == nil || !strings.HasPrefix(err.Error(), "SK_TEST: ") || !errors.Is(err, sessionkeys.ErrNoKeys) {
		t.Fatalf("FromEnv: %v", err)
	}
}
