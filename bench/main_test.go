package bench

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gin-securesession/securesession/internal/testservers"
)

// env is shared by every test and benchmark in the package: a temporary
// directory for SQLite files and a real memcached on loopback, both
// removed when the tests end.
var env *Env

// noMemcached says why the memcached contenders are skipped.
var noMemcached string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	e, cleanup, err := TempEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	env = e
	mc, err := testservers.StartMemcached()
	switch {
	case errors.Is(err, testservers.ErrMemcachedNotInstalled) && os.Getenv("CI") != "true":
		noMemcached = err.Error()
		fmt.Fprintln(os.Stderr, "SKIPPING the memcached contenders:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "starting memcached:", err)
		return 1
	default:
		defer mc.Stop()
		env.MemcacheAddr = mc.Addr()
		MemcachedKeys = func(prefix string) ([]string, error) { return metadumpKeys(mc, prefix) }
	}
	return m.Run()
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

// newApp builds contender c, skipping when it needs a missing memcached.
func newApp(tb testing.TB, c Contender) *App {
	tb.Helper()
	if c.NeedsMemcached && env.MemcacheAddr == "" {
		tb.Skip("SKIPPING: needs memcached: " + noMemcached)
	}
	a, err := c.New(env)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.Close)
	return a
}
