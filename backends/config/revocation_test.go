package config_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config"
	"github.com/gin-securesession/securesession/internal/testservers"
)

// TestParseSharedRevocationStores: the revocation parameter of cookie:
// takes the configuration string of a shared store, percent-encoded once
// as a query value; String masks its password, escapes it the same way,
// and parses back to the same Spec.
func TestParseSharedRevocationStores(t *testing.T) {
	pw := url.QueryEscape(secretEsc) // the store URL's escaped password, escaped once more
	tests := []struct {
		in         string
		revocation string
		store      config.Spec
		staleness  time.Duration
		redacted   string
	}{
		{"cookie:?revocation=postgres://app@db/app", "postgres", config.Spec{Scheme: "postgres"}, 0,
			"cookie:?revocation=postgres://app@db/app"},
		{"cookie:?revocation=postgresql://app:" + pw + "@db:5432/app?sslmode=verify-full%26table=rev%26cleanup_interval=1m&revocation_staleness=5s",
			"postgres", config.Spec{Scheme: "postgres", Table: "rev", CleanupInterval: time.Minute}, 5 * time.Second,
			"cookie:?revocation=postgres://app:xxxxx@db:5432/app?cleanup_interval=1m%26sslmode=verify-full%26table=rev&revocation_staleness=5s"},
		{"cookie:?revocation=" + url.QueryEscape("postgres://app@db/app?password="+secretEsc+"&sslmode=require"),
			"postgres", config.Spec{Scheme: "postgres"}, 0,
			"cookie:?revocation=postgres://app@db/app?password=xxxxx%26sslmode=require"},
		{"cookie:?revocation_staleness=250ms&revocation=sqlite:///var/lib/app/rev.db", "sqlite", config.Spec{Scheme: "sqlite", Path: "/var/lib/app/rev.db"}, 250 * time.Millisecond,
			"cookie:?revocation=sqlite:///var/lib/app/rev.db&revocation_staleness=250ms"},
		{"cookie:?revocation=sqlite:data/my%2520rev.db?cleanup_interval=off", "sqlite", config.Spec{Scheme: "sqlite", Path: "data/my rev.db", CleanupInterval: -1}, 0,
			"cookie:?revocation=sqlite:data/my%2520rev.db?cleanup_interval=off"},
		{"cookie:?revocation=memcache://10.0.0.1,10.0.0.2:11212?prefix=rev_", "memcache", config.Spec{Scheme: "memcache", Servers: []string{"10.0.0.1:11211", "10.0.0.2:11212"}, Prefix: "rev_"}, 0,
			"cookie:?revocation=memcache://10.0.0.1:11211,10.0.0.2:11212?prefix=rev_"},
		{"cookie:?revocation=memcached%3A%2F%2Fcache%3Fprefix%3Dr%26timeout%3D1s", "memcache", config.Spec{Scheme: "memcache", Servers: []string{"cache:11211"}, Prefix: "r", Timeout: time.Second}, 0,
			"cookie:?revocation=memcache://cache:11211?prefix=r%26timeout=1s"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			sp, err := config.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if sp.Scheme != "cookie" || sp.Revocation != tc.revocation || sp.RevocationStaleness != tc.staleness {
				t.Errorf("Parse = scheme %q, revocation %q, staleness %v; want cookie, %q, %v", sp.Scheme, sp.Revocation, sp.RevocationStaleness, tc.revocation, tc.staleness)
			}
			st, want := sp.RevocationStore, tc.store
			if st == nil {
				t.Fatal("no RevocationStore")
			}
			if st.Scheme != want.Scheme || !reflect.DeepEqual(st.Servers, want.Servers) || st.Prefix != want.Prefix || st.Timeout != want.Timeout ||
				st.Path != want.Path || st.Table != want.Table || st.CleanupInterval != want.CleanupInterval {
				t.Errorf("RevocationStore = %+v\nwant              %+v", *st, want)
			}
			if s := sp.String(); s != tc.redacted {
				t.Errorf("String() = %q\nwant       %q", s, tc.redacted)
			}
			noSecret(t, sp.String())
			again, err := config.Parse(sp.String())
			if err != nil || again.String() != sp.String() || again.Revocation != sp.Revocation || again.RevocationStaleness != sp.RevocationStaleness {
				t.Errorf("String() does not parse back to the same Spec: %v, %v", again, err)
			}
		})
	}
	for _, in := range []string{"cookie:", "cookie:?revocation=none", "cookie:?revocation=memory"} {
		if sp, err := config.Parse(in); err != nil || sp.RevocationStore != nil || sp.RevocationStaleness != 0 {
			t.Errorf("Parse(%q) = %+v, %v; want no shared store", in, sp, err)
		}
	}
}

func TestParseSharedRevocationErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cookie:?revocation=redis", "the value of revocation is not known; use revocation=none, revocation=memory (single process), or a store shared"},
		{"cookie:?revocation=redis://host", "revocation: the store's scheme is not postgres, postgresql, sqlite or memcache"},
		{"cookie:?revocation=cookie:", "revocation: a cookie: backend cannot hold revocations"},
		{"cookie:?revocation=" + secretEsc, "the store's scheme is not postgres"},
		{"cookie:?revocation=" + planted, "the value of revocation is not known"},
		{"cookie:?revocation=user:" + secretEsc + "@host", "the store's scheme is not postgres"},
		{"cookie:?revocation=memcache://", "cookie: revocation: memcache: no server given"},
		{"cookie:?revocation=memcache://host?max_item_size=4096", "max_item_size does not apply to a revocation store"},
		{"cookie:?revocation=memcache://host?prefix=a&timeout=1s", `cookie: unknown parameter "timeout"; accepted: revocation, revocation_staleness`},
		{"cookie:?revocation=memcache://host?prefix=a%20b", "prefix must be printable ASCII"},
		{"cookie:?revocation=sqlite:", "cookie: revocation: sqlite: no database file given"},
		{"cookie:?revocation=sqlite::memory:", "sqlite::memory: is a throwaway database of one process"},
		{"cookie:?revocation=sqlite:x.db?table=a-b", "table must be a plain SQL identifier"},
		{"cookie:?revocation=postgres://u:" + url.QueryEscape(secretEsc) + "@host", "cookie: revocation: postgres: no database name given"},
		{"cookie:?revocation=postgres://u:" + secret + "@host/db", "cookie: revocation: postgres: the URL is malformed"},
		{"cookie:?revocation=postgres://u@host/db%23x", "the store's configuration contains '#'; write a '#' that belongs to a password, path or value as %2523"},
		{"cookie:?revocation=postgres://u@host/db?connect_timeout=soon", "connect_timeout is not a whole number"},
		{"cookie:?revocation=postgres://u@host/db&revocation=memory", `"revocation" is given 2 times`},
		{"cookie:?revocation_staleness=2s", "revocation_staleness applies only to a shared revocation store"},
		{"cookie:?revocation=memory&revocation_staleness=2s", "revocation_staleness applies only to a shared revocation store"},
		{"cookie:?revocation=sqlite:x.db&revocation_staleness=soon", "revocation_staleness is not a positive duration; write e.g. revocation_staleness=2s"},
		{"cookie:?revocation=sqlite:x.db&revocation_staleness=-1s", "revocation_staleness is not a positive duration"},
		{"cookie:?revocation=sqlite:x.db&revocation_staleness=", "revocation_staleness is not a positive duration"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			sp, err := config.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %v", sp)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not say %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "securesession/config: cookie: ") {
				t.Errorf("error %q does not name the package and scheme", err)
			}
			noSecret(t, err.Error())
		})
	}
}

// TestOpenSharedRevocation opens two instances of a cookie: backend from
// one string naming a real shared store and logs a session out on one: the
// other, which has not seen the session, refuses its cookie at once.
// Close releases the store's connections.
func TestOpenSharedRevocation(t *testing.T) {
	cases := []struct {
		name string
		spec func(t *testing.T) string
		// conns, if set, counts the connections open to the store.
		conns func(t *testing.T) int
	}{
		{"postgres", func(t *testing.T) string {
			return "cookie:?revocation=" + url.QueryEscape(pgURL(t, testservers.Postgres(t))+"&table=fleet_revocations") + "&revocation_staleness=1s"
		}, nil},
		{"sqlite", func(t *testing.T) string {
			return "cookie:?revocation=sqlite://" + filepath.Join(t.TempDir(), "rev.db") + "?cleanup_interval=off"
		}, nil},
		{"memcache", func(t *testing.T) string {
			return "cookie:?revocation=memcache://" + testservers.StartMemcachedT(t).Addr() + "?prefix=cfgrev_"
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec(t)
			a, err := config.Open(spec, [][]byte{key1})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := config.Open(spec, [][]byte{key1})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if _, err := securesession.New(a.Backend, securesession.Options{}); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			now := time.Now()
			rec := &securesession.Record{UserID: "u1", AuthTime: now, Created: now, LastSeen: now,
				Deadline: now.Add(time.Hour), Expires: now.Add(30 * time.Minute), Values: []byte{}}
			tok, err := a.Backend.Create(ctx, "session", rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Backend.Delete(ctx, "session", tok); err != nil {
				t.Fatalf("logout on instance a: %v", err)
			}
			for name, st := range map[string]*config.Store{"a": a, "b": b} {
				if _, found, err := st.Backend.Find(ctx, "session", tok); err != nil || found {
					t.Fatalf("instance %s after the logout: found=%v, %v; want the cookie refused", name, found, err)
				}
			}
			if err := a.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestOpenSharedRevocationClosesItsDatabase: Store.Close ends every
// connection to the revocation store's PostgreSQL database.
func TestOpenSharedRevocationClosesItsDatabase(t *testing.T) {
	dsn := testservers.Postgres(t)
	u := pgURL(t, dsn)
	st, err := config.Open("cookie:?revocation="+url.QueryEscape(u), [][]byte{key1})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", strings.Replace(dsn, dbName(dsn), "dbname=postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	count := func() int {
		var n int
		q := "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
		if err := admin.QueryRow(q, strings.TrimPrefix(dbName(dsn), "dbname=")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n == 0 {
		t.Fatal("no connection to the revocation database after Open")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed connection leaves pg_stat_activity once its backend has
	// exited, which the server does right after the client's goodbye.
	deadline := time.Now().Add(10 * time.Second)
	for count() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the revocation database after Close", count())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dbName(dsn string) string {
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(f, "dbname=") {
			return f
		}
	}
	return ""
}

// TestOpenSharedRevocationUnreachable: a store that cannot be reached
// fails Open, naming the store with its password masked.
func TestOpenSharedRevocationUnreachable(t *testing.T) {
	for _, spec := range []string{
		"cookie:?revocation=" + url.QueryEscape("postgres://app:"+secretEsc+"@127.0.0.1:1/app?sslmode=disable&connect_timeout=2"),
		"cookie:?revocation=memcache://127.0.0.1:1",
		"cookie:?revocation=sqlite://" + filepath.Join(t.TempDir(), "missing", "dir", "rev.db"),
	} {
		st, err := config.Open(spec, [][]byte{key1})
		if err == nil {
			st.Close()
			t.Fatalf("Open(%q) succeeded", spec)
		}
		var ce *config.Error
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "securesession/config: cookie: revocation: ") {
			t.Errorf("error %q (%T) does not say it is the revocation store's", err, err)
		}
		if strings.Count(err.Error(), "securesession/config") != 1 {
			t.Errorf("error %q repeats the package", err)
		}
		for e := error(err); e != nil; e = errors.Unwrap(e) {
			noSecret(t, e.Error())
		}
	}
}
