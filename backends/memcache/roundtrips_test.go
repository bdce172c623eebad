package memcache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// TestRoundTripsPerRequestKind pins the memcached commands each kind of
// request sends through the middleware, counted by the proxy on the one
// server (so each command is one round trip): a change that adds one
// fails here, whatever the timings say.
func TestRoundTripsPerRequestKind(t *testing.T) {
	clock := newClock()
	s, p, _ := proxied(t, Options{Now: clock.Now})
	app := stateAppWith(t, s, securesession.Options{Now: clock.Now})
	user := 0
	fresh := func() *browser {
		user++
		return &browser{url: app.URL, user: "user" + strings.Repeat("x", user)}
	}
	loggedIn := func(t *testing.T) *browser {
		b := fresh()
		b.login(t)
		return b
	}
	cases := []struct {
		kind  string
		setup func(t *testing.T) *browser
		send  func(t *testing.T, b *browser) (int, string)
		want  string
		note  string
	}{
		{
			kind:  "login, new user",
			setup: func(*testing.T) *browser { return fresh() },
			send:  func(t *testing.T, b *browser) (int, string) { return b.send(t, "POST", "/login?user="+b.user) },
			want:  "gets add add add",
			note:  "read the user's generation and index (none), create the generation, add the session, add the index",
		},
		{
			kind: "login, returning user",
			setup: func(t *testing.T) *browser {
				b := loggedIn(t)
				b.cookie = "" // another browser of the same user
				return b
			},
			send: func(t *testing.T, b *browser) (int, string) { return b.send(t, "POST", "/login?user="+b.user) },
			want: "gets add cas",
			note: "read the user's generation and index, add the session, compare-and-swap the index",
		},
		{
			kind: "login over an existing session",
			setup: func(t *testing.T) *browser {
				b := loggedIn(t)
				b.cookie = ""
				if code, body := b.send(t, "POST", "/set?val=cart"); code != http.StatusOK || b.cookie == "" {
					t.Fatalf("anonymous set: %d %q", code, body)
				}
				return b
			},
			send: func(t *testing.T, b *browser) (int, string) { return b.send(t, "POST", "/login?user="+b.user) },
			want: "gets gets add cas delete",
			note: "find, read the generation and index, add the new session, compare-and-swap the index, delete the old session (the commit point)",
		},
		{
			kind:  "read",
			setup: loggedIn,
			send:  func(t *testing.T, b *browser) (int, string) { return b.send(t, "GET", "/state") },
			want:  "gets",
			note:  "one GetMulti of the session and the generation",
		},
		{
			kind:  "write",
			setup: loggedIn,
			send:  func(t *testing.T, b *browser) (int, string) { return b.send(t, "POST", "/set?val=v") },
			want:  "gets cas",
			note:  "find, compare-and-swap with its CAS ID",
		},
		{
			kind:  "touch",
			setup: loggedIn,
			send: func(t *testing.T, b *browser) (int, string) {
				clock.Advance(2 * time.Minute) // past the default TouchInterval
				return b.send(t, "GET", "/state")
			},
			want: "gets cas",
			note: "find, compare-and-swap of the session item with the new times",
		},
		{
			kind:  "logout",
			setup: loggedIn,
			send:  func(t *testing.T, b *browser) (int, string) { return b.send(t, "POST", "/logout") },
			want:  "gets delete",
			note:  "find, delete the session item",
		},
		{
			kind:  "log out everywhere",
			setup: loggedIn,
			send:  func(t *testing.T, b *browser) (int, string) { return b.send(t, "POST", "/logout-everywhere") },
			want:  "gets set",
			note:  "find, a fresh generation (which ends this session too)",
		},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			b := c.setup(t)
			p.Take()
			code, body := c.send(t, b)
			if code != http.StatusOK {
				t.Fatalf("%d %q", code, body)
			}
			if got := strings.Join(verbs(p.Take()), " "); got != c.want {
				t.Fatalf("sent %q (%d round trips); want %q (%d: %s)", got, len(strings.Fields(got)), c.want, len(strings.Fields(c.want)), c.note)
			}
		})
	}
}
