// Package securesession makes user sessions in Gin applications secure by
// default. It is a middleware on top of [github.com/gin-contrib/sessions]:
// handlers keep calling sessions.Default(c) and its Get, Set, Delete,
// Clear, AddFlash, Flashes and Save, while the middleware owns everything
// that gin-contrib leaves to the application and that applications get
// wrong.
//
// # Security defaults
//
// The zero [Options] is the recommended configuration:
//
//   - the cookie is __Host-session: Secure, HttpOnly, SameSite=Lax, Path=/,
//     no Domain, no Max-Age (it ends when the browser closes). Every
//     attribute is written by the middleware; none is inherited from
//     gorilla/sessions or gin-contrib defaults, and a partial gin-contrib
//     Options cannot strip them;
//   - an idle timeout of 30 minutes and an absolute timeout of 12 hours,
//     enforced on the server from times the client cannot change;
//   - strict sessions: a token the server did not issue is never adopted,
//     and nothing is stored for it;
//   - no session, no cookie and no backend write for a request that never
//     stores anything;
//   - unsafe cross-origin requests are refused with 403 using
//     [net/http.CrossOriginProtection] (the SameSite=Lax cookie does not
//     stop requests from sibling subdomains; this does);
//   - every response that sets or expires the cookie, and every response
//     for a logged-in user, carries Cache-Control: no-store and
//     Vary: Cookie, enforced as the headers go out whatever the handler
//     set, so that no cache (the browser's Back button included) shows a
//     private page after logout. A response with Set-Cookie is never
//     cacheable; for the rest see Options.InsecureAllowCachingAuthenticated;
//   - a backend outage stops the request with 503 through
//     Options.ErrorHandler (a *[BackendError]); it is never turned into an
//     anonymous session, which would be a silent logout.
//
// [New] rejects contradictory options with an error naming the field:
// SameSite=None without Secure, a __Host- name with a Domain or a Path
// other than "/", a persistent lifetime over 400 days, and so on. Options
// that weaken a protection are named Insecure*.
//
// # Login and logout
//
// Call [Login] after checking a user's credentials: the session gets a new
// token, its data is carried over, the record under the old token is
// deleted (a planted or stolen pre-login cookie becomes anonymous: no
// session fixation), and the auth time and absolute timeout restart.
// [Rotate] does the same on other privilege changes.
//
// [Logout] deletes the server record, clears the values and expires the
// cookie with exactly the attributes it was issued with; a replayed copy of
// the old cookie is then anonymous. [LogoutEverywhere] ends every session
// of the user, and [LogoutOthers] every session but the current one (after
// a password change). gin-contrib's idioms session.Clear() and
// session.Options(sessions.Options{MaxAge: -1}), each followed by Save,
// are full logouts too.
//
// [UserID] and [AuthTime] read the current session; [ListSessions] and
// [RevokeSession] serve a "your active sessions" page on backends that
// implement [Lister].
//
// # Backends
//
// A [Backend] is the seven operations the middleware calls; the contract
// is written in its method comments, and a backend that can enumerate a
// user's sessions also implements [Lister]. Four ship with the module:
//
//   - backends/cookie: the session sealed into the cookie with
//     XChaCha20-Poly1305, no server state. It cannot revoke a copied cookie
//     before it expires unless given a revocation store.
//   - backends/memcache: memcached through gomemcache, on one or many
//     servers, with per-user revocation in one round trip.
//   - backends/gorm: any GORM database, with per-user listing and
//     revocation and a stoppable expiry sweeper.
//   - backends/memory: this process's memory; the reference
//     implementation of the contract, for tests and single-instance apps.
//
// Each runs the shared conformance suite in backends/backendtest in one
// line; a third-party backend can run it too. [NewGinContribStore] serves
// any Backend as a plain gin-contrib sessions.Store.
//
// # Events and logging
//
// Session events (created, rotated, logged out, expired, rejected cookie,
// revoked, backend error) go to Options.OnEvent and to log/slog. They
// identify a session by its backend Handle or a keyed hash, never by the
// token, which is a bearer credential.
//
// # Device-bound sessions (DBSC)
//
// Options.DeviceBinding binds logged-in browser sessions to the device
// with Device Bound Session Credentials (package
// [github.com/gin-securesession/securesession/dbsc] has the protocol). The
// login response offers a registration; the middleware answers the
// browser's registration and refresh POSTs itself, before the handlers
// (they pass the cross-origin check: Chromium sends them same-origin,
// with the session cookie). Once the device has registered its key, a
// request needs a valid, unexpired bound cookie besides the session
// cookie, or it is anonymous: the record is kept, so the device can
// refresh, and nothing the handlers store then replaces its session
// cookie. Browsers without DBSC never register and keep unbound sessions;
// DeviceBound, RequireDeviceBound and SessionInfo.DeviceBound tell them
// apart, and DeviceBinding.BoundIdleTimeout and BoundAbsoluteTimeout may
// give bound sessions longer limits.
//
// The state lives in Record.Binding, so a bound request costs no extra
// I/O: the DBSC session identifier, the key, the outstanding challenge,
// and a per-session random seed. The bound cookie is its expiry and the
// key under an HMAC keyed by the seed, so it needs no server key and no
// per-refresh state: a write racing a refresh cannot invalidate the cookie
// just issued, and a write that undoes the registration (on the cookie
// backend the login redirect's re-sealed cookie can arrive after the
// registration's) is healed by the next request, whose bound cookie
// carries the key back. A refresh answer sends the next challenge ahead,
// so a refresh is one signed POST and one write; a stale challenge with a
// valid signature (two tabs) gets a fresh one, never a logout; a refresh
// of a session that ended gets {"continue":false}.
//
// Rotate keeps the binding (the key moves with the session); Login starts
// an unbound session and offers a new registration. Logout, log out
// everywhere, revocation and expiry end the binding with the record, and
// Logout expires the bound cookie with its attributes. For 15 seconds
// after a registration a request without any bound cookie still passes,
// because Chromium sends the login redirect before applying the
// registration's cookie. DBSC needs HTTPS: no registration is offered on
// the plain-HTTP requests InsecureAllowHTTP allows. The Authorization
// header transport and the gin-contrib adapter take no part.
//
// # Concurrency
//
// The handler New returns, every Backend and the cookie revocation stores
// are safe for concurrent use. The session that sessions.Default(c)
// returns and the request functions (Login, Logout, UserID, ...) belong to
// one request and, like gin.Context, must not be used from several
// goroutines at once.
//
// # What is left to the application
//
// Checking passwords, keeping GET requests free of side effects (the
// cross-origin check covers unsafe methods only), HTTPS and HSTS in
// production, and choosing timeouts that fit the application's risk.
//
// See the [OWASP Session Management Cheat Sheet] and [OWASP ASVS] chapter
// V3 (4.0.3) / V7 (5.0) for the requirements these defaults follow, and
// [NIST SP 800-63B-4] for the timeouts of authenticated sessions.
//
// [OWASP Session Management Cheat Sheet]: https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
// [OWASP ASVS]: https://owasp.org/www-project-application-security-verification-standard/
// [NIST SP 800-63B-4]: https://pages.nist.gov/800-63-4/sp800-63b.html
package securesession
