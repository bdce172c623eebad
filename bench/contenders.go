// Package bench compares securesession with the session stores Gin users
// pick today, on the same three requests through a Gin router:
//
//   - Login: create a session holding a user ID and a role.
//   - Read: an authenticated request that reads the user ID.
//   - Write: an authenticated request that reads a counter, increments it
//     and saves.
//
// It is its own Go module so that the compared libraries never enter
// securesession's dependencies. Run everything with scripts/bench.sh from
// the repository root.
package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"github.com/gin-contrib/sessions"
	gccookie "github.com/gin-contrib/sessions/cookie"
	gcgorm "github.com/gin-contrib/sessions/gorm"
	gcmemcached "github.com/gin-contrib/sessions/memcached"
	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3" for scs
	"golang.org/x/crypto/chacha20poly1305"
	gormdb "gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// Env is what the contenders share: a temporary directory for SQLite files
// and the address of a real memcached ("" when none is running).
type Env struct {
	Dir          string
	MemcacheAddr string
}

// App is one contender's Gin router and the cookie ("name=value") of a
// session it logged in.
type App struct {
	Name   string
	Router *gin.Engine
	Cookie string
	// RoundTrips, when set, counts the memcached requests sent so far.
	RoundTrips *atomic.Int64
	close      []func()
}

// Close releases what the contender opened (databases, clients).
func (a *App) Close() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
	a.close = nil
}

// Contender builds one App.
type Contender struct {
	Name string
	// Floor contenders serve only Read, with a fixed cost in place of a
	// session layer.
	ReadOnly bool
	// NeedsMemcached contenders cannot run without Env.MemcacheAddr.
	NeedsMemcached bool
	New            func(env *Env) (*App, error)
}

// Contenders lists every contender, in table order.
var Contenders = []Contender{
	{Name: "bare-gin", New: newBare},
	{Name: "ours-cookie", New: newOursCookie},
	{Name: "ours-cookie-nocache", New: newOursCookieNoCache},
	{Name: "gincontrib-cookie", New: newGinContribCookie},
	{Name: "ours-memcache", NeedsMemcached: true, New: newOursMemcache},
	{Name: "gincontrib-memcached", NeedsMemcached: true, New: newGinContribMemcached},
	{Name: "ours-gorm-sqlite", New: newOursGORM},
	{Name: "gincontrib-gorm-sqlite", New: newGinContribGORM},
	{Name: "scs-sqlite3", New: newSCSSQLite},
	{Name: "scs-memory", New: newSCSMemory},
	{Name: "floor-gin+aead", ReadOnly: true, New: newFloorAEAD},
	{Name: "floor-gin+getmulti", ReadOnly: true, NeedsMemcached: true, New: newFloorGetMulti},
	{Name: "floor-gin+select", ReadOnly: true, New: newFloorSelect},
}

// ContenderByName returns the named contender.
func ContenderByName(name string) (Contender, bool) {
	for _, c := range Contenders {
		if c.Name == name {
			return c, true
		}
	}
	return Contender{}, false
}

// RandKey returns n random bytes.
func RandKey(n int) []byte {
	k := make([]byte, n)
	rand.Read(k)
	return k
}

var quiet = slog.New(slog.DiscardHandler)

var silentGORM = &gormdb.Config{Logger: gormlogger.Default.LogMode(gormlogger.Silent)}

// sqlitePath is a fresh SQLite file in env.Dir.
func sqlitePath(env *Env, name string) string {
	return filepath.Join(env.Dir, fmt.Sprintf("%s-%d.db", name, seq.Add(1)))
}

var seq atomic.Int64

// sqliteDSN opens a database/sql SQLite file with the settings the
// securesession sqlite helper uses: WAL, a busy timeout, immediate
// transactions and synchronous=NORMAL.
func sqliteDSN(path string) string {
	return "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=NORMAL"
}

// The routes. Every handler answers 204 on success.

const (
	userID = "alice"
	role   = "admin"
)

func ours(backend securesession.Backend, name string) (*App, error) {
	mw, err := securesession.New(backend, securesession.Options{Logger: quiet})
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, userID); err != nil {
			c.AbortWithStatus(500)
			return
		}
		sessions.Default(c).Set("role", role)
		c.Status(http.StatusNoContent)
	})
	r.GET("/read", func(c *gin.Context) {
		if securesession.UserID(c) == "" {
			c.AbortWithStatus(401)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/write", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		c.Status(http.StatusNoContent)
	})
	return login(&App{Name: name, Router: r})
}

func ginContrib(store sessions.Store, name string) (*App, error) {
	r := gin.New()
	r.Use(sessions.Sessions("session", store))
	r.POST("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", userID)
		s.Set("role", role)
		if err := s.Save(); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/read", func(c *gin.Context) {
		if u, _ := sessions.Default(c).Get("user").(string); u == "" {
			c.AbortWithStatus(401)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/write", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		if err := s.Save(); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	return login(&App{Name: name, Router: r})
}

// scsGin wires scs's LoadAndSave into Gin. Gin sends the status line and
// headers only after the handlers return, so the Set-Cookie header that
// LoadAndSave adds after the handler chain still goes out (the handlers
// here write no body; a handler that does would need c.Writer wrapped).
func scsGin(m *scs.SessionManager) gin.HandlerFunc {
	return func(c *gin.Context) {
		m.LoadAndSave(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
	}
}

func scsApp(store scs.Store, name string) (*App, error) {
	m := scs.New()
	m.Store = store
	m.Cookie.Name = "session"
	m.ErrorFunc = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(500) }
	r := gin.New()
	r.Use(scsGin(m))
	r.POST("/login", func(c *gin.Context) {
		ctx := c.Request.Context()
		// A new token at login, as scs documents (session fixation).
		if err := m.RenewToken(ctx); err != nil {
			c.AbortWithStatus(500)
			return
		}
		m.Put(ctx, "user", userID)
		m.Put(ctx, "role", role)
		c.Status(http.StatusNoContent)
	})
	r.GET("/read", func(c *gin.Context) {
		if m.GetString(c.Request.Context(), "user") == "" {
			c.AbortWithStatus(401)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/write", func(c *gin.Context) {
		ctx := c.Request.Context()
		m.Put(ctx, "n", m.GetInt(ctx, "n")+1)
		c.Status(http.StatusNoContent)
	})
	return login(&App{Name: name, Router: r})
}

// login serves POST /login once and keeps the session cookie.
func login(a *App) (*App, error) {
	w := httptest.NewRecorder()
	a.Router.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cs := w.Result().Cookies()
	if w.Code != http.StatusNoContent || len(cs) != 1 {
		a.Close()
		return nil, fmt.Errorf("%s: login: %d %q", a.Name, w.Code, w.Header().Values("Set-Cookie"))
	}
	a.Cookie = cs[0].Name + "=" + cs[0].Value
	return a, nil
}

func newBare(*Env) (*App, error) {
	r := gin.New()
	ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	r.POST("/login", ok)
	r.GET("/read", ok)
	r.POST("/write", ok)
	return &App{Name: "bare-gin", Router: r, Cookie: "session=x"}, nil
}

func newOursCookie(*Env) (*App, error) {
	s, err := cookie.NewStore(RandKey(32))
	if err != nil {
		return nil, err
	}
	return ours(s, "ours-cookie")
}

// newOursCookieNoCache is the cookie backend with its cache of recently
// opened cookies off: every request opens its cookie, as when each request
// carries a cookie the process has not seen (many users, many instances).
func newOursCookieNoCache(*Env) (*App, error) {
	s, err := cookie.NewStore(RandKey(32))
	if err != nil {
		return nil, err
	}
	s.SetCacheSize(0)
	return ours(s, "ours-cookie-nocache")
}

func newGinContribCookie(*Env) (*App, error) {
	return ginContrib(gccookie.NewStore(RandKey(32), RandKey(32)), "gincontrib-cookie")
}

var errNoMemcached = errors.New("no memcached running")

// memcacheClient is a gomemcache client with its defaults, except enough
// idle connections for parallel load. It counts the round trips it makes
// (gomemcache flushes one write per request and then reads the reply).
func memcacheClient(env *Env) (*gomemcache.Client, *atomic.Int64, error) {
	if env.MemcacheAddr == "" {
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

func newOursMemcache(env *Env) (*App, error) {
	c, rt, err := memcacheClient(env)
	if err != nil {
		return nil, err
	}
	s, err := ssmemcache.NewStore(c, ssmemcache.Options{Key: RandKey(32), Prefix: fmt.Sprintf("ss%d:", seq.Add(1))})
	if err != nil {
		return nil, err
	}
	a, err := ours(s, "ours-memcache")
	if a != nil {
		a.RoundTrips = rt
		a.close = append(a.close, func() { c.Close() })
	}
	return a, err
}

func newGinContribMemcached(env *Env) (*App, error) {
	c, rt, err := memcacheClient(env)
	if err != nil {
		return nil, err
	}
	// A hash key only, as gin-contrib's README shows for server-side stores.
	a, err := ginContrib(gcmemcached.NewStore(c, fmt.Sprintf("gc%d:", seq.Add(1)), RandKey(32)), "gincontrib-memcached")
	if a != nil {
		a.RoundTrips = rt
		a.close = append(a.close, func() { c.Close() })
	}
	return a, err
}

func openGORMSQLite(env *Env, name string) (*gormdb.DB, func(), error) {
	db, err := sqlite.Open(sqlitePath(env, name), silentGORM)
	if err != nil {
		return nil, nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, err
	}
	return db, func() { sqlDB.Close() }, nil
}

func newOursGORM(env *Env) (*App, error) {
	db, closeDB, err := openGORMSQLite(env, "ours-gorm")
	if err != nil {
		return nil, err
	}
	s, err := ssgorm.NewStore(db, ssgorm.Options{Key: RandKey(32)})
	if err != nil {
		closeDB()
		return nil, err
	}
	a, err := ours(s, "ours-gorm-sqlite")
	if a == nil {
		s.Close()
		closeDB()
		return nil, err
	}
	a.close = append(a.close, closeDB, func() { s.Close() })
	return a, err
}

func newGinContribGORM(env *Env) (*App, error) {
	// The same SQLite settings as ours (WAL, busy timeout, NORMAL sync),
	// opened with the same helper, and GORM's default config otherwise.
	db, closeDB, err := openGORMSQLite(env, "gincontrib-gorm")
	if err != nil {
		return nil, err
	}
	a, err := ginContrib(gcgorm.NewStore(db, false, RandKey(32)), "gincontrib-gorm-sqlite")
	if a == nil {
		closeDB()
		return nil, err
	}
	a.close = append(a.close, closeDB)
	return a, nil
}

const scsSchema = `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions(expiry);`

func newSCSSQLite(env *Env) (*App, error) {
	db, err := sql.Open("sqlite3", sqliteDSN(sqlitePath(env, "scs")))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(sqlite.MaxOpenConns)
	db.SetMaxIdleConns(sqlite.MaxOpenConns)
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("scs sqlite: journal_mode %q: %v", mode, err)
	}
	if _, err := db.Exec(scsSchema); err != nil {
		db.Close()
		return nil, err
	}
	a, err := scsApp(sqlite3store.NewWithCleanupInterval(db, 0), "scs-sqlite3")
	if a == nil {
		db.Close()
		return nil, err
	}
	a.close = append(a.close, func() { db.Close() })
	return a, nil
}

func newSCSMemory(*Env) (*App, error) {
	st := memstore.NewWithCleanupInterval(0)
	return scsApp(st, "scs-memory")
}

// Floors: a bare Gin router whose Read does only the unavoidable work of
// one backend, with no session layer around it.

func floorApp(name string, read func(*gin.Context) bool, closeFn func()) *App {
	r := gin.New()
	r.GET("/read", func(c *gin.Context) {
		if !read(c) {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	a := &App{Name: name, Router: r}
	if closeFn != nil {
		a.close = append(a.close, closeFn)
	}
	return a
}

// AEADFloor is one base64 decode and XChaCha20-Poly1305 open of a cookie
// value the size of the cookie backend's session cookie, as the cookie
// backend does it, with nothing else.
type AEADFloor struct {
	Value string // the cookie value, base64url without padding
	open  func(dst, nonce, ct, ad []byte) ([]byte, error)
}

// Header layout of the cookie backend (version, key ID, 24-byte nonce).
const aeadHeader = 1 + 4 + chacha20poly1305.NonceSizeX

// NewAEADFloor seals a payload so that the cookie value has valueLen
// characters.
func NewAEADFloor(valueLen int) (*AEADFloor, error) {
	aead, err := chacha20poly1305.NewX(RandKey(32))
	if err != nil {
		return nil, err
	}
	rawLen := b64.DecodedLen(valueLen)
	plainLen := rawLen - aeadHeader - aead.Overhead()
	if plainLen < 0 {
		plainLen = 0
	}
	buf := make([]byte, aeadHeader, rawLen)
	rand.Read(buf[1:])
	sealed := aead.Seal(buf[aeadHeader:aeadHeader], buf[5:aeadHeader], make([]byte, plainLen), []byte("ad"))
	return &AEADFloor{Value: b64.EncodeToString(buf[:aeadHeader+len(sealed)]), open: aead.Open}, nil
}

// Open decodes and opens Value.
func (f *AEADFloor) Open() bool {
	raw := make([]byte, b64.DecodedLen(len(f.Value)))
	n, err := b64.Decode(raw, []byte(f.Value))
	if err != nil {
		return false
	}
	raw = raw[:n]
	_, err = f.open(raw[aeadHeader:aeadHeader], raw[5:aeadHeader], raw[aeadHeader:], []byte("ad"))
	return err == nil
}

// TypicalCookieLen is the length of the value of the cookie our cookie
// backend sets at login (user ID, role, times).
func TypicalCookieLen() (int, error) {
	a, err := newOursCookie(nil)
	if err != nil {
		return 0, err
	}
	_, v, _ := strings.Cut(a.Cookie, "=")
	return len(v), nil
}

func newFloorAEAD(*Env) (*App, error) {
	n, err := TypicalCookieLen()
	if err != nil {
		return nil, err
	}
	f, err := NewAEADFloor(n)
	if err != nil {
		return nil, err
	}
	a := floorApp("floor-gin+aead", func(c *gin.Context) bool {
		v, err := c.Cookie("session")
		return err == nil && len(v) > 0 && f.Open()
	}, nil)
	a.Cookie = "session=" + f.Value
	return a, nil
}

// GetMultiFloor reads, in one GetMulti, exactly the items our memcache
// backend reads for an authenticated request (found by listing the keys
// memcached holds under the store's prefix after a login).
type GetMultiFloor struct {
	Client *gomemcache.Client
	Keys   []string
}

// NewGetMultiFloor logs in through our memcache backend and returns the
// keys of the items that session's read fetches.
func NewGetMultiFloor(env *Env, dump func(prefix string) ([]string, error)) (*GetMultiFloor, func(), error) {
	c, _, err := memcacheClient(env)
	if err != nil {
		return nil, nil, err
	}
	prefix := fmt.Sprintf("fl%d:", seq.Add(1))
	s, err := ssmemcache.NewStore(c, ssmemcache.Options{Key: RandKey(32), Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	if _, err := ours(s, "floor"); err != nil {
		return nil, nil, err
	}
	keys, err := dump(prefix)
	if err != nil {
		return nil, nil, err
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("getmulti floor: no items under %q", prefix)
	}
	f := &GetMultiFloor{Client: c, Keys: keys}
	if !f.Get() {
		return nil, nil, errors.New("getmulti floor: GetMulti missed")
	}
	return f, func() { c.Close() }, nil
}

// Get does the GetMulti and checks every item came back.
func (f *GetMultiFloor) Get() bool {
	m, err := f.Client.GetMulti(f.Keys)
	return err == nil && len(m) == len(f.Keys)
}

// MemcachedKeys lists the keys under prefix, by memcached's metadump. It
// is set by the caller that started memcached.
var MemcachedKeys func(prefix string) ([]string, error)

func newFloorGetMulti(env *Env) (*App, error) {
	if MemcachedKeys == nil {
		return nil, errNoMemcached
	}
	f, closeFn, err := NewGetMultiFloor(env, MemcachedKeys)
	if err != nil {
		return nil, err
	}
	a := floorApp("floor-gin+getmulti", func(c *gin.Context) bool { return f.Get() }, closeFn)
	a.Cookie = "session=x"
	return a, nil
}

// SelectFloor is one SELECT by primary key of a row of our GORM backend's
// table, through a prepared database/sql statement on the same SQLite
// file, scanning every column our backend reads.
type SelectFloor struct {
	stmt *sql.Stmt
	id   string
}

// NewSelectFloor logs in through our GORM/SQLite backend and prepares the
// SELECT of that session's row.
func NewSelectFloor(env *Env) (*SelectFloor, func(), error) {
	db, closeDB, err := openGORMSQLite(env, "floor")
	if err != nil {
		return nil, nil, err
	}
	s, err := ssgorm.NewStore(db, ssgorm.Options{Key: RandKey(32)})
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	cleanup := func() { s.Close(); closeDB() }
	if _, err := ours(s, "floor"); err != nil {
		cleanup()
		return nil, nil, err
	}
	sqlDB, _ := db.DB()
	var id string
	if err := sqlDB.QueryRow("SELECT id FROM " + ssgorm.DefaultTableName + " LIMIT 1").Scan(&id); err != nil {
		cleanup()
		return nil, nil, err
	}
	stmt, err := sqlDB.Prepare("SELECT id, user_id, data, created, auth_time, last_seen, deadline, expires_at, user_agent, ip FROM " +
		ssgorm.DefaultTableName + " WHERE id = ? AND expires_at > ?")
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	f := &SelectFloor{stmt: stmt, id: id}
	if !f.Select(context.Background()) {
		stmt.Close()
		cleanup()
		return nil, nil, errors.New("select floor: no row")
	}
	return f, func() { stmt.Close(); cleanup() }, nil
}

type row struct {
	id, user         string
	data             []byte
	c, a, l, d, e    int64
	userAgent, ipStr string
}

// Select reads the row.
func (f *SelectFloor) Select(ctx context.Context) bool {
	var r row
	err := f.stmt.QueryRowContext(ctx, f.id, time.Now().Unix()).Scan(&r.id, &r.user, &r.data, &r.c, &r.a, &r.l, &r.d, &r.e, &r.userAgent, &r.ipStr)
	return err == nil
}

func newFloorSelect(env *Env) (*App, error) {
	f, closeFn, err := NewSelectFloor(env)
	if err != nil {
		return nil, err
	}
	a := floorApp("floor-gin+select", func(c *gin.Context) bool { return f.Select(c.Request.Context()) }, closeFn)
	a.Cookie = "session=x"
	return a, nil
}

// Request is one of the three benchmarked requests.
type Request struct {
	Name, Method, Path string
	Cookie             bool
}

// Requests are the three requests, in table order.
var Requests = []Request{
	{"Login", "POST", "/login", false},
	{"Read", "GET", "/read", true},
	{"Write", "POST", "/write", true},
}

// NewRequest builds r for a.
func (a *App) NewRequest(r Request) *http.Request {
	req := httptest.NewRequest(r.Method, r.Path, nil)
	if r.Cookie {
		req.Header.Set("Cookie", a.Cookie)
	}
	return req
}

// Sink is a minimal ResponseWriter that remembers the status, so that a
// benchmark measures the router and the session layer rather than a
// recorder.
type Sink struct {
	H      http.Header
	Status int
}

func (w *Sink) Header() http.Header         { return w.H }
func (w *Sink) Write(p []byte) (int, error) { return len(p), nil }
func (w *Sink) WriteHeader(code int)        { w.Status = code }

// Serve serves a copy of req (gorilla caches sessions in the request's
// context, so a request must not be reused) and returns the status.
func (a *App) Serve(w *Sink, req *http.Request) int {
	clear(w.H)
	w.Status = 0
	rq := *req
	a.Router.ServeHTTP(w, &rq)
	if w.Status == 0 {
		return http.StatusOK
	}
	return w.Status
}

// Check serves req once and reports an error unless it succeeds.
func (a *App) Check(r Request) error {
	rec := httptest.NewRecorder()
	a.Router.ServeHTTP(rec, a.NewRequest(r))
	if rec.Code != http.StatusNoContent {
		return fmt.Errorf("%s %s: status %d", a.Name, r.Name, rec.Code)
	}
	if r.Name == "Login" && len(rec.Result().Cookies()) == 0 && !strings.HasPrefix(a.Name, "bare") {
		return fmt.Errorf("%s %s: no Set-Cookie", a.Name, r.Name)
	}
	return nil
}

// TempEnv creates a temporary directory (and nothing else).
func TempEnv() (*Env, func(), error) {
	dir, err := os.MkdirTemp("", "securesession-bench-")
	if err != nil {
		return nil, nil, err
	}
	return &Env{Dir: dir}, func() { os.RemoveAll(dir) }, nil
}

// b64 is the cookie backend's encoding of cookie values.
var b64 = base64.RawURLEncoding
