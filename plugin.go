package securesession

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession/internal/cookiehdr"
)

// New returns the session middleware for backend, configured by opts. It
// returns an error naming the field for a contradictory or unsafe Options
// (SameSite=None without Secure, a __Host- cookie with a Domain, ...).
//
// For every request the middleware:
//   - refuses unsafe cross-origin requests with 403 (see
//     Options.InsecureDisableCrossOriginProtection);
//   - loads the session named by the cookie, if any, refusing tokens it
//     did not issue and sessions past their idle or absolute timeout (the
//     request then continues anonymous), and stopping the request through
//     Options.ErrorHandler if the backend fails;
//   - makes the session available to handlers as sessions.Default(c),
//     gin-contrib's usual accessor;
//   - saves a changed session before the response headers go out, whether
//     or not the handler called Save, and records activity for the idle
//     timeout (throttled by Options.TouchInterval);
//   - as the response headers go out, marks the response
//     Cache-Control: no-store and Vary: Cookie if it sets or expires the
//     session cookie (always, whatever the handler set) or if the session
//     has a logged-in user, so that neither the browser's cache, nor its
//     Back button, nor a shared cache shows a private page again after
//     logout (OWASP ASVS 5.0 14.3.2). A handler that never uses the
//     session (a static file) keeps a Cache-Control it set, and so does
//     every handler with Options.InsecureAllowCachingAuthenticated; other
//     responses keep the handler's caching headers.
//
// A request that carries no session and whose handler stores nothing gets
// no cookie and causes no backend write. The returned handler is safe for
// concurrent use.
func New(backend Backend, opts Options) (gin.HandlerFunc, error) {
	if backend == nil {
		return nil, errors.New("securesession: New: backend is nil")
	}
	cfg, err := opts.compile()
	if err != nil {
		return nil, err
	}
	m := &middleware{b: backend, cfg: cfg}
	m.lister, _ = backend.(Lister)
	m.limiter, _ = backend.(SessionLimiter)
	if cfg.limit.Max > 0 && m.limiter == nil {
		return nil, fmt.Errorf("securesession: Options.MaxSessionsPerUser: the backend (%T) cannot count a user's sessions; use one that implements SessionLimiter (gorm, memcache, memory)", backend)
	}
	return m.handle, nil
}

type middleware struct {
	b       Backend
	lister  Lister
	limiter SessionLimiter // nil unless the backend implements it
	cfg     *config

	proxyCheck sync.Once // the RecordClientInfo check of the engine
	maxAgeWarn sync.Once // the Session.Options MaxAge warning (remember.go)
}

// handle is the request entry: it picks the credential, checks the origin,
// loads the session, runs the handlers and saves what they changed.
func (m *middleware) handle(c *gin.Context) {
	cfg := m.cfg
	ctx := c.Request.Context()
	if cfg.recordClient {
		m.proxyCheck.Do(func() { m.checkClientIPSource(c) })
	}
	tr := cfg.transport(c.Request)
	name := cfg.cookieName(tr)
	cookieTok, hasCookie := cookiehdr.Get(c.Request.Header, name)
	var bearerTok string
	var hasBearer bool
	if cfg.bearer {
		bearerTok, hasBearer = bearerToken(c.Request.Header)
	}
	if hasCookie && hasBearer {
		// Never merge two credentials: which one would win is exactly
		// what an attacker who can set one of them wants to choose.
		cfg.emit(ctx, Event{Kind: EventRejected, Reason: "both a session cookie and an Authorization header"})
		writeErrorPage(c, errTwoCredentials)
		return
	}
	// A browser attaches cookies to cross-site requests on its own but
	// never an Authorization header, so only cookie-borne (or
	// session-less) requests need the cross-origin check.
	if cfg.crossOrigin != nil && !hasBearer {
		if err := cfg.crossOrigin.Check(tr.forOriginCheck(c.Request)); err != nil {
			cfg.emit(ctx, Event{Kind: EventCrossOriginDenied, Err: err})
			cfg.crossOriginDeny(c, err)
			c.Abort()
			return
		}
	}
	s := &session{m: m, c: c, tr: tr, name: name, viaHeader: hasBearer}
	tok := cookieTok
	if hasBearer {
		tok = bearerTok
		c.Writer.Header().Set("Cache-Control", "no-store")
	}
	if hasCookie || hasBearer {
		s.carried = true
		if err := s.load(tok); err != nil {
			cfg.emit(ctx, Event{Kind: EventBackendError, Err: err})
			cfg.errorHandler(c, err)
			c.Abort()
			return
		}
	}
	c.Set(sessions.DefaultKey, s)
	s.w.ResponseWriter = c.Writer
	s.w.s = s
	if cfg.bind != nil && s.bindRequest() {
		c.Abort() // a DBSC endpoint, answered
		return
	}
	c.Writer = &s.w
	defer explainDefaultMany()
	c.Next()
	c.Writer = s.w.ResponseWriter
	s.autoSave(!c.Writer.Written())
	if !c.Writer.Written() {
		// Nothing was written: gin sends the headers after the last
		// handler returns, so this is the last moment to set them.
		s.cacheHeaders()
	}
}

// Addresses for the client-IP probe, from the documentation ranges (RFC
// 5737): no deployment lists probePeer as its proxy.
const (
	probePeer   = "192.0.2.1:4711"
	probeClient = "198.51.100.7"
)

// checkClientIPSource logs a warning if the engine serving c takes the
// client IP that RecordClientInfo records from X-Forwarded-For or
// X-Real-IP whoever sends them, which is gin's default until
// engine.SetTrustedProxies is called. gin does not expose the trusted
// proxies, so it asks the engine: a probe request from a peer no one
// lists as a proxy, with a forged header, through c's engine.
func (m *middleware) checkClientIPSource(c *gin.Context) {
	if la, ok := c.Request.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && strings.HasPrefix(la.Network(), "unix") {
		return // gin trusts a Unix socket's peer, a local proxy, by design
	}
	probe := c.Copy()
	probe.Request = &http.Request{
		RemoteAddr: probePeer,
		Header:     http.Header{"X-Forwarded-For": {probeClient}, "X-Real-Ip": {probeClient}},
	}
	if probe.ClientIP() != probeClient {
		return
	}
	m.cfg.logger.LogAttrs(c.Request.Context(), slog.LevelWarn,
		"securesession: Options.RecordClientInfo records gin's ClientIP, and this engine trusts "+
			"X-Forwarded-For and X-Real-IP from any peer: a client chooses the IP address recorded with "+
			"its session and shown on an active-sessions page. Call engine.SetTrustedProxies with the "+
			"addresses of your reverse proxies, or with nil if there is none")
}

// TokenHeader is the response header that carries a session's new token to
// a client that sent its session in an Authorization header (see
// Options.AuthorizationHeader), whenever the token changes: after
// LoginToken, Login, Rotate, or a re-seal by the cookie backend. The client
// must use the new token from then on.
const TokenHeader = "Session-Token"

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header. The scheme is case-insensitive (RFC 9110); anything else,
// including several Authorization headers, is not a bearer token.
func bearerToken(h http.Header) (string, bool) {
	v := h["Authorization"]
	if len(v) != 1 {
		return "", false
	}
	const scheme = "bearer "
	if len(v[0]) <= len(scheme) || !strings.EqualFold(v[0][:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(v[0][len(scheme):])
	return tok, tok != ""
}
