package logscan

import (
	"strings"
	"testing"
)

func TestFindSecretFindsWholeAndPartialTokens(t *testing.T) {
	tok := "Ad7W2bFSkJ3p_H_rpUN8Mt2IBZ3temDFMCKUXg-VKMjSkBI_g-tL7DgZgQLAO5fM"
	for _, text := range []string{
		"err: " + tok,
		"prefix " + tok[:12] + " masked",
		"suffix ..." + tok[len(tok)-12:],
		"middle " + tok[20:40],
	} {
		if FindSecret(text, []string{"short", tok}, 12) == "" {
			t.Errorf("leak not found in %q", text)
		}
	}
	if FindSecret("key short here", []string{"short"}, 12) == "" {
		t.Error("a short secret that appears whole was not found")
	}
}

func TestFindSecretIgnoresFragmentsShorterThanTheWindow(t *testing.T) {
	tok := "Ad7W2bFSkJ3p_H_rpUN8Mt2IBZ3temDFMCKUXg-VKMjSkBI_g-tL7DgZgQLAO5fM"
	if got := FindSecret("event rejected session=0123456789abcdef "+tok[:11], []string{tok}, 12); got != "" {
		t.Errorf("false positive: %s", got)
	}
}

func TestFindSecretReportNamesNoSecret(t *testing.T) {
	tok := "Ad7W2bFSkJ3p_H_rpUN8Mt2IBZ3temDFMCKUXg-VKMjSkBI_g-tL7DgZgQLAO5fM"
	got := FindSecret("leaked "+tok, []string{tok}, 12)
	if got == "" {
		t.Fatal("leak not found")
	}
	for j := 0; j+6 <= len(tok); j++ {
		if s := tok[j : j+6]; strings.Contains(got, s) {
			t.Fatalf("the report %q quotes the secret", got)
		}
	}
}
