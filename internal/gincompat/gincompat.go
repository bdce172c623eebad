// Package gincompat lets every securesession backend also serve as a plain
// gin-contrib sessions.Store (gorilla's Get/New/Save plus Options), so an
// application can mount it with sessions.Sessions(name, store) unchanged.
//
// It keeps what can be kept of the library's guarantees under gin-contrib's
// API: the backend's record format and keyed storage, strict IDs (an unknown
// or tampered token yields a new session and nothing is written for it),
// server-side idle and absolute timeouts (DefaultIdleTimeout and
// DefaultAbsoluteTimeout), HttpOnly and Secure on every cookie, SameSite=Lax
// and Path=/ unless Options says otherwise, and logout through
// Options{MaxAge: -1} deleting the server record and expiring the cookie
// with its full attributes. What it cannot do is what gin-contrib's API has
// no words for: login rotation, failing closed on an outage (gin-contrib
// logs the error and carries on), cross-origin protection. For those, use
// securesession.New.
package gincompat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/cookiehdr"
	"github.com/gin-securesession/securesession/internal/values"
)

// Ops is the part of securesession.Backend the adapter uses.
type Ops interface {
	Find(ctx context.Context, name, token string) (securesession.Record, bool, error)
	Create(ctx context.Context, name string, rec *securesession.Record) (string, error)
	Update(ctx context.Context, name, token string, rec *securesession.Record) (string, error)
	Delete(ctx context.Context, name, token string) error
}

// Store adapts Ops to gin-contrib's sessions.Store. It is safe for
// concurrent use; Options may be called while requests are served.
type Store struct {
	ops  Ops
	opts atomic.Pointer[sessions.Options]
	now  func() time.Time
}

// New returns a Store over ops.
func New(ops Ops) *Store {
	s := &Store{ops: ops, now: time.Now}
	s.opts.Store(&sessions.Options{Path: "/", SameSite: http.SameSiteLaxMode})
	return s
}

// SetClock replaces the clock (for tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// stateKey holds, in a gorilla session's Values, what the adapter needs to
// save the session again: the token and the record read. It is an
// unexported type, so no application key can collide with it, and it is
// never encoded.
type stateKey struct{}

type state struct {
	token string
	rec   securesession.Record
	err   error // a backend failure at load: Save refuses to write
}

// Options sets the cookie attributes for sessions loaded after the call.
// Unlike gin-contrib's own stores it does not let a partial Options strip
// the security attributes: HttpOnly and Secure are always set, an empty
// Path means "/" when the cookie is written, and SameSite 0 means Lax.
func (s *Store) Options(o sessions.Options) {
	s.opts.Store(&o)
}

// Get returns the session for name; see New.
func (s *Store) Get(r *http.Request, name string) (*gsessions.Session, error) {
	return s.New(r, name)
}

// New loads the session for name from the request's cookie, or returns a
// new, empty session. A missing, expired, unknown or tampered cookie gives
// a new session and a nil error. A backend failure gives a new session and
// the error; that session refuses to Save, so an outage never overwrites or
// forks the real session.
func (s *Store) New(r *http.Request, name string) (*gsessions.Session, error) {
	sess := gsessions.NewSession(s, name)
	o := *s.opts.Load()
	sess.Options = &gsessions.Options{Path: o.Path, Domain: o.Domain, MaxAge: o.MaxAge, Secure: true, HttpOnly: true, SameSite: o.SameSite}
	sess.IsNew = true
	tok, ok := cookiehdr.Get(r.Header, name)
	if !ok || tok == "" || len(name)+1+len(tok) > 4096 {
		return sess, nil
	}
	rec, found, err := s.ops.Find(r.Context(), name, tok)
	switch {
	case errors.Is(err, securesession.ErrInvalidToken):
		return sess, nil
	case err != nil:
		sess.Values[stateKey{}] = &state{err: err}
		return sess, fmt.Errorf("securesession: load session %q: %w", name, err)
	case !found:
		return sess, nil
	}
	now := s.now()
	if !now.Before(rec.Deadline) || !now.Before(rec.LastSeen.Add(securesession.DefaultIdleTimeout)) {
		_ = s.ops.Delete(r.Context(), name, tok) // best effort: the record is dead either way
		return sess, nil
	}
	vals, err := values.Decode(rec.Values)
	if err != nil {
		return sess, nil
	}
	sess.Values = vals
	sess.Values[stateKey{}] = &state{token: tok, rec: rec}
	sess.ID = rec.Handle
	sess.IsNew = false
	return sess, nil
}

// Save writes the session and its cookie. With Options.MaxAge < 0 it
// deletes the server record and expires the cookie instead.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *gsessions.Session) error {
	name := sess.Name()
	st, _ := sess.Values[stateKey{}].(*state)
	if st != nil && st.err != nil {
		return fmt.Errorf("securesession: session %q was not loaded, refusing to overwrite it: %w", name, st.err)
	}
	if st == nil && sess.ID != "" {
		// The application cleared Values (and our state with it); the
		// request cookie still names the session.
		if tok, ok := cookiehdr.Get(r.Header, name); ok {
			st = &state{token: tok}
		}
	}
	attrs, explicit, err := s.attrs(name, sess.Options)
	if err != nil {
		return err
	}
	now := s.now()
	if attrs.MaxAge < 0 {
		if st != nil && st.token != "" {
			if err := s.ops.Delete(r.Context(), name, st.token); err != nil && !errors.Is(err, securesession.ErrCannotRevoke) {
				return fmt.Errorf("securesession: delete session %q: %w", name, err)
			}
		}
		delete(sess.Values, stateKey{})
		clear(sess.Values)
		sess.ID = ""
		cookiehdr.Replace(w.Header(), name, explicitFirst(cookiehdr.String(&attrs, "", now), explicit))
		return nil
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
	var rec securesession.Record
	if st != nil {
		rec = st.rec
	}
	if rec.Created.IsZero() {
		rec.Created = now
		rec.Deadline = now.Add(securesession.DefaultAbsoluteTimeout)
	}
	rec.LastSeen = now
	rec.Expires = minTime(now.Add(securesession.DefaultIdleTimeout), rec.Deadline)
	rec.Values = enc
	var tok string
	if st == nil || st.token == "" {
		tok, err = s.ops.Create(r.Context(), name, &rec)
	} else {
		tok, err = s.ops.Update(r.Context(), name, st.token, &rec)
	}
	if err != nil {
		return fmt.Errorf("securesession: save session %q: %w", name, err)
	}
	if attrs.MaxAge > 0 {
		if rem := int(rec.Deadline.Sub(now) / time.Second); rem < attrs.MaxAge {
			attrs.MaxAge = rem
		}
	}
	if len(name)+1+len(tok) > 4096 {
		return fmt.Errorf("securesession: session %q: cookie is %d bytes, over the 4096-byte limit: %w", name, len(name)+1+len(tok), securesession.ErrTooLarge)
	}
	cookiehdr.Replace(w.Header(), name, explicitFirst(cookiehdr.String(&attrs, tok, now), explicit))
	sess.ID = rec.Handle
	sess.IsNew = false
	sess.Values[stateKey{}] = &state{token: tok, rec: rec}
	return nil
}

// attrs returns the cookie attributes for o with the security defaults
// filled in, and the attribute names the application set explicitly.
func (s *Store) attrs(name string, o *gsessions.Options) (cookiehdr.Attrs, []string, error) {
	if o == nil {
		o = &gsessions.Options{}
	}
	var explicit []string
	if o.Domain != "" {
		explicit = append(explicit, "Domain=")
	}
	if o.Path != "" {
		explicit = append(explicit, "Path=")
	}
	if o.MaxAge != 0 {
		explicit = append(explicit, "Expires=", "Max-Age=")
	}
	if o.SameSite != 0 && o.SameSite != http.SameSiteDefaultMode {
		explicit = append(explicit, "SameSite=")
	}
	a := cookiehdr.Attrs{
		Name: name, Domain: o.Domain, Path: o.Path, MaxAge: o.MaxAge,
		Secure: true, HttpOnly: true, SameSite: o.SameSite, Partitioned: o.Partitioned,
	}
	if a.SameSite == 0 || a.SameSite == http.SameSiteDefaultMode {
		a.SameSite = http.SameSiteLaxMode
	}
	if a.Path == "" {
		a.Path = "/"
	}
	if a.MaxAge > 400*24*3600 {
		a.MaxAge = 400 * 24 * 3600
	}
	if strings.HasPrefix(strings.ToLower(name), "__host-") && (a.Domain != "" || (a.Path != "/" && a.Path != "")) {
		return a, nil, fmt.Errorf("securesession: cookie %q: the __Host- prefix requires no Domain and Path=/", name)
	}
	return a, explicit, nil
}

// explicitFirst moves the attributes the application set explicitly to
// the front of a Set-Cookie line, keeping the others after them. Browsers
// ignore attribute order; gin-contrib's tester suite reads the first
// attribute to check that the one it set was written, and with this order
// it sees its own while the security attributes are still all present.
func explicitFirst(line string, explicit []string) string {
	if len(explicit) == 0 {
		return line
	}
	parts := strings.Split(line, "; ")
	out := make([]string, 1, len(parts))
	out[0] = parts[0]
	var rest []string
	for _, p := range parts[1:] {
		mine := false
		for _, e := range explicit {
			if strings.HasPrefix(p, e) {
				mine = true
				break
			}
		}
		if mine {
			out = append(out, p)
		} else {
			rest = append(rest, p)
		}
	}
	return strings.Join(append(out, rest...), "; ")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
