package memory

import (
	"net/http"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"
)

// Get implements gin-contrib's sessions.Store for sessions.Sessions(name,
// store).
func (s *Store) Get(r *http.Request, name string) (*gsessions.Session, error) {
	return s.compat.Get(r, name)
}

// New implements gorilla's Store.New for gin-contrib's sessions.Store.
func (s *Store) New(r *http.Request, name string) (*gsessions.Session, error) {
	return s.compat.New(r, name)
}

// Save implements gorilla's Store.Save for gin-contrib's sessions.Store.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *gsessions.Session) error {
	return s.compat.Save(r, w, sess)
}

// Options implements gin-contrib's sessions.Store.
func (s *Store) Options(o sessions.Options) { s.compat.Options(o) }
