package backendtest

import (
	"context"
	"net/http"
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

// testRotateRacingLogoutEverywhere: securesession.Rotate on a session that
// a concurrent LogoutEverywhere revoked between the request's Find and its
// Rotate must not re-create the session under a new token. (It did, while
// the Backend contract let Rotate succeed when the old record was gone;
// found by this check.)
func testRotateRacingLogoutEverywhere(t *testing.T, f Factory) {
	b := f(t)
	requireRevocation(t, b)
	a := newAppOn(t, &revokeBeforeRotate{Backend: b, user: "alice"})
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	r := cl.do("POST", "/rotate")
	if r.status != http.StatusConflict {
		t.Fatalf("rotate of a revoked session: %d %s; want 409 (ErrNoRecord)", r.status, r.body)
	}
	if got := cl.user(); got != "" {
		t.Fatalf("after a revocation that ran before the Rotate wrote, the rotated cookie is logged in as %q: the session came back", got)
	}
}
