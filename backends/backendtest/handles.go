package backendtest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gin-securesession/securesession"
)

// handleChecks hold a Lister's session handles to naming a session across
// its rotations, and RevokeSession to telling "already ended" apart.
var handleChecks = []check{
	{"RevokeSessionEndsASessionRotatedSinceListed", testRevokeSessionEndsASessionRotatedSinceListed},
	{"RevokeSessionOfNoSessionIsAlreadyEnded", testRevokeSessionOfNoSessionIsAlreadyEnded},
}

func requireLister(t *testing.T, b securesession.Backend) {
	t.Helper()
	if _, ok := b.(securesession.Lister); !ok {
		t.Skip("backend does not implement securesession.Lister")
	}
}

// otherHandle returns the handle of the one session in the client's list
// that is not its own.
func (s *session) otherHandle() string {
	s.a.t.Helper()
	list := s.sessions()
	if len(list) != 2 {
		s.a.t.Fatalf("the session list shows %d sessions (%+v), want 2", len(list), list)
	}
	for _, l := range list {
		if !l.Current {
			return l.Handle
		}
	}
	s.a.t.Fatalf("the session list %+v marks both sessions current", list)
	return ""
}

// testRevokeSessionEndsASessionRotatedSinceListed: the victim's "your
// sessions" page lists the attacker's session; the attacker rotates it;
// the victim's "end this session" must still end it. (The GORM backend's
// handle was its row key, which every rotation changed: the revocation
// matched nothing, reported success, and the attacker stayed.)
func testRevokeSessionEndsASessionRotatedSinceListed(t *testing.T, f Factory) {
	b := f(t)
	requireLister(t, b)
	a := newAppWithRevocationRoutes(t, b)
	user := url.QueryEscape(uniqueUser("lister"))
	victim, attacker := a.client(), a.client()
	victim.do("POST", "/login?user="+user)
	attacker.do("POST", "/login?user="+user)
	handle := victim.otherHandle()
	before := attacker.c
	if r := attacker.do("POST", "/rotate"); r.status != http.StatusOK || attacker.c == nil || attacker.c.Value == before.Value {
		t.Fatalf("rotate: %d %s, new cookie %v", r.status, r.body, attacker.c != nil && attacker.c.Value != before.Value)
	}
	if got := victim.otherHandle(); got != handle {
		t.Errorf("the rotated session is listed under handle %q, before the rotation %q", got, handle)
	}
	if r := victim.do("POST", "/revoke?handle="+url.QueryEscape(handle)); r.status != http.StatusOK {
		t.Fatalf("revoke the listed session: %d %s", r.status, r.body)
	}
	for _, c := range []*http.Cookie{before, attacker.c} {
		if got := a.replayUser(c); got != "" {
			t.Fatalf("the session rotated after it was listed survived its revocation as %q", got)
		}
	}
	if len(victim.sessions()) != 1 {
		t.Error("the revoked session is still listed")
	}
}

// testRevokeSessionOfNoSessionIsAlreadyEnded: revoking a handle that names
// none of the user's sessions (one already ended, another user's, a made-
// up one) revokes nothing and reports ErrNoRecord, not success and not a
// backend failure.
func testRevokeSessionOfNoSessionIsAlreadyEnded(t *testing.T, f Factory) {
	b := f(t)
	requireLister(t, b)
	a := newAppWithRevocationRoutes(t, b)
	user := url.QueryEscape(uniqueUser("lister"))
	me, phone, bob := a.client(), a.client(), a.client()
	me.do("POST", "/login?user="+user)
	phone.do("POST", "/login?user="+user)
	bob.do("POST", "/login?user="+url.QueryEscape(uniqueUser("bob")))
	phoneHandle := me.otherHandle()
	bobHandle := bob.sessions()[0].Handle
	if r := me.do("POST", "/revoke?handle="+url.QueryEscape(phoneHandle)); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	for _, h := range []string{phoneHandle, bobHandle, "", "no such handle", phoneHandle + "0"} {
		if r := me.do("POST", "/revoke?handle="+url.QueryEscape(h)); r.status != http.StatusGone {
			t.Errorf("revoke of handle %q that names none of the user's sessions: %d %s; want ErrNoRecord (410 here)", h, r.status, r.body)
		}
	}
	if got := bob.user(); got == "" {
		t.Error("revoking bob's handle as another user ended bob's session")
	}
	if got := me.user(); got == "" {
		t.Error("the revoking session itself was ended")
	}
}
