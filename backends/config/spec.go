// Package config opens a securesession backend from one configuration
// string, so that an application switches backends by environment without
// code changes:
//
//	cookie:
//	cookie:?revocation=memory
//	cookie:?revocation=postgres://app@db.internal/app?sslmode=verify-full
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
//	revocation            "none" (default); "memory": an in-process revocation
//	                      list, so that a cookie replayed after logout is
//	                      refused, right for a single process only; or a
//	                      revocation store shared by every instance of the
//	                      fleet (cookie.SharedRevocation), as a configuration
//	                      string of its own (below)
//	revocation_staleness  with a shared store: how old the revocation state an
//	                      instance answers from may be, a Go duration,
//	                      default 2s (beyond it requests get 503)
//
// The shared store is one of
//
//	postgres://... or postgresql://...  a table of a PostgreSQL database
//	sqlite:///path, sqlite:path         a table of a SQLite file (instances on one host;
//	                                    not sqlite::memory:, which no other process sees)
//	memcache://host[:port][,host...]    memcached
//
// with the parameters of that scheme below, except that table names the
// revocation table (default "securesession_revocations", package
// backends/gorm's RevocationStore), prefix is the revocation store's key
// prefix, and max_item_size does not apply. The whole store configuration
// is the value of one query parameter, so it is percent-encoded once
// more, as url.QueryEscape does: write its '&' as %26, '+' as %2B, '%' as
// %25 and '#' as %2523 (':', '/', ',', '?', '=' and '@' may stay as they
// are). A password "p%40ss" in the store's URL becomes "p%2540ss":
//
//	cookie:?revocation=postgres://app:p%2540ss@db/app?sslmode=verify-full%26table=rev&revocation_staleness=5s
//	cookie:?revocation=memcache://10.0.0.1,10.0.0.2?prefix=rev_
//
// Spec.String writes the store's configuration with its password masked,
// escaped the same way, so that it parses back to the same Spec.
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
//
// # Secrets in logs and errors
//
// Spec.String, Store.String and every error of this package are meant to
// be logged, so none of them contains a secret. String shows "xxxxx" for
// the password of a postgres URL and for the value of every parameter
// whose name contains "pass", "pwd", "secret", "token", "key" or
// "credential" in any letter case: password and sslpassword, and also
// passfile and sslkey, although these are paths. A rule without
// exceptions is one a reviewer can check, and a key pasted where its path
// belongs stays hidden; the error of a file the driver cannot read still
// names the parameter. The other backends take no secret parameters and
// reject unknown ones by name.
//
// Errors name the parameter at fault but repeat no rejected value, no text
// after "cookie:" or in a fragment, no parameter without '=' and no
// parameter name that is not a plain name, since each of those may be a
// secret pasted in the wrong place; of what precedes the first colon, an
// error names only a short scheme-like word. Driver errors are passed on
// as text with every secret of the configuration cut out.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
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

	// Revocation is "none", "memory", or the scheme of the shared
	// revocation store: "memcache", "postgres" or "sqlite" (cookie).
	Revocation string

	// RevocationStore is the parsed configuration of the shared
	// revocation store (Servers and Prefix, or Path or the connection
	// URL, with Table and CleanupInterval) when Revocation names one; nil
	// otherwise.
	RevocationStore *Spec

	// RevocationStaleness is how old the revocation state an instance
	// answers from may be, at most, with a shared revocation store (see
	// cookie.SharedRevocationOptions). Zero means the default,
	// DefaultRevocationStaleness.
	RevocationStaleness time.Duration

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
	dsn    string   // the connection URL without our parameters
	values []string // the password and every secretParam value, to scrub from driver errors
}

// String returns the configuration in a form that is safe to log: scheme,
// servers or host, path or database name and parameters, with the password
// and the value of every secret-named parameter replaced by "xxxxx" (see
// "Secrets in logs and errors" in the package documentation).
func (s *Spec) String() string { return s.redacted }

// Error is returned for a configuration string that cannot be used. Its
// message says what is wrong and how to fix it; it never contains a
// password, a key, a rejected value or other text that may be a secret
// pasted in the wrong place.
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
		if _, known := aliases[strings.ToLower(s)]; known {
			return nil, errorf("%q has no colon; write %q", s, strings.ToLower(s)+":")
		}
		return nil, errorf("the backend configuration has no scheme; use one of %s", forms)
	}
	scheme = strings.ToLower(scheme)
	canon, known := aliases[scheme]
	if !known {
		if name := schemeName(scheme); name != "" {
			return nil, errorf("unknown backend scheme %q; use one of %s", name, strings.Join(Schemes, ", "))
		}
		return nil, errorf("the backend configuration does not start with a scheme; use one of %s", forms)
	}
	if strings.Contains(rest, "#") {
		return nil, errorf("%s: the configuration contains '#', which starts a URL fragment, and no backend takes one; remove it and what follows (write a '#' that belongs to a password, path or value as %%23)", canon)
	}
	switch canon {
	case "cookie":
		return parseCookie(rest)
	case "memcache":
		return parseMemcache(scheme, rest)
	case "sqlite":
		return parseSQLite(rest)
	default:
		return parsePostgres(s)
	}
}

// aliases maps each accepted scheme, and its variants, to its name in Spec.
var aliases = map[string]string{
	"cookie":     "cookie",
	"memcache":   "memcache",
	"memcached":  "memcache",
	"sqlite":     "sqlite",
	"sqlite3":    "sqlite",
	"postgres":   "postgres",
	"postgresql": "postgres",
}

// schemeName returns s if it looks like a URL scheme (RFC 3986: a letter,
// then letters, digits, '+', '-' or '.'), at most 16 bytes, so that an
// error may name it; otherwise "". What precedes the first colon of a
// string that is not a configuration may be a pasted secret, and an error
// never repeats that.
func schemeName(s string) string {
	if s == "" || len(s) > 16 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			continue
		}
		return ""
	}
	return s
}

// parseQuery parses the parameters after '?'. Every parameter must be
// name=value with a plain name (see plainName): text without '=' or a name
// of other characters is more likely a secret pasted in the wrong place
// than a parameter, so it is rejected without being repeated, and it can
// never reach String.
func parseQuery(scheme, query string) (url.Values, error) {
	for i, pair := range strings.Split(query, "&") {
		if pair != "" && !strings.Contains(pair, "=") {
			return nil, errorf("%s: parameter %d after '?' has no '='; write name=value pairs joined by '&'", scheme, i+1)
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, errorf("%s: the parameters after '?' are malformed; write name=value pairs joined by '&' and percent-encode special characters", scheme)
	}
	for name := range q {
		if !plainName(name) {
			return nil, errorf("%s: a parameter name after '?' is not a plain name (a letter or '_', then letters, digits, '_' or '.'); it is not repeated here in case it is a secret", scheme)
		}
	}
	return q, nil
}

// plainName reports whether name looks like a parameter name: a letter or
// '_', then letters, digits, '_' or '.' (PostgreSQL settings such as
// pg_stat_statements.track), at most 63 bytes.
func plainName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '.') {
			continue
		}
		return false
	}
	return true
}

// secretParam reports whether the value of the parameter name is, or may
// be, a secret: its name contains "pass", "pwd", "secret", "token", "key"
// or "credential", in any letter case. String shows such a value as
// "xxxxx", and errors never contain it.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// params parses a query string (see parseQuery), rejecting parameters
// outside allowed. Its errors name a parameter but never repeat a value.
func params(scheme, query string, allowed ...string) (url.Values, error) {
	q, err := parseQuery(scheme, query)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(q)) { // the same error every time
		if !contains(allowed, name) {
			if len(allowed) == 0 {
				return nil, errorf("%s: unknown parameter %q; %s takes no parameters", scheme, name, scheme)
			}
			return nil, errorf("%s: unknown parameter %q; accepted: %s", scheme, name, strings.Join(allowed, ", "))
		}
		if vs := q[name]; len(vs) > 1 {
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

// DefaultRevocationStaleness is the revocation_staleness of a cookie:
// backend with a shared revocation store when the string gives none.
const DefaultRevocationStaleness = 2 * time.Second

func parseCookie(rest string) (*Spec, error) {
	path, query, _ := strings.Cut(rest, "?")
	if path != "" {
		// Often a key pasted into the wrong setting: never repeat it.
		return nil, errorf("cookie: takes no text after the colon other than ?parameters; write \"cookie:\" or \"cookie:?revocation=memory\" (keys never go in the configuration string: pass them to Open)")
	}
	q, err := params("cookie", query, "revocation", "revocation_staleness")
	if err != nil {
		return nil, err
	}
	sp := &Spec{Scheme: "cookie", Revocation: "none"}
	switch v := q.Get("revocation"); v {
	case "", "none":
	case "memory":
		sp.Revocation = "memory"
	default:
		inner, err := parseRevocationStore(v)
		if err != nil {
			return nil, err
		}
		sp.Revocation, sp.RevocationStore, sp.secret = inner.Scheme, inner, inner.secret
	}
	if v := q.Get("revocation_staleness"); v != "" || q.Has("revocation_staleness") {
		if sp.RevocationStore == nil {
			return nil, errorf("cookie: revocation_staleness applies only to a shared revocation store (revocation=postgres://..., sqlite:... or memcache://...)")
		}
		if sp.RevocationStaleness, err = positiveDuration("cookie", "revocation_staleness", v, "2s"); err != nil {
			return nil, err
		}
	}
	sp.redacted = "cookie:"
	switch {
	case sp.RevocationStore != nil:
		sp.redacted += "?revocation=" + escapeValue(sp.RevocationStore.redacted)
		if sp.RevocationStaleness != 0 {
			sp.redacted += "&revocation_staleness=" + sp.RevocationStaleness.String()
		}
	case sp.Revocation == "memory":
		sp.redacted += "?revocation=memory"
	}
	return sp, nil
}

// revocationForms is what the revocation parameter of cookie: accepts.
const revocationForms = "revocation=none, revocation=memory (single process), or a store shared by every instance: revocation=postgres://user@host/db, revocation=sqlite:///path/to/revocations.db or revocation=memcache://host:11211"

// parseRevocationStore parses the value of cookie:'s revocation parameter
// that names a shared revocation store: a configuration string of its
// own, already unescaped from the query once (so a '&' or '+' of it was
// written %26 or %2B, and a '%' of it %25). Its parameters are the
// revocation store's: table (default securesession_revocations) and
// cleanup_interval for postgres and sqlite, prefix, timeout and
// max_idle_conns for memcache.
func parseRevocationStore(v string) (*Spec, error) {
	scheme, rest, ok := strings.Cut(v, ":")
	canon := aliases[strings.ToLower(scheme)]
	switch {
	case !ok:
		return nil, errorf("cookie: the value of revocation is not known; use %s", revocationForms)
	case canon == "cookie":
		return nil, errorf("cookie: revocation: a cookie: backend cannot hold revocations; use %s", revocationForms)
	case canon == "":
		// Unlike Parse, never name the scheme: a value here is more often
		// a secret than a configuration.
		return nil, errorf("cookie: revocation: the store's scheme is not postgres, postgresql, sqlite or memcache; use %s", revocationForms)
	}
	if strings.Contains(rest, "#") {
		return nil, errorf("cookie: revocation: the store's configuration contains '#'; write a '#' that belongs to a password, path or value as %%2523 (%%23 escaped once more for the revocation parameter)")
	}
	var inner *Spec
	var err error
	switch canon {
	case "memcache":
		inner, err = parseMemcache(scheme, rest)
		if err == nil && inner.MaxItemSize != 0 {
			err = errorf("memcache: max_item_size does not apply to a revocation store, whose items are small; remove it")
		}
	case "sqlite":
		inner, err = parseSQLite(rest)
		if err == nil && inner.Path == MemoryPath {
			err = errorf("sqlite::memory: is a throwaway database of one process, which no other instance can share; use revocation=memory for a single process, or a file every instance opens")
		}
	default:
		inner, err = parsePostgres(v)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, errorf("cookie: revocation: %s (the store's configuration is percent-encoded as one parameter: write '&' as %%26, '+' as %%2B and '%%' as %%25)", e.Msg)
		}
		return nil, err
	}
	return inner, nil
}

// escapeValue escapes s as a query value that url.ParseQuery reads back
// as s, leaving alone what needs no escaping there (':', '/', ',', '?',
// '=', '@') so that String stays readable.
func escapeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' || c == '&' || c == '+' || c == '#' || c == ';' || c <= ' ' || c >= 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
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
			return nil, errorf("memcache: unexpected path after the servers; memcache URLs have no path")
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
				return nil, errorf("memcache: server %d is not host or host:port (write IPv6 addresses as [::1]:11211)", i+1)
			}
		}
		if host == "" {
			return nil, errorf("memcache: server %d has no host name", i+1)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, errorf("memcache: server %d has an invalid port; ports are 1-65535 (memcached's default is 11211)", i+1)
		}
		sp.Servers = append(sp.Servers, net.JoinHostPort(host, port))
	}
	q, err := params("memcache", query, "prefix", "timeout", "max_idle_conns", "max_item_size")
	if err != nil {
		return nil, err
	}
	sp.Prefix = q.Get("prefix")
	if err := checkPrefix(sp.Prefix); err != nil {
		return nil, err
	}
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
		return nil, errorf("sqlite: two slashes introduce a host (and perhaps a user and password), but SQLite is a local file: write sqlite:///absolute/path.db (three slashes) or sqlite:relative/path.db")
	default:
		path = raw
		if first, _, _ := strings.Cut(raw, "/"); strings.Contains(first, "@") && strings.Contains(first, ":") {
			return nil, errorf("sqlite: the path looks like user:password@host, but SQLite is a local file and takes no credentials; write sqlite:relative/path.db or sqlite:///absolute/path.db")
		}
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
			return nil, errorf("sqlite: a path starting with \"file:\" or ':' is not a file path; write sqlite:///absolute/path.db, sqlite:relative/path.db or sqlite::memory:")
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
	if !tableName(sp.Table) {
		return errorf("%s: table must be a plain SQL identifier of at most %d bytes (letters, digits and underscores, not starting with a digit)", scheme, maxTableNameLen)
	}
	switch v := q.Get("cleanup_interval"); v {
	case "":
	case "off":
		sp.CleanupInterval = -1
	default:
		d, err := positiveDuration(scheme, "cleanup_interval", v, "5m")
		if err != nil {
			return errorf("%s: cleanup_interval is not a positive duration or \"off\"; write e.g. cleanup_interval=5m", scheme)
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
		sp.secret.values = append(sp.secret.values, pw)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errorf("postgres: no host given; write postgres://user@host:5432/dbname")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errorf("postgres: invalid port; ports are 1-65535 (PostgreSQL's default is 5432)")
		}
	}
	if strings.Contains(u.Path, "@") {
		// postgres://app:1234/pw@host/db: the password's '/' ended the
		// host, and the rest of it is now the path.
		return nil, errorf("postgres: '@' after the host; if the password contains '/', '?' or '#', percent-encode them (%%2F, %%3F, %%23)")
	}
	if strings.Trim(u.Path, "/") == "" {
		return nil, errorf("postgres: no database name given; write postgres://user@host:5432/dbname")
	}
	q, err := parseQuery("postgres", u.RawQuery)
	if err != nil {
		return nil, err
	}
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
	if vs, ok := q["connect_timeout"]; ok {
		// The driver's own error would quote the value.
		for _, v := range vs {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return nil, errorf("postgres: connect_timeout is not a whole number of seconds; write e.g. connect_timeout=10")
			}
		}
	}
	for name, vs := range q {
		if secretParam(name) {
			for _, v := range vs {
				if v != "" {
					sp.secret.values = append(sp.secret.values, v)
				}
			}
		}
	}
	u.Scheme = "postgres"
	u.RawQuery = q.Encode()
	sp.secret.dsn = u.String()

	red := *u
	if _, ok := red.User.Password(); ok {
		red.User = url.UserPassword(red.User.Username(), "xxxxx")
	}
	rq := url.Values{}
	for name, vs := range q {
		if secretParam(name) {
			vs = slices.Clone(vs)
			for i, v := range vs {
				if v != "" { // an empty value hides nothing and says so
					vs[i] = "xxxxx"
				}
			}
		}
		rq[name] = vs
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
		return 0, errorf("%s: %s is not a positive duration; write e.g. %s=%s", scheme, name, name, example)
	}
	return d, nil
}

func positiveInt(scheme, name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errorf("%s: %s is not a positive whole number", scheme, name)
	}
	return n, nil
}

// maxTableNameLen is backends/gorm's limit on Options.TableName.
const maxTableNameLen = 40

// tableName reports whether name is "" (the default) or a table name that
// backends/gorm accepts, so that Parse rejects any other without Open
// repeating it.
func tableName(name string) bool {
	if len(name) > maxTableNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// checkPrefix applies backends/memcache's rules for Options.Prefix, so that
// Parse rejects a bad prefix without Open repeating it.
func checkPrefix(prefix string) error {
	if len(prefix) > ssmemcache.MaxPrefixLen {
		return errorf("memcache: prefix is %d bytes, more than %d", len(prefix), ssmemcache.MaxPrefixLen)
	}
	for i := 0; i < len(prefix); i++ {
		if b := prefix[i]; b <= ' ' || b >= 0x7f {
			return errorf("memcache: prefix must be printable ASCII without spaces or control characters (memcached key rules)")
		}
	}
	return nil
}

func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
