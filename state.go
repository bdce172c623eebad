package securesession

import (
	"errors"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// session is the per-request session: the state the other files read and
// change. Its gin-contrib methods are in session.go, its writes in
// commit.go. Like gin.Context it is not safe for concurrent use.
type session struct {
	m *middleware
	c *gin.Context
	w respWriter
	t time.Time // the request's time, read once from the clock

	tr   transport // how the browser reached the application
	name string    // the cookie name for this request, also passed to the backend

	token   string // the valid token this request presented or was issued; "" if none
	rec     Record // the record token names, when token != ""
	next    Record // scratch: the record a write passes to the backend (commit.go)
	vals    map[any]any
	maxAge  int              // from Session.Options; 0 = the session's default (remember.go)
	pending *pendingRotation // a Login or Rotate to write at the next save
	want    want             // what the next save must do besides the values
	phase   phase            // where the automatic save stands

	carried   bool // the request carried a session cookie or bearer token (valid or not)
	viaHeader bool // the session travels in the Authorization header, not a cookie
	accessed  bool // the handler read or wrote the session
	dirty     bool // values changed since the last save
	broken    bool // stored values could not be decoded; never overwrite them
	bound     bool // DBSC: this request carried a valid bound cookie (bound.go)
	held      bool // DBSC: a bound session came without one; the request is anonymous
}

// want is a change the next save must make beyond writing changed values.
type want uint8

const (
	wantNothing want = iota
	wantLogout       // Session.Options(MaxAge<0): log out at save
)

// phase is where the automatic save stands. It moves forward only, except
// that a change after a refused Save reopens it.
type phase uint8

const (
	phaseOpen         phase = iota // the automatic save is still to come
	phaseRefused                   // an explicit Save failed and the handler saw it; no automatic retry until the session changes again
	phaseSaved                     // the automatic save ran, or is running
	phaseErrorHandler              // it failed and Options.ErrorHandler is writing the answer
	phaseFailed                    // it failed and the answer is written: the handler's own body is dropped
)

// pendingRotation is a Login or Rotate not yet written to the backend: the
// new record is in session.rec, and the token it replaces is here.
type pendingRotation struct {
	oldToken  string
	oldOpaque any
	oldHandle string
	oldRec    Record      // the session as it was, restored if a login is refused
	oldVals   map[any]any // its values, likewise
	oldDirty  bool
	op        string
}

// current returns the request's session, or ErrNoMiddleware.
func current(c *gin.Context) (*session, error) {
	v, ok := c.Get(sessions.DefaultKey)
	if !ok {
		return nil, ErrNoMiddleware
	}
	s, ok := v.(*session)
	if !ok {
		return nil, ErrNoMiddleware
	}
	return s, nil
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

// changed records a modification by the handler; it reopens the automatic
// save after a refused explicit Save.
func (s *session) changed() {
	s.dirty = true
	if s.phase == phaseRefused {
		s.phase = phaseOpen
	}
}

// reset forgets the session: what follows in the request is anonymous.
func (s *session) reset() {
	s.token, s.rec, s.vals, s.pending = "", Record{}, nil, nil
	s.dirty, s.want, s.broken, s.maxAge = false, wantNothing, false, 0
	s.bound = false
}

// report emits a backend-error event for err if it is a *BackendError
// returned to the handler, so monitoring sees every outage whoever handles
// it, and returns err.
func (s *session) report(err error) error {
	var be *BackendError
	if errors.As(err, &be) {
		s.m.cfg.emit(s.c.Request.Context(), Event{Kind: EventBackendError, Session: shortHandle(s.rec.Handle), UserID: s.rec.UserID, Err: err})
	}
	return err
}

// clientInfo records the client metadata in rec if Options.RecordClientInfo.
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
