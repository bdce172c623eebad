package config

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	gormdb "gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	"github.com/gin-securesession/securesession/backends/cookie"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
	"github.com/gin-securesession/securesession/internal/keys"
)

// Store is a backend opened from a configuration string.
type Store struct {
	// Backend is the store to pass to securesession.New. For sqlite and
	// postgres it also implements securesession.Lister, so
	// securesession.ListSessions works.
	Backend securesession.Backend

	// Spec is the parsed configuration.
	Spec *Spec

	closers []func() error
}

// String describes the backend with any password redacted: safe to log.
func (s *Store) String() string { return s.Spec.String() }

// Close releases what Open acquired: it stops the gorm backend's sweeper,
// closes the database or the memcached connections, and deletes the
// throwaway database of sqlite::memory:; for cookie: with a shared
// revocation store it stops the cookie.SharedRevocation, then closes its
// store and that store's database or connections. Call it after the HTTP
// server has shut down.
func (s *Store) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// FromEnv opens the backend that the environment variable specVar
// configures, with the keys in keysVar (see package sessionkeys). Errors
// name the variable at fault.
func FromEnv(specVar, keysVar string) (*Store, error) {
	spec := os.Getenv(specVar)
	if strings.TrimSpace(spec) == "" {
		return nil, errorf("%s is not set; set it to one of %s", specVar, forms)
	}
	sp, err := Parse(spec)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, errorf("%s: %s", specVar, e.Msg)
		}
		return nil, err
	}
	ks, err := sessionkeys.FromEnv(keysVar)
	if err != nil {
		return nil, fmt.Errorf("securesession/config: %w", err)
	}
	return OpenSpec(sp, ks)
}

// Open parses the configuration string spec and opens that backend with
// keys (each exactly 32 random bytes; the cookie backend uses them all,
// first one sealing, the others take exactly one). Server backends are
// contacted once, so that a wrong address or password fails here rather
// than on the first request.
func Open(spec string, keys [][]byte) (*Store, error) {
	sp, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	return OpenSpec(sp, keys)
}

// OpenSpec opens the backend a parsed Spec describes; see Open.
func OpenSpec(sp *Spec, keyList [][]byte) (*Store, error) {
	if len(keyList) == 0 {
		return nil, errorf("%s: no session key given; pass one or more 32-byte keys (generate one with `openssl rand -base64 32`); keys never go in the configuration string", sp.Scheme)
	}
	for i, k := range keyList {
		if err := keys.Check(fmt.Sprintf("key %d of %d", i+1, len(keyList)), k); err != nil {
			return nil, errorf("%s: %v", sp.Scheme, err)
		}
	}
	if sp.Scheme != "cookie" && len(keyList) > 1 {
		return nil, errorf("%s: got %d keys, but this backend takes exactly one (it derives the key that hashes session IDs from it, and changing it ends every session); key rotation is for the cookie backend: keep only the first key", sp.Scheme, len(keyList))
	}
	st := &Store{Spec: sp}
	var err error
	switch sp.Scheme {
	case "cookie":
		err = st.openCookie(keyList)
	case "memcache":
		err = st.openMemcache(keyList[0])
	case "sqlite":
		err = st.openSQLite(keyList[0])
	case "postgres":
		err = st.openPostgres(keyList[0])
	default:
		err = errorf("unknown backend scheme %q; use one of %s", schemeName(sp.Scheme), strings.Join(Schemes, ", "))
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (st *Store) openCookie(keyList [][]byte) error {
	opts := cookie.Options{Keys: keyList}
	switch {
	case st.Spec.RevocationStore != nil:
		rev, err := st.openSharedRevocation()
		if err != nil {
			return err
		}
		opts.Revocation = rev
	case st.Spec.Revocation == "memory":
		opts.Revocation = cookie.NewMemoryRevocation(0)
	}
	s, err := cookie.NewStore(opts)
	if err != nil {
		return errorf("cookie: %v", err)
	}
	st.Backend = s
	return nil
}

// openSharedRevocation opens the shared revocation store the Spec names
// and the cookie.SharedRevocation over it, both closed by Close after the
// cookie Store. The store is contacted once (its salt is read, and made
// if the store is new), so that a wrong address fails here.
func (st *Store) openSharedRevocation() (*cookie.SharedRevocation, error) {
	inner := st.Spec.RevocationStore
	var store interface {
		cookie.RevocationStore
		Close() error
	}
	switch inner.Scheme {
	case "memcache":
		client, err := st.memcacheClient(inner)
		if err != nil {
			return nil, err
		}
		s, err := ssmemcache.NewRevocationStore(client, ssmemcache.RevocationStoreOptions{Prefix: inner.Prefix})
		if err != nil {
			return nil, errorf("cookie: revocation: memcache: %v", err)
		}
		store = s
	default:
		var db *gormdb.DB
		var err error
		if inner.Scheme == "sqlite" {
			db, err = st.sqliteDB(inner)
		} else {
			db, err = st.postgresDB(inner)
		}
		if err != nil {
			// Already scrubbed, and of this package: say which store.
			return nil, errorf("cookie: revocation: %s", strings.TrimPrefix(err.Error(), "securesession/config: "))
		}
		s, err := ssgorm.NewRevocationStore(db, ssgorm.RevocationStoreOptions{Table: inner.Table, CleanupInterval: inner.CleanupInterval})
		if err != nil {
			return nil, st.scrub(fmt.Errorf("securesession/config: cookie: revocation: %s: %w", inner.Scheme, err))
		}
		store = s
	}
	st.closers = append(st.closers, store.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, _, err := store.Salt(ctx, time.Now()); err != nil {
		return nil, st.scrub(fmt.Errorf("securesession/config: cookie: revocation: cannot read the salt of the revocation store %s: %w", inner.String(), err))
	}
	staleness := st.Spec.RevocationStaleness
	if staleness == 0 {
		staleness = DefaultRevocationStaleness
	}
	rev, err := cookie.NewSharedRevocation(store, cookie.SharedRevocationOptions{MaxStaleness: staleness})
	if err != nil {
		return nil, errorf("cookie: revocation: %v", err)
	}
	st.closers = append(st.closers, rev.Close)
	return rev, nil
}

func (st *Store) openMemcache(key []byte) error {
	sp := st.Spec
	client, err := st.memcacheClient(sp)
	if err != nil {
		return err
	}
	s, err := ssmemcache.NewStore(client, ssmemcache.Options{Key: key, Prefix: sp.Prefix, MaxItemSize: sp.MaxItemSize})
	if err != nil {
		return errorf("memcache: %v", err)
	}
	st.Backend = s
	return nil
}

// memcacheClient returns a client of the servers sp names, closed by
// Close, once it has answered a ping.
func (st *Store) memcacheClient(sp *Spec) (*gomemcache.Client, error) {
	what := "memcache"
	if sp != st.Spec {
		what = "cookie: revocation: memcache"
	}
	servers := new(gomemcache.ServerList)
	if err := servers.SetServers(sp.Servers...); err != nil {
		return nil, errorf("%s: cannot resolve the servers %s: %v", what, strings.Join(sp.Servers, ","), err)
	}
	client := gomemcache.NewFromSelector(servers)
	client.Timeout = sp.Timeout
	client.MaxIdleConns = sp.MaxIdleConns
	st.closers = append(st.closers, client.Close)
	if err := client.Ping(); err != nil {
		return nil, errorf("%s: cannot reach memcached at %s: %v; check that it runs and that this host may connect", what, strings.Join(sp.Servers, ","), err)
	}
	return client, nil
}

// gormConfig keeps GORM quiet: its logger prints SQL with bound values,
// and the middleware already reports every error it returns.
func gormConfig() *gormdb.Config { return &gormdb.Config{Logger: logger.Discard} }

func (st *Store) openSQLite(key []byte) error {
	db, err := st.sqliteDB(st.Spec)
	if err != nil {
		return err
	}
	return st.gormStore("sqlite", db, key)
}

// sqliteDB opens the SQLite database sp names, closed by Close.
func (st *Store) sqliteDB(sp *Spec) (*gormdb.DB, error) {
	path := sp.Path
	if path == MemoryPath {
		dir, err := os.MkdirTemp("", "securesession-sqlite-")
		if err != nil {
			return nil, errorf("sqlite::memory: cannot create a temporary directory: %v", err)
		}
		st.closers = append(st.closers, func() error { return os.RemoveAll(dir) })
		path = filepath.Join(dir, "sessions.db")
	}
	db, err := sqlite.Open(path, gormConfig())
	if err != nil {
		return nil, errorf("sqlite: cannot open %q: %v; check that the directory exists and is writable", path, err)
	}
	st.closers = append(st.closers, closeDB(db))
	return db, nil
}

func (st *Store) openPostgres(key []byte) error {
	db, err := st.postgresDB(st.Spec)
	if err != nil {
		return err
	}
	return st.gormStore("postgres", db, key)
}

// postgresDB connects to the PostgreSQL database sp names, closed by
// Close. Its error may hold a secret: the caller scrubs it.
func (st *Store) postgresDB(sp *Spec) (*gormdb.DB, error) {
	dsn := sp.secret.dsn
	if u, err := url.Parse(dsn); err == nil && !u.Query().Has("connect_timeout") {
		// Without it an unreachable host blocks startup for minutes.
		q := u.Query()
		q.Set("connect_timeout", "10")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db, err := gormdb.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		return nil, st.scrub(fmt.Errorf("securesession/config: postgres: cannot connect to %s: %w; check the host, port, user, password (or $PGPASSWORD) and sslmode", sp.String(), err))
	}
	st.closers = append(st.closers, closeDB(db))
	return db, nil
}

func (st *Store) gormStore(scheme string, db *gormdb.DB, key []byte) error {
	s, err := ssgorm.NewStore(db, ssgorm.Options{Key: key, TableName: st.Spec.Table, CleanupInterval: st.Spec.CleanupInterval})
	if err != nil {
		return st.scrub(fmt.Errorf("securesession/config: %s: %w", scheme, err))
	}
	st.closers = append(st.closers, s.Close)
	st.Backend = s
	return nil
}

func closeDB(db *gormdb.DB) func() error {
	return func() error {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		return sqlDB.Close()
	}
}

// scrub returns err with every secret of the configuration (the password
// and the value of every parameter named like a secret, in any encoding)
// cut out of its text, and with the connection string that pgconn's
// ParseConfigError quotes left out. Such an error comes back as a plain
// error, losing errors.Is on the driver's error, so that no secret can be
// reached by unwrapping either: ParseConfigError keeps the connection
// string in a field, and ConnectError the parsed Config with its password.
func (st *Store) scrub(err error) error {
	if st.Spec.secret == nil {
		return err
	}
	msg := err.Error()
	clean := msg
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		// "cannot parse `<connection string>`: <what>"; the connection
		// string, URL-encoded by us, holds no backquote.
		full := pce.Error()
		if _, what, ok := strings.Cut(full, "`: "); ok {
			clean = strings.ReplaceAll(clean, full, "cannot parse the connection URL: "+what)
		}
	}
	for _, v := range st.Spec.secret.values {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), url.UserPassword("", v).String()[1:]} {
			if form != "" {
				clean = strings.ReplaceAll(clean, form, "xxxxx")
			}
		}
	}
	var ce *pgconn.ConnectError
	if clean == msg && pce == nil && !errors.As(err, &ce) {
		return err
	}
	return errors.New(clean)
}
