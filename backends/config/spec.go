// Package config opens a securesession backend from one configuration
// string, so that an application switches backends by environment without
// code changes:
//
//	cookie:
//	cookie:?revocation=memory
//	memcache://10.0.0.1:11211,10.0.0.2:11211?prefix=app_
//	sqlite:///var/lib/app/sessions.db
//	sqlite:sessions.db
//	sqlite::memory:
//	postgres://app:secret@db.internal:5432/app?sslmode=verify-full
//
// The keys come from a separate setting, never from the string (which is
// often logged, shown in process lists or committed): pass them to Open,
// usually parsed with package sessionkeys from an environment variable.
// FromEnv does both.
//
//	store, err := config.FromEnv("SESSION_BACKEND", "SESSION_KEYS")
//	if err != nil {
//		log.Fatal(err) // names the problem; never contains a password or key
//	}
//	defer store.Close()
//	mw, err := securesession.New(store.Backend, securesession.Options{})
//
// # Parameters
//
// cookie: (encrypted-cookie backend, package backends/cookie; all keys are
// used, the first seals and the others open, for rotation)
//
//	revocation  "none" (default) or "memory": an in-process revocation list,
//	            so that a cookie replayed after logout is refused; right for
//	            a single process only
//
// memcache://host[:port][,host[:port]...] (package backends/memcache; port
// defaults to 11211; exactly one key)
//
//	prefix          key prefix, default "ss:"
//	timeout         socket timeout per call, a Go duration, default 500ms
//	max_idle_conns  idle connections kept per server, default 2
//	max_item_size   largest item in bytes, default 1048576 (memcached -I)
//
// sqlite:///absolute/path, sqlite:relative/path, sqlite::memory: (package
// backends/gorm with backends/gorm/sqlite; needs cgo; exactly one key).
// sqlite::memory: is a throwaway database for tests and demos, kept in a
// temporary file that Close deletes (a true in-memory SQLite database
// cannot be shared by a connection pool).
//
//	table             table name, default "securesession_sessions"
//	cleanup_interval  how often expired rows are deleted, a Go duration,
//	                  default 5m; "off" starts no sweeper
//
// postgres://... or postgresql://... (package backends/gorm with the pgx
// driver; exactly one key). The URL is a libpq connection URL: every
// parameter other than table and cleanup_interval (above) goes to the
// driver (sslmode, connect_timeout, application_name, ...). A password may
// be given in the URL or, better, in $PGPASSWORD or a .pgpass file.
package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Schemes lists the accepted schemes.
var Schemes = []string{"cookie", "memcache", "sqlite", "postgres", "postgresql"}

// MemoryPath is Spec.Path for sqlite::memory:.
const MemoryPath = ":memory:"

// Spec is a parsed configuration string. Parse checks it completely
// without connecting to anything, so an application can validate its
// configuration at startup or in a test.
type Spec struct {
	// Scheme is "cookie", "memcache", "sqlite" or "postgres"
	// ("postgresql" is read as "postgres").
	Scheme string

	// Revocation is "none" or "memory" (cookie).
	Revocation string

	// Servers are host:port addresses (memcache).
	Servers      []string
	Prefix       string        // memcache; "" means the backend's default
	Timeout      time.Duration // memcache; 0 means the client's default
	MaxIdleConns int           // memcache; 0 means the client's default
	MaxItemSize  int           // memcache; 0 means the backend's default

	// Path is the database file, or MemoryPath (sqlite).
	Path string

	// Table and CleanupInterval configure the gorm backend (sqlite,
	// postgres). CleanupInterval is 0 for the default and negative for
	// "off".
	Table           string
	CleanupInterval time.Duration // see Table

	// secret holds the PostgreSQL connection URL, which may contain a
	// password. It is behind a pointer so that printing a Spec with %v or
	// %+v shows an address, never the URL.
	secret   *secrets
	redacted string
}

type secrets struct {
	dsn      string // the connection URL without our parameters
	password string // to scrub from driver errors
}

// String returns the configuration with any password replaced by "xxxxx":
// safe to log.
func (s *Spec) String() string { return s.redacted }

// Error is returned for a configuration string that cannot be used. Its
// message says what is wrong and how to fix it; it never contains a
// password or a key.
type Error struct {
	Msg string // what is wrong and how to fix it
}

// Error returns the message prefixed with "securesession/config: ".
func (e *Error) Error() string { return "securesession/config: " + e.Msg }

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

const forms = "cookie:, memcache://host:11211, sqlite:///path/to/sessions.db, sqlite::memory: or postgres://user@host:5432/db"

// Parse parses a configuration string. See the package documentation for
// the accepted forms and parameters.
func Parse(s string) (*Spec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errorf("the backend configuration is empty; set it to one of %s", forms)
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		if isScheme(strings.ToLower(s)) {
			return nil, errorf("%q has no colon; write %q", s, strings.ToLower(s)+":")
		}
		return nil, errorf("the backend configuration has no scheme; use one of %s", forms)
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "cookie":
		return parseCookie(rest)
	case "memcache", "memcached":
		return parseMemcache(scheme, rest)
	case "sqlite", "sqlite3":
		return parseSQLite(rest)
	case "postgres", "postgresql":
		return parsePostgres(s)
	}
	return nil, errorf("unknown backend scheme %q; use one of %s", safeScheme(scheme), strings.Join(Schemes, ", "))
}

func isScheme(s string) bool {
	for _, k := range Schemes {
		if s == k {
			return true
		}
	}
	return false
}

// safeScheme shortens what the user wrote before the colon, in case a
// secret was pasted in the wrong place.
func safeScheme(s string) string {
	if len(s) > 20 || strings.ContainsAny(s, "@/") {
		return s[:min(len(s), 3)] + "..."
	}
	return s
}

// params parses a query string, rejecting parameters outside allowed.
func params(scheme, query string, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, errorf("%s: the parameters after '?' are malformed; write name=value pairs joined by '&'", scheme)
	}
	for name, vs := range q {
		if !contains(allowed, name) {
			if len(allowed) == 0 {
				return nil, errorf("%s: unknown parameter %q; %s takes no parameters", scheme, name, scheme)
			}
			return nil, errorf("%s: unknown parameter %q; accepted: %s", scheme, name, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, errorf("%s: parameter %q is given %d times; give it once", scheme, name, len(vs))
		}
	}
	return q, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func parseCookie(rest string) (*Spec, error) {
	path, query, _ := strings.Cut(rest, "?")
	if path != "" {
		return nil, errorf("cookie: takes no address or path (got %q after the colon); write just \"cookie:\"", path)
	}
	q, err := params("cookie", query, "revocation")
	if err != nil {
		return nil, err
	}
	sp := &Spec{Scheme: "cookie", Revocation: "none"}
	switch v := q.Get("revocation"); v {
	case "", "none":
	case "memory":
		sp.Revocation = "memory"
	default:
		return nil, errorf("cookie: revocation=%q is not known; use revocation=memory (single process) or revocation=none", v)
	}
	sp.redacted = "cookie:"
	if sp.Revocation == "memory" {
		sp.redacted += "?revocation=memory"
	}
	return sp, nil
}

func parseMemcache(scheme, rest string) (*Spec, error) {
	if !strings.HasPrefix(rest, "//") {
		return nil, errorf("%s: write the servers after \"memcache://\", e.g. memcache://10.0.0.1:11211,10.0.0.2:11211", scheme)
	}
	hosts, query, _ := strings.Cut(rest[2:], "?")
	if strings.Contains(hosts, "@") {
		return nil, errorf("memcache: the URL contains credentials ('@'), which memcached does not support; remove them and restrict access to the servers by network instead")
	}
	if i := strings.IndexByte(hosts, '/'); i >= 0 {
		if strings.Trim(hosts[i:], "/") != "" {
			return nil, errorf("memcache: unexpected path %q after the servers; memcache URLs have no path", hosts[i:])
		}
		hosts = hosts[:i]
	}
	if hosts == "" {
		return nil, errorf("memcache: no server given; write memcache://host:11211 (several servers separated by commas)")
	}
	sp := &Spec{Scheme: "memcache"}
	for i, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, errorf("memcache: server %d is empty; remove the extra comma", i+1)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			// No port: the default one.
			host, port = strings.Trim(h, "[]"), "11211"
			if strings.ContainsAny(host, ":[]") && net.ParseIP(host) == nil {
				return nil, errorf("memcache: server %q is not host or host:port (write IPv6 addresses as [::1]:11211)", h)
			}
		}
		if host == "" {
			return nil, errorf("memcache: server %q has no host name", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, errorf("memcache: server %q has an invalid port; ports are 1-65535 (memcached's default is 11211)", h)
		}
		sp.Servers = append(sp.Servers, net.JoinHostPort(host, port))
	}
	q, err := params("memcache", query, "prefix", "timeout", "max_idle_conns", "max_item_size")
	if err != nil {
		return nil, err
	}
	sp.Prefix = q.Get("prefix")
	if v := q.Get("timeout"); v != "" {
		if sp.Timeout, err = positiveDuration("memcache", "timeout", v, "500ms"); err != nil {
			return nil, err
		}
	}
	if v := q.Get("max_idle_conns"); v != "" {
		if sp.MaxIdleConns, err = positiveInt("memcache", "max_idle_conns", v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("max_item_size"); v != "" {
		if sp.MaxItemSize, err = positiveInt("memcache", "max_item_size", v); err != nil {
			return nil, err
		}
	}
	sp.redacted = "memcache://" + strings.Join(sp.Servers, ",") + encodeQuery(q)
	return sp, nil
}

func parseSQLite(rest string) (*Spec, error) {
	raw, query, _ := strings.Cut(rest, "?")
	var path string
	switch {
	case raw == MemoryPath:
		path = MemoryPath
	case strings.HasPrefix(raw, "///"):
		path = raw[2:] // keep one slash: an absolute path
	case strings.HasPrefix(raw, "//"):
		return nil, errorf("sqlite: %q names a host; SQLite is a local file: write sqlite:///absolute/path.db (three slashes) or sqlite:relative/path.db", "sqlite:"+raw)
	default:
		path = raw
	}
	if path == "" {
		return nil, errorf("sqlite: no database file given; write sqlite:///var/lib/app/sessions.db, sqlite:sessions.db or sqlite::memory:")
	}
	if path != MemoryPath {
		p, err := url.PathUnescape(path)
		if err != nil {
			return nil, errorf("sqlite: the path has a malformed %%-escape; write '%%' as %%25")
		}
		path = p
		if strings.HasPrefix(path, "file:") || strings.HasPrefix(path, ":") {
			return nil, errorf("sqlite: %q is not a file path; write sqlite:///absolute/path.db, sqlite:relative/path.db or sqlite::memory:", path)
		}
	}
	sp := &Spec{Scheme: "sqlite", Path: path}
	q, err := gormParams("sqlite", query, sp)
	if err != nil {
		return nil, err
	}
	if path == MemoryPath {
		sp.redacted = "sqlite::memory:" + encodeQuery(q)
	} else {
		sp.redacted = "sqlite:" + (&url.URL{Path: path}).EscapedPath() + encodeQuery(q)
		if strings.HasPrefix(path, "/") {
			sp.redacted = "sqlite://" + (&url.URL{Path: path}).EscapedPath() + encodeQuery(q)
		}
	}
	return sp, nil
}

// gormParams reads table and cleanup_interval into sp and returns them.
func gormParams(scheme, query string, sp *Spec) (url.Values, error) {
	q, err := params(scheme, query, "table", "cleanup_interval")
	if err != nil {
		return nil, err
	}
	return q, takeGormParams(scheme, q, sp)
}

// takeGormParams reads the gorm backend's parameters from q into sp.
func takeGormParams(scheme string, q url.Values, sp *Spec) error {
	sp.Table = q.Get("table")
	if q.Has("table") && sp.Table == "" {
		return errorf("%s: table is empty; omit it for the default table securesession_sessions", scheme)
	}
	switch v := q.Get("cleanup_interval"); v {
	case "":
	case "off":
		sp.CleanupInterval = -1
	default:
		d, err := positiveDuration(scheme, "cleanup_interval", v, "5m")
		if err != nil {
			return errorf("%s: cleanup_interval=%q is not a positive duration or \"off\"; write e.g. cleanup_interval=5m", scheme, v)
		}
		sp.CleanupInterval = d
	}
	return nil
}

func parsePostgres(s string) (*Spec, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error quotes the whole string, password included.
		return nil, errorf("postgres: the URL is malformed; write postgres://user:password@host:5432/dbname?sslmode=verify-full (percent-encode special characters in the password)")
	}
	sp := &Spec{Scheme: "postgres", secret: &secrets{}}
	if pw, ok := u.User.Password(); ok {
		sp.secret.password = pw
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errorf("postgres: no host given; write postgres://user@host:5432/dbname")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errorf("postgres: invalid port %q; ports are 1-65535 (PostgreSQL's default is 5432)", p)
		}
	}
	if strings.Trim(u.Path, "/") == "" {
		return nil, errorf("postgres: no database name given; write postgres://user@%s/dbname", u.Host)
	}
	q := u.Query()
	ours := url.Values{}
	for _, name := range []string{"table", "cleanup_interval"} {
		if vs, ok := q[name]; ok {
			if len(vs) > 1 {
				return nil, errorf("postgres: parameter %q is given %d times; give it once", name, len(vs))
			}
			ours[name] = vs
			q.Del(name)
		}
	}
	if err := takeGormParams("postgres", ours, sp); err != nil {
		return nil, err
	}
	if pw := q.Get("password"); pw != "" {
		sp.secret.password = pw
	}
	u.Scheme = "postgres"
	u.RawQuery = q.Encode()
	sp.secret.dsn = u.String()

	red := *u
	if _, ok := red.User.Password(); ok {
		red.User = url.UserPassword(red.User.Username(), "xxxxx")
	}
	rq := red.Query()
	if rq.Has("password") {
		rq.Set("password", "xxxxx")
	}
	for k, v := range ours {
		rq[k] = v
	}
	red.RawQuery = rq.Encode()
	sp.redacted = red.String()
	return sp, nil
}

func positiveDuration(scheme, name, v, example string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errorf("%s: %s=%q is not a positive duration; write e.g. %s=%s", scheme, name, v, name, example)
	}
	return d, nil
}

func positiveInt(scheme, name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errorf("%s: %s=%q is not a positive whole number", scheme, name, v)
	}
	return n, nil
}

func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
