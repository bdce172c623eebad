package securesession

import (
	"errors"
	"fmt"

	"github.com/gin-securesession/securesession/internal/values"
)

// explainSaveError adds to a failed save what the operator needs to fix
// it: for a session too large for its cookie, the key whose value is the
// largest. (A value that cannot be encoded is already named by the
// encoder's error.) Only key names and sizes are added, never a value.
func (s *session) explainSaveError(err error) error {
	if !errors.Is(err, ErrTooLarge) || len(s.vals) == 0 {
		return err
	}
	k, n := values.Largest(s.vals)
	if k == nil {
		return err
	}
	name := fmt.Sprint(k)
	if str, ok := k.(string); ok {
		name = fmt.Sprintf("%q", str)
	}
	return fmt.Errorf("%w (the largest value is session value %s, %d bytes encoded; keep large data in a server-side store)", err, name, n)
}
