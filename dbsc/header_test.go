package dbsc_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

var fixed = dbsc.Challenge{Value: "c2lnbi1tZS1wbGVhc2U", Expires: t0.Add(dbsc.DefaultChallengeLifetime)}

func TestFormatRegistrationMatchesChromium(t *testing.T) {
	got, err := dbsc.FormatRegistration(dbsc.Registration{Path: "/dbsc/register", Challenge: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if want := `(ES256 RS256);path="/dbsc/register";challenge="c2lnbi1tZS1wbGVhc2U"`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got, _ = dbsc.FormatRegistration(dbsc.Registration{Algorithms: []dbsc.Algorithm{dbsc.RS256}, Path: "/r?x=1", Challenge: fixed})
	if want := `(RS256);path="/r?x=1";challenge="c2lnbi1tZS1wbGVhc2U"`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestFormatRegistrationEscapesChallenge: a hand-made challenge with
// quote and backslash survives a structured-field parser unchanged.
func TestFormatRegistrationEscapesChallenge(t *testing.T) {
	ch := dbsc.Challenge{Value: `a"b\c;d=e,f (g)`}
	v, err := dbsc.FormatRegistration(dbsc.Registration{Path: "/dbsc/register", Challenge: ch})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v, `challenge="a\"b\\c;d=e,f (g)"`) {
		t.Fatalf("not escaped: %s", v)
	}
	r, err := dbsctest.ParseRegistration(v)
	if err != nil {
		t.Fatal(err)
	}
	if r.Challenge.Value != ch.Value || r.Path != "/dbsc/register" || !slices.Equal(r.Algorithms, []dbsc.Algorithm{dbsc.ES256, dbsc.RS256}) {
		t.Fatalf("parsed back as %+v", r)
	}
}

func TestFormatRegistrationRefusesUnsafeInput(t *testing.T) {
	tests := []struct {
		name string
		reg  dbsc.Registration
	}{
		{"no path", dbsc.Registration{Challenge: fixed}},
		{"relative path", dbsc.Registration{Path: "dbsc/register", Challenge: fixed}},
		{"absolute URL", dbsc.Registration{Path: "https://evil.example/r", Challenge: fixed}},
		{"protocol-relative", dbsc.Registration{Path: "//evil.example/r", Challenge: fixed}},
		{"backslash host", dbsc.Registration{Path: `/\evil.example/r`, Challenge: fixed}},
		{"quote in path", dbsc.Registration{Path: `/r";challenge="x`, Challenge: fixed}},
		{"space in path", dbsc.Registration{Path: "/r x", Challenge: fixed}},
		{"CRLF in path", dbsc.Registration{Path: "/r\r\nSet-Cookie: x=y", Challenge: fixed}},
		{"fragment", dbsc.Registration{Path: "/r#x", Challenge: fixed}},
		{"non-ASCII path", dbsc.Registration{Path: "/régister", Challenge: fixed}},
		{"no challenge", dbsc.Registration{Path: "/r"}},
		{"CRLF in challenge", dbsc.Registration{Path: "/r", Challenge: dbsc.Challenge{Value: "a\r\nb"}}},
		{"non-ASCII challenge", dbsc.Registration{Path: "/r", Challenge: dbsc.Challenge{Value: "défi"}}},
		{"huge challenge", dbsc.Registration{Path: "/r", Challenge: dbsc.Challenge{Value: strings.Repeat("a", 257)}}},
		{"HS256 offered", dbsc.Registration{Algorithms: []dbsc.Algorithm{dbsc.ES256, "HS256"}, Path: "/r", Challenge: fixed}},
		{"token-breaking algorithm", dbsc.Registration{Algorithms: []dbsc.Algorithm{"ES256) (x"}, Path: "/r", Challenge: fixed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := dbsc.FormatRegistration(tt.reg)
			if err == nil {
				t.Fatalf("formatted %q", v)
			}
			if errors.Is(err, dbsc.ErrInvalidProof) {
				t.Fatal("a server-side formatting error wraps ErrInvalidProof")
			}
		})
	}
}

func TestFormatChallengeMatchesChromium(t *testing.T) {
	got, err := dbsc.FormatChallenge(fixed, "s3ss10n-id_1.~")
	if err != nil {
		t.Fatal(err)
	}
	if want := `"c2lnbi1tZS1wbGVhc2U";id="s3ss10n-id_1.~"`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	ch, id, err := dbsctest.ParseChallenge(got)
	if err != nil || ch != fixed.Value || id != "s3ss10n-id_1.~" {
		t.Fatalf("parsed back as %q, %q, %v", ch, id, err)
	}
}

func TestFormatChallengeRefusesBadInput(t *testing.T) {
	for name, id := range map[string]string{
		"empty id":     "",
		"quote in id":  `a"b`,
		"space in id":  "a b",
		"slash in id":  "a/b",
		"long id":      strings.Repeat("a", dbsc.MaxSessionIDLength+1),
		"non-ASCII id": "séance",
	} {
		if v, err := dbsc.FormatChallenge(fixed, id); err == nil {
			t.Errorf("%s: formatted %q", name, v)
		}
	}
	if v, err := dbsc.FormatChallenge(dbsc.Challenge{}, "id"); err == nil {
		t.Errorf("zero challenge: formatted %q", v)
	}
}

func TestParseSessionID(t *testing.T) {
	tests := []struct {
		in, want string
		reason   dbsc.Reason
	}{
		{"abc-DEF_123.~", "abc-DEF_123.~", ""},
		{`"abc"`, "abc", ""},
		{strings.Repeat("a", dbsc.MaxSessionIDLength), strings.Repeat("a", dbsc.MaxSessionIDLength), ""},
		{"", "", dbsc.ReasonMalformed},
		{`""`, "", dbsc.ReasonMalformed},
		{`"`, "", dbsc.ReasonMalformed},
		{`"abc`, "", dbsc.ReasonMalformed},
		{"a b", "", dbsc.ReasonMalformed},
		{"a;b", "", dbsc.ReasonMalformed},
		{"a\x00b", "", dbsc.ReasonMalformed},
		{strings.Repeat("a", dbsc.MaxSessionIDLength+1), "", dbsc.ReasonOversized},
		{strings.Repeat("a", 1<<20), "", dbsc.ReasonOversized},
	}
	for _, tt := range tests {
		got, err := dbsc.ParseSessionID(tt.in)
		if tt.reason == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseSessionID(%.20q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if dbsc.ReasonOf(err) != tt.reason || !errors.Is(err, dbsc.ErrInvalidProof) {
			t.Errorf("ParseSessionID(%.20q) error %v; want %s", tt.in, err, tt.reason)
		}
	}
}

// TestNewSessionIDIsUsable: the identifiers NewSessionID makes pass every
// function that takes one.
func TestNewSessionIDIsUsable(t *testing.T) {
	id := dbsc.NewSessionID()
	if len(id) != 22 || id == dbsc.NewSessionID() {
		t.Fatalf("NewSessionID %q: want 22 random characters", id)
	}
	if got, err := dbsc.ParseSessionID(id); err != nil || got != id {
		t.Fatalf("ParseSessionID(NewSessionID()) = %q, %v", got, err)
	}
	if _, err := dbsc.FormatChallenge(fixed, id); err != nil {
		t.Fatal(err)
	}
}
