package memcache

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// TestWriteOnABrokenConnectionIsSettledNotFailed breaks the connection of
// one write, either before memcached sees the command or after it applied
// it but before the answer, which the client cannot tell apart. The store
// must neither fail the request (the server is healthy) nor apply a
// conditional write on a wrong reading: an add or a cas is settled by
// reading the item back and sent again only if it was not applied; a
// delete, idempotent, is sent again; the delete that commits
// a rotation, if it cannot tell whether someone else deleted the session,
// takes it as ended and creates nothing.
func TestWriteOnABrokenConnectionIsSettledNotFailed(t *testing.T) {
	for _, f := range []struct {
		name string
		f    fault
	}{{"lost before the server", lostBefore}, {"lost after the server applied it", lostAfter}} {
		t.Run(f.name, func(t *testing.T) {
			s, p, _ := proxied(t, Options{})
			now := time.Now()
			sent := func(want string) {
				t.Helper()
				if got := strings.Join(verbs(p.Take()), " "); got != want {
					t.Errorf("sent %q, want %q", got, want)
				}
			}
			applied := f.f == lostAfter

			// Create: the session item's add.
			p.Take()
			p.Break("add", f.f)
			rec := newRecord(now, "", "created")
			tok, err := s.Create(bg, cookie, rec)
			if err != nil {
				t.Fatalf("Create: %v; want the session stored", err)
			}
			if applied {
				sent("add gets") // found its own value: no second add
			} else {
				sent("add gets add")
			}
			if got := mustFind(t, s, cookie, tok); string(got.Values) != "created" {
				t.Fatalf("values %q", got.Values)
			}

			// Update: the session item's cas.
			rec2 := mustFind(t, s, cookie, tok)
			rec2.Values = []byte("updated")
			p.Take()
			p.Break("cas", f.f)
			if _, err := s.Update(bg, cookie, tok, &rec2); err != nil {
				t.Fatalf("Update: %v; want the write stored", err)
			}
			if applied {
				sent("cas gets") // its own value is there
			} else {
				sent("cas gets cas") // same CAS ID: not applied, sent again
			}
			if got := mustFind(t, s, cookie, tok); string(got.Values) != "updated" {
				t.Fatalf("values %q after the update", got.Values)
			}

			// Touch: the session item's cas, settled the same way.
			rec3 := mustFind(t, s, cookie, tok)
			rec3.LastSeen = now.Add(time.Minute)
			rec3.Expires = rec3.LastSeen.Add(securesession.DefaultIdleTimeout)
			p.Take()
			p.Break("cas", f.f)
			if _, err := s.Touch(bg, cookie, tok, &rec3); err != nil {
				t.Fatalf("Touch: %v", err)
			}
			if applied {
				sent("cas gets")
			} else {
				sent("cas gets cas")
			}
			if got := mustFind(t, s, cookie, tok); !got.LastSeen.Equal(rec3.LastSeen) {
				t.Fatalf("LastSeen %v, want %v", got.LastSeen, rec3.LastSeen)
			}

			// Delete: sent again; not found the second time is fine.
			p.Take()
			p.Break("delete", f.f)
			if err := s.Delete(bg, cookie, tok); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			sent("delete delete")
			mustNotFind(t, s, cookie, tok)

			// Rotate: the delete of the old item, sent last, is the commit
			// point. Sent again, a "not found" may be this rotation's own
			// delete or a logout's: the session is gone either way, and
			// the new item is removed again.
			old := mustCreate(t, s, cookie, newRecord(now, "", "old"))
			rec4 := mustFind(t, s, cookie, old)
			rec4.UserID, rec4.Values = "alice", []byte("new")
			p.Take()
			p.Break("delete", f.f)
			nt, err := s.Rotate(bg, cookie, old, &rec4)
			if applied {
				if !errors.Is(err, securesession.ErrNoRecord) {
					t.Fatalf("Rotate whose delete was applied unseen: %v; want ErrNoRecord", err)
				}
				// Read the generation and index, add them and the new
				// session, the commit delete twice, the new item removed.
				sent("gets add add add delete delete delete")
				mustNotFind(t, s, cookie, old)
				if list, err := s.ListUser(bg, "alice"); err != nil || len(list) != 0 {
					t.Fatalf("ListUser after the failed rotation: %v, %v; want no session", list, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			mustNotFind(t, s, cookie, old)
			mustFind(t, s, cookie, nt)
		})
	}
}
