package securesession

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"

	"github.com/gin-securesession/securesession/internal/cachehdr"
	"github.com/gin-securesession/securesession/internal/cookiehdr"
	"github.com/gin-securesession/securesession/internal/values"
)

// GinContribStore serves any Backend as gin-contrib's sessions.Store, so
// that an application can mount it with sessions.Sessions(name, store)
// unchanged, or a third-party backend gets plain gin-contrib support for
// free. It decides timeouts with the same code as the middleware.
//
// It keeps what gin-contrib's API can carry of the library's guarantees:
// the backend's record format and keyed storage; strict IDs (an unknown or
// tampered token yields a new session and nothing is written for it);
// server-side idle and absolute timeouts from Options; HttpOnly and Secure
// on every cookie (Secure dropped only as Options.InsecureAllowHTTP
// allows), SameSite=Lax and Path=/ unless set otherwise; logout through
// session.Options(sessions.Options{MaxAge: -1}) deleting the server record
// and expiring the cookie with its full attributes; Cache-Control: no-store
// and Vary: Cookie on every response whose Save sets or expires the cookie.
//
// What it cannot do is what gin-contrib's API has no words for: login
// rotation, failing closed on an outage (gin-contrib logs the error and
// carries on), cross-origin protection, saving without Save, and caching
// rules for responses that do not Save. gin-contrib's Sessions middleware
// hands a store the request but never the response before the handler
// writes it, so Get cannot mark a read-only response for a logged-in user
// no-store, and a Cache-Control the handler sets after Save replaces the
// store's: an application on this path must send Cache-Control: no-store on
// its private pages itself. For all of those, use New.
//
// A GinContribStore is safe for concurrent use; Options may be called
// while requests are served.
type GinContribStore struct {
	b    Backend
	cfg  *config
	opts atomic.Pointer[sessions.Options]
}

// NewGinContribStore returns b as a gin-contrib sessions.Store. Of opts it
// uses the timeouts, InsecureAllowHTTP, RecordClientInfo, the event hooks
// and the clock; the cookie name is the one given to sessions.Sessions,
// and the cookie attributes come from opts and from the store's Options
// method. It returns an error naming the field for an invalid opts, as New
// does.
func NewGinContribStore(b Backend, opts Options) (*GinContribStore, error) {
	if b == nil {
		return nil, errors.New("securesession: NewGinContribStore: backend is nil")
	}
	cfg, err := opts.compile()
	if err != nil {
		return nil, err
	}
	s := &GinContribStore{b: b, cfg: cfg}
	s.opts.Store(&sessions.Options{Path: cfg.path, Domain: cfg.domain, SameSite: cfg.sameSite})
	return s, nil
}

// stateKey holds, in a gorilla session's Values, what the store needs to
// save the session again: the token and the record read. It is an
// unexported type, so no application key can collide with it, and it is
// never encoded.
type stateKey struct{}

type compatState struct {
	token string
	rec   Record
	err   error // a backend failure at load: Save refuses to write
}

// Options sets the cookie attributes for sessions loaded after the call.
// Unlike gin-contrib's own stores it does not let a partial Options strip
// the security attributes: HttpOnly and Secure are always set, an empty
// Path means "/" and SameSite 0 means Lax.
func (s *GinContribStore) Options(o sessions.Options) {
	s.opts.Store(&o)
}

// Get returns the session for name; see New.
func (s *GinContribStore) Get(r *http.Request, name string) (*gsessions.Session, error) {
	return s.New(r, name)
}

// New loads the session for name from the request's cookie, or returns a
// new, empty session. A missing, expired, unknown or tampered cookie gives
// a new session and a nil error. A backend failure gives a new session and
// the error; that session refuses to Save, so an outage never overwrites or
// forks the real session.
func (s *GinContribStore) New(r *http.Request, name string) (*gsessions.Session, error) {
	cfg := s.cfg
	ctx := r.Context()
	sess := gsessions.NewSession(s, name)
	o := *s.opts.Load()
	sess.Options = &gsessions.Options{Path: o.Path, Domain: o.Domain, MaxAge: o.MaxAge, Secure: true, HttpOnly: true, SameSite: o.SameSite, Partitioned: s.cfg.partitioned}
	sess.IsNew = true
	tok, ok := cookiehdr.Get(r.Header, name)
	if !ok || tok == "" {
		return sess, nil
	}
	if len(name)+1+len(tok) > MaxCookieSize {
		cfg.emit(ctx, Event{Kind: EventRejected, Session: fingerprint(tok), Reason: string(RejectOversized)})
		return sess, nil
	}
	rec, found, err := s.b.Find(ctx, name, tok)
	switch {
	case errors.Is(err, ErrInvalidToken):
		cfg.emit(ctx, Event{Kind: EventRejected, Session: fingerprint(tok), Reason: rejectReason(err)})
		return sess, nil
	case err != nil:
		err = backendErr("find", err)
		cfg.emit(ctx, Event{Kind: EventBackendError, Err: err})
		sess.Values[stateKey{}] = &compatState{err: err}
		return sess, fmt.Errorf("securesession: load session %q: %w", name, err)
	case !found:
		cfg.emit(ctx, Event{Kind: EventUnknown, Session: fingerprint(tok)})
		return sess, nil
	}
	if kind := cfg.expiry(&rec, cfg.now()); kind != 0 {
		cfg.emit(ctx, Event{Kind: kind, Session: shortHandle(rec.Handle), UserID: rec.UserID})
		_ = s.b.Delete(ctx, name, tok) // best effort: the record is refused either way
		return sess, nil
	}
	vals, err := values.Decode(rec.Values)
	if err != nil {
		cfg.emit(ctx, Event{Kind: EventBackendError, Session: shortHandle(rec.Handle),
			Err: backendErr("decode", fmt.Errorf("stored session values: %w", err))})
		return sess, nil
	}
	sess.Values = vals
	sess.Values[stateKey{}] = &compatState{token: tok, rec: rec}
	sess.ID = rec.Handle
	sess.IsNew = false
	return sess, nil
}

// Save writes the session and its cookie. With Options.MaxAge < 0 it
// deletes the server record and expires the cookie instead, and so it does
// after gin-contrib's Clear (which deletes every value, the store's state
// included): Clear followed by Save is a logout, and values set after
// Clear start a new session under a new token.
func (s *GinContribStore) Save(r *http.Request, w http.ResponseWriter, sess *gsessions.Session) error {
	cfg := s.cfg
	ctx := r.Context()
	name := sess.Name()
	st, _ := sess.Values[stateKey{}].(*compatState)
	if st != nil && st.err != nil {
		return fmt.Errorf("securesession: session %q was not loaded, refusing to overwrite it: %w", name, st.err)
	}
	attrs, err := s.attrs(r, name, sess.Options)
	if err != nil {
		return err
	}
	now := cfg.now()
	cfg.checkPlainHTTP(ctx, cfg.transport(r), attrs.Secure)
	// A stored session whose state is gone was cleared: every value was
	// deleted, so the tokens that name it are those of the request's
	// cookie and of a Set-Cookie already written in this request.
	cleared := st == nil && sess.ID != ""
	if cleared || attrs.MaxAge < 0 {
		var toks []string
		var old Record
		if st != nil {
			toks, old = append(toks, st.token), st.rec
		}
		if cleared {
			if tok, ok := cookiehdr.Get(r.Header, name); ok {
				toks = append(toks, tok)
			}
			toks = append(toks, issuedToken(w.Header(), name))
			old.Handle = sess.ID
		}
		ended := false
		for _, tok := range toks {
			if tok == "" {
				continue
			}
			err := s.b.Delete(ctx, name, tok)
			if err != nil && !errors.Is(err, ErrCannotRevoke) && !errors.Is(err, ErrInvalidToken) {
				return fmt.Errorf("securesession: delete session %q: %w", name, backendErr("delete", err))
			}
			ended = true
		}
		if ended {
			cfg.emit(ctx, Event{Kind: EventLoggedOut, Session: shortHandle(old.Handle), UserID: old.UserID})
		}
		delete(sess.Values, stateKey{})
		sess.ID = ""
		if attrs.MaxAge < 0 || len(sess.Values) == 0 {
			clear(sess.Values)
			attrs.MaxAge = -1
			cookiehdr.Replace(w.Header(), name, cookiehdr.String(&attrs, "", now))
			cachehdr.NoStore(w.Header())
			return nil
		}
		st = nil // the values set after Clear: a new session, below
	}
	m := make(map[any]any, len(sess.Values))
	for k, v := range sess.Values {
		if _, skip := k.(stateKey); !skip {
			m[k] = v
		}
	}
	enc, err := values.Encode(nil, m)
	if err != nil {
		return fmt.Errorf("securesession: encode session %q: %w", name, err)
	}
	var rec Record
	var tok string
	if st == nil || st.token == "" {
		rec = cfg.newRecord("", now)
		rec.Values = enc
		if cfg.recordClient {
			rec.UserAgent = truncate(r.UserAgent(), 512)
		}
		tok, err = s.b.Create(ctx, name, &rec)
		if err == nil {
			cfg.emit(ctx, Event{Kind: EventCreated, Session: shortHandle(rec.Handle)})
		}
	} else {
		rec = st.rec
		rec.Values = enc
		rec.Reissue = false
		cfg.seen(&rec, now)
		tok, err = s.b.Update(ctx, name, st.token, &rec)
	}
	if err != nil {
		return fmt.Errorf("securesession: save session %q: %w", name, classify("save", err))
	}
	if attrs.MaxAge > 0 {
		attrs.MaxAge = cfg.cookieMaxAge(time.Duration(attrs.MaxAge)*time.Second, &rec, now)
	}
	if size := len(name) + 1 + len(tok); size > MaxCookieSize {
		return fmt.Errorf("securesession: session %q: cookie is %d bytes, over the %d-byte limit: %w", name, size, MaxCookieSize, ErrTooLarge)
	}
	cookiehdr.Replace(w.Header(), name, cookiehdr.String(&attrs, tok, now))
	cachehdr.NoStore(w.Header())
	sess.ID = rec.Handle
	sess.IsNew = false
	sess.Values[stateKey{}] = &compatState{token: tok, rec: rec}
	return nil
}

// issuedToken returns the value of a Set-Cookie for name in h, or "".
func issuedToken(h http.Header, name string) string {
	for _, line := range h["Set-Cookie"] {
		if len(line) > len(name) && line[len(name)] == '=' && line[:len(name)] == name {
			v, _, _ := strings.Cut(line[len(name)+1:], ";")
			return v
		}
	}
	return ""
}

// attrs returns the cookie attributes for a response to r: the
// middleware's, with what the application set through gin-contrib's
// Options in their place, and the security attributes always on.
func (s *GinContribStore) attrs(r *http.Request, name string, o *gsessions.Options) (cookiehdr.Attrs, error) {
	a := s.cfg.attrs(s.cfg.transport(r))
	a.Name = name
	if o != nil {
		a.Domain, a.Path, a.MaxAge, a.Partitioned = o.Domain, o.Path, o.MaxAge, o.Partitioned || a.Partitioned
		if o.SameSite != 0 && o.SameSite != http.SameSiteDefaultMode {
			a.SameSite = o.SameSite
		}
	}
	if a.Path == "" {
		a.Path = "/"
	}
	a.MaxAge = min(a.MaxAge, int(MaxCookieLifetime/time.Second))
	if strings.HasPrefix(strings.ToLower(name), "__host-") && (a.Domain != "" || a.Path != "/") {
		return a, fmt.Errorf("securesession: cookie %q: the __Host- prefix requires no Domain and Path=/", name)
	}
	return a, nil
}
