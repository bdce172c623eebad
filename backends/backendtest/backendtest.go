package backendtest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession"
)

// Factory returns a fresh backend for one check. It should register any
// cleanup with t.Cleanup. Records from earlier checks may remain; the
// suite never relies on an empty store. Run calls it from one check at a
// time, never concurrently.
type Factory func(t *testing.T) securesession.Backend

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

// Run runs the whole conformance suite, as subtests of t, against backends
// made by newBackend, one or more per check. declared states what the
// backend cannot do (none: it can do everything). The checks of an
// optional interface run if a backend from newBackend implements it; Run
// makes one backend up front to find out.
func Run(t *testing.T, newBackend Factory, declared ...Declaration) {
	t.Helper()
	f := &factory{newBackend: newBackend}
	var why []string
	for _, d := range declared {
		if d.NoRevocation != "" {
			why = append(why, d.NoRevocation)
		}
	}
	f.noRevocation = strings.Join(why, "; ")
	_, f.lister = newBackend(t).(securesession.Lister)

	checks := slices.Concat(
		declarationChecks,
		cookieChecks,
		valueChecks,
		lifecycleChecks,
		timeoutChecks,
		tamperingChecks,
		malformedChecks,
		bearerChecks,
		cacheChecks,
		clearChecks,
		revocationChecks,
		exactUserChecks,
		rememberChecks,
		dbscChecks,
		loadChecks,
		ginContribChecks,
		limitChecks,
	)
	if f.lister {
		checks = append(checks, listerChecks...)
	} else {
		checks = append(checks, noListerChecks...)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, f) })
	}
}

// check is one named conformance check. Each file holds the list of the
// checks it defines, and Run runs the lists.
type check struct {
	name string
	fn   func(*testing.T, *factory)
}

// factory makes the backends of one Run and knows what the backend
// declared and which optional interfaces it implements.
type factory struct {
	newBackend Factory

	// noRevocation is the reason the backend gave for not revoking
	// sessions on the server (the declarations' NoRevocation, joined), or
	// "" if it revokes.
	noRevocation string

	// lister is true if the backend implements securesession.Lister.
	lister bool
}

// backend returns a fresh backend for one check.
func (f *factory) backend(t *testing.T) securesession.Backend {
	t.Helper()
	return f.newBackend(t)
}

// revokes reports whether the backend ends sessions on the server.
func (f *factory) revokes() bool { return f.noRevocation == "" }

// requireRevocation skips the check, with the backend's reason, if the
// backend declared that it cannot revoke sessions on the server.
func (f *factory) requireRevocation(t *testing.T) {
	t.Helper()
	if !f.revokes() {
		t.Skipf("backend declares it cannot revoke sessions on the server: %s", f.noRevocation)
	}
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
