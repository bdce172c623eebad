package bench

import (
	"fmt"
	"net/http"
	"time"
)

// The request kinds.
const (
	KindLogin            = "login"
	KindReadFresh        = "read-fresh"
	KindRead             = "read"
	KindWrite            = "write"
	KindWriteRead        = "write-read"
	KindTouch            = "touch"
	KindLogout           = "logout"
	KindLogoutEverywhere = "logout-everywhere"
)

// Kind describes one request kind.
type Kind struct {
	Name     string
	Title    string // for tables
	Requests int    // HTTP requests per operation
	Doc      string // what one operation is, for RESULTS.md
}

// Kinds lists the request kinds in table order.
var Kinds = []Kind{
	{KindLogin, "login", 1, "a browser with no cookie logs in as a returning user: POST /login/:user creates a session holding a user ID and a role; the users are 1,000, each logged in once before (untimed), taken in turn"},
	{KindReadFresh, "read, never-seen cookie", 1, "GET /read with a cookie this server has never read (each operation is another browser that just logged in), so the cookie backend's cache of opened cookies cannot help"},
	{KindRead, "read", 1, "the same browser reads again and again with its cookie fed back; for our cookie backend every read after the first is a hit in its cache of recently opened cookies, so the cookie tables call it a warm-cache (cache-hit) read"},
	{KindWrite, "write, cookie fed back", 1, "POST /write reads a counter, increments it and saves; the same browser writes again with the Set-Cookie of the previous write"},
	{KindWriteRead, "write then read", 2, "one write and the read after it, each with the cookie the previous response set (one operation is both requests)"},
	{KindTouch, "touch (activity refresh)", 1, "GET /read after the touch interval has passed since login (injected clock), so the session layer records the activity; each operation is another browser"},
	{KindLogout, "logout", 1, "POST /logout ends a just-logged-in session and deletes the cookie; each operation is another browser"},
	{KindLogoutEverywhere, "log out everywhere", 1, "POST /logout-everywhere ends every session of the user on the server and this one; each operation is another user"},
}

// KindByName returns the named kind.
func KindByName(name string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// ReturningUsers is how many users the login kind logs in, in turn, each
// from a new browser: a user's first login is part of the untimed setup,
// so every measured login is a returning user's, who has a few sessions
// already (about one more per ReturningUsers logins), as in real traffic
// rather than one user with thousands of sessions.
const ReturningUsers = 1000

var loginAs = func() []*http.Request {
	r := make([]*http.Request, ReturningUsers)
	for i := range r {
		r[i] = requestFor("POST", "/login/"+returningUser(i))
	}
	return r
}()

func returningUser(i int) string { return fmt.Sprintf("r%d", i) }

// TouchAfter is how far the touch kind moves the clock after login: past
// any touch interval (at most a minute by default) and well within the
// idle timeout (30 minutes).
const TouchAfter = 10 * time.Minute

// Batch is n prepared operations of one kind on one app. Prepare does the
// untimed setup (logins, the clock), Run the measured requests, Done the
// untimed cleanup.
type Batch struct {
	app      *App
	kind     string
	n        int
	browsers []Browser
	logins   []*http.Request // the login kind's, one per browser
	w        *Sink
	failed   int
	first    string
}

// Prepare readies n operations of kind on a.
func Prepare(a *App, kind string, n int) (*Batch, error) {
	bt := &Batch{app: a, kind: kind, n: n, w: NewSink()}
	switch kind {
	case KindLogin:
		bt.browsers = make([]Browser, n)
		bt.logins = make([]*http.Request, n)
		for i := range bt.logins {
			u := a.nextUser % len(loginAs)
			a.nextUser++
			if a.returned == nil {
				a.returned = make([]bool, len(loginAs))
			}
			if !a.returned[u] {
				// The user's first login, untimed: every measured login is
				// a returning user's, from a new browser.
				var first Browser
				if err := a.Login(&first, returningUser(u)); err != nil {
					return nil, err
				}
				a.returned[u] = true
			}
			bt.logins[i] = loginAs[u]
		}
	case KindRead, KindWrite, KindWriteRead:
		bt.browsers = make([]Browser, 1)
		if err := a.Login(&bt.browsers[0], ""); err != nil {
			return nil, err
		}
		if kind == KindRead {
			// Read once, so that every measured read is a repeat.
			if st := a.Do(bt.w, &bt.browsers[0], reqRead); st != http.StatusNoContent {
				return nil, fmt.Errorf("%s: read after login: status %d", a.Name, st)
			}
		}
	case KindReadFresh, KindTouch, KindLogout, KindLogoutEverywhere:
		bt.browsers = make([]Browser, n)
		at := a
		if kind == KindReadFresh && a.Elsewhere != nil {
			at = a.Elsewhere
		}
		for i := range bt.browsers {
			user := ""
			if kind == KindLogoutEverywhere {
				user = fmt.Sprintf("u%d", seq.Add(1)) // each its own user
			}
			if err := at.Login(&bt.browsers[i], user); err != nil {
				return nil, err
			}
		}
		if kind == KindTouch && a.Clock != nil {
			a.Clock.Set(TouchAfter)
		}
	default:
		return nil, fmt.Errorf("unknown request kind %q", kind)
	}
	return bt, nil
}

func (bt *Batch) fail(req string, st int, why string) {
	if bt.failed == 0 {
		bt.first = fmt.Sprintf("%s %s: %s: status %d%s", bt.app.Name, bt.kind, req, st, why)
	}
	bt.failed++
}

// Run sends the batch's requests. It is the measured part.
func (bt *Batch) Run() {
	a, w := bt.app, bt.w
	bare := a.Bare()
	switch bt.kind {
	case KindLogin:
		for i := range bt.browsers {
			b := &bt.browsers[i]
			if st := a.Do(w, b, bt.logins[i]); st != http.StatusNoContent || (!bare && b.Cookie == "") {
				bt.fail("login", st, ", or no cookie")
			}
		}
	case KindReadFresh, KindTouch:
		for i := range bt.browsers {
			if st := a.Do(w, &bt.browsers[i], reqRead); st != http.StatusNoContent {
				bt.fail("read", st, "")
			}
		}
	case KindRead:
		b := &bt.browsers[0]
		for range bt.n {
			if st := a.Do(w, b, reqRead); st != http.StatusNoContent {
				bt.fail("read", st, "")
			}
		}
	case KindWrite:
		b := &bt.browsers[0]
		for range bt.n {
			if st := a.Do(w, b, reqWrite); st != http.StatusNoContent {
				bt.fail("write", st, "")
			}
		}
	case KindWriteRead:
		b := &bt.browsers[0]
		for range bt.n {
			if st := a.Do(w, b, reqWrite); st != http.StatusNoContent {
				bt.fail("write", st, "")
			}
			if st := a.Do(w, b, reqRead); st != http.StatusNoContent {
				bt.fail("read", st, "")
			}
		}
	case KindLogout, KindLogoutEverywhere:
		req := reqLogout
		if bt.kind == KindLogoutEverywhere {
			req = reqLogoutEverywhere
		}
		for i := range bt.browsers {
			b := &bt.browsers[i]
			if st := a.Do(w, b, req); st != http.StatusNoContent || (!bare && b.Cookie != "") {
				bt.fail(bt.kind, st, ", or the cookie was not deleted")
			}
		}
	}
}

// Done undoes what Prepare changed (the clock).
func (bt *Batch) Done() {
	if bt.kind == KindTouch && bt.app.Clock != nil {
		bt.app.Clock.Set(0)
	}
}

// Err reports the batch's failed requests, if any.
func (bt *Batch) Err() error {
	if bt.failed == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d operations failed; first: %s", bt.failed, bt.n, bt.first)
}
