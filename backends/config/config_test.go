package config_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config"
	"github.com/gin-securesession/securesession/internal/testservers"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testservers.StopPostgres()
	os.Exit(code)
}

var (
	key1, _ = hex.DecodeString("60e825f471a1a205cc32019a9331fcb841503ffc058715f19da31db69b7702f9")
	key2, _ = hex.DecodeString("07914dc59b9a414acf5764fd9734a4f191be04ff653fb22db9084aee6597b83b")
)

// secret appears in connection strings below; it must never reach an error
// message or String.
const secret = "s3cr3t-P@ss:w/rd"

// secretEsc is secret percent-encoded for a URL.
const secretEsc = "s3cr3t-P%40ss%3Aw%2Frd"

func TestParseAcceptedForms(t *testing.T) {
	pw := secretEsc
	tests := []struct {
		in       string
		want     config.Spec
		redacted string
	}{
		{"cookie:", config.Spec{Scheme: "cookie", Revocation: "none"}, "cookie:"},
		{"  COOKIE:  ", config.Spec{Scheme: "cookie", Revocation: "none"}, "cookie:"},
		{"cookie:?revocation=memory", config.Spec{Scheme: "cookie", Revocation: "memory"}, "cookie:?revocation=memory"},
		{"cookie:?revocation=none", config.Spec{Scheme: "cookie", Revocation: "none"}, "cookie:"},

		{"memcache://127.0.0.1:11211", config.Spec{Scheme: "memcache", Servers: []string{"127.0.0.1:11211"}}, "memcache://127.0.0.1:11211"},
		{"memcache://cache", config.Spec{Scheme: "memcache", Servers: []string{"cache:11211"}}, "memcache://cache:11211"},
		{"memcache://host1:11211,host2:11212?prefix=app_", config.Spec{Scheme: "memcache", Servers: []string{"host1:11211", "host2:11212"}, Prefix: "app_"}, "memcache://host1:11211,host2:11212?prefix=app_"},
		{"memcache://[::1]:11211,[::1]/", config.Spec{Scheme: "memcache", Servers: []string{"[::1]:11211", "[::1]:11211"}}, "memcache://[::1]:11211,[::1]:11211"},
		{"memcached://a?timeout=250ms&max_idle_conns=16&max_item_size=4194304", config.Spec{Scheme: "memcache", Servers: []string{"a:11211"}, Timeout: 250 * time.Millisecond, MaxIdleConns: 16, MaxItemSize: 4 << 20}, "memcache://a:11211?max_idle_conns=16&max_item_size=4194304&timeout=250ms"},

		{"sqlite:///var/lib/app/sessions.db", config.Spec{Scheme: "sqlite", Path: "/var/lib/app/sessions.db"}, "sqlite:///var/lib/app/sessions.db"},
		{"sqlite:sessions.db", config.Spec{Scheme: "sqlite", Path: "sessions.db"}, "sqlite:sessions.db"},
		{"sqlite:data/my%20sessions.db", config.Spec{Scheme: "sqlite", Path: "data/my sessions.db"}, "sqlite:data/my%20sessions.db"},
		{"sqlite::memory:", config.Spec{Scheme: "sqlite", Path: ":memory:"}, "sqlite::memory:"},
		{"sqlite3::memory:?cleanup_interval=off", config.Spec{Scheme: "sqlite", Path: ":memory:", CleanupInterval: -1}, "sqlite::memory:?cleanup_interval=off"},
		{"sqlite:///tmp/s.db?table=app_sessions&cleanup_interval=1m", config.Spec{Scheme: "sqlite", Path: "/tmp/s.db", Table: "app_sessions", CleanupInterval: time.Minute}, "sqlite:///tmp/s.db?cleanup_interval=1m&table=app_sessions"},

		{"postgres://app@db:5432/app?sslmode=disable", config.Spec{Scheme: "postgres"}, "postgres://app@db:5432/app?sslmode=disable"},
		{"postgresql://app:" + pw + "@db/app?table=s&cleanup_interval=10m&sslmode=verify-full", config.Spec{Scheme: "postgres", Table: "s", CleanupInterval: 10 * time.Minute}, "postgres://app:xxxxx@db/app?cleanup_interval=10m&sslmode=verify-full&table=s"},
		{"postgres://app@db/app?password=" + pw, config.Spec{Scheme: "postgres"}, "postgres://app@db/app?password=xxxxx"},
		{"postgres://app:" + pw + "@db/app?sslmode=verify-full&sslpassword=" + pw + "&sslkey=/etc/app/client.key&sslcert=/etc/app/client.crt&passfile=/etc/app/pgpass&application_name=web&api_TOKEN=" + pw + "&client_secret=" + pw + "&PWD=" + pw + "&aws_credential=" + pw,
			config.Spec{Scheme: "postgres"},
			"postgres://app:xxxxx@db/app?PWD=xxxxx&api_TOKEN=xxxxx&application_name=web&aws_credential=xxxxx&client_secret=xxxxx&passfile=xxxxx&sslcert=%2Fetc%2Fapp%2Fclient.crt&sslkey=xxxxx&sslmode=verify-full&sslpassword=xxxxx"},
		{"postgres://:" + pw + "@db:5432/app?pg_stat_statements.track=all", config.Spec{Scheme: "postgres"}, "postgres://:xxxxx@db:5432/app?pg_stat_statements.track=all"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			sp, err := config.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := *sp
			if got.Scheme != tc.want.Scheme || got.Revocation != tc.want.Revocation || !reflect.DeepEqual(got.Servers, tc.want.Servers) ||
				got.Prefix != tc.want.Prefix || got.Timeout != tc.want.Timeout || got.MaxIdleConns != tc.want.MaxIdleConns ||
				got.MaxItemSize != tc.want.MaxItemSize || got.Path != tc.want.Path || got.Table != tc.want.Table ||
				got.CleanupInterval != tc.want.CleanupInterval {
				t.Errorf("Parse = %+v\nwant    %+v", got, tc.want)
			}
			if s := sp.String(); s != tc.redacted {
				t.Errorf("String() = %q, want %q", s, tc.redacted)
			}
			noSecret(t, sp.String())
			noSecret(t, fmt.Sprintf("%v %+v", sp, *sp))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "is empty; set it to one of cookie:"},
		{"   ", "is empty"},
		{"cookie", `has no colon; write "cookie:"`},
		{"redis://localhost:6379", `unknown backend scheme "redis"; use one of cookie, memcache, sqlite, postgres`},
		{"user:" + secretEsc + "@host/db", `unknown backend scheme "user"`},
		{"https://user:" + secretEsc + "@host/db", `unknown backend scheme "https"`},
		{"localhost:11211", `unknown backend scheme "localhost"`},
		{"a/b:x", "does not start with a scheme; use one of cookie:"},
		{"averyveryverylongword:x", "does not start with a scheme"},
		{"cookie://x", `takes no text after the colon other than ?parameters; write "cookie:"`},
		{"cookie:?revocation=redis", "the value of revocation is not known; use revocation=none, revocation=memory"},
		{"cookie:#x", "contains '#', which starts a URL fragment"},
		{"cookie:?revocation", "parameter 1 after '?' has no '='"},
		{"cookie:?a%20b=1", "is not a plain name"},
		{"cookie:?ttl=1h", `unknown parameter "ttl"; accepted: revocation`},
		{"memcache:localhost", `write the servers after "memcache://"`},
		{"memcache://", "no server given"},
		{"memcache://a,,b", "server 2 is empty"},
		{"memcache://a:0", "invalid port"},
		{"memcache://a:http", "invalid port"},
		{"memcache://:11211", "has no host name"},
		{"memcache://user:" + secret + "@host", "contains credentials"},
		{"memcache://host/db", "memcache URLs have no path"},
		{"memcache://host?prefix=a&prefix=b", `"prefix" is given 2 times`},
		{"memcache://host?timeout=soon", "timeout is not a positive duration; write e.g. timeout=500ms"},
		{"memcache://host?timeout=-1s", "not a positive duration"},
		{"memcache://host?max_idle_conns=many", "not a positive whole number"},
		{"memcache://host?pool=3", `unknown parameter "pool"; accepted: prefix, timeout, max_idle_conns, max_item_size`},
		{"memcache://host?a=%zz", "parameters after '?' are malformed"},
		{"memcache://host?prefix=a&b", "parameter 2 after '?' has no '='"},
		{"memcache://host?prefix=a%20b", "prefix must be printable ASCII"},
		{"memcache://a:1,b:x", "server 2 has an invalid port"},
		{"sqlite:", "no database file given"},
		{"sqlite://", "two slashes introduce a host"},
		{"sqlite:user:pw@host/x.db", "looks like user:password@host"},
		{"sqlite://var/lib/app.db", "(three slashes)"},
		{"sqlite:file:x.db?mode=memory", "is not a file path"},
		{"sqlite:a%zzb.db", "malformed %-escape"},
		{"sqlite:x.db?cleanup_interval=never", `cleanup_interval is not a positive duration or "off"`},
		{"sqlite:x.db?table=a-b", "table must be a plain SQL identifier of at most 40 bytes"},
		{"sqlite:x.db?table=", "table is empty"},
		{"sqlite:x.db?mode=ro", `unknown parameter "mode"; accepted: table, cleanup_interval`},
		{"postgres://", "no host given"},
		{"postgres:db", "no host given"},
		{"postgres://u:" + secretEsc + "@host:99999/db", "invalid port; ports are 1-65535"},
		{"postgres://u:" + secretEsc + "@host:5432", "no database name given; write postgres://user@host:5432/dbname"},
		{"postgres://u:" + secretEsc + "@host/db?table=a&table=b", `"table" is given 2 times`},
		{"postgres://u:" + secretEsc + "@host/db?cleanup_interval=x", "cleanup_interval is not a positive duration"},
		{"postgres://u:" + secretEsc + "@host/db?connect_timeout=soon", "connect_timeout is not a whole number of seconds"},
		{"postgres://u:" + secretEsc + "@host/db?sslmode", "parameter 1 after '?' has no '='"},
		{"postgres://u:" + secretEsc + "@host/db#x", "contains '#'"},
		{"postgres://u:1234/x@host/db", "'@' after the host"},
		{"postgres://u:" + secretEsc + "@ho st/db", "the URL is malformed"},
		{"postgres://u:%zz" + secretEsc + "@host/db", "the URL is malformed"},
		{"postgres://u:" + secret + "@host/db", "the URL is malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			sp, err := config.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %v", sp)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *config.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not say %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "securesession/config: ") {
				t.Errorf("error %q does not name the package", err)
			}
			noSecret(t, err.Error())
		})
	}
}

func noSecret(t *testing.T, s string) {
	t.Helper()
	for _, form := range []string{secret, "s3cr3t", base64.StdEncoding.EncodeToString(key1), string(key1), base64.StdEncoding.EncodeToString(key2)} {
		if strings.Contains(s, form) {
			t.Fatalf("a secret appears in %q", s)
		}
	}
}

func TestOpenKeyErrors(t *testing.T) {
	short := []byte("too short")
	same := make([]byte, 32)
	tests := []struct {
		spec string
		keys [][]byte
		want string
	}{
		{"cookie:", nil, "no session key given"},
		{"sqlite::memory:", [][]byte{}, "no session key given"},
		{"cookie:", [][]byte{key1, short}, "key 2 of 2: key must be exactly 32 random bytes, got 9"},
		{"cookie:", [][]byte{same}, "copies of one byte"},
		{"sqlite::memory:", [][]byte{key1, key2}, "got 2 keys, but this backend takes exactly one"},
		{"memcache://127.0.0.1:1", [][]byte{key1, key2}, "takes exactly one"},
		{"postgres://u:" + secretEsc + "@127.0.0.1:1/db", [][]byte{short}, "key 1 of 1: key must be exactly 32"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			st, err := config.Open(tc.spec, tc.keys)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not say %q", err, tc.want)
			}
			noSecret(t, err.Error())
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("TEST_BACKEND", "")
	t.Setenv("TEST_KEYS", base64.StdEncoding.EncodeToString(key1)+", "+base64.RawURLEncoding.EncodeToString(key2))
	if _, err := config.FromEnv("TEST_BACKEND", "TEST_KEYS"); err == nil || !strings.Contains(err.Error(), "TEST_BACKEND is not set") {
		t.Fatalf("unset backend: %v", err)
	}
	t.Setenv("TEST_BACKEND", "redis://x")
	if _, err := config.FromEnv("TEST_BACKEND", "TEST_KEYS"); err == nil || !strings.Contains(err.Error(), "TEST_BACKEND: unknown backend scheme") {
		t.Fatalf("bad backend: %v", err)
	}
	t.Setenv("TEST_BACKEND", "cookie:")
	st, err := config.FromEnv("TEST_BACKEND", "TEST_KEYS")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Setenv("TEST_KEYS", base64.StdEncoding.EncodeToString(key1)+","+base64.StdEncoding.EncodeToString(key1[:16]))
	_, err = config.FromEnv("TEST_BACKEND", "TEST_KEYS")
	if err == nil || !strings.Contains(err.Error(), "TEST_KEYS: sessionkeys: key 2 of 2 decodes to 16 bytes") {
		t.Fatalf("short key: %v", err)
	}
	noSecret(t, err.Error())
	t.Setenv("TEST_KEYS", "")
	if _, err := config.FromEnv("TEST_BACKEND", "TEST_KEYS"); err == nil || !strings.Contains(err.Error(), "TEST_KEYS: sessionkeys: no session key configured") {
		t.Fatalf("no keys: %v", err)
	}
}

// TestOpenEachBackend opens every kind of backend against real servers and
// checks what it can do.
func TestOpenEachBackend(t *testing.T) {
	type want struct{ lister bool }
	cases := []struct {
		name string
		spec func(t *testing.T) string
		keys [][]byte
		want want
	}{
		{"cookie", func(*testing.T) string { return "cookie:" }, [][]byte{key1, key2}, want{}},
		{"cookie-revocation", func(*testing.T) string { return "cookie:?revocation=memory" }, [][]byte{key1}, want{}},
		{"sqlite-memory", func(*testing.T) string { return "sqlite::memory:?cleanup_interval=off" }, [][]byte{key1}, want{lister: true}},
		{"sqlite-file", func(t *testing.T) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "s.db") + "?table=app_sessions"
		}, [][]byte{key1}, want{lister: true}},
		{"memcache", func(t *testing.T) string {
			return "memcache://" + testservers.StartMemcachedT(t).Addr() + "?prefix=cfgtest_"
		}, [][]byte{key1}, want{lister: true}},
		{"postgres", func(t *testing.T) string {
			return pgURL(t, testservers.Postgres(t))
		}, [][]byte{key1}, want{lister: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := config.Open(tc.spec(t), tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			_, isLister := st.Backend.(securesession.Lister)
			if isLister != tc.want.lister {
				t.Errorf("Lister = %v, want %v", isLister, tc.want.lister)
			}
			if _, err := securesession.New(st.Backend, securesession.Options{}); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, st.Backend)
		})
	}
}

func TestSQLiteMemoryIsDeletedOnClose(t *testing.T) {
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "securesession-sqlite-*"))
	st, err := config.Open("sqlite::memory:", [][]byte{key1})
	if err != nil {
		t.Fatal(err)
	}
	during, _ := filepath.Glob(filepath.Join(os.TempDir(), "securesession-sqlite-*"))
	if len(during) != len(before)+1 {
		t.Fatalf("expected one new temporary directory, had %d now %d", len(before), len(during))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "securesession-sqlite-*"))
	if len(after) != len(before) {
		t.Fatalf("Close left the temporary database behind")
	}
}

func TestConnectionErrorsHideThePassword(t *testing.T) {
	// Nothing listens on port 1.
	for _, spec := range []string{
		"postgres://app:" + secretEsc + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=2",
		"postgres://app@127.0.0.1:1/app?sslmode=disable&connect_timeout=2&password=" + secretEsc,
	} {
		_, err := config.Open(spec, [][]byte{key1})
		if err == nil {
			t.Fatal("Open succeeded against a closed port")
		}
		if !strings.Contains(err.Error(), "cannot connect") || !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("error %q does not say it cannot connect (with the password redacted)", err)
		}
		for e := error(err); e != nil; e = errors.Unwrap(e) {
			noSecret(t, e.Error())
		}
	}
	_, err := config.Open("memcache://127.0.0.1:1", [][]byte{key1})
	if err == nil || !strings.Contains(err.Error(), "cannot reach memcached at 127.0.0.1:1") {
		t.Fatalf("memcache down: %v", err)
	}
}

// planted is pasted below wherever a user might put a secret in a
// configuration string. Only letters and digits, so that every encoding of
// it is itself.
const planted = "S3cr3tPlanted"

// TestSecretsNeverAppearInStringOrErrors plants a secret in every place of
// every form where one may be pasted (userinfo, password parameters,
// unknown parameters named like secrets, free text after the scheme, a
// fragment, a rejected value) and checks that neither String nor any error
// from Parse, Open or FromEnv shows it, and that no error lets it be
// reached by unwrapping.
func TestSecretsNeverAppearInStringOrErrors(t *testing.T) {
	t.Chdir(t.TempDir()) // a relative sqlite path that opens lands here
	dir := t.TempDir()
	const p = planted
	// Nothing listens on port 1, so these fail fast after parsing.
	const pg = "postgres://app@127.0.0.1:1/app?sslmode=disable&connect_timeout=1"
	const pgPW = "postgres://app:" + p + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1"
	// sslcert and sslkey are read while the driver parses the URL.
	pgTLS := "postgres://app@127.0.0.1:1/app?connect_timeout=1&sslmode=require&sslcert=" + dir + "/missing.crt"
	tlsFiles := "&sslkey=" + dir + "/missing.key"
	specs := []string{
		// cookie:
		"cookie:" + p,
		"cookie:" + p + "+/Ab0123456789abcdefghijklmnopqrst=",
		"cookie:?" + p,
		"cookie:?" + p + "+/Ab0123456789abcdefghijklmnopqrst=",
		"cookie://user:" + p + "@host",
		"cookie:?revocation=" + p,
		"cookie:?secret=" + p,
		"cookie:?key=" + p,
		"cookie:?session_KEY=" + p,
		"cookie:?token=" + p,
		"cookie:?passphrase=" + p,
		"cookie:#" + p,
		"cookie:?revocation=memory#" + p,
		"COOKIE:" + p,

		// memcache://
		"memcache://user:" + p + "@host",
		"memcache://:" + p + "@host:11211",
		"memcache://host/" + p,
		"memcache://host#" + p,
		"memcache://host:11211?prefix=app_#" + p,
		"memcache://host?" + p,
		"memcache://host:" + p,
		"memcache://host?password=" + p,
		"memcache://host?sasl_pass=" + p,
		"memcache://host?auth_token=" + p,
		"memcache://host?secret=" + p,
		"memcache://host?key=" + p,
		"memcache://host?timeout=" + p,
		"memcache://host?max_idle_conns=" + p,
		"memcache://host?max_item_size=" + p,
		"memcache://host?prefix=" + p + "%20x",
		"memcached://host?password=" + p,

		// sqlite: absolute file
		"sqlite://user:" + p + "@host/sessions.db",
		"sqlite://:" + p + "@" + dir + "/s.db",
		"sqlite://" + dir + "/s.db#" + p,
		"sqlite://" + dir + "/s.db?" + p,
		"sqlite://" + dir + "/s.db?password=" + p,
		"sqlite://" + dir + "/s.db?_auth_pass=" + p,
		"sqlite://" + dir + "/s.db?_pragma_key=" + p,
		"sqlite://" + dir + "/s.db?token=" + p,
		"sqlite://" + dir + "/s.db?Secret=" + p,
		"sqlite://" + dir + "/s.db?cleanup_interval=" + p,
		"sqlite://" + dir + "/s.db?table=" + p + "%3Bx",
		"sqlite://" + dir + "/s.db?table=" + p + "_" + strings.Repeat("x", 40),
		// sqlite: relative file
		"sqlite:user:" + p + "@host/sessions.db",
		"sqlite:sessions.db#" + p,
		"sqlite:sessions.db?" + p,
		"sqlite:sessions.db?key=" + p,
		"sqlite:sessions.db?cleanup_interval=" + p,
		"sqlite3:sessions.db?password=" + p,
		"sqlite:file:sessions.db?_auth_pass=" + p,
		// sqlite::memory:
		"sqlite::memory:" + p,
		"sqlite::memory:#" + p,
		"sqlite::memory:?" + p,
		"sqlite::memory:?key=" + p,
		"sqlite::memory:?cleanup_interval=" + p,

		// postgres:// and postgresql://
		pgPW,
		"postgresql://app:" + p + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1",
		"postgres://:" + p + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1",
		pg + "&password=" + p,
		pgPW + "&password=" + p + "x",
		pg + "&sslpassword=" + p,
		pgTLS + tlsFiles + "&sslpassword=" + p,
		strings.Replace(pgTLS, "app@", "app:"+p+"@", 1) + tlsFiles,
		pgTLS + "&sslkey=" + dir + "/" + p + ".key",
		pg + "&passfile=" + dir + "/" + p,
		pg + "&api_key=" + p,
		pg + "&auth_token=" + p,
		pg + "&client_secret=" + p,
		pg + "&MyPassWord=" + p,
		pg + "&" + p,
		pg + "#" + p,
		pg + "&cleanup_interval=" + p,
		pg + "&table=" + p + "%3Bx",
		"postgres://app@127.0.0.1:1/app?sslmode=disable&connect_timeout=" + p,
		"postgres://app:1234/" + p + "@127.0.0.1:1/app?sslmode=disable",
		"postgres://app:" + p + "@ho st/app",
		"postgres://app:" + p + "%zz@host/app",
		"postgres://app:" + p + "@host",
		"postgres://app:" + p + "@host:99999/app",
		"postgres:app:" + p + "@host/app",
		"postgresql://app:" + p + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=1&table=a&table=b",

		// cookie: with a shared revocation store, whose configuration is
		// one escaped parameter value
		"cookie:?revocation=postgres://app:" + p + "@127.0.0.1:1/app?sslmode=disable%26connect_timeout=1",
		"cookie:?revocation=" + url.QueryEscape(pgPW),
		"cookie:?revocation=" + url.QueryEscape(pg+"&password="+p),
		"cookie:?revocation=" + url.QueryEscape(pg+"&sslpassword="+p) + "&revocation_staleness=1s",
		"cookie:?revocation=" + url.QueryEscape(pgTLS+tlsFiles+"&sslpassword="+p),
		"cookie:?revocation=" + url.QueryEscape(pg+"&api_key="+p),
		"cookie:?revocation=" + url.QueryEscape(pg+"&"+p),
		"cookie:?revocation=" + url.QueryEscape(pg+"#"+p),
		"cookie:?revocation=" + url.QueryEscape(pg+"&table="+p+"%3Bx"),
		"cookie:?revocation=postgres://app:" + p + "@host",
		"cookie:?revocation=postgres://app:" + p + "@ho st/app",
		"cookie:?revocation=postgres://app:" + p + "%zz@host/app",
		"cookie:?revocation=postgres://app:1234/" + p + "@127.0.0.1:1/app",
		"cookie:?revocation=postgres://app:" + p + "@127.0.0.1:1/app&" + p,
		"cookie:?revocation=memcache://user:" + p + "@host",
		"cookie:?revocation=memcache://host?password=" + p,
		"cookie:?revocation=memcache://host?prefix=" + p + "%2520x",
		"cookie:?revocation=memcache://host?max_item_size=" + p,
		"cookie:?revocation=sqlite://user:" + p + "@host/rev.db",
		"cookie:?revocation=sqlite://" + dir + "/rev.db?key=" + p,
		"cookie:?revocation=sqlite://" + dir + "/rev.db%23" + p,
		"cookie:?revocation=sqlite:rev.db&revocation_staleness=" + p,
		"cookie:?revocation=" + p + "://host",
		"cookie:?revocation=redis://:" + p + "@host",
		"cookie:?revocation=cookie:" + p,
		"cookie:?revocation=" + p + "&revocation_staleness=2s",

		// no known scheme
		"redis://user:" + p + "@host:6379",
		"mysql://root:" + p + "@tcp(db:3306)/app",
		p + "+/Ab0123456789abcdefghijklmnopqrst=",
		"user:" + p + "@host/db",
		"https://user:" + p + "@host/db",
	}
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) { checkPlanted(t, spec) })
	}

	// Against a real server: a password under trust authentication opens,
	// and a startup parameter named like a secret is refused by the server.
	t.Run("postgres server", func(t *testing.T) {
		u := pgURL(t, testservers.Postgres(t))
		pw := strings.Replace(u, "postgres://postgres@", "postgres://postgres:"+p+"@", 1)
		if pw == u {
			t.Fatalf("cannot plant a password in %q", u)
		}
		for _, spec := range []string{pw, u + "&api_token=" + p, pw + "&sslpassword=" + p, u + "&password=" + p} {
			checkPlanted(t, spec)
			checkPlanted(t, "cookie:?revocation="+url.QueryEscape(spec))
		}
	})

	t.Run("FromEnv", func(t *testing.T) {
		t.Setenv("TEST_KEYS", base64.StdEncoding.EncodeToString(key1))
		for _, spec := range []string{"cookie:" + p, pgTLS + tlsFiles + "&sslpassword=" + p} {
			t.Setenv("TEST_BACKEND", spec)
			st, err := config.FromEnv("TEST_BACKEND", "TEST_KEYS")
			if err == nil {
				st.Close()
				t.Fatalf("FromEnv(%q) succeeded", spec)
			}
			assertAbsent(t, "FromEnv error", err, p)
		}
	})
}

// checkPlanted parses and opens spec, which contains planted, and fails the
// test if String or an error reveals it.
func checkPlanted(t *testing.T, spec string) {
	t.Helper()
	sp, err := config.Parse(spec)
	if err != nil {
		assertAbsent(t, "Parse error", err, planted)
	} else {
		assertAbsent(t, "Spec.String", sp.String(), planted)
		assertAbsent(t, "Spec printed with %v, %+v, %s", fmt.Sprintf("%v %+v %s", sp, sp, sp), planted)
	}
	st, err := config.Open(spec, [][]byte{key1})
	if err != nil {
		assertAbsent(t, "Open error", err, planted)
		return
	}
	defer st.Close()
	assertAbsent(t, "Store.String", st.String(), planted)
}
