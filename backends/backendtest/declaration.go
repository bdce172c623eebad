package backendtest

import (
	"context"
	"errors"
	"testing"

	"github.com/gin-securesession/securesession"
)

// Declaration states what a backend cannot do, and why. The suite skips
// the checks that need it, giving that reason, and checks that the backend
// does refuse it, so that a false declaration fails. The zero Declaration
// declares nothing: the backend does everything the securesession.Backend
// contract describes. A Declaration is a plain value; Run only reads it.
type Declaration struct {
	// NoRevocation, if not empty, declares that the backend cannot end a
	// session on the server, and says why: Delete and RevokeUser return
	// errors wrapping securesession.ErrCannotRevoke, so a copied cookie
	// works until it expires (the cookie backend without a revocation
	// store). The checks that replay a cookie after logout, rotation or
	// revocation are then skipped with this reason. Default "": the
	// backend revokes, and Delete and RevokeUser must not return
	// ErrCannotRevoke.
	NoRevocation string
}

// declarationChecks hold a backend to what it declared.
var declarationChecks = []check{
	{"Declaration/RevocationAsDeclared", testRevocationAsDeclared},
}

// testRevocationAsDeclared: a backend that declared NoRevocation refuses
// Delete and RevokeUser with ErrCannotRevoke; one that did not ends the
// session on Delete and accepts RevokeUser. Either lie fails here rather
// than as skipped or failing replay checks.
func testRevocationAsDeclared(t *testing.T, f *factory) {
	b := f.backend(t)
	ctx := context.Background()
	name := securesession.DefaultCookieName
	user := uniqueUser("declared")
	rec := malformedRecord(user)
	tok, err := b.Create(ctx, name, &rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	delErr := b.Delete(ctx, name, tok)
	revErr := b.RevokeUser(ctx, user, securesession.Ref{})
	if !f.revokes() {
		if !errors.Is(delErr, securesession.ErrCannotRevoke) {
			t.Errorf("declared NoRevocation (%s), but Delete returned %v; want an error wrapping ErrCannotRevoke", f.noRevocation, delErr)
		}
		if !errors.Is(revErr, securesession.ErrCannotRevoke) {
			t.Errorf("declared NoRevocation (%s), but RevokeUser returned %v; want an error wrapping ErrCannotRevoke", f.noRevocation, revErr)
		}
		return
	}
	if delErr != nil {
		t.Errorf("Delete: %v; a backend that does not declare NoRevocation must end the session", delErr)
	}
	if _, found, err := b.Find(ctx, name, tok); found || err != nil {
		t.Errorf("after Delete, Find reports found=%v err=%v; want the session gone", found, err)
	}
	if revErr != nil {
		t.Errorf("RevokeUser: %v; a backend that does not declare NoRevocation must revoke users' sessions", revErr)
	}
}
