package dbsctest_test

import (
	"testing"

	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

func TestParseRegistrationRefusesBrokenHeaders(t *testing.T) {
	for _, h := range []string{
		``,
		`ES256;path="/r";challenge="c"`,
		`(ES256);challenge="c"`,
		`(ES256);path="/r"`,
		`(ES256);path="/r;challenge="c"`,
		`(ES256);path="/r";challenge="c" junk`,
		`(ES256);path="/r\x";challenge="c"`,
	} {
		if r, err := dbsctest.ParseRegistration(h); err == nil {
			t.Errorf("ParseRegistration(%q) = %+v", h, r)
		}
	}
	r, err := dbsctest.ParseRegistration(`(ES256 RS256);path="/r";challenge="c", (ES256);path="/other";challenge="d"`)
	if err != nil || r.Path != "/r" || r.Challenge.Value != "c" {
		t.Fatalf("first of two registrations: %+v, %v", r, err)
	}
}

func TestParseChallenge(t *testing.T) {
	ch, id, err := dbsctest.ParseChallenge(`"a\"b";id="s1"`)
	if err != nil || ch != `a"b` || id != "s1" {
		t.Fatalf("got %q, %q, %v", ch, id, err)
	}
	if _, _, err := dbsctest.ParseChallenge(`abc;id="s1"`); err == nil {
		t.Fatal("accepted a challenge token instead of a string")
	}
}
