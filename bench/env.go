package bench

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession/internal/testservers"
)

// StartEnv creates a temporary directory for SQLite files and starts a
// memcached on a free loopback port; stop removes both. Without a
// memcached binary the memcached contenders are left out and note says
// why, unless $CI is "true", where that is an error.
func StartEnv() (env *Env, note string, stop func(), err error) {
	env, cleanup, err := TempEnv()
	if err != nil {
		return nil, "", nil, err
	}
	mc, err := testservers.StartMemcached()
	switch {
	case errors.Is(err, testservers.ErrMemcachedNotInstalled) && os.Getenv("CI") != "true":
		return env, err.Error(), cleanup, nil
	case err != nil:
		cleanup()
		return nil, "", nil, err
	}
	env.MemcacheAddr = mc.Addr()
	env.MemcachedKeys = func(prefix string) ([]string, error) { return metadumpKeys(mc, prefix) }
	return env, "", func() { mc.Stop(); cleanup() }, nil
}

// metadumpKeys lists the keys memcached holds under prefix.
func metadumpKeys(mc *testservers.Memcached, prefix string) ([]string, error) {
	lines, err := mc.Command("lru_crawler metadump all")
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, l := range lines {
		k, ok := strings.CutPrefix(l, "key=")
		if !ok {
			continue
		}
		k, _, _ = strings.Cut(k, " ")
		k, err := url.PathUnescape(k) // metadump URI-encodes keys
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// memcacheClient is a gomemcache client with its defaults, except enough
// idle connections for parallel load. It counts the round trips it makes
// (gomemcache flushes one write per request and then reads the reply).
func memcacheClient(env *Env) (*gomemcache.Client, *atomic.Int64, error) {
	if env == nil || env.MemcacheAddr == "" {
		return nil, nil, errNoMemcached
	}
	c := gomemcache.New(env.MemcacheAddr)
	c.MaxIdleConns = 16
	n := new(atomic.Int64)
	var d net.Dialer
	c.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{conn, n}, nil
	}
	return c, n, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}
