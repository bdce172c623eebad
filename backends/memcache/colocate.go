package memcache

import (
	"hash/crc32"
)

// Co-location. gomemcache's default ServerList picks a key's server as
// crc32(key) mod the number of servers. If a session's three items were
// placed independently, a logged-in request would depend on up to three
// servers, and one dead server out of three would fail most requests, not
// a third of them. So the session and activity keys end with a suffix of
// suffixLen characters chosen so that their CRC-32 equals that of the
// user's generation key (or, for an anonymous session, of the session key
// without the suffix): all of a session's items, and all sessions of a
// user, then live on one server whatever the number of servers. Other
// ServerSelectors work unchanged, without this guarantee.
//
// CRC-32 is affine over GF(2): for strings of equal length,
// crc(a) ^ crc(b) depends only on a ^ b. Each suffix character is
// 0x40 ^ v with v a 5-bit value (so '@' to '_', all legal in memcached
// keys), which gives 35 free bits; a precomputed basis solves for the 32
// bits of the wanted CRC.
const suffixLen = 7

var colocator = newCRCSolver()

type crcSolver struct {
	basis [32]struct {
		val   uint32
		combo uint64 // which of the 35 suffix bits make up val
	}
	zeroSuffix [suffixLen]byte
}

func newCRCSolver() *crcSolver {
	s := new(crcSolver)
	for i := range s.zeroSuffix {
		s.zeroSuffix[i] = 0x40
	}
	var zeros [suffixLen]byte
	z := crc32.ChecksumIEEE(zeros[:])
	for j := 0; j < suffixLen*5; j++ {
		var d [suffixLen]byte
		d[j/5] = 1 << (j % 5)
		val, combo := crc32.ChecksumIEEE(d[:])^z, uint64(1)<<j
		for bit := 31; bit >= 0 && val != 0; bit-- {
			if val>>bit&1 == 0 {
				continue
			}
			if s.basis[bit].val == 0 {
				s.basis[bit].val, s.basis[bit].combo = val, combo
				val = 0
				break
			}
			val ^= s.basis[bit].val
			combo ^= s.basis[bit].combo
		}
	}
	for bit := range s.basis {
		if s.basis[bit].val == 0 {
			panic("securesession/memcache: CRC-32 suffix basis is not full rank")
		}
	}
	return s
}

// key returns base followed by a suffix that makes the CRC-32 of the
// whole equal to want.
func (s *crcSolver) key(base string, want uint32) string {
	b := make([]byte, 0, len(base)+suffixLen)
	b = append(b, base...)
	b = append(b, s.zeroSuffix[:]...)
	t := crc32.ChecksumIEEE(b) ^ want
	var combo uint64
	for bit := 31; bit >= 0; bit-- {
		if t>>bit&1 == 1 {
			t ^= s.basis[bit].val
			combo ^= s.basis[bit].combo
		}
	}
	suf := b[len(base):]
	for j := 0; j < suffixLen*5; j++ {
		if combo>>j&1 == 1 {
			suf[j/5] ^= 1 << (j % 5)
		}
	}
	return string(b)
}
