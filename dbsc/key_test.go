package dbsc_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession/dbsc"
)

// TestThumbprintMatchesRFC7638 uses the worked example of RFC 7638 §3.1.
func TestThumbprintMatchesRFC7638(t *testing.T) {
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	key, err := dbsc.ParsePublicKey([]byte(`{"e":"AQAB","kty":"RSA","n":"` + n + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := key.Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
	if key.Algorithm() != dbsc.RS256 {
		t.Fatalf("algorithm %s", key.Algorithm())
	}
}

func TestStoredKeyRoundTrips(t *testing.T) {
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			key := registered(t, client(alg))
			back, err := dbsc.ParsePublicKey(key.JWK())
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(key) || back.Thumbprint() != key.Thumbprint() || back.Algorithm() != alg {
				t.Fatal("the parsed stored key differs from the registered one")
			}
			// The stored form still verifies the device's proofs.
			ch := dbsc.NewChallenge(t0)
			proof, _ := client(alg).RefreshProof(ch.Value)
			if err := dbsc.VerifyRefresh(proof, back, ch, t0); err != nil {
				t.Fatal(err)
			}
			if len(key.Thumbprint()) != 43 {
				t.Fatalf("thumbprint length %d, want 43", len(key.Thumbprint()))
			}
		})
	}
}

func TestPublicReturnsACopy(t *testing.T) {
	ec := registered(t, client(dbsc.ES256))
	pub := ec.Public().(*ecdsa.PublicKey)
	if !pub.Equal(ecKey().Public()) {
		t.Fatal("Public is not the client's key")
	}
	//lint:ignore SA1019 the test mutates the returned key to prove it is a copy
	pub.X.SetInt64(1)
	if !ec.Public().(*ecdsa.PublicKey).Equal(ecKey().Public()) {
		t.Fatal("changing the returned key changed the PublicKey")
	}

	rs := registered(t, client(dbsc.RS256))
	rpub := rs.Public().(*rsa.PublicKey)
	if !rpub.Equal(rsaKey().Public()) {
		t.Fatal("Public is not the client's key")
	}
	rpub.N.SetInt64(1)
	if !rs.Public().(*rsa.PublicKey).Equal(rsaKey().Public()) {
		t.Fatal("changing the returned key changed the PublicKey")
	}
}

// TestParsePublicKeyRefusesCorruptStoredForm: the stored form must be
// byte for byte canonical; anything else is corruption, reported as a
// storage error rather than as untrusted input.
func TestParsePublicKeyRefusesCorruptStoredForm(t *testing.T) {
	good := string(registered(t, client(dbsc.ES256)).JWK())
	tests := map[string]string{
		"empty":              "",
		"whitespace":         strings.Replace(good, `,"kty"`, `, "kty"`, 1),
		"members reordered":  `{"kty":"EC",` + strings.Replace(good[1:], `"kty":"EC",`, "", 1),
		"extra member":       strings.Replace(good, `{`, `{"alg":"ES256",`, 1),
		"truncated":          good[:len(good)-2],
		"not on the curve":   strings.Replace(good, `"y":"`, `"y":"AA`, 1)[:len(good)],
		"oversized":          good + strings.Repeat(" ", dbsc.MaxJWKSize),
		"private key member": strings.Replace(good, `{`, `{"d":"AQAB",`, 1),
	}
	for name, jwk := range tests {
		t.Run(name, func(t *testing.T) {
			k, err := dbsc.ParsePublicKey([]byte(jwk))
			if err == nil {
				t.Fatalf("accepted %s", jwk)
			}
			if k != nil || errors.Is(err, dbsc.ErrInvalidProof) {
				t.Fatalf("got (%v, %v), want a storage error not wrapping ErrInvalidProof", k, err)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	ec, rs := registered(t, client(dbsc.ES256)), registered(t, client(dbsc.RS256))
	if !ec.Equal(ec) || ec.Equal(rs) || ec.Equal(nil) {
		t.Fatal("Equal is wrong")
	}
	var nilKey *dbsc.PublicKey
	if nilKey.Equal(ec) {
		t.Fatal("a nil key equals a key")
	}
}
