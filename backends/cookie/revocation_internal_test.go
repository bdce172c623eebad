package cookie

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// keysInShard returns n distinct keys that m puts in one shard, so that a
// test can watch that shard's pruning.
func keysInShard(m *MemoryRevocation, prefix string, n int) (*revShard, []string) {
	var sh *revShard
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("%s-%d", prefix, i)
		if sh == nil {
			sh = m.shard(k)
		}
		if m.shard(k) == sh {
			keys = append(keys, k)
		}
	}
	return sh, keys
}

// checkShard verifies that the shard's heap holds exactly the entries of
// its two maps, each at the index it records, in heap order.
func checkShard(t *testing.T, sh *revShard) {
	t.Helper()
	if n := len(sh.sessions) + len(sh.users); n != len(sh.expiry) {
		t.Fatalf("maps hold %d entries, the heap %d", n, len(sh.expiry))
	}
	for i, sl := range sh.expiry {
		e := sl.e
		if sl.until != e.until {
			t.Fatalf("slot %d holds until %d, its entry %d", i, sl.until, e.until)
		}
		if int(e.index) != i {
			t.Fatalf("entry at %d records index %d", i, e.index)
		}
		if m := map[bool]map[string]*revEntry{false: sh.sessions, true: sh.users}[e.user]; m[e.key] != e {
			t.Fatalf("heap entry %q is not in its map", e.key)
		}
		if p := (i - 1) / 2; i > 0 && sh.expiry[p].until > e.until {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

// Entries are forgotten soonest first, at most two per write, and only
// once their until has passed; an extended entry waits for its new until.
func TestMemoryRevocationForgetsInExpiryOrder(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := NewMemoryRevocation(0)
	m.SetClock(func() time.Time { return now })
	ctx := context.Background()
	sh, keys := keysInShard(m, "h", 12)
	// untils 1..10 minutes ahead, written out of order.
	for _, i := range []int{7, 3, 9, 1, 10, 5, 2, 8, 4, 6} {
		m.RevokeSession(ctx, keys[i-1], AllTokens, now.Add(time.Duration(i)*time.Minute))
	}
	// Extend the 2-minute entry to 20 minutes.
	m.RevokeSession(ctx, keys[1], AllTokens, now.Add(20*time.Minute))
	checkShard(t, sh)
	if len(sh.sessions) != 10 {
		t.Fatalf("%d entries before any expiry, want 10", len(sh.sessions))
	}

	now = now.Add(5*time.Minute + time.Second) // 1, 3, 4, 5 have expired
	live := func() (out []int) {
		for i, k := range keys[:10] {
			if sh.sessions[k] != nil {
				out = append(out, i+1)
			}
		}
		return out
	}
	m.RevokeSession(ctx, keys[10], AllTokens, now.Add(time.Hour))
	if got := fmt.Sprint(live()); got != "[2 4 5 6 7 8 9 10]" {
		t.Fatalf("after one write: live %s, want the two soonest (1, 3) forgotten", got)
	}
	m.RevokeSession(ctx, keys[11], AllTokens, now.Add(time.Hour))
	m.RevokeSession(ctx, keys[11], AllTokens, now.Add(time.Hour))
	if got := fmt.Sprint(live()); got != "[2 6 7 8 9 10]" {
		t.Fatalf("after three writes: live %s, want every expired one forgotten and no other", got)
	}
	checkShard(t, sh)
}

// A user entry refusing a session whose deadline is later than the
// entry's until is extended to that deadline, in the heap too.
func TestMemoryRevocationRefusalExtendsTheUserEntry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := NewMemoryRevocation(0)
	m.SetClock(func() time.Time { return now })
	ctx := context.Background()
	sh, keys := keysInShard(m, "u", 2)
	m.RevokeUser(ctx, keys[0], now, "", now.Add(time.Hour))
	tok := Token{Handle: "h", UserID: keys[0], Issued: now.Add(-time.Minute), Deadline: now.Add(5 * time.Hour)}
	if r, _ := m.Revoked(ctx, tok); !r {
		t.Fatal("not refused")
	}
	now = now.Add(2 * time.Hour)
	m.RevokeUser(ctx, keys[1], now, "", now.Add(time.Hour))
	m.RevokeUser(ctx, keys[1], now, "", now.Add(time.Hour))
	if r, _ := m.Revoked(ctx, tok); !r {
		t.Fatal("forgotten before the deadline of the session it refused")
	}
	checkShard(t, sh)
}

// Random operations keep every shard's heap and maps consistent, and
// Revoked agrees with a plain model while no entry has expired.
func TestMemoryRevocationMatchesAModel(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := NewMemoryRevocation(0)
	m.SetClock(func() time.Time { return now })
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	type user struct {
		before time.Time
		keep   string
	}
	below := map[string]uint64{}
	users := map[string]user{}
	handle := func() string { return fmt.Sprintf("h%d", rng.IntN(300)) }
	userID := func() string { return fmt.Sprintf("u%d", rng.IntN(50)) }
	for i := 0; i < 20000; i++ {
		now = now.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		far := now.Add(time.Duration(1000+rng.IntN(1000)) * time.Hour) // nothing expires
		switch rng.IntN(3) {
		case 0:
			h, b := handle(), uint64(rng.IntN(5))
			if rng.IntN(4) == 0 {
				b = AllTokens
			}
			m.RevokeSession(ctx, h, b, far)
			below[h] = max(below[h], b)
		case 1:
			u, keep := userID(), ""
			if rng.IntN(2) == 0 {
				keep = handle()
			}
			m.RevokeUser(ctx, u, now, keep, far)
			users[u] = user{now, keep}
		case 2:
			tok := Token{Handle: handle(), Gen: uint64(rng.IntN(6)), Issued: now.Add(-time.Duration(rng.IntN(100)) * time.Second), Deadline: far}
			if rng.IntN(2) == 0 {
				tok.UserID = userID()
			}
			want := tok.Gen < below[tok.Handle]
			if u, ok := users[tok.UserID]; ok && tok.UserID != "" && !tok.Issued.After(u.before) && tok.Handle != u.keep {
				want = true
			}
			if got, _ := m.Revoked(ctx, tok); got != want {
				t.Fatalf("op %d: Revoked(%+v) = %v, model says %v", i, tok, got, want)
			}
		}
	}
	for i := range m.shards {
		checkShard(t, &m.shards[i])
	}
}
