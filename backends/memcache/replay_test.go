package memcache

import (
	"net/http"
	"testing"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
)

// snapshot is what a memcached writer copied of one session: the raw
// session and generation items.
type snapshot map[string][]byte

func takeSnapshot(t *testing.T, c *gomemcache.Client, keys ...string) snapshot {
	t.Helper()
	snap := snapshot{}
	for _, k := range keys {
		it, err := c.Get(k)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		snap[k] = it.Value
	}
	return snap
}

// restore writes the copied items back, as a memcached writer can, with an
// expiry of its choosing.
func (snap snapshot) restore(t *testing.T, c *gomemcache.Client, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := c.Set(&gomemcache.Item{Key: k, Value: snap[k], Expiration: 3600}); err != nil {
			t.Fatalf("restore: %v", err)
		}
	}
}

// TestReplayedSessionItemsStayDeadAfterLogoutEverywhere is what someone
// who can write to memcached, and holds a copy of a victim's cookie, gets
// by copying the session's items with a raw client and writing them back
// after the victim logs out. Values are sealed, so nothing can be forged,
// but old ones can be replayed:
//   - after "log out everywhere", the session item written back is
//     dead: the user's generation they are stamped with is gone,
//     and a later login mints a new random one, never the old;
//   - written back together with the old generation item, it lives again
//     (and the user's newer sessions stop working): memcached holds every
//     piece of state, so a full rollback cannot be told apart from the
//     real thing;
//   - after a plain logout the generation is unchanged, so the session
//     item written back lives again.
//
// The last two are the documented limits (SECURITY.md): keep memcached
// where only the application can write to it. This pins what an attacker
// sees, so that the documentation stays true.
func TestReplayedSessionItemsStayDeadAfterLogoutEverywhere(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	app := stateApp(t, s)

	laptop := &browser{url: app.URL, user: "alice"}
	laptop.login(t)
	if code, body := laptop.send(t, "POST", "/set?val=secret"); code != http.StatusOK || body != "user=alice;val=secret" {
		t.Fatalf("set: %d %q", code, body)
	}
	stolen := *laptop // the attacker's copy of the cookie
	ks := keysOf(s, cookie, laptop.cookie)
	snap := takeSnapshot(t, c, ks.session, ks.user)
	replay := func() string {
		t.Helper()
		b := stolen
		code, body := b.send(t, "GET", "/state")
		if code != http.StatusOK {
			t.Fatalf("replay: %d %q", code, body)
		}
		return body
	}

	if code, body := laptop.send(t, "POST", "/logout-everywhere"); code != http.StatusOK || body != "user=;val=" {
		t.Fatalf("logout everywhere: %d %q", code, body)
	}
	if got := replay(); got != "user=;val=" {
		t.Fatalf("the stolen cookie after log out everywhere: %q; want anonymous", got)
	}

	snap.restore(t, c, ks.session)
	if got := replay(); got != "user=;val=" {
		t.Fatalf("the session item written back after log out everywhere: the stolen cookie reads %q; want anonymous", got)
	}

	phone := &browser{url: app.URL, user: "alice"}
	phone.login(t)
	snap.restore(t, c, ks.session)
	if got := replay(); got != "user=;val=" {
		t.Fatalf("the session item written back after a new login: the stolen cookie reads %q; want anonymous", got)
	}

	// The limits.
	snap.restore(t, c, ks.session, ks.user)
	if got := replay(); got != "user=alice;val=secret" {
		t.Fatalf("with the generation item written back too, the stolen cookie reads %q; the documented limit says the session lives again", got)
	}
	if code, body := phone.send(t, "GET", "/state"); code != http.StatusOK || body != "user=;val=" {
		t.Fatalf("after the rollback the newer session reads %d %q; want anonymous", code, body)
	}

	tablet := &browser{url: app.URL, user: "bob"}
	tablet.login(t)
	stolen = *tablet
	ks = keysOf(s, cookie, tablet.cookie)
	snap = takeSnapshot(t, c, ks.session)
	if code, body := tablet.send(t, "POST", "/logout"); code != http.StatusOK || body != "user=;val=" {
		t.Fatalf("logout: %d %q", code, body)
	}
	if got := replay(); got != "user=;val=" {
		t.Fatalf("the stolen cookie after logout: %q; want anonymous", got)
	}
	snap.restore(t, c, ks.session)
	if got := replay(); got != "user=bob;val=" {
		t.Fatalf("the session item written back after a plain logout: the stolen cookie reads %q; the documented limit says the session lives again", got)
	}
}
