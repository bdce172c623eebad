package dbsc_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

func ExampleFormatRegistration() {
	// In a handler: ch := dbsc.NewChallenge(time.Now()), stored in the
	// session record. A fixed value here, for the output.
	ch := dbsc.Challenge{Value: "c2lnbi1tZS1wbGVhc2U", Expires: time.Now().Add(dbsc.DefaultChallengeLifetime)}
	v, err := dbsc.FormatRegistration(dbsc.Registration{Path: "/dbsc/register", Challenge: ch})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s\n", dbsc.HeaderRegistration, v)
	// Output:
	// Secure-Session-Registration: (ES256 RS256);path="/dbsc/register";challenge="c2lnbi1tZS1wbGVhc2U"
}

func ExampleFormatChallenge() {
	ch := dbsc.Challenge{Value: "ZnJlc2gtY2hhbGxlbmdl", Expires: time.Now().Add(dbsc.DefaultChallengeLifetime)}
	v, err := dbsc.FormatChallenge(ch, "q0VF7hnPfRYmA4GnNcxZ2w")
	if err != nil {
		panic(err)
	}
	// Sent with 403 Forbidden (never 401) on a refresh POST without a proof.
	fmt.Printf("%s: %s\n", dbsc.HeaderChallenge, v)
	// Output:
	// Secure-Session-Challenge: "ZnJlc2gtY2hhbGxlbmdl";id="q0VF7hnPfRYmA4GnNcxZ2w"
}

func ExampleBoundCookie() {
	var bound dbsc.BoundCookie // the secure defaults
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

	set, _ := bound.SetCookie("oVkCVBXf3iqz5lHYmH1bSA", now)
	cred, _ := bound.Credential()
	del, _ := bound.Expire()
	fmt.Println("Set-Cookie:", set)
	fmt.Println("credential attributes:", cred.Attributes)
	fmt.Println("at logout:", del)
	// Output:
	// Set-Cookie: __Host-bound=oVkCVBXf3iqz5lHYmH1bSA; Path=/; Expires=Tue, 24 Nov 2026 12:10:00 GMT; Max-Age=600; HttpOnly; Secure; SameSite=Lax
	// credential attributes: Path=/; HttpOnly; Secure; SameSite=Lax
	// at logout: __Host-bound=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax
}

func ExampleSessionConfig() {
	cred, _ := dbsc.BoundCookie{}.Credential()
	cfg := dbsc.SessionConfig{
		SessionIdentifier: "q0VF7hnPfRYmA4GnNcxZ2w",
		RefreshURL:        "/dbsc/refresh",
		Scope: dbsc.Scope{
			Origin:        "https://app.example",
			Specification: []dbsc.ScopeRule{{Type: dbsc.Exclude, Domain: "app.example", Path: "/static"}},
		},
		Credentials: []dbsc.Credential{cred},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// {
	//   "session_identifier": "q0VF7hnPfRYmA4GnNcxZ2w",
	//   "refresh_url": "/dbsc/refresh",
	//   "scope": {
	//     "origin": "https://app.example",
	//     "include_site": false,
	//     "scope_specification": [
	//       {
	//         "type": "exclude",
	//         "domain": "app.example",
	//         "path": "/static"
	//       }
	//     ]
	//   },
	//   "credentials": [
	//     {
	//       "type": "cookie",
	//       "name": "__Host-bound",
	//       "attributes": "Path=/; HttpOnly; Secure; SameSite=Lax"
	//     }
	//   ]
	// }
}

// Example runs registration and refresh with the test client in the role
// of the browser, with the challenge kept in a stand-in for the session
// record.
func Example() {
	now := time.Now()
	device, err := dbsctest.NewClient(dbsc.ES256)
	if err != nil {
		panic(err)
	}
	var record struct {
		challenge dbsc.Challenge
		key       []byte // the stored form
	}

	// Login response: ask the browser to register.
	record.challenge = dbsc.NewChallenge(now)
	header, _ := dbsc.FormatRegistration(dbsc.Registration{Path: "/dbsc/register", Challenge: record.challenge})

	// The browser POSTs the proof to the registration path.
	path, proof, _ := device.AnswerRegistration(header)
	ch := record.challenge
	record.challenge = dbsc.Challenge{} // single use
	key, err := dbsc.VerifyRegistration(proof, ch, now)
	if err != nil {
		fmt.Println("registration refused:", dbsc.ReasonOf(err))
		return
	}
	record.key = key.JWK()
	fmt.Println("registered at", path, "with", key.Algorithm(), "key", key.Thumbprint() == device.Thumbprint())

	// Refresh: the first POST has no proof; answer 403 with a challenge.
	sessionID := dbsc.NewSessionID()
	record.challenge = dbsc.NewChallenge(now)
	challengeHeader, _ := dbsc.FormatChallenge(record.challenge, sessionID)
	fmt.Println("refresh without proof:", http.StatusForbidden)

	// The browser signs the challenge and POSTs again.
	_, proof, _ = device.AnswerChallenge(challengeHeader)
	stored, _ := dbsc.ParsePublicKey(record.key)
	ch, record.challenge = record.challenge, dbsc.Challenge{}
	fmt.Println("refresh with proof:", dbsc.VerifyRefresh(proof, stored, ch, now.Add(time.Second)))

	// A replay of the same proof finds the challenge used.
	err = dbsc.VerifyRefresh(proof, stored, record.challenge, now.Add(2*time.Second))
	fmt.Println("replay:", dbsc.ReasonOf(err))

	// Another device cannot refresh the session.
	thief, _ := dbsctest.NewClient(dbsc.ES256)
	record.challenge = dbsc.NewChallenge(now)
	proof, _ = thief.RefreshProof(record.challenge.Value)
	fmt.Println("other device:", dbsc.ReasonOf(dbsc.VerifyRefresh(proof, stored, record.challenge, now)))
	// Output:
	// registered at /dbsc/register with ES256 key true
	// refresh without proof: 403
	// refresh with proof: <nil>
	// replay: challenge-mismatch
	// other device: bad-signature
}
