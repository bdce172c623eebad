package memcache

import (
	"hash/crc32"
	"strings"
	"testing"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
)

func TestSessionItemsHashToTheGenerationKeysServer(t *testing.T) {
	for _, prefix := range []string{"", "app:", strings.Repeat("~", MaxPrefixLen)} {
		s := newTestStore(t, gomemcache.New("127.0.0.1:1"), Options{Prefix: prefix})
		for i := 0; i < 500; i++ {
			user := ""
			if i%2 == 1 {
				user = strings.Repeat("u", i)
			}
			r := s.userRef(user)
			ks := s.keys("__Host-session", s.newToken(r), r)
			want := crc32.ChecksumIEEE([]byte(ks.session))
			if user != "" {
				if got := crc32.ChecksumIEEE([]byte(ks.user)); got != want {
					t.Fatalf("generation key CRC %08x, session key %08x", got, want)
				}
			}
			for _, k := range []string{ks.session, ks.user} {
				if len(k) > 250 {
					t.Fatalf("key of %d bytes", len(k))
				}
				for j := 0; j < len(k); j++ {
					if k[j] <= ' ' || k[j] >= 0x7f {
						t.Fatalf("key %q has an illegal byte", k)
					}
				}
			}
		}
	}
}
