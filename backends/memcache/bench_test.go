package memcache

import (
	"strings"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
)

// benchValues is a typical small session: a few encoded values.
var benchValues = strings.Repeat("v", 200)

func benchStore(b *testing.B) (*Store, *gomemcache.Client, string) {
	b.Helper()
	m := testServer(b)
	c := newClient(b, m.Addr())
	s := newTestStore(b, c, Options{})
	tok, err := s.Create(bg, cookie, newRecord(time.Now(), "alice", benchValues))
	if err != nil {
		b.Fatal(err)
	}
	return s, c, tok
}

// BenchmarkFind is an authenticated read: one GetMulti of the session,
// activity and generation items, three AEAD opens.
func BenchmarkFind(b *testing.B) {
	s, _, tok := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := s.Find(bg, cookie, tok); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

// BenchmarkFindUpdate is an authenticated write: Find, then Update by
// compare-and-swap.
func BenchmarkFindUpdate(b *testing.B) {
	s, _, tok := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		rec, found, err := s.Find(bg, cookie, tok)
		if err != nil || !found {
			b.Fatal(found, err)
		}
		rec.LastSeen = time.Now()
		if _, err := s.Update(bg, cookie, tok, &rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindTouch is an idle refresh: Find, then Touch (one replace of
// the small activity item).
func BenchmarkFindTouch(b *testing.B) {
	s, _, tok := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		rec, found, err := s.Find(bg, cookie, tok)
		if err != nil || !found {
			b.Fatal(found, err)
		}
		rec.LastSeen = time.Now()
		rec.Expires = rec.LastSeen.Add(30 * time.Minute)
		if _, err := s.Touch(bg, cookie, tok, &rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMultiFloor is the floor under BenchmarkFind: a bare GetMulti
// of the same three items, with no hashing, decryption or decoding.
func BenchmarkGetMultiFloor(b *testing.B) {
	s, c, tok := benchStore(b)
	ks := keysOf(s, cookie, tok)
	keys := []string{ks.session, ks.seen, ks.user}
	b.ReportAllocs()
	for b.Loop() {
		items, err := c.GetMulti(keys)
		if err != nil || len(items) != 3 {
			b.Fatal(len(items), err)
		}
	}
}

// BenchmarkCASFloor is the floor under the write half of
// BenchmarkFindUpdate: a bare gets plus cas of the session item.
func BenchmarkCASFloor(b *testing.B) {
	s, c, tok := benchStore(b)
	ks := keysOf(s, cookie, tok)
	b.ReportAllocs()
	for b.Loop() {
		items, err := c.GetMulti([]string{ks.session, ks.seen, ks.user})
		if err != nil {
			b.Fatal(err)
		}
		it := items[ks.session]
		it.Expiration = 3600
		if err := c.CompareAndSwap(it); err != nil {
			b.Fatal(err)
		}
	}
}
