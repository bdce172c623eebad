package securesession

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession/internal/cookiehdr"
	"github.com/gin-securesession/securesession/internal/values"
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
//     timeout (throttled by Options.TouchInterval).
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
	return m.handle, nil
}

type middleware struct {
	b      Backend
	lister Lister
	cfg    *config
}

func (m *middleware) handle(c *gin.Context) {
	cookieTok, hasCookie := cookiehdr.Get(c.Request.Header, m.cfg.name)
	var bearerTok string
	var hasBearer bool
	if m.cfg.bearer {
		bearerTok, hasBearer = bearerToken(c.Request.Header)
	}
	if hasCookie && hasBearer {
		// Never merge two credentials: which one would win is exactly
		// what an attacker who can set one of them wants to choose.
		m.emit(c.Request.Context(), Event{Kind: EventRejected, Reason: "both a session cookie and an Authorization header"})
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "send the session in the cookie or in the Authorization header, not both"})
		return
	}
	// A browser attaches cookies to cross-site requests on its own but
	// never an Authorization header, so only cookie-borne (or
	// session-less) requests need the cross-origin check.
	if m.cfg.crossOrigin != nil && !hasBearer {
		if err := m.cfg.crossOrigin.Check(c.Request); err != nil {
			m.emit(c.Request.Context(), Event{Kind: EventCrossOriginDenied, Err: err})
			m.cfg.crossOriginDeny(c, err)
			c.Abort()
			return
		}
	}
	s := &session{m: m, c: c, viaHeader: hasBearer}
	tok := cookieTok
	if hasBearer {
		tok = bearerTok
		c.Writer.Header().Set("Cache-Control", "no-store")
	}
	if hasCookie || hasBearer {
		s.hadCookie = true
		if err := s.load(tok); err != nil {
			m.emit(c.Request.Context(), Event{Kind: EventBackendError, Err: err})
			m.cfg.errorHandler(c, err)
			c.Abort()
			return
		}
	}
	c.Set(sessions.DefaultKey, s)
	s.w.ResponseWriter = c.Writer
	s.w.s = s
	c.Writer = &s.w
	c.Next()
	c.Writer = s.w.ResponseWriter
	if s.viaHeader && !c.Writer.Written() {
		c.Writer.Header().Set("Cache-Control", "no-store")
	}
	if !s.committed && !s.saveFailed {
		s.committed = true
		if err := s.commit(!c.Writer.Written()); err != nil {
			s.fail(err)
		}
	}
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

// session is the per-request session. It implements gin-contrib's
// sessions.Session. Like gin.Context it is not safe for concurrent use.
type session struct {
	m *middleware
	c *gin.Context
	w respWriter

	token  string // the valid token this request presented or was issued; "" if none
	rec    Record // the record token names, when token != ""
	vals   map[any]any
	maxAge int // from Session.Options; 0 = Options.RememberFor

	hadCookie     bool // the request carried a session cookie or bearer token (valid or not)
	viaHeader     bool // the session travels in the Authorization header, not a cookie
	accessed      bool // the handler read or wrote the session
	dirty         bool // values changed since the last save
	logoutPending bool // Session.Options(MaxAge<0): log out at save
	committed     bool // the end-of-request save ran (or is running)
	inErrHandler  bool
	failed        bool // saving failed; the error response has been written
	broken        bool // stored values could not be decoded; never overwrite them

	pending *pendingRotation // a Login or Rotate to write at the next save
	// saveFailed: an explicit Save returned an error the handler has seen;
	// the automatic save does not retry behind its back until the session
	// changes again.
	saveFailed bool
	t          time.Time // the request's time, read once from the clock
}

// now returns the time of this request: the clock is read once, so every
// decision in one request uses the same instant.
func (s *session) now() time.Time {
	if s.t.IsZero() {
		s.t = s.m.cfg.now()
	}
	return s.t
}

func (s *session) pendingOldToken() string {
	if s.pending == nil {
		return ""
	}
	return s.pending.oldToken
}

// load reads the session named by tok. It returns an error only for a
// backend failure; every other problem leaves the session anonymous.
func (s *session) load(tok string) error {
	m := s.m
	ctx := s.c.Request.Context()
	if tok == "" {
		return nil
	}
	if len(m.cfg.name)+1+len(tok) > MaxCookieSize {
		m.emit(ctx, Event{Kind: EventRejected, Session: fingerprint(tok), Reason: "oversized cookie"})
		return nil
	}
	rec, found, err := m.b.Find(ctx, m.cfg.name, tok)
	switch {
	case errors.Is(err, ErrInvalidToken):
		m.emit(ctx, Event{Kind: EventRejected, Session: fingerprint(tok), Reason: reason(err)})
		return nil
	case err != nil:
		return backendErr("find", err)
	case !found:
		m.emit(ctx, Event{Kind: EventUnknown, Session: fingerprint(tok)})
		return nil
	}
	now := s.now()
	var kind EventKind
	switch {
	case !now.Before(rec.Deadline):
		kind = EventExpiredAbsolute
	case !now.Before(rec.LastSeen.Add(m.cfg.idle)):
		kind = EventExpiredIdle
	}
	if kind != 0 {
		m.emit(ctx, Event{Kind: kind, Session: shortHandle(rec.Handle), UserID: rec.UserID})
		if err := m.b.Delete(ctx, m.cfg.name, tok); err != nil && !errors.Is(err, ErrCannotRevoke) {
			// The record is refused either way; the failure only delays
			// its removal, so it is reported and not fatal.
			m.emit(ctx, Event{Kind: EventBackendError, Session: shortHandle(rec.Handle), Err: backendErr("delete", err)})
		}
		return nil
	}
	s.token, s.rec = tok, rec
	return nil
}

// reason extracts a short, token-free reason from a rejection error.
func reason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasSuffix(msg, ErrInvalidToken.Error()) {
		return strings.TrimPrefix(msg[:i], "securesession: ")
	}
	return "invalid token"
}

// values returns the decoded values, decoding them on first use.
func (s *session) values() map[any]any {
	s.accessed = true
	if s.vals == nil {
		if s.token != "" && len(s.rec.Values) > 0 {
			v, err := values.Decode(s.rec.Values)
			if err != nil {
				s.broken = true
				s.m.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle),
					Err: backendErr("decode", fmt.Errorf("stored session values: %w", err))})
				v = make(map[any]any)
			}
			s.vals = v
		} else {
			s.vals = make(map[any]any)
		}
	}
	return s.vals
}

// ID returns the session's Handle: a stable, non-secret identifier safe to
// log (never the token, which is a credential). It is "" for a session that
// has not been stored yet.
func (s *session) ID() string {
	s.accessed = true
	if s.token == "" {
		return ""
	}
	return s.rec.Handle
}

func (s *session) Get(key any) any { return s.values()[key] }

func (s *session) Set(key, val any) {
	s.values()[key] = val
	s.changed()
}

func (s *session) Delete(key any) {
	v := s.values()
	if _, ok := v[key]; ok {
		delete(v, key)
		s.changed()
	}
}

func (s *session) Clear() {
	v := s.values()
	if len(v) > 0 {
		clear(v)
		s.changed()
	}
}

const flashKey = "_flash"

func (s *session) AddFlash(value any, vars ...string) {
	key := flashKey
	if len(vars) > 0 {
		key = vars[0]
	}
	v := s.values()
	fl, _ := v[key].([]any)
	v[key] = append(fl, value)
	s.changed()
}

func (s *session) Flashes(vars ...string) []any {
	key := flashKey
	if len(vars) > 0 {
		key = vars[0]
	}
	v := s.values()
	fl, ok := v[key].([]any)
	if !ok {
		return nil
	}
	delete(v, key)
	s.changed()
	return fl
}

// Options applies gin-contrib's per-session options the way a user of
// gin-contrib means them, without weakening the cookie: MaxAge < 0 logs
// the session out at Save (server record deleted, cookie expired with its
// full attributes), MaxAge > 0 makes this session's cookie persistent for
// that many seconds (capped by the absolute timeout and 400 days), and
// MaxAge 0 restores Options.RememberFor. Path, Domain, Secure, HttpOnly
// and SameSite are fixed by securesession.Options and ignored here.
func (s *session) Options(o sessions.Options) {
	s.accessed = true
	switch {
	case o.MaxAge < 0:
		s.logoutPending = true
		s.saveFailed = false
	case o.MaxAge > 0:
		s.maxAge = min(o.MaxAge, int(MaxCookieLifetime/time.Second))
		s.changed()
	default:
		s.maxAge = 0
	}
}

// Save stores the session now and sets its cookie. It returns
// ErrHeadersWritten if the response headers are already out, a
// *BackendError if the backend failed and ErrTooLarge if the session does
// not fit. Calling it is optional: a changed session is saved before the
// response headers are written.
func (s *session) Save() error {
	s.accessed = true
	if s.w.Written() {
		if s.dirty || s.logoutPending || s.pending != nil {
			return ErrHeadersWritten
		}
		return nil
	}
	err := s.commit(true)
	s.saveFailed = err != nil
	return s.report(err)
}

// report emits a backend-error event for err if it is a *BackendError
// returned to the handler, so monitoring sees every outage whoever handles
// it, and returns err.
func (s *session) report(err error) error {
	var be *BackendError
	if errors.As(err, &be) {
		s.m.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Err: err})
	}
	return err
}

// changed records a modification by the handler.
func (s *session) changed() {
	s.dirty = true
	s.saveFailed = false
}

// commit writes what the request changed: a pending logout, changed
// values, or (throttled) activity. canSetCookie is false once the headers
// are out; a change that needs a new cookie then fails with
// ErrHeadersWritten instead of leaving an orphan record.
func (s *session) commit(canSetCookie bool) error {
	if s.logoutPending {
		if !canSetCookie {
			return ErrHeadersWritten
		}
		return s.logout()
	}
	if s.pending != nil {
		return s.writePending(canSetCookie)
	}
	m := s.m
	ctx := s.c.Request.Context()
	now := s.now()
	switch {
	case s.dirty:
		if s.broken {
			return backendErr("decode", errors.New("refusing to overwrite session values that could not be decoded"))
		}
		enc, err := values.Encode(nil, s.vals)
		if err != nil {
			return fmt.Errorf("securesession: encode session values: %w", err)
		}
		if s.token == "" {
			if len(enc) == 0 {
				s.dirty = false // nothing to store: no session is created
				return nil
			}
			if !canSetCookie {
				return ErrHeadersWritten
			}
			rec := Record{Created: now, LastSeen: now, Deadline: now.Add(m.cfg.absolute), Values: enc}
			rec.Expires = earlier(now.Add(m.cfg.idle), rec.Deadline)
			s.clientInfo(&rec)
			tok, err := m.b.Create(ctx, m.cfg.name, &rec)
			if err != nil {
				return m.classify("create", err)
			}
			s.token, s.rec, s.dirty = tok, rec, false
			s.setCookie(tok, now)
			m.emit(ctx, Event{Kind: EventCreated, Session: shortHandle(rec.Handle)})
			return nil
		}
		rec := s.rec
		rec.Values = enc
		rec.LastSeen = now
		rec.Expires = earlier(now.Add(m.cfg.idle), rec.Deadline)
		rec.Reissue = false
		tok, err := m.b.Update(ctx, m.cfg.name, s.token, &rec)
		if err != nil {
			return s.writeFailed("update", err, now, canSetCookie)
		}
		s.dirty = false
		return s.adopt(tok, rec, now, canSetCookie)
	case s.token != "" && (s.rec.Reissue || (s.accessed && now.Sub(s.rec.LastSeen) >= m.cfg.touch)):
		rec := s.rec
		rec.LastSeen = now
		rec.Expires = earlier(now.Add(m.cfg.idle), rec.Deadline)
		rec.Reissue = false
		tok, err := m.b.Touch(ctx, m.cfg.name, s.token, &rec)
		if err != nil {
			return s.writeFailed("touch", err, now, canSetCookie)
		}
		return s.adopt(tok, rec, now, canSetCookie)
	}
	return nil
}

// adopt records the token and record a backend returned after a write and
// sends the cookie if the token changed (the cookie backend re-seals).
func (s *session) adopt(tok string, rec Record, now time.Time, canSetCookie bool) error {
	changed := tok != s.token
	s.token, s.rec = tok, rec
	if changed || s.maxAge != 0 {
		if !canSetCookie {
			return ErrHeadersWritten
		}
		s.setCookie(tok, now)
	}
	return nil
}

// writeFailed handles an Update or Touch error. ErrNoRecord means the
// session was logged out or revoked while this request ran: the change is
// dropped, the session is not re-created, and the cookie is expired.
func (s *session) writeFailed(op string, err error, now time.Time, canSetCookie bool) error {
	if !errors.Is(err, ErrNoRecord) {
		return s.m.classify(op, err)
	}
	s.m.emit(s.c.Request.Context(), Event{Kind: EventUnknown, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Reason: "ended during the request"})
	s.reset()
	if canSetCookie {
		s.expireCookie(now)
	}
	if op == "update" {
		return fmt.Errorf("securesession: save: %w", err)
	}
	return nil
}

// classify wraps a backend error: ErrTooLarge and ErrNoRecord pass
// through (wrapped), everything else becomes a *BackendError.
func (m *middleware) classify(op string, err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNoRecord) {
		return fmt.Errorf("securesession: %s: %w", op, err)
	}
	return backendErr(op, err)
}

// fail reports an error from the end-of-request save.
func (s *session) fail(err error) {
	m := s.m
	if errors.Is(err, ErrNoRecord) {
		return // handled: the session ended during the request
	}
	var be *BackendError
	if errors.As(err, &be) {
		m.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle), Err: err})
	}
	if s.c.Writer.Written() {
		_ = s.c.Error(err) // too late for another status; gin's error list has it
		return
	}
	s.inErrHandler = true
	m.cfg.errorHandler(s.c, err)
	s.inErrHandler = false
	s.failed = true
	s.c.Abort()
}

func (s *session) reset() {
	s.token, s.rec, s.vals, s.pending = "", Record{}, nil, nil
	s.dirty, s.logoutPending, s.broken, s.maxAge = false, false, false, 0
}

func (s *session) clientInfo(rec *Record) {
	if s.m.cfg.recordClient {
		rec.UserAgent = truncate(s.c.Request.UserAgent(), 512)
		rec.IP = truncate(s.c.ClientIP(), 64)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// attrs returns the cookie attributes for this request.
func (s *session) attrs() cookiehdr.Attrs {
	cfg := s.m.cfg
	return cookiehdr.Attrs{
		Name:        cfg.name,
		Domain:      cfg.domain,
		Path:        cfg.path,
		Secure:      !(cfg.insecureHTTP && s.c.Request.TLS == nil && isLoopback(s.c.Request.Host)),
		HttpOnly:    true,
		SameSite:    cfg.sameSite,
		Partitioned: cfg.partitioned,
	}
}

func (s *session) setCookie(tok string, now time.Time) {
	h := s.w.ResponseWriter.Header()
	if s.viaHeader {
		h.Set(TokenHeader, tok)
		h.Set("Cache-Control", "no-store")
		return
	}
	a := s.attrs()
	life := s.m.cfg.rememberFor
	if s.maxAge > 0 {
		life = time.Duration(s.maxAge) * time.Second
	}
	if life > 0 {
		if rem := s.rec.Deadline.Sub(now); rem < life {
			life = rem
		}
		a.MaxAge = max(int((life+time.Second/2)/time.Second), 1) // nearest second; the server enforces the exact deadline
	}
	cookiehdr.Replace(h, a.Name, cookiehdr.String(&a, tok, now))
	noStore(h)
}

func (s *session) expireCookie(now time.Time) {
	h := s.w.ResponseWriter.Header()
	if s.viaHeader {
		h.Del(TokenHeader)
		h.Set("Cache-Control", "no-store")
		return
	}
	a := s.attrs()
	a.MaxAge = -1
	cookiehdr.Replace(h, a.Name, cookiehdr.String(&a, "", now))
	noStore(h)
}

// noStore marks a response that carries a session cookie as uncacheable:
// a shared cache must never hand one user's Set-Cookie to another.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	for _, v := range h["Vary"] {
		if strings.Contains(strings.ToLower(v), "cookie") {
			return
		}
	}
	h.Add("Vary", "Cookie")
}

// isLoopback reports whether host (a Host header, maybe with a port) names
// the local machine.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// respWriter saves the session before the first byte of the response
// header goes out, so that a handler that forgets Save still persists its
// changes and gets its cookie.
type respWriter struct {
	gin.ResponseWriter
	s *session
}

func (w *respWriter) beforeHeaders() {
	s := w.s
	if w.ResponseWriter.Written() {
		return
	}
	if s.viaHeader {
		// A response to a token-authenticated request is private to that
		// client whatever the handler said.
		w.ResponseWriter.Header().Set("Cache-Control", "no-store")
	}
	if s.committed {
		return
	}
	s.committed = true
	if s.saveFailed {
		return
	}
	if err := s.commit(true); err != nil {
		s.fail(err)
	}
}

// dropBody reports whether the handler's body must be discarded because
// the save failed and an error response was written in its place.
func (w *respWriter) dropBody() bool { return w.s.failed && !w.s.inErrHandler }

func (w *respWriter) WriteHeaderNow() {
	w.beforeHeaders()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *respWriter) Write(b []byte) (int, error) {
	w.beforeHeaders()
	if w.dropBody() {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *respWriter) WriteString(str string) (int, error) {
	w.beforeHeaders()
	if w.dropBody() {
		return len(str), nil
	}
	return w.ResponseWriter.WriteString(str)
}

func (w *respWriter) Flush() {
	w.beforeHeaders()
	w.ResponseWriter.Flush()
}

func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.beforeHeaders()
	return w.ResponseWriter.Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
