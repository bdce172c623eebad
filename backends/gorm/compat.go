package gorm

import (
	"net/http"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/gincompat"
)

var (
	_ securesession.Backend = (*Store)(nil)
	_ securesession.Lister  = (*Store)(nil)
	_ sessions.Store        = (*Store)(nil)
)

// initCompat wires the adapter that makes the Store a plain gin-contrib
// sessions.Store too, on the Store's clock.
func (s *Store) initCompat() {
	s.compat = gincompat.New(s)
	s.compat.SetClock(s.now)
}

// Get implements gin-contrib's sessions.Store (gorilla's Store.Get) for
// sessions.Sessions(name, store); see the securesession gincompat
// documentation for what that mode guarantees. Safe for concurrent use.
func (s *Store) Get(r *http.Request, name string) (*gsessions.Session, error) {
	return s.compat.Get(r, name)
}

// New implements gorilla's Store.New for gin-contrib's sessions.Store: it
// loads the session the request's cookie names (one SELECT) or returns a
// new, empty one. Safe for concurrent use.
func (s *Store) New(r *http.Request, name string) (*gsessions.Session, error) {
	return s.compat.New(r, name)
}

// Save implements gorilla's Store.Save for gin-contrib's sessions.Store: it
// writes the session and its cookie, or deletes the row and expires the
// cookie when Options.MaxAge < 0. Safe for concurrent use.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *gsessions.Session) error {
	return s.compat.Save(r, w, sess)
}

// Options implements gin-contrib's sessions.Store: it sets the cookie
// attributes of sessions loaded afterwards (HttpOnly and Secure are always
// on; default Path "/" and SameSite Lax). Safe for concurrent use.
func (s *Store) Options(o sessions.Options) {
	s.compat.Options(o)
}
