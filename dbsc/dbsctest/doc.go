// Package dbsctest is a browser-side DBSC client for tests: it holds an
// ES256 or RS256 key, answers Secure-Session-Registration and
// Secure-Session-Challenge headers with signed proofs in the form Chromium
// 156 sends, and can be told to misbehave in the ways an attacker or a
// broken client would. It is independent of the verifier it tests: it
// parses headers and encodes keys and proofs with its own code.
//
// Keys are generated with crypto/rand; this package is for tests only and
// must not hold real credentials.
//
// A Client is one device key: [Client.RegistrationProof] and
// [Client.RefreshProof] sign a challenge, and [Client.AnswerRegistration]
// and [Client.AnswerChallenge] answer the server's headers. [Client.With]
// returns a copy that commits a [Fault].
package dbsctest
