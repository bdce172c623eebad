package dbsc_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
	"github.com/gin-securesession/securesession/internal/fuzzalloc"
)

func TestVerifyRegistrationAcceptsValidProof(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			c := client(alg)
			ch := dbsc.NewChallenge(t0)
			proof, err := c.RegistrationProof(ch.Value)
			if err != nil {
				t.Fatal(err)
			}
			key, err := dbsc.VerifyRegistration(proof, ch, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if key.Algorithm() != alg {
				t.Errorf("algorithm %s, want %s", key.Algorithm(), alg)
			}
			if string(key.JWK()) != string(c.JWK()) {
				t.Errorf("stored JWK\n%s\nwant the client's\n%s", key.JWK(), c.JWK())
			}
			if key.Thumbprint() != c.Thumbprint() {
				t.Errorf("thumbprint %s, want %s", key.Thumbprint(), c.Thumbprint())
			}
		})
	}
}

func TestVerifyRefreshAcceptsValidProof(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			c := client(alg)
			key := registered(t, c)
			ch := dbsc.NewChallenge(t0)
			proof, err := c.RefreshProof(ch.Value)
			if err != nil {
				t.Fatal(err)
			}
			if err := dbsc.VerifyRefresh(proof, key, ch, t0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyAcceptsQuotedProof(t *testing.T) {
	c := client(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)
	proof, _ := c.RegistrationProof(ch.Value)
	if _, err := dbsc.VerifyRegistration(`"`+proof+`"`, ch, t0); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyRefusesMisbehavingClient runs every fault of the test client
// against both endpoints and both algorithms.
func TestVerifyRefusesMisbehavingClient(t *testing.T) {
	tests := []struct {
		fault dbsctest.Fault
		want  dbsc.Reason
	}{
		{dbsctest.WrongKey, dbsc.ReasonBadSignature},
		{dbsctest.WrongTyp, dbsc.ReasonBadTyp},
		{dbsctest.TamperedHeader, dbsc.ReasonBadSignature},
		{dbsctest.TamperedPayload, dbsc.ReasonBadSignature},
		{dbsctest.AlgNone, dbsc.ReasonBadAlg},
		{dbsctest.HS256PublicKey, dbsc.ReasonBadAlg},
		{dbsctest.DERSignature, dbsc.ReasonBadSignature},
	}
	for _, alg := range algs {
		key := registered(t, client(alg))
		for _, tt := range tests {
			if tt.fault == dbsctest.DERSignature && alg != dbsc.ES256 {
				continue
			}
			bad := client(alg).With(tt.fault)
			t.Run(string(alg)+"/registration/"+tt.fault.String(), func(t *testing.T) {
				ch := dbsc.NewChallenge(t0)
				proof, err := bad.RegistrationProof(ch.Value)
				if err != nil {
					t.Fatal(err)
				}
				k, err := dbsc.VerifyRegistration(proof, ch, t0)
				wantReason(t, err, tt.want)
				if k != nil {
					t.Fatal("a key was returned with the error")
				}
			})
			t.Run(string(alg)+"/refresh/"+tt.fault.String(), func(t *testing.T) {
				ch := dbsc.NewChallenge(t0)
				proof, err := bad.RefreshProof(ch.Value)
				if err != nil {
					t.Fatal(err)
				}
				wantReason(t, dbsc.VerifyRefresh(proof, key, ch, t0), tt.want)
			})
		}
	}
}

func TestVerifyRefreshRefusesAnotherDevicesKey(t *testing.T) {
	other, err := dbsctest.NewClient(dbsc.ES256)
	if err != nil {
		t.Fatal(err)
	}
	key := registered(t, client(dbsc.ES256))
	ch := dbsc.NewChallenge(t0)
	proof, _ := other.RefreshProof(ch.Value)
	wantReason(t, dbsc.VerifyRefresh(proof, key, ch, t0), dbsc.ReasonBadSignature)
}

// TestVerifyRefreshRefusesAlgorithmSwitch: a proof cannot pick another
// algorithm than the stored key's, even one this package supports.
func TestVerifyRefreshRefusesAlgorithmSwitch(t *testing.T) {
	rsaKey := registered(t, client(dbsc.RS256))
	ch := dbsc.NewChallenge(t0)
	proof, _ := client(dbsc.ES256).RefreshProof(ch.Value)
	wantReason(t, dbsc.VerifyRefresh(proof, rsaKey, ch, t0), dbsc.ReasonBadAlg)
}

func TestVerifyRefreshChecksAJWKAgainstTheStoredKey(t *testing.T) {
	c := client(dbsc.ES256)
	key := registered(t, c)
	other, _ := dbsctest.NewClient(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)

	// A registration-style proof (with jwk) of the registered key passes.
	same, _ := c.RegistrationProof(ch.Value)
	if err := dbsc.VerifyRefresh(same, key, ch, t0); err != nil {
		t.Fatalf("proof carrying the registered key as jwk: %v", err)
	}
	// A proof signed by, and naming, another key does not.
	foreign, _ := other.RegistrationProof(ch.Value)
	wantReason(t, dbsc.VerifyRefresh(foreign, key, ch, t0), dbsc.ReasonBadKey)
}

// singleUseStore stands in for the session record: Take hands out the
// outstanding challenge and clears it, as the middleware must do
// atomically with accepting a proof.
type singleUseStore struct{ ch dbsc.Challenge }

func (s *singleUseStore) Take() dbsc.Challenge {
	ch := s.ch
	s.ch = dbsc.Challenge{}
	return ch
}

func TestReplayedProofIsRefused(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			c := client(alg)
			key := registered(t, c)
			store := &singleUseStore{ch: dbsc.NewChallenge(t0)}
			proof, _ := c.RefreshProof(store.ch.Value)

			if err := dbsc.VerifyRefresh(proof, key, store.Take(), t0); err != nil {
				t.Fatalf("first use: %v", err)
			}
			err := dbsc.VerifyRefresh(proof, key, store.Take(), t0)
			wantReason(t, err, dbsc.ReasonChallengeMismatch)

			// The replay carries a valid signature, so it is retryable:
			// a fresh challenge is the answer, and only the device can
			// sign it.
			store.ch = dbsc.NewChallenge(t0)
			err = dbsc.VerifyRefresh(proof, key, store.Take(), t0)
			wantReason(t, err, dbsc.ReasonChallengeMismatch)
			var pe *dbsc.ProofError
			if !errors.As(err, &pe) || !pe.Retryable() {
				t.Fatal("a replayed valid proof is not Retryable")
			}
		})
	}
}

func TestReplayedRegistrationIsRefused(t *testing.T) {
	c := client(dbsc.ES256)
	store := &singleUseStore{ch: dbsc.NewChallenge(t0)}
	proof, _ := c.RegistrationProof(store.ch.Value)
	if _, err := dbsc.VerifyRegistration(proof, store.Take(), t0); err != nil {
		t.Fatal(err)
	}
	_, err := dbsc.VerifyRegistration(proof, store.Take(), t0)
	wantReason(t, err, dbsc.ReasonChallengeMismatch)
}

func TestExpiredChallengeIsRefused(t *testing.T) {
	c := client(dbsc.ES256)
	key := registered(t, c)
	ch := dbsc.NewChallengeWithLifetime(t0, time.Minute)
	proof, _ := c.RefreshProof(ch.Value)
	if err := dbsc.VerifyRefresh(proof, key, ch, ch.Expires.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	err := dbsc.VerifyRefresh(proof, key, ch, ch.Expires)
	wantReason(t, err, dbsc.ReasonExpiredChallenge)
	var pe *dbsc.ProofError
	if !errors.As(err, &pe) || !pe.Retryable() {
		t.Fatal("an expired challenge with a valid signature is not Retryable")
	}

	reg, _ := c.RegistrationProof(ch.Value)
	_, err = dbsc.VerifyRegistration(reg, ch, t0.Add(time.Hour))
	wantReason(t, err, dbsc.ReasonExpiredChallenge)
}

// TestChallengeIsCheckedOnlyAfterTheSignature: a forged proof for the
// right challenge is a bad signature, never a retryable mismatch, so that
// Retryable really means "the device holds the key".
func TestChallengeIsCheckedOnlyAfterTheSignature(t *testing.T) {
	c := client(dbsc.ES256)
	key := registered(t, c)
	ch := dbsc.NewChallenge(t0)
	bad, _ := c.With(dbsctest.WrongKey).RefreshProof("not-the-challenge")
	err := dbsc.VerifyRefresh(bad, key, ch, t0.Add(time.Hour))
	wantReason(t, err, dbsc.ReasonBadSignature)
	var pe *dbsc.ProofError
	if errors.As(err, &pe) && pe.Retryable() {
		t.Fatal("a bad signature is Retryable")
	}
}

func TestOversizedProofIsRefusedBeforeDecoding(t *testing.T) {
	key := registered(t, client(dbsc.ES256))
	ch := dbsc.NewChallenge(t0)
	huge := strings.Repeat("A", 1<<20) + "." + strings.Repeat("A", 1<<20) + "." + strings.Repeat("A", 86)
	var err1, err2 error
	n := fuzzalloc.Bytes(func() {
		_, err1 = dbsc.VerifyRegistration(huge, ch, t0)
		err2 = dbsc.VerifyRefresh(huge, key, ch, t0)
	})
	wantReason(t, err1, dbsc.ReasonOversized)
	wantReason(t, err2, dbsc.ReasonOversized)
	if n > 4096 {
		t.Fatalf("refusing a 2 MiB proof allocated %d bytes", n)
	}
	// Exactly at the limit the proof is decoded (and refused for
	// something else).
	edge := strings.Repeat("A", dbsc.MaxProofSize)
	if _, err := dbsc.VerifyRegistration(edge, ch, t0); dbsc.ReasonOf(err) == dbsc.ReasonOversized {
		t.Fatal("a proof of exactly MaxProofSize bytes is oversized")
	}
}

func TestOversizedJWKIsRefusedBeforeKeyParsing(t *testing.T) {
	// A jwk just over the limit whose point is also off the curve: the
	// size check must fire first.
	pad := strings.Repeat("k", dbsc.MaxJWKSize)
	jwk := `{"crv":"P-256","kid":"` + pad + `","kty":"EC","x":"` + b64(strings.Repeat("\x01", 32)) + `","y":"` + b64(strings.Repeat("\x01", 32)) + `"}`
	ch := dbsc.NewChallenge(t0)
	proof := forge(`{"alg":"ES256","jwk":`+jwk+`,"typ":"dbsc+jwt"}`, `{"jti":"`+ch.Value+`"}`, make([]byte, 64))
	if len(proof) > dbsc.MaxProofSize {
		t.Fatalf("test proof is %d bytes, over MaxProofSize", len(proof))
	}
	_, err := dbsc.VerifyRegistration(proof, ch, t0)
	wantReason(t, err, dbsc.ReasonOversized)
}

func TestMalformedProofIsRefused(t *testing.T) {
	ch := dbsc.NewChallenge(t0)
	c := client(dbsc.ES256)
	good, _ := c.RegistrationProof(ch.Value)
	parts := strings.Split(good, ".")
	hdr := `{"alg":"ES256","jwk":` + string(c.JWK()) + `,"typ":"dbsc+jwt"}`
	jti := `{"jti":"` + ch.Value + `"}`
	sig := make([]byte, 64)
	tests := []struct {
		name  string
		proof string
	}{
		{"empty", ""},
		{"quotes only", `""`},
		{"two parts", parts[0] + "." + parts[1]},
		{"four parts", good + ".AAAA"},
		{"padding", parts[0] + "==." + parts[1] + "." + parts[2]},
		{"newline in base64", parts[0][:8] + "\n" + parts[0][8:] + "." + parts[1] + "." + parts[2]},
		{"space in base64", parts[0] + " ." + parts[1] + "." + parts[2]},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/"},
		{"impossible base64 length", "AAAAA." + parts[1] + "." + parts[2]},
		{"header not JSON", forge(`{"alg":`, jti, sig)},
		{"header a JSON array", forge(`["ES256"]`, jti, sig)},
		{"header with trailing data", forge(hdr+`{}`, jti, sig)},
		{"duplicate alg", forge(`{"alg":"ES256","alg":"none","jwk":`+string(c.JWK())+`,"typ":"dbsc+jwt"}`, jti, sig)},
		{"alg not a string", forge(`{"alg":["ES256"],"typ":"dbsc+jwt"}`, jti, sig)},
		{"crit header", forge(`{"alg":"ES256","crit":["exp"],"exp":1,"jwk":`+string(c.JWK())+`,"typ":"dbsc+jwt"}`, jti, sig)},
		{"payload not JSON", forge(hdr, `jti`, sig)},
		{"payload without jti", forge(hdr, `{"sub":"x"}`, sig)},
		{"jti null", forge(hdr, `{"jti":null}`, sig)},
		{"jti a number", forge(hdr, `{"jti":1}`, sig)},
		{"duplicate jti", forge(hdr, `{"jti":"a","jti":"`+ch.Value+`"}`, sig)},
		{"signature not base64url", parts[0] + "." + parts[1] + ".!!!!"},
	}
	key := registered(t, c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dbsc.VerifyRegistration(tt.proof, ch, t0)
			wantReason(t, err, dbsc.ReasonMalformed)
			wantReason(t, dbsc.VerifyRefresh(tt.proof, key, ch, t0), dbsc.ReasonMalformed)
		})
	}
}

// TestNonCanonicalBase64IsRefused: a last character with non-zero unused
// bits decodes, leniently, to the same bytes as the canonical one; the
// verifier refuses it so that one proof has exactly one encoding.
func TestNonCanonicalBase64IsRefused(t *testing.T) {
	c := client(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)
	good, _ := c.RegistrationProof(ch.Value)
	parts := strings.Split(good, ".")
	for i, p := range parts {
		if len(p)%4 == 0 {
			continue // no unused bits to set
		}
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, p[len(p)-1])
		if last&1 != 0 {
			t.Fatalf("part %d is not canonical to begin with", i)
		}
		tweaked := p[:len(p)-1] + string(alphabet[last|1])
		q := append([]string(nil), parts...)
		q[i] = tweaked
		_, err := dbsc.VerifyRegistration(strings.Join(q, "."), ch, t0)
		wantReason(t, err, dbsc.ReasonMalformed)
	}
}

// TestMemberNamesAreMatchedExactly: encoding/json would read "ALG" into
// an Alg field; the verifier sees no alg at all.
func TestMemberNamesAreMatchedExactly(t *testing.T) {
	c := client(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)
	proof := forge(`{"ALG":"ES256","jwk":`+string(c.JWK())+`,"typ":"dbsc+jwt"}`, `{"jti":"`+ch.Value+`"}`, make([]byte, 64))
	_, err := dbsc.VerifyRegistration(proof, ch, t0)
	wantReason(t, err, dbsc.ReasonBadAlg)
	proof = forge(`{"alg":"ES256","jwk":`+string(c.JWK())+`,"TYP":"dbsc+jwt"}`, `{"jti":"`+ch.Value+`"}`, make([]byte, 64))
	_, err = dbsc.VerifyRegistration(proof, ch, t0)
	wantReason(t, err, dbsc.ReasonBadTyp)
}

func TestOtherAlgorithmsAreRefused(t *testing.T) {
	c := client(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)
	key := registered(t, c)
	for _, alg := range []string{"none", "None", "HS256", "HS512", "ES384", "PS256", "EdDSA", "es256", ""} {
		t.Run(alg, func(t *testing.T) {
			proof := forge(`{"alg":"`+alg+`","jwk":`+string(c.JWK())+`,"typ":"dbsc+jwt"}`, `{"jti":"`+ch.Value+`"}`, make([]byte, 64))
			_, err := dbsc.VerifyRegistration(proof, ch, t0)
			wantReason(t, err, dbsc.ReasonBadAlg)
			wantReason(t, dbsc.VerifyRefresh(proof, key, ch, t0), dbsc.ReasonBadAlg)
		})
	}
}

func TestWrongTypIsRefused(t *testing.T) {
	c := client(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)
	for _, typ := range []string{`"JWT"`, `"dbsc+JWT"`, `"application/dbsc+jwt"`, `""`, `null`, ``} {
		t.Run(typ, func(t *testing.T) {
			h := `{"alg":"ES256","jwk":` + string(c.JWK()) + `,"typ":` + typ + `}`
			if typ == `` {
				h = `{"alg":"ES256","jwk":` + string(c.JWK()) + `}`
			}
			_, err := dbsc.VerifyRegistration(forge(h, `{"jti":"`+ch.Value+`"}`, make([]byte, 64)), ch, t0)
			r := dbsc.ReasonOf(err)
			if r != dbsc.ReasonBadTyp && !(typ == `null` && r == dbsc.ReasonMalformed) {
				t.Fatalf("reason %s, want %s", r, dbsc.ReasonBadTyp)
			}
		})
	}
}

// TestRegistrationKeyIsParsedStrictly feeds keys the verifier must refuse;
// the signature is never reached.
func TestRegistrationKeyIsParsedStrictly(t *testing.T) {
	ec := client(dbsc.ES256).JWK()
	rs := client(dbsc.RS256).JWK()
	var ecm, rsm map[string]string
	json.Unmarshal(ec, &ecm)
	json.Unmarshal(rs, &rsm)
	x, y, n := ecm["x"], ecm["y"], rsm["n"]
	bigN := func(bytes int) string { return b64("\xc3" + strings.Repeat("\x01", bytes-2) + "\x01") }
	tests := []struct {
		name, alg, jwk string
	}{
		{"EC point not on curve", "ES256", `{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + b64(strings.Repeat("\x07", 32)) + `"}`},
		{"EC coordinate short", "ES256", `{"crv":"P-256","kty":"EC","x":"` + b64(strings.Repeat("\x01", 31)) + `","y":"` + y + `"}`},
		{"EC coordinate zero-padded", "ES256", `{"crv":"P-256","kty":"EC","x":"` + b64("\x00"+strings.Repeat("\x01", 32)) + `","y":"` + y + `"}`},
		{"EC on P-384", "ES256", `{"crv":"P-384","kty":"EC","x":"` + x + `","y":"` + y + `"}`},
		{"EC without y", "ES256", `{"crv":"P-256","kty":"EC","x":"` + x + `"}`},
		{"EC with private d", "ES256", `{"crv":"P-256","d":"` + x + `","kty":"EC","x":"` + x + `","y":"` + y + `"}`},
		{"EC with n", "ES256", `{"crv":"P-256","kty":"EC","n":"` + n + `","x":"` + x + `","y":"` + y + `"}`},
		{"EC for RS256", "RS256", string(ec)},
		{"EC jwk alg mismatch", "ES256", `{"alg":"RS256","crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`},
		{"EC use enc", "ES256", `{"crv":"P-256","kty":"EC","use":"enc","x":"` + x + `","y":"` + y + `"}`},
		{"symmetric key", "ES256", `{"k":"` + x + `","kty":"oct"}`},
		{"unknown kty", "ES256", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`},
		{"no kty", "ES256", `{"crv":"P-256","x":"` + x + `","y":"` + y + `"}`},
		{"kty not a string", "ES256", `{"crv":"P-256","kty":1,"x":"` + x + `","y":"` + y + `"}`},
		{"duplicate x", "ES256", `{"crv":"P-256","kty":"EC","x":"` + y + `","x":"` + x + `","y":"` + y + `"}`},
		{"jwk not an object", "ES256", `"` + x + `"`},
		{"RSA 1024 bits", "RS256", `{"e":"AQAB","kty":"RSA","n":"` + bigN(128) + `"}`},
		{"RSA 2040 bits", "RS256", `{"e":"AQAB","kty":"RSA","n":"` + bigN(255) + `"}`},
		{"RSA over 4096 bits", "RS256", `{"e":"AQAB","kty":"RSA","n":"` + bigN(513) + `"}`},
		{"RSA even modulus", "RS256", `{"e":"AQAB","kty":"RSA","n":"` + b64("\xc3"+strings.Repeat("\x01", 254)+"\x02") + `"}`},
		{"RSA modulus zero-padded", "RS256", `{"e":"AQAB","kty":"RSA","n":"` + b64("\x00"+string(must(base64.RawURLEncoding.DecodeString(n)))) + `"}`},
		{"RSA e = 3", "RS256", `{"e":"Aw","kty":"RSA","n":"` + n + `"}`},
		{"RSA e even", "RS256", `{"e":"AQAC","kty":"RSA","n":"` + n + `"}`},
		{"RSA e zero-padded", "RS256", `{"e":"AAEAAQ","kty":"RSA","n":"` + n + `"}`},
		{"RSA e over 31 bits", "RS256", `{"e":"AQAAAAE","kty":"RSA","n":"` + n + `"}`},
		{"RSA with private d", "RS256", `{"d":"AQAB","e":"AQAB","kty":"RSA","n":"` + n + `"}`},
		{"RSA for ES256", "ES256", string(rs)},
		{"RSA with crv", "RS256", `{"crv":"P-256","e":"AQAB","kty":"RSA","n":"` + n + `"}`},
	}
	ch := dbsc.NewChallenge(t0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proof := forge(`{"alg":"`+tt.alg+`","jwk":`+tt.jwk+`,"typ":"dbsc+jwt"}`, `{"jti":"`+ch.Value+`"}`, make([]byte, 256))
			_, err := dbsc.VerifyRegistration(proof, ch, t0)
			wantReason(t, err, dbsc.ReasonBadKey)
		})
	}
	t.Run("no jwk", func(t *testing.T) {
		proof, _ := client(dbsc.ES256).RefreshProof(ch.Value)
		_, err := dbsc.VerifyRegistration(proof, ch, t0)
		wantReason(t, err, dbsc.ReasonBadKey)
	})
}

// TestProofErrorsNeverContainClientData: error text is fixed, so it is
// safe to log even though the input is attacker-controlled.
func TestProofErrorsNeverContainClientData(t *testing.T) {
	c := client(dbsc.ES256)
	ch := dbsc.NewChallenge(t0)
	key := registered(t, c)
	for f := dbsctest.Honest; f <= dbsctest.DERSignature; f++ {
		proof, _ := c.With(f).RefreshProof("secret-challenge-" + ch.Value)
		for _, err := range []error{
			dbsc.VerifyRefresh(proof, key, ch, t0),
			func() error { _, err := dbsc.VerifyRegistration(proof, ch, t0); return err }(),
		} {
			if err == nil {
				t.Fatalf("%v: accepted", f)
			}
			msg := err.Error()
			for _, part := range append(strings.Split(proof, "."), ch.Value, "secret-challenge", key.Thumbprint()) {
				if len(part) >= 8 && strings.Contains(msg, part) {
					t.Fatalf("%v: error %q contains client data", f, msg)
				}
			}
		}
	}
}

func TestVerifyRefreshWithNilKeyIsAProgrammingError(t *testing.T) {
	err := dbsc.VerifyRefresh("a.b.c", nil, dbsc.NewChallenge(t0), t0)
	if err == nil || errors.Is(err, dbsc.ErrInvalidProof) {
		t.Fatalf("got %v, want a programming error not wrapping ErrInvalidProof", err)
	}
}
