package backendtest

import (
	"context"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// timeoutChecks drive the idle and absolute timeouts, and the throttling
// of activity refreshes, on the app's injected clock.
var timeoutChecks = []check{
	{"IdleTimeout", testIdleTimeout},
	{"ExpiredRecordIsDeleted", testExpiredRecordIsDeleted},
	{"ActivityKeepsSessionAlive", testActivityKeepsSessionAlive},
	{"ActivityRefreshIsThrottled", testActivityRefreshIsThrottled},
	{"AbsoluteTimeout", testAbsoluteTimeout},
}

func testIdleTimeout(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	a.clock.Advance(securesession.DefaultIdleTimeout + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("after %v idle the session is still user %q", securesession.DefaultIdleTimeout, got)
	}
	if !a.sawEvent(securesession.EventExpiredIdle) {
		t.Error("no expired_idle event")
	}
}

// An expired session is deleted on the server when the middleware sees
// it, not merely ignored, so a clock skew between instances cannot revive
// it.
func testExpiredRecordIsDeleted(t *testing.T, f *factory) {
	a := newApp(t, f)
	f.requireRevocation(t)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	tok := cl.token()
	a.clock.Advance(securesession.DefaultIdleTimeout + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("idle session still user %q", got)
	}
	if _, found, _ := a.b.Find(context.Background(), a.name, tok); found {
		t.Fatal("the idle-expired record is still stored")
	}
}

func testActivityKeepsSessionAlive(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	for i := 0; i < 5; i++ {
		a.clock.Advance(securesession.DefaultIdleTimeout - time.Minute)
		if got := cl.user(); got != "alice" {
			t.Fatalf("request %d, %v after the previous one: user %q; activity must refresh the idle timeout", i, securesession.DefaultIdleTimeout-time.Minute, got)
		}
	}
}

// Recording activity is throttled: a read soon after the last write
// changes nothing on the server or in the browser; a read after
// Options.TouchInterval records the activity exactly once.
func testActivityRefreshIsThrottled(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	before := a.b.total()
	for i := 0; i < 3; i++ {
		r := a.do("GET", "/whoami", cl.c)
		if r.body != "user=alice" || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("read %d right after login: %q, Set-Cookie %q; want no new cookie", i, r.body, r.header.Values("Set-Cookie"))
		}
	}
	if n := a.b.total() - before; n != 0 {
		t.Fatalf("reads within the touch interval made %d backend writes", n)
	}
	a.clock.Advance(2 * time.Minute) // past the default TouchInterval (1 minute)
	cl.user()
	if n := a.b.n("touch"); n != 1 {
		t.Fatalf("a read after the touch interval made %d touches, want 1", n)
	}
	cl.user()
	if n := a.b.n("touch"); n != 1 {
		t.Fatalf("the next read touched again: %d touches", n)
	}
}

func testAbsoluteTimeout(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/login?user=alice")
	step := securesession.DefaultIdleTimeout / 2
	elapsed := time.Duration(0)
	for elapsed+step < securesession.DefaultAbsoluteTimeout {
		a.clock.Advance(step)
		elapsed += step
		if got := cl.user(); got != "alice" {
			t.Fatalf("active session ended after %v: user %q", elapsed, got)
		}
	}
	a.clock.Advance(securesession.DefaultAbsoluteTimeout - elapsed + time.Second)
	if got := cl.user(); got != "" {
		t.Fatalf("past the absolute timeout the session is still user %q", got)
	}
	if !a.sawEvent(securesession.EventExpiredAbsolute) {
		t.Error("no expired_absolute event")
	}
}
