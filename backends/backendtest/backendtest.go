package backendtest

import (
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
