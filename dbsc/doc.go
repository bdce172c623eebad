// Package dbsc implements the server side of Device Bound Session
// Credentials: challenges, the protocol's headers, verification of the
// browser's signed proofs, the registered key's storable form, and the
// session configuration JSON. It stores nothing and does no I/O; the
// session middleware keeps the key and the outstanding challenge in the
// session record and calls these functions from its endpoints.
//
// # Threat model
//
// DBSC defends against session theft by copying: malware or a backup that
// carries the browser's cookie jar off the device, a leaked HAR file, a
// cookie lifted by a proxy. At registration the browser creates a key pair
// whose private half stays on the device (in the TPM where there is one),
// and the server adds a short-lived bound cookie to the long-lived session
// cookie. Only the key holder can renew the bound cookie, by signing a
// fresh challenge; a copied jar therefore stops working when its bound
// cookie expires, minutes later, and the server must then refuse the
// session cookie alone for a bound session.
//
// It does not defend against an attacker who runs code on the device
// while the user is logged in: such malware can drive the browser itself,
// or ask it to sign, and use the session through it. Nor does it protect
// the first, unbound moments of a session, a browser without DBSC (which
// never registers: the session works unbound, and the application decides
// what an unbound session may do), or a software key on a device without
// a TPM, which malware can copy. It is cookie-only: a Bearer-header API
// client takes no part.
//
// # Protocol, as Chromium 156 speaks it
//
// The header formats are those Debian's Chromium 156 sends and accepts,
// verified end to end; they differ from older write-ups, and where they
// differ from the [W3C draft] this package follows the browser.
//
//  1. On any response (typically the login's) the server sends a
//     Secure-Session-Registration header ([FormatRegistration]) and stores
//     the [Challenge] in the record.
//  2. The browser POSTs the registration path with an empty body and a
//     Secure-Session-Response header: a JWT whose header carries the
//     public key as jwk and whose payload is the challenge as jti.
//     [VerifyRegistration] checks it and returns the [PublicKey] to store.
//  3. The server answers 200 with the bound cookie's Set-Cookie
//     ([BoundCookie.SetCookie]) and a [SessionConfig] as JSON, whose
//     credential attributes must equal the Set-Cookie's
//     ([BoundCookie.Credential]).
//  4. When the bound cookie is missing or about to expire, Chromium holds
//     back the request and POSTs the refresh URL with a
//     Sec-Secure-Session-Id header ([ParseSessionID]) and no proof. The
//     server answers 403 with a Secure-Session-Challenge header
//     ([FormatChallenge]). Never 401: that ends the DBSC session.
//  5. The browser POSTs again with a proof whose header has no jwk;
//     [VerifyRefresh] checks it against the stored key. The server
//     answers 200 with a new bound cookie (the JSON body is optional), and
//     the held-back request goes out with it.
//  6. A challenge sent ahead on a 200 makes the next refresh a single
//     signed POST. [EndSessionBody] in a refresh answer, or
//     Clear-Site-Data, ends the DBSC session.
//
// On the wire:
//
//	Secure-Session-Registration: (ES256 RS256);path="/dbsc/register";challenge="<c>"
//	Secure-Session-Response: <base64url header>.<base64url payload>.<base64url signature>
//	  header  {"alg":"ES256","jwk":{"crv":"P-256","kty":"EC","x":"…","y":"…"},"typ":"dbsc+jwt"}
//	  payload {"jti":"<c>"}
//	Sec-Secure-Session-Id: <id>
//	Secure-Session-Challenge: "<c>";id="<id>"
//	Secure-Session-Response: <JWT with header {"alg":"ES256","typ":"dbsc+jwt"}>
//
// # Proof verification
//
// Proofs and keys are untrusted input and are parsed strictly: sizes are
// bounded before decoding ([MaxProofSize], [MaxJWKSize]); base64url must be
// unpadded and canonical; JSON objects must have unique member names; typ
// must be "dbsc+jwt"; alg must be ES256 (P-256, 64-byte r‖s signature) or
// RS256 ([MinRSABits] to [MaxRSABits], e ≥ 65537), and must match the
// stored key, so "none", HS256 with the public key as the secret, and any
// algorithm switch are refused; a crit header is refused; the EC point
// must be on the curve. The signature is checked before the challenge, so
// that a challenge mismatch means the device holds the key ([ProofError]
// Retryable), which is the benign race of two tabs, not theft. Refusals
// wrap [ErrInvalidProof] and name a fixed [Reason]; error text never
// contains a token, key or challenge.
//
// # Limits
//
// Challenges are single-use only if the caller makes them so: clear the
// stored challenge atomically with accepting a proof. Registration and
// refresh paths must be paths on the same origin. The authorization
// parameter and claim of the W3C draft, and the aud and iat claims, are
// not used: Chromium 156 sends none of them (a later browser that adds
// them still verifies). Chromium rate-limits refreshes per site and
// refreshes when the bound cookie has about two minutes left; DBSC needs
// HTTPS with a trusted certificate.
//
// Every function and method here is safe for concurrent use: the types
// are plain values or, like [PublicKey], immutable.
//
// The test client in [github.com/gin-securesession/securesession/dbsc/dbsctest]
// speaks the browser's side, and can be told to misbehave.
//
// [W3C draft]: https://w3c.github.io/webappsec-dbsc/
package dbsc
