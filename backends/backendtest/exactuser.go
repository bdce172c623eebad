package backendtest

import (
	"net/http"
	"net/url"
	"testing"
)

// exactUserChecks hold every backend to comparing user IDs exactly.
var exactUserChecks = []check{
	{"UserIDsAreComparedExactly", testUserIDsAreComparedExactly},
}

// closeUserIDs returns distinct user IDs that case folding, trimming,
// accent folding or Unicode normalisation would take for one another (as
// MariaDB's and MySQL's default collations do), tagged so that no other
// check uses them.
func closeUserIDs() []string {
	tag := uniqueUser("")
	return []string{
		"alice" + tag,
		"Alice" + tag,
		"alice" + tag + " ",
		" alice" + tag,
		"jos\u00e9" + tag,  // NFC é
		"jose\u0301" + tag, // NFD é: e and a combining acute accent
		"jose" + tag,
	}
}

// testUserIDsAreComparedExactly: users whose IDs differ only in case, a
// trailing or leading space, or the normalisation form of an accented
// letter are different users. One logging out everywhere never ends the
// others' sessions, and each one's session list shows only its own
// session. (On MariaDB the GORM backend compared user IDs with the
// column's case-insensitive PAD SPACE collation: "Alice" logging out
// everywhere ended "alice"'s and "alice "'s sessions too.)
func testUserIDsAreComparedExactly(t *testing.T, f *factory) {
	b := f.backend(t)
	f.requireRevocation(t)
	a := newAppOn(t, b)
	ids := closeUserIDs()
	for _, target := range ids {
		clients := make([]*session, len(ids))
		for i, id := range ids {
			clients[i] = a.client()
			if r := clients[i].do("POST", "/login?user="+url.QueryEscape(id)); r.status != http.StatusOK {
				t.Fatalf("login as %q: %d %s", id, r.status, r.body)
			}
			if got := clients[i].user(); got != id {
				t.Fatalf("logged in as %q, the session says %q", id, got)
			}
		}
		for i, id := range ids {
			list := clients[i].sessions()
			if list != nil && (len(list) != 1 || !list[0].Current) {
				t.Errorf("the session list of %q shows %d sessions (%+v), want only its own", id, len(list), list)
			}
		}
		var targetClient *session
		for i, id := range ids {
			if id == target {
				targetClient = clients[i]
			}
		}
		if r := targetClient.do("POST", "/logout-everywhere"); r.status != http.StatusOK {
			t.Fatalf("logout everywhere as %q: %d %s", target, r.status, r.body)
		}
		for i, id := range ids {
			want := id
			if id == target {
				want = ""
			}
			if got := clients[i].user(); got != want {
				t.Errorf("after %q logged out everywhere, the session of %q is logged in as %q", target, id, got)
			}
			clients[i].do("POST", "/logout")
		}
	}
}
