package memcache

import (
	"errors"
	"fmt"
	"time"

	"github.com/gin-securesession/securesession/internal/keys"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "ss:"

// MaxPrefixLen is the longest Options.Prefix. The longest key the store
// writes is the prefix plus 51 bytes, so every key stays well within
// memcached's 250-byte limit.
const MaxPrefixLen = 128

// DefaultMaxItemSize is the default Options.MaxItemSize: memcached's default
// item size limit (-I 1m).
const DefaultMaxItemSize = 1 << 20

// itemOverhead is a conservative estimate of memcached's per-item header,
// counted against MaxItemSize together with the key and the value.
const itemOverhead = 96

// Options configures NewStore. The zero value is not usable only because
// Key is required; every other field documents its default. Options is read
// once by NewStore.
type Options struct {
	// Key is the secret from which the store derives, with HKDF, the key
	// that hashes tokens and user IDs into memcached keys, the key that
	// seals values and the key that masks tokens. It must be exactly 32
	// bytes from a CSPRNG (openssl rand -base64 32). Required: there is
	// no default. Changing it ends every session.
	Key []byte

	// Prefix starts every memcached key the store writes, so that several
	// applications can share servers. Default DefaultPrefix ("ss:"). It
	// must be printable ASCII without spaces, at most MaxPrefixLen bytes.
	Prefix string

	// MaxItemSize is the largest item, key and value and memcached's
	// header together, the store will write; a larger session fails with an
	// error wrapping securesession.ErrTooLarge and nothing is written.
	// Default DefaultMaxItemSize (1 MiB), memcached's default -I; set it to
	// the servers' -I if they were started with another. The user's
	// session index must fit too: with MaxIndexedSessions sessions it
	// needs about 16 KiB, more with long User-Agents (which it drops
	// rather than fail); a login whose index would not fit fails with
	// ErrTooLarge.
	MaxItemSize int

	// Now is the clock from which the store computes item expirations, as
	// Options.Now of the middleware and of the other backends is theirs;
	// give both the same clock. Default time.Now. It is called
	// concurrently and must be safe for that. It must agree with the
	// memcached servers' clocks to within a few seconds for expirations of
	// more than 30 days, which are sent as absolute times.
	Now func() time.Time
}

type config struct {
	prefix      string
	maxItemSize int
	now         func() time.Time
}

func (o *Options) compile() (*config, error) {
	if err := keys.Check("Options.Key", o.Key); err != nil {
		return nil, errors.New(errPrefix + err.Error())
	}
	c := &config{prefix: o.Prefix, maxItemSize: o.MaxItemSize, now: o.Now}
	if c.prefix == "" {
		c.prefix = DefaultPrefix
	}
	if len(c.prefix) > MaxPrefixLen {
		return nil, fmt.Errorf("%sOptions.Prefix is %d bytes, more than %d (memcached keys are limited to 250 bytes)", errPrefix, len(c.prefix), MaxPrefixLen)
	}
	for i := 0; i < len(c.prefix); i++ {
		if b := c.prefix[i]; b <= ' ' || b >= 0x7f {
			return nil, fmt.Errorf("%sOptions.Prefix %q must be printable ASCII without spaces or control characters (memcached key rules)", errPrefix, c.prefix)
		}
	}
	switch {
	case c.maxItemSize == 0:
		c.maxItemSize = DefaultMaxItemSize
	case c.maxItemSize < 1024:
		return nil, fmt.Errorf("%sOptions.MaxItemSize %d is too small (at least 1024 bytes; memcached's default is %d)", errPrefix, c.maxItemSize, DefaultMaxItemSize)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}
