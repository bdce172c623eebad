package backendtest

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/gin-securesession/securesession"
)

// revokeBeforeRotate calls RevokeUser for the session's user just before
// each Rotate: the interleaving of a Rotate that races a LogoutEverywhere
// on another device, made deterministic.
type revokeBeforeRotate struct {
	securesession.Backend
	user string
}

func (b *revokeBeforeRotate) Rotate(ctx context.Context, name, old string, rec *securesession.Record) (string, error) {
	if err := b.Backend.RevokeUser(ctx, b.user, securesession.Ref{}); err != nil {
		return "", err
	}
	return b.Backend.Rotate(ctx, name, old, rec)
}

// testRotateRacingLogoutEverywhere is a known bug, run only with
// SECURESESSION_KNOWN_BUGS=1: securesession.Rotate on a session that a
// concurrent LogoutEverywhere revoked between the request's Find and its
// Rotate re-creates the session under a new token (the Backend contract
// says Rotate succeeds when the old record is gone), so the user has a live
// session after "log out everywhere" returned. See SECURITY.md.
func testRotateRacingLogoutEverywhere(t *testing.T, f Factory) {
	if os.Getenv("SECURESESSION_KNOWN_BUGS") != "1" {
		t.Skip("known bug, see SECURITY.md; set SECURESESSION_KNOWN_BUGS=1 to run")
	}
	b := f(t)
	requireRevocation(t, b)
	a := newAppOn(t, &revokeBeforeRotate{Backend: b, user: "alice"})
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	r := cl.do("POST", "/rotate")
	if r.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if got := cl.user(); got != "" {
		t.Fatalf("after a revocation that ran before the Rotate wrote, the rotated cookie is logged in as %q: the session came back", got)
	}
}
