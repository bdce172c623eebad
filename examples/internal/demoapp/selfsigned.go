package demoapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"time"
)

// SelfSigned returns a TLS configuration with a fresh self-signed
// certificate for localhost and 127.0.0.1, valid for a day, and the
// base64 SHA-256 of its SubjectPublicKeyInfo: the value Chromium's
// --ignore-certificate-errors-spki-list flag takes to trust exactly this
// certificate. DBSC needs a certificate the browser trusts; the blanket
// --ignore-certificate-errors turns DBSC off. For development only.
func SelfSigned() (cfg *tls.Config, spkiPin string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
	}, base64.StdEncoding.EncodeToString(sum[:]), nil
}

// DBSCFeatures is the --enable-features value that turns DBSC on in
// Chromium 156 with software keys (Linux has no TPM key provider):
// what chrome://flags' "Device Bound Session Credentials (Standard):
// Enabled – For developers" and "… with software keys" set. The refresh
// quota is off so that a developer's many refreshes are not throttled.
const DBSCFeatures = "DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false/CheckSubdomainRegistration/false," +
	"EnableBoundSessionCredentialsSoftwareKeysForManualTesting"
