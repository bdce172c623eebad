package dbsc_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
)

// t0 is the injected "now" of every test.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// wantReason fails unless err is a *dbsc.ProofError with reason r.
func wantReason(t *testing.T, err error, r dbsc.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refusal with %s", r)
	}
	if !errors.Is(err, dbsc.ErrInvalidProof) {
		t.Fatalf("error %q does not wrap ErrInvalidProof", err)
	}
	if got := dbsc.ReasonOf(err); got != r {
		t.Fatalf("reason %s (%v), want %s", got, err, r)
	}
}
