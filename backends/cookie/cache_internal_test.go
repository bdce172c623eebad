package cookie

import (
	"context"
	"crypto/rand"
	"reflect"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

const testName = "__Host-session"

func newInternalStore(t *testing.T) *Store {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	s, err := NewStore(Options{Keys: [][]byte{k}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fullRecord sets every field of a Record that the cookie carries, with
// times in a non-UTC zone and with a monotonic reading, which the wire
// does not keep.
func fullRecord() *securesession.Record {
	now := time.Now().In(time.FixedZone("X", 3600))
	return &securesession.Record{
		UserID: "alice", AuthTime: now, Created: now.Add(-time.Minute), LastSeen: now,
		Deadline: now.Add(12 * time.Hour), Expires: now.Add(30 * time.Minute),
		Values: []byte{1, 1, 3, 1, 'k', 3, 1, 'v'}, Binding: []byte("binding"),
		UserAgent: "agent", IP: "192.0.2.1",
	}
}

// checkCachedAsOpened fails unless tok is in the cache and its entry is
// exactly what opening tok yields: the cache may never answer anything
// the AEAD would not.
func checkCachedAsOpened(t *testing.T, s *Store, tok string) {
	t.Helper()
	e := s.cachedOpen(testName, tok)
	if e == nil {
		t.Fatal("the token the write set is not in the cache: the next read would open it again")
	}
	o, err := s.open(testName, tok, false)
	if err != nil {
		t.Fatal(err)
	}
	rec, st, ki := o.rec, &o.st, o.ki
	if !reflect.DeepEqual(e.rec, rec) {
		t.Fatalf("cached record differs from the opened one:\ncached %#v\nopened %#v", e.rec, rec)
	}
	if e.st != *st || e.ki != ki {
		t.Fatalf("cached token %+v (key %d), opened %+v (key %d)", e.st, e.ki, *st, ki)
	}
}

// Every write caches the cookie it sets, as opening it would give, so the
// read that follows a write (or a login, or a rotation) skips the AEAD.
func TestReadAfterWriteHitsTheCache(t *testing.T) {
	ctx := context.Background()
	s := newInternalStore(t)
	rec := fullRecord()
	tok, err := s.Create(ctx, testName, rec)
	if err != nil {
		t.Fatal(err)
	}
	checkCachedAsOpened(t, s, tok)

	found, ok, err := s.Find(ctx, testName, tok)
	if err != nil || !ok {
		t.Fatalf("Find: %v %v", ok, err)
	}
	found.Values = []byte{1, 1, 3, 1, 'k', 3, 1, 'w'}
	found.LastSeen = time.Now()
	tok2, err := s.Update(ctx, testName, tok, &found)
	if err != nil {
		t.Fatal(err)
	}
	checkCachedAsOpened(t, s, tok2)

	tok3, err := s.Touch(ctx, testName, tok2, &found)
	if err != nil {
		t.Fatal(err)
	}
	checkCachedAsOpened(t, s, tok3)

	found.AuthTime = time.Now().Add(time.Second)
	tok4, err := s.Rotate(ctx, testName, tok3, &found)
	if err != nil {
		t.Fatal(err)
	}
	checkCachedAsOpened(t, s, tok4)

	// Empty Values and Binding open as nil, and so must be cached.
	bare := fullRecord()
	bare.Values, bare.Binding = []byte{}, nil
	tok5, err := s.Create(ctx, testName, bare)
	if err != nil {
		t.Fatal(err)
	}
	checkCachedAsOpened(t, s, tok5)
}

// The cache keeps its own copy of the values: a caller reusing the
// slice it saved cannot change what a later read of that cookie sees.
func TestCachedCookieDoesNotAliasTheSavedValues(t *testing.T) {
	s := newInternalStore(t)
	rec := fullRecord()
	tok, err := s.Create(context.Background(), testName, rec)
	if err != nil {
		t.Fatal(err)
	}
	rec.Values[len(rec.Values)-1] = 'x'
	rec.Binding[0] = 'x'
	checkCachedAsOpened(t, s, tok)
}
