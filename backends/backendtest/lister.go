package backendtest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// listerChecks run when the backend implements securesession.Lister: the
// "your sessions" page of ListSessions lists exactly the user's live
// sessions, and RevokeSession ends the one named, across its rotations,
// and tells "already ended" and another user's session apart.
var listerChecks = []check{
	{"Lister/ListSessionsShowsExactlyTheLiveSessions", testListSessionsShowsExactlyTheLiveSessions},
	{"Lister/RevokeSessionEndsASessionRotatedSinceListed", testRevokeSessionEndsASessionRotatedSinceListed},
	{"Lister/RevokeSessionOfNoSessionIsAlreadyEnded", testRevokeSessionOfNoSessionIsAlreadyEnded},
}

// noListerChecks run when the backend does not implement
// securesession.Lister.
var noListerChecks = []check{
	{"Lister/WithoutListerListingIsErrCannotList", testWithoutListerListingIsErrCannotList},
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
func testRevokeSessionEndsASessionRotatedSinceListed(t *testing.T, f *factory) {
	b := f.backend(t)
	a := newAppOn(t, b)
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
func testRevokeSessionOfNoSessionIsAlreadyEnded(t *testing.T, f *factory) {
	b := f.backend(t)
	a := newAppOn(t, b)
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

// listedHandles checks a session list as its viewer sees it: every entry
// has a handle, no two the same, none holding a token of tokens, and
// exactly one is the viewer's own. It returns the handles, sorted, and the
// viewer's.
func listedHandles(t *testing.T, who string, list []listed, tokens []string) (handles []string, current string) {
	t.Helper()
	for _, l := range list {
		if l.Handle == "" {
			t.Errorf("%s: a listed session has no handle: %+v", who, list)
		}
		for _, tok := range tokens {
			if tok != "" && strings.Contains(l.Handle, tok) {
				t.Errorf("%s: a listed handle holds a session token", who)
			}
		}
		if slices.Contains(handles, l.Handle) {
			t.Errorf("%s: handle %q is listed twice: %+v", who, l.Handle, list)
		}
		handles = append(handles, l.Handle)
		if l.Current {
			if current != "" {
				t.Errorf("%s: more than one session is marked current: %+v", who, list)
			}
			current = l.Handle
		}
	}
	if current == "" {
		t.Errorf("%s: no listed session is marked current: %+v", who, list)
	}
	slices.Sort(handles)
	return handles, current
}

// testListSessionsShowsExactlyTheLiveSessions: each of a user's devices
// sees the same list, the user's live sessions exactly, each under a
// handle of its own (never its token) and its own marked current; another
// user's and an anonymous session are not listed. A rotation keeps the
// session's handle; a logout, LogoutOthers and RevokeSession of the
// viewer's own handle take sessions off the list, and the ended cookies,
// replayed, are anonymous.
func testListSessionsShowsExactlyTheLiveSessions(t *testing.T, f *factory) {
	a := newApp(t, f)
	user := uniqueUser("lister")
	devices := []*session{a.client(), a.client(), a.client()}
	for _, d := range devices {
		d.do("POST", "/login?user="+url.QueryEscape(user))
	}
	bob := a.client()
	bob.do("POST", "/login?user="+url.QueryEscape(uniqueUser("bob")))
	anon := a.client()
	anon.do("POST", "/set?key=k&val=v")
	tokens := func() []string {
		out := []string{bob.token(), anon.token()}
		for _, d := range devices {
			out = append(out, d.token())
		}
		return out
	}

	own := make([]string, len(devices)) // the handle each device's list marks current
	var all []string
	for i, d := range devices {
		list := d.sessions()
		if len(list) != len(devices) {
			t.Fatalf("device %d: the list shows %d sessions (%+v), want the user's %d", i, len(list), list, len(devices))
		}
		handles, cur := listedHandles(t, fmt.Sprintf("device %d", i), list, tokens())
		if i > 0 && !slices.Equal(handles, all) {
			t.Errorf("device %d lists handles %q, device 0 %q; want the same sessions", i, handles, all)
		}
		all, own[i] = handles, cur
	}
	if sorted := slices.Sorted(slices.Values(own)); !slices.Equal(sorted, all) {
		t.Fatalf("the devices' own handles %q are not the listed ones %q", own, all)
	}
	bobList := bob.sessions()
	listedHandles(t, "bob", bobList, tokens())
	if len(bobList) != 1 || slices.Contains(all, bobList[0].Handle) {
		t.Fatalf("bob's list %+v; want his one session, under a handle none of the other user's sessions has", bobList)
	}

	before := devices[1].token()
	if r := devices[1].do("POST", "/rotate"); r.status != http.StatusOK || devices[1].token() == before {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	handles, cur := listedHandles(t, "after a rotation", devices[1].sessions(), tokens())
	if !slices.Equal(handles, all) || cur != own[1] {
		t.Fatalf("after device 1 rotated, it lists %q with its own %q; want %q with %q", handles, cur, all, own[1])
	}

	if !f.revokes() {
		return // the sessions below would stay live on the server
	}
	ended := devices[2].c
	devices[2].do("POST", "/logout")
	if handles, _ := listedHandles(t, "after a logout", devices[0].sessions(), tokens()); !slices.Equal(handles, slices.Sorted(slices.Values(own[:2]))) {
		t.Fatalf("after device 2 logged out, the list shows %q; want %q", handles, own[:2])
	}
	if r := devices[0].do("POST", "/logout-others"); r.status != http.StatusOK {
		t.Fatalf("LogoutOthers: %d %s", r.status, r.body)
	}
	if handles, _ := listedHandles(t, "after LogoutOthers", devices[0].sessions(), tokens()); !slices.Equal(handles, own[:1]) {
		t.Fatalf("after LogoutOthers, the list shows %q; want only the caller's %q", handles, own[0])
	}
	mine := devices[0].c
	if r := devices[0].do("POST", "/revoke?handle="+url.QueryEscape(own[0])); r.status != http.StatusOK || devices[0].c != nil {
		t.Fatalf("RevokeSession of the caller's own handle: %d %s, cookie kept %v; want a logout", r.status, r.body, devices[0].c != nil)
	}
	for i, c := range []*http.Cookie{ended, mine} {
		if got := a.replayUser(c); got != "" {
			t.Errorf("ended cookie %d, replayed, is user %q", i, got)
		}
	}
	if got := bob.user(); got == "" {
		t.Error("the other user's session ended with this user's")
	}
}

// testWithoutListerListingIsErrCannotList: on a backend that cannot list
// sessions, ListSessions and RevokeSession return ErrCannotList (501
// here) for a logged-in user, not an empty list, a success or a crash.
func testWithoutListerListingIsErrCannotList(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user="+url.QueryEscape(uniqueUser("nolister")))
	if r := a.do("GET", "/sessions", cl.c); r.status != http.StatusNotImplemented {
		t.Errorf("ListSessions on a backend that is not a Lister: %d %s; want ErrCannotList (501 here)", r.status, r.body)
	}
	if r := a.do("POST", "/revoke?handle=h", cl.c); r.status != http.StatusNotImplemented {
		t.Errorf("RevokeSession on a backend that is not a Lister: %d %s; want ErrCannotList (501 here)", r.status, r.body)
	}
	if got := cl.user(); got == "" {
		t.Error("the session ended")
	}
}
