package cookie_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

func mustFind(t *testing.T, s *cookie.Store, tok string) securesession.Record {
	t.Helper()
	rec, found, err := s.Find(context.Background(), name, tok)
	if !found || err != nil {
		t.Fatalf("Find: found=%v err=%v", found, err)
	}
	return rec
}

func mustRotate(t *testing.T, s *cookie.Store, tok string, rec securesession.Record) (string, securesession.Record) {
	t.Helper()
	next, err := s.Rotate(context.Background(), name, tok, &rec)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return next, rec
}

func found(s *cookie.Store, tok string) bool {
	_, ok, _ := s.Find(context.Background(), name, tok)
	return ok
}

// A session's handle names the device's session, not one token: Rotate
// keeps it, while each rotation still makes the cookies it superseded
// anonymous.
func TestHandleStableAcrossRotation(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	t0 := mustCreate(t, s, sample())
	r0 := mustFind(t, s, t0)
	t1, r1 := mustRotate(t, s, t0, r0)
	t2, r2 := mustRotate(t, s, t1, mustFind(t, s, t1))
	if r1.Handle != r0.Handle || r2.Handle != r0.Handle || mustFind(t, s, t2).Handle != r0.Handle {
		t.Fatalf("handles across two rotations: %s, %s, %s; want one", r0.Handle, r1.Handle, r2.Handle)
	}
	if found(s, t0) || found(s, t1) {
		t.Fatal("a cookie superseded by a rotation is still found")
	}
}

// Ending a session by its handle (Delete, which Logout calls) ends it
// whatever its rotations: a logout that raced a rotation, holding the
// pre-rotation cookie, must not leave the rotated cookie alive.
func TestDeleteEndsTheSessionWhateverItsRotations(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	t0 := mustCreate(t, s, sample())
	t1, _ := mustRotate(t, s, t0, mustFind(t, s, t0))
	t2, _ := mustRotate(t, s, t1, mustFind(t, s, t1))
	if err := s.Delete(context.Background(), name, t0); err != nil {
		t.Fatal(err)
	}
	if found(s, t2) {
		t.Fatal("Delete with the first token left the rotated session alive")
	}
}

// The Revocation sees the stable handle: revoking it ends the current
// cookie of a session rotated since the handle was read.
func TestRevokingTheHandleEndsTheRotatedSession(t *testing.T) {
	rev := cookie.NewMemoryRevocation(0)
	s := newStoreWith(t, cookie.Options{Revocation: rev})
	t0 := mustCreate(t, s, sample())
	r0 := mustFind(t, s, t0)
	t1, _ := mustRotate(t, s, t0, r0)
	if err := rev.RevokeSession(context.Background(), r0.Handle, cookie.AllTokens, r0.Deadline); err != nil {
		t.Fatal(err)
	}
	if found(s, t1) {
		t.Fatal("revoking the handle left the rotated cookie alive")
	}
}

// A change of user (a Login on an anonymous session, or as someone
// else) is a new session: a new handle, and the session before it ends
// with every token it had.
func TestLoginAsAnotherUserStartsANewSession(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	anon := sample()
	anon.UserID, anon.AuthTime = "", time.Time{}
	t0 := mustCreate(t, s, anon)
	r0 := mustFind(t, s, t0)
	login := r0
	login.UserID, login.AuthTime = "alice", time.Now()
	t1, r1 := mustRotate(t, s, t0, login)
	if r1.Handle == r0.Handle {
		t.Fatal("a login kept the anonymous session's handle")
	}
	if found(s, t0) {
		t.Fatal("the pre-login cookie is still found")
	}
	other := mustFind(t, s, t1)
	other.UserID = "bob"
	t2, r2 := mustRotate(t, s, t1, other)
	if r2.Handle == r1.Handle {
		t.Fatal("a login as another user kept alice's handle")
	}
	if found(s, t1) || !found(s, t2) {
		t.Fatal("after a login as bob alice's cookie is found, or bob's is not")
	}
}

// A re-login of the same user keeps the handle (the device's session goes
// on) and still makes the pre-login cookie anonymous.
func TestReLoginKeepsTheHandle(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	t0 := mustCreate(t, s, sample())
	r0 := mustFind(t, s, t0)
	reauth := r0
	reauth.AuthTime = reauth.AuthTime.Add(time.Minute)
	t1, r1 := mustRotate(t, s, t0, reauth)
	if r1.Handle != r0.Handle {
		t.Fatal("a re-login of the same user changed the handle")
	}
	if found(s, t0) || !found(s, t1) {
		t.Fatal("after a re-login the old cookie is found, or the new one is not")
	}
}

// RevokeUser's keep cannot bring back a session that is already revoked:
// keeping it keeps nothing.
func TestRevokeUserKeepingARevokedSessionKeepsNothing(t *testing.T) {
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	ctx := context.Background()
	a, b := mustCreate(t, s, sample()), mustCreate(t, s, sample())
	if err := s.RevokeUser(ctx, "alice", securesession.Ref{Name: name, Token: a}); err != nil {
		t.Fatal(err)
	}
	if found(s, b) {
		t.Fatal("setup: b survived RevokeUser keeping a")
	}
	if err := s.RevokeUser(ctx, "alice", securesession.Ref{Name: name, Token: b}); err != nil {
		t.Fatal(err)
	}
	if found(s, b) {
		t.Fatal("RevokeUser keeping a revoked session brought it back")
	}
	if found(s, a) {
		t.Fatal("the second RevokeUser did not end a")
	}
}

// loginCookieSize is the Set-Cookie name=value size of a fresh login with
// no values, and then with one small value, through the middleware.
func loginCookieSize(t *testing.T) (login, withValue int) {
	gin.SetMode(gin.TestMode)
	s := newStoreWith(t, cookie.Options{Revocation: cookie.NewMemoryRevocation(0)})
	mw, err := securesession.New(s, securesession.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, "alice@example.com"); err != nil {
			t.Error(err)
		}
		if c.Query("v") != "" {
			sessions.Default(c).Set("cart", c.Query("v"))
		}
	})
	size := func(q string) int {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("POST", "https://example.test/login"+q, nil))
		for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
			if c.Name == securesession.DefaultCookieName {
				return len(c.Name) + 1 + len(c.Value)
			}
		}
		t.Fatal("no session cookie")
		return 0
	}
	return size(""), size("?v=3-items")
}

// The rotation counter costs one byte of plaintext (under 128 rotations),
// at most two base64 characters: these two logins were 197 and 219 bytes
// without it.
func TestLoginCookieSize(t *testing.T) {
	login, withValue := loginCookieSize(t)
	t.Logf("login cookie: %d bytes; with one value: %d bytes", login, withValue)
	if login > 197+2 || withValue > 219+2 {
		t.Fatalf("login cookie %d bytes, with one value %d: more than the rotation counter adds", login, withValue)
	}
}

// downRevocation is a revocation store that cannot answer.
type downRevocation struct{}

var errDown = errors.New("revocation store unreachable")

func (downRevocation) RevokeSession(context.Context, string, uint64, time.Time) error { return errDown }
func (downRevocation) RevokeUser(context.Context, string, time.Time, string, time.Time) error {
	return errDown
}
func (downRevocation) Revoked(context.Context, cookie.Token) (bool, error) { return false, errDown }

// A revocation store that cannot answer is an outage, reported with the
// operation and the cause, never a session let in or a silent logout.
func TestRevocationOutageIsAnError(t *testing.T) {
	key := newKey(t)
	sealer := newStoreWith(t, cookie.Options{Keys: [][]byte{key}})
	tok := mustCreate(t, sealer, sample())
	rec := mustFind(t, sealer, tok)
	s := newStoreWith(t, cookie.Options{Keys: [][]byte{key}, Revocation: downRevocation{}})
	ctx := context.Background()
	_, ok, findErr := s.Find(ctx, name, tok)
	if ok {
		t.Fatal("Find let the session in while the revocation store is down")
	}
	_, updateErr := s.Update(ctx, name, tok, &rec)
	_, rotateErr := s.Rotate(ctx, name, tok, &rec)
	for op, err := range map[string]error{
		"find": findErr, "update": updateErr, "rotate": rotateErr,
		"delete":      s.Delete(ctx, name, tok),
		"revoke user": s.RevokeUser(ctx, "alice", securesession.Ref{Name: name, Token: tok}),
	} {
		if !errors.Is(err, errDown) || errors.Is(err, securesession.ErrInvalidToken) ||
			!strings.HasPrefix(err.Error(), "securesession/cookie: "+op+": ") {
			t.Errorf("%s: %v; want the cause wrapped with the operation, not ErrInvalidToken", op, err)
		}
	}
}
