// Package backendtest is the conformance suite for securesession backends.
// A backend, ours or a third party's, runs all of it from one test:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) securesession.Backend { return newStore(t) })
//	}
//
// The Factory returns a fresh backend for each check and registers its
// cleanup with t.Cleanup; records left by earlier checks are allowed.
//
// Every check drives real HTTP requests on loopback through a Gin router
// with the securesession middleware, and asserts what a user or an
// attacker would see: the attributes of issued and expired cookies
// (cookieattrs.go); values and saves (values.go); login, rotation and
// logout, each leaving the old cookie anonymous (lifecycle.go); idle and
// absolute timeouts and throttled activity refreshes on an injected clock
// (timeouts.go); forged, corrupted and misplaced cookies (tampering.go)
// and malformed tokens at the Backend methods (malformed.go); tokens in
// an Authorization header (bearer.go); cache headers (cache.go);
// gin-contrib's Clear idiom (clear.go); LogoutEverywhere and LogoutOthers,
// alone and racing a rotation (revocation.go), with user IDs compared
// exactly (exactuser.go); remember-me sessions (remember.go); device-bound
// sessions (dbsc.go); many concurrent clients under -race (load.go); and
// gin-contrib's own tester suite with the backend as a plain
// sessions.Store (gincontrib.go).
//
// # Declarations
//
// A backend states what it cannot do by passing Declarations after the
// Factory; with none, it must do everything the securesession.Backend
// contract describes. There is one:
//
//   - Declaration.NoRevocation, with the reason: the backend cannot end a
//     session on the server (Delete and RevokeUser return errors wrapping
//     securesession.ErrCannotRevoke), so the checks that replay a cookie
//     after logout, rotation or revocation are skipped with that reason.
//     The cookie backend without a revocation store declares it:
//
//     backendtest.Run(t, newStore, backendtest.Declaration{NoRevocation: "sealed cookies, no revocation store"})
//
// The suite holds a backend to its declaration (declaration.go):
// declaring NoRevocation and deleting anyway fails, and so does not
// declaring it and returning ErrCannotRevoke.
//
// # Optional interfaces
//
// Run makes one backend up front and finds the optional interfaces it
// implements by type assertion; their checks run whenever it does:
//
//   - securesession.Lister: ListSessions lists exactly the user's live
//     sessions under stable handles, and RevokeSession ends the one named,
//     reports one already ended, and refuses another user's (lister.go).
//     A backend that is not a Lister is checked to answer ListSessions and
//     RevokeSession with securesession.ErrCannotList.
//
// The fault-injection harness for backends that talk to a server (a
// stopped memcached, a locked SQLite database) is package
// backendtest/outagetest.
//
// The suite leaves gin's process-wide mode as it finds it; in debug mode
// gin prints each test app's routes to its default writer.
package backendtest
