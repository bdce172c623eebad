package dbsc_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
	"github.com/gin-securesession/securesession/internal/fuzzalloc"
)

var reasons = []dbsc.Reason{
	dbsc.ReasonMalformed, dbsc.ReasonOversized, dbsc.ReasonBadAlg, dbsc.ReasonBadTyp,
	dbsc.ReasonBadSignature, dbsc.ReasonChallengeMismatch, dbsc.ReasonExpiredChallenge, dbsc.ReasonBadKey,
}

// FuzzVerify drives the registration verifier (mode 0) and the refresh
// verifier against a stored P-256 key (mode 1) and RSA key (mode 2): no
// input panics, every refusal is a *ProofError with a reason from the
// fixed set, an accepted registration yields a key whose stored form
// parses back, and verification never allocates more than a small
// multiple of its (bounded) input.
func FuzzVerify(f *testing.F) {
	ch := dbsc.Challenge{Value: "fuzz-challenge", Expires: t0.Add(time.Hour)}
	ec, rs := ecClient(), rsaClient()
	ecStored, rsStored := registeredKey(ec), registeredKey(rs)
	for _, c := range []*dbsctest.Client{ec, rs} {
		for fault := dbsctest.Honest; fault <= dbsctest.DERSignature; fault++ {
			reg, _ := c.With(fault).RegistrationProof(ch.Value)
			ref, _ := c.With(fault).RefreshProof(ch.Value)
			mode := uint8(1)
			if c == rs {
				mode = 2
			}
			f.Add(reg, uint8(0))
			f.Add(ref, mode)
			f.Add(reg, mode)
		}
	}
	f.Add(forge(`{"alg":"ES256","jwk":{"kty":"EC"},"typ":"dbsc+jwt"}`, `{"jti":"fuzz-challenge"}`, nil), uint8(0))
	f.Add(forge(`{"alg":"RS256","jwk":{"e":"AQAB","kty":"RSA","n":"AQAB"},"typ":"dbsc+jwt"}`, `{"jti":"x"}`, nil), uint8(0))
	f.Add(`"a.b.c"`, uint8(1))
	f.Add(strings.Repeat("A", dbsc.MaxProofSize+1), uint8(0))
	f.Add("..", uint8(2))

	f.Fuzz(func(t *testing.T, proof string, mode uint8) {
		var key *dbsc.PublicKey
		var err error
		n := fuzzalloc.Bytes(func() {
			switch mode % 3 {
			case 0:
				key, err = dbsc.VerifyRegistration(proof, ch, t0)
			case 1:
				err = dbsc.VerifyRefresh(proof, ecStored, ch, t0)
			case 2:
				err = dbsc.VerifyRefresh(proof, rsStored, ch, t0)
			}
		})
		size := min(len(proof), dbsc.MaxProofSize)
		if limit := uint64(16*size) + 64<<10; n > limit {
			t.Fatalf("verifying %d bytes allocated %d bytes (limit %d)", len(proof), n, limit)
		}
		if err != nil {
			var pe *dbsc.ProofError
			if !errors.As(err, &pe) || !errors.Is(err, dbsc.ErrInvalidProof) || !slices.Contains(reasons, pe.Reason) {
				t.Fatalf("refusal %v is not a *ProofError with a known reason", err)
			}
			if key != nil {
				t.Fatal("a key was returned with an error")
			}
			return
		}
		if mode%3 == 0 {
			back, err := dbsc.ParsePublicKey(key.JWK())
			if err != nil || !back.Equal(key) {
				t.Fatalf("the accepted key's stored form does not parse back: %v", err)
			}
		}
	})
}

// FuzzParsePublicKey: no stored form panics, and one that parses is
// exactly the canonical form of the key it yields.
func FuzzParsePublicKey(f *testing.F) {
	f.Add(string(ecClient().JWK()))
	f.Add(string(rsaClient().JWK()))
	f.Add(`{"crv":"P-256","kty":"EC","x":"","y":""}`)
	f.Fuzz(func(t *testing.T, jwk string) {
		key, err := dbsc.ParsePublicKey([]byte(jwk))
		if err != nil {
			if errors.Is(err, dbsc.ErrInvalidProof) {
				t.Fatalf("stored-key error %v wraps ErrInvalidProof", err)
			}
			return
		}
		if string(key.JWK()) != jwk {
			t.Fatalf("accepted a non-canonical form")
		}
	})
}

func registeredKey(c *dbsctest.Client) *dbsc.PublicKey {
	ch := dbsc.NewChallenge(t0)
	proof, err := c.RegistrationProof(ch.Value)
	if err != nil {
		panic(err)
	}
	return must(dbsc.VerifyRegistration(proof, ch, t0))
}
