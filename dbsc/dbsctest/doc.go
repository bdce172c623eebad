// Package dbsctest is a browser-side DBSC client for tests: it holds an
// ES256 or RS256 key, answers Secure-Session-Registration and
// Secure-Session-Challenge headers with signed proofs in the form Chromium
// 156 sends, runs the registration and refresh exchanges over HTTP, and
// can be told to misbehave in the ways an attacker or a broken client
// would. It is independent of the verifier it tests: it encodes keys and
// proofs with its own code.
//
// Keys are generated with crypto/rand; this package is for tests only and
// must not hold real credentials.
//
// A Client is one device key: [Client.RegistrationProof] and
// [Client.RefreshProof] sign a challenge, [Client.AnswerRegistration] and
// [Client.AnswerChallenge] answer the server's headers, and
// [Client.Register] and [Client.Refresh] run the exchanges over HTTPS as
// Chromium does, including the unsigned first refresh POST, the 403 with a
// challenge, and a challenge sent ahead of time. [Client.With] returns a
// copy that commits a [Fault].
package dbsctest
