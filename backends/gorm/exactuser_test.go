package gorm

import (
	"errors"
	"testing"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
)

// closeUserIDs are distinct user IDs that a case-insensitive, accent-
// insensitive or PAD SPACE collation (MariaDB's and MySQL's defaults)
// takes for one another.
var closeUserIDs = []string{
	"alice",
	"Alice",
	"ALICE",
	"alice ",
	" alice",
	"jos\u00e9",  // "josé", NFC
	"jose\u0301", // "josé", NFD
	"jose",
}

// TestUserIDsDifferingInCaseSpacesOrNormalisationAreDistinct: on every
// database, listing, revoking by handle and revoking every session of one
// user ID never touches the sessions of another. (On MariaDB the user_id
// comparison followed the column's utf8mb4_general_ci collation, so
// "Alice" logging out everywhere also ended the sessions of "alice" and
// "alice ".)
func TestUserIDsDifferingInCaseSpacesOrNormalisationAreDistinct(t *testing.T) {
	eachDB(t, func(t *testing.T, db *gormdb.DB) {
		c := newClock()
		s := newStore(t, db, Options{Now: c.Now})
		toks := map[string][]string{}
		handles := map[string]string{}
		for _, u := range closeUserIDs {
			toks[u] = sessionsOf(t, s, "sid", u, 2)
			rec, _, _ := s.Find(bg, "sid", toks[u][0])
			if rec.UserID != u {
				t.Errorf("Find returns user ID %q for %q", rec.UserID, u)
			}
			handles[u] = rec.Handle
		}
		for _, u := range closeUserIDs {
			list, err := s.ListUser(bg, u)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 {
				t.Errorf("ListUser(%q) lists %d sessions, want its 2", u, len(list))
			}
			for _, v := range closeUserIDs {
				if v == u {
					continue
				}
				if err := s.RevokeHandle(bg, u, handles[v]); !errors.Is(err, securesession.ErrNoRecord) {
					t.Errorf("RevokeHandle(%q, handle of %q) = %v, want ErrNoRecord", u, v, err)
				}
			}
		}
		// Revoke them one by one: each RevokeUser ends its own sessions
		// and none of those still standing.
		for i, u := range closeUserIDs {
			if err := s.RevokeUser(bg, u, securesession.Ref{}); err != nil {
				t.Fatal(err)
			}
			for j, v := range closeUserIDs {
				want := 2
				if j <= i {
					want = 0
				}
				if got := alive(t, s, "sid", toks[v]...); got != want {
					t.Errorf("after RevokeUser(%q): %d sessions of %q alive, want %d", u, got, v, want)
				}
			}
		}
	})
}
