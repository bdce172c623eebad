package dbsc_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
)

func TestNewChallengeIsRandom256Bits(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		ch := dbsc.NewChallenge(t0)
		b, err := base64.RawURLEncoding.Strict().DecodeString(ch.Value)
		if err != nil || len(b) != 32 {
			t.Fatalf("challenge %q is not 32 bytes of base64url", ch.Value)
		}
		if seen[ch.Value] {
			t.Fatal("the same challenge twice")
		}
		seen[ch.Value] = true
	}
}

func TestNewChallengeLifetime(t *testing.T) {
	tests := []struct {
		lifetime, want time.Duration
	}{
		{0, dbsc.DefaultChallengeLifetime},
		{-time.Second, dbsc.DefaultChallengeLifetime},
		{30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := dbsc.NewChallengeWithLifetime(t0, tt.lifetime).Expires.Sub(t0); got != tt.want {
			t.Errorf("lifetime %v: expires after %v, want %v", tt.lifetime, got, tt.want)
		}
	}
	if got := dbsc.NewChallenge(t0).Expires; !got.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("NewChallenge expires %v, want 5 minutes after now", got)
	}
}

// TestChallengeSurvivesStorage: Expires carries no monotonic reading, so
// a challenge behaves the same after a round trip through a record.
func TestChallengeSurvivesStorage(t *testing.T) {
	ch := dbsc.NewChallenge(time.Now())
	stored := dbsc.Challenge{Value: ch.Value, Expires: time.Unix(0, ch.Expires.UnixNano())}
	if strings.Contains(ch.Expires.String(), "m=") {
		t.Fatal("Expires has a monotonic clock reading")
	}
	later := ch.Expires.Add(-time.Nanosecond)
	if (ch.Check(ch.Value, later) == nil) != (stored.Check(ch.Value, later) == nil) ||
		(ch.Check(ch.Value, ch.Expires) == nil) != (stored.Check(ch.Value, ch.Expires) == nil) {
		t.Fatal("the stored challenge expires at another time")
	}
}

func TestChallengeCheck(t *testing.T) {
	ch := dbsc.NewChallengeWithLifetime(t0, time.Minute)
	tests := []struct {
		name string
		ch   dbsc.Challenge
		jti  string
		now  time.Time
		want dbsc.Reason
	}{
		{"match", ch, ch.Value, t0, ""},
		{"prefix", ch, ch.Value[:42], t0, dbsc.ReasonChallengeMismatch},
		{"longer", ch, ch.Value + "x", t0, dbsc.ReasonChallengeMismatch},
		{"empty jti", ch, "", t0, dbsc.ReasonChallengeMismatch},
		{"zero challenge, empty jti", dbsc.Challenge{}, "", t0, dbsc.ReasonChallengeMismatch},
		{"used challenge", dbsc.Challenge{Expires: ch.Expires}, "", t0, dbsc.ReasonChallengeMismatch},
		{"at expiry", ch, ch.Value, ch.Expires, dbsc.ReasonExpiredChallenge},
		{"mismatch and expired", ch, "other", ch.Expires, dbsc.ReasonChallengeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ch.Check(tt.jti, tt.now)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReason(t, err, tt.want)
		})
	}
	if !(dbsc.Challenge{}).IsZero() || ch.IsZero() {
		t.Fatal("IsZero is wrong")
	}
}
