package dbsctest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newClient returns a client with a fresh P-256 key, or the shared RSA
// key (RSA generation is slow under the race detector).
func newClient(t *testing.T, alg dbsc.Algorithm) *dbsctest.Client {
	t.Helper()
	var c *dbsctest.Client
	var err error
	if alg == dbsc.RS256 {
		c, err = dbsctest.NewClientWithKey(rsaKey())
	} else {
		c, err = dbsctest.NewClient(alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func decode(t *testing.T, part string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestProofsHaveChromiumsShape: the registration header carries alg, jwk
// and typ, the refresh header only alg and typ, and the payload only jti.
func TestProofsHaveChromiumsShape(t *testing.T) {
	for _, alg := range []dbsc.Algorithm{dbsc.ES256, dbsc.RS256} {
		c := newClient(t, alg)
		reg, _ := c.RegistrationProof("ch")
		parts := strings.Split(reg, ".")
		if h := decode(t, parts[0]); len(h) != 3 || h["alg"] != string(alg) || h["typ"] != "dbsc+jwt" || h["jwk"] == nil {
			t.Fatalf("%s registration header %v", alg, h)
		}
		if p := decode(t, parts[1]); len(p) != 1 || p["jti"] != "ch" {
			t.Fatalf("%s payload %v", alg, p)
		}
		ref, _ := c.RefreshProof("ch")
		if h := decode(t, strings.Split(ref, ".")[0]); len(h) != 2 || h["alg"] != string(alg) || h["typ"] != "dbsc+jwt" {
			t.Fatalf("%s refresh header %v", alg, h)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		if want := map[dbsc.Algorithm]int{dbsc.ES256: 64, dbsc.RS256: 256}[alg]; len(sig) != want {
			t.Fatalf("%s signature of %d bytes, want %d", alg, len(sig), want)
		}
	}
}

func TestNewClientWithKeyRefusesOtherKeys(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := dbsctest.NewClientWithKey(p384); err == nil {
		t.Fatal("accepted a P-384 key")
	}
	if _, err := dbsctest.NewClient("HS256"); err == nil {
		t.Fatal("accepted HS256")
	}
}

func TestWithKeepsTheKeyAndTheOriginal(t *testing.T) {
	c := newClient(t, dbsc.ES256)
	bad := c.With(dbsctest.WrongTyp)
	if bad.Thumbprint() != c.Thumbprint() || c.Fault() != dbsctest.Honest || bad.Fault() != dbsctest.WrongTyp {
		t.Fatal("With changed the key or the original")
	}
	if dbsctest.WrongKey.String() != "WrongKey" || dbsctest.Fault(99).String() != "Fault(99)" {
		t.Fatal("Fault.String")
	}
}

func TestAnswerRegistration(t *testing.T) {
	c := newClient(t, dbsc.RS256)
	path, proof, err := c.AnswerRegistration(`(ES256 RS256);path="/dbsc/register";challenge="abc"`)
	if err != nil || path != "/dbsc/register" || proof == "" {
		t.Fatalf("got %q, %q, %v", path, proof, err)
	}
	if _, _, err := c.AnswerRegistration(`(ES256);path="/r";challenge="abc"`); err == nil {
		t.Fatal("answered a registration that does not offer RS256")
	}
}
