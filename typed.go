package securesession

import (
	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// Get returns the value of the request's session under key if it holds a
// T, with true, and otherwise T's zero value and false: for a missing key,
// for a key set to nil, for a value of another type, and when no session
// middleware runs. It reads sessions.Default(c), so it works with
// gin-contrib's own sessions.Sessions middleware too.
//
// T must be the exact type stored, as with a type assertion: a stored int
// is not an int64, and a stored []string is not a []any. The values come
// back from the store with the type they were stored with. Without
// encoding/gob, and so without gob.Register, the store keeps:
//
//   - nil, bool, string;
//   - int, int8, int16, int32, int64, uint, uint8 (byte), uint16, uint32,
//     uint64, float32, float64;
//   - []byte, time.Time, time.Duration;
//   - []string, []int, []int64, []float64, []bool, map[string]string,
//     map[string]int, map[string]bool;
//   - []any and map[string]any holding any of these, nested up to 32
//     levels deep.
//
// Every other type, a defined type such as `type Role string` included,
// is encoded with encoding/gob and must be registered with gob.Register
// (as gorilla/sessions requires), except the basic types and slices of
// them that gob knows already (complex128, []int32, ...). A value gob
// cannot encode makes the save fail: an explicit Save returns the error
// (which names the type and says to call gob.Register), and the automatic
// save reports it to Options.ErrorHandler (500 by default); nothing is
// stored. A time.Time comes back without its monotonic reading and with a
// fixed-offset location: compare it with Equal.
func Get[T any](c *gin.Context, key string) (T, bool) {
	var zero T
	s, ok := ginSession(c)
	if !ok {
		return zero, false
	}
	v, ok := s.Get(key).(T)
	if !ok {
		return zero, false
	}
	return v, true
}

// Pop is Get for values read once, such as a message for the next page:
// when the value under key holds a T it is returned and deleted from the
// session (which is then saved). A value of another type is left where it
// is, since nobody has read it; Pop returns false, as for a missing key,
// and changes nothing.
//
// Pop deletes the value from the session, not from copies of an older
// cookie: with the cookie backend a replayed earlier cookie still holds
// it, so do not rely on Pop alone for a one-time secret there.
func Pop[T any](c *gin.Context, key string) (T, bool) {
	v, ok := Get[T](c, key)
	if ok {
		s, _ := ginSession(c)
		s.Delete(key)
	}
	return v, ok
}

// ginSession returns sessions.Default(c) without its panic when no
// session middleware runs.
func ginSession(c *gin.Context) (sessions.Session, bool) {
	v, ok := c.Get(sessions.DefaultKey)
	if !ok {
		return nil, false
	}
	s, ok := v.(sessions.Session)
	return s, ok
}
