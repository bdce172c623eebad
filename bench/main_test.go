package bench

import (
	"fmt"
	"os"
	"testing"
)

// env is shared by every test and benchmark in the package: a temporary
// directory for SQLite files and a real memcached on loopback, both
// removed when the tests end.
var env *Env

// noMemcached says why the memcached contenders are skipped ("" when they
// are not).
var noMemcached string

func TestMain(m *testing.M) {
	e, note, stop, err := StartEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	env, noMemcached = e, note
	if note != "" {
		fmt.Fprintln(os.Stderr, "SKIPPING the memcached contenders:", note)
	}
	code := m.Run()
	stop()
	os.Exit(code)
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
