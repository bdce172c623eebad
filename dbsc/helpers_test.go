package dbsc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

// t0 is the injected "now" of every test.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Keys are generated once per test binary: RSA generation is slow under
// the race detector.
var (
	ecKey  = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })

	ecClient  = sync.OnceValue(func() *dbsctest.Client { return must(dbsctest.NewClientWithKey(ecKey())) })
	rsaClient = sync.OnceValue(func() *dbsctest.Client { return must(dbsctest.NewClientWithKey(rsaKey())) })
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var algs = []dbsc.Algorithm{dbsc.ES256, dbsc.RS256}

func client(alg dbsc.Algorithm) *dbsctest.Client {
	if alg == dbsc.RS256 {
		return rsaClient()
	}
	return ecClient()
}

// registered returns the client's key as the server stores it.
func registered(t *testing.T, c *dbsctest.Client) *dbsc.PublicKey {
	t.Helper()
	ch := dbsc.NewChallenge(t0)
	proof, err := c.RegistrationProof(ch.Value)
	if err != nil {
		t.Fatal(err)
	}
	key, err := dbsc.VerifyRegistration(proof, ch, t0)
	if err != nil {
		t.Fatalf("registering the test client: %v", err)
	}
	return key
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// forge builds a compact JWS from raw JSON text and signature bytes,
// without signing.
func forge(header, payload string, sig []byte) string {
	return b64(header) + "." + b64(payload) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// wantReason fails unless err is a *dbsc.ProofError with reason r.
func wantReason(t *testing.T, err error, r dbsc.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refusal with %s", r)
	}
	if !errors.Is(err, dbsc.ErrInvalidProof) {
		t.Fatalf("error %q does not wrap ErrInvalidProof", err)
	}
	if got := dbsc.ReasonOf(err); got != r {
		t.Fatalf("reason %s (%v), want %s", got, err, r)
	}
}
