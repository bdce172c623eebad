// Package bench measures securesession against the session stores Gin
// users pick today (gin-contrib/sessions' cookie, memcached and GORM
// stores; scs's memstore and sqlite3store) the way a browser uses them:
// every request kind (login, read, write, write-then-read, touch, logout,
// log out everywhere) is a fresh *http.Request served by the contender's
// real Gin router, and the Set-Cookie of each response is fed back into the
// next request of the same browser. A bare Gin router serving the same
// routes with no session layer is measured in the same rounds, so that the
// session layer's own cost (the overhead over bare Gin) can be compared as
// well as the whole request.
//
// It is its own Go module so that the compared libraries never enter
// securesession's dependencies. scripts/bench.sh runs everything; see
// RESULTS.md for the method and the last full run.
package bench

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/gin-contrib/sessions"
	gccookie "github.com/gin-contrib/sessions/cookie"
	gcgorm "github.com/gin-contrib/sessions/gorm"
	gcmemcached "github.com/gin-contrib/sessions/memcached"
	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3" for scs
	gormdb "gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// Families group the contenders that are compared with each other.
const (
	FamilyCookie    = "cookie"
	FamilyMemcached = "memcached"
	FamilyGORM      = "gorm-sqlite"
)

// Families lists the families in table order.
var Families = []string{FamilyCookie, FamilyMemcached, FamilyGORM}

// Role says what a contender is in its family's comparisons.
type Role string

const (
	RoleOurs   Role = "ours"   // securesession
	RoleTheirs Role = "theirs" // gin-contrib/sessions' matching store: the targets' reference
	RoleOther  Role = "other"  // scs, shown for reference
	RoleBare   Role = "bare"   // bare Gin, the same routes with no session layer
	RoleFloor  Role = "floor"  // bare Gin plus one backend operation, no session layer
)

// Contender builds one App.
type Contender struct {
	Name   string
	Label  string // what the tables call it
	Family string // "" for bare Gin, which is a member of every family
	Role   Role
	// Kinds are the request kinds the contender serves; a kind it does not
	// offer (gin-contrib has no activity refresh and no log-out-everywhere)
	// is left out rather than faked.
	Kinds []string
	// NeedsMemcached contenders cannot run without Env.MemcacheAddr.
	NeedsMemcached bool
	New            func(env *Env) (*App, error)
}

// Serves reports whether c serves kind.
func (c Contender) Serves(kind string) bool {
	for _, k := range c.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

var (
	allKinds   = []string{KindLogin, KindReadFresh, KindRead, KindWrite, KindWriteRead, KindTouch, KindLogout, KindLogoutEverywhere}
	ginKinds   = []string{KindLogin, KindReadFresh, KindRead, KindWrite, KindWriteRead, KindLogout}
	serverSide = []string{KindLogin, KindRead, KindWrite, KindWriteRead, KindTouch, KindLogout, KindLogoutEverywhere}
	theirsSS   = []string{KindLogin, KindRead, KindWrite, KindWriteRead, KindLogout}
)

// Contenders lists every contender, in table order within each family.
var Contenders = []Contender{
	{Name: "bare-gin", Label: "bare Gin (no session)", Role: RoleBare, Kinds: allKinds, New: newBare},

	{Name: "ours-cookie", Label: "securesession cookie", Family: FamilyCookie, Role: RoleOurs,
		Kinds: []string{KindLogin, KindReadFresh, KindRead, KindWrite, KindWriteRead, KindTouch, KindLogout}, New: newOursCookie},
	{Name: "ours-cookie-revocation", Label: "securesession cookie + MemoryRevocation", Family: FamilyCookie, Role: RoleOurs,
		Kinds: []string{KindLogout, KindLogoutEverywhere}, New: newOursCookieRevocation},
	{Name: "ours-cookie-shared-memcache", Label: "securesession cookie + SharedRevocation on memcached", Family: FamilyCookie, Role: RoleOurs,
		Kinds: []string{KindLogin, KindReadFresh, KindRead, KindLogout, KindLogoutEverywhere}, NeedsMemcached: true, New: newOursCookieShared},
	{Name: "gincontrib-cookie", Label: "gin-contrib cookie", Family: FamilyCookie, Role: RoleTheirs, Kinds: ginKinds, New: newGinContribCookie},
	{Name: "scs-memstore", Label: "scs memstore (in-process memory)", Family: FamilyCookie, Role: RoleOther, Kinds: ginKinds, New: newSCSMemory},
	{Name: "floor-gin+aead", Label: "floor: bare Gin + one AEAD open of a cookie-sized value", Family: FamilyCookie, Role: RoleFloor,
		Kinds: []string{KindReadFresh}, New: newFloorAEAD},

	{Name: "ours-memcache", Label: "securesession memcache", Family: FamilyMemcached, Role: RoleOurs, Kinds: serverSide, NeedsMemcached: true, New: newOursMemcache},
	{Name: "gincontrib-memcached", Label: "gin-contrib memcached", Family: FamilyMemcached, Role: RoleTheirs, Kinds: theirsSS, NeedsMemcached: true, New: newGinContribMemcached},
	{Name: "floor-gin+get+add", Label: "floor: bare Gin + one get of the generation item and one add of a session-sized item", Family: FamilyMemcached, Role: RoleFloor,
		Kinds: []string{KindLogin}, NeedsMemcached: true, New: newFloorLogin},
	{Name: "floor-gin+getmulti", Label: "floor: bare Gin + one GetMulti of the items our read fetches", Family: FamilyMemcached, Role: RoleFloor,
		Kinds: []string{KindRead}, NeedsMemcached: true, New: newFloorGetMulti},
	{Name: "floor-gin+gets+cas", Label: "floor: bare Gin + that GetMulti and one CAS of the session item", Family: FamilyMemcached, Role: RoleFloor,
		Kinds: []string{KindWrite}, NeedsMemcached: true, New: newFloorCAS},
	{Name: "floor-gin+gets+delete", Label: "floor: bare Gin + that GetMulti and one delete", Family: FamilyMemcached, Role: RoleFloor,
		Kinds: []string{KindLogout}, NeedsMemcached: true, New: newFloorLogout},

	{Name: "ours-gorm-sqlite", Label: "securesession GORM + SQLite", Family: FamilyGORM, Role: RoleOurs, Kinds: serverSide, New: newOursGORM},
	{Name: "gincontrib-gorm-sqlite", Label: "gin-contrib GORM + SQLite", Family: FamilyGORM, Role: RoleTheirs, Kinds: theirsSS, New: newGinContribGORM},
	{Name: "scs-sqlite3store", Label: "scs sqlite3store", Family: FamilyGORM, Role: RoleOther, Kinds: theirsSS, New: newSCSSQLite},
	{Name: "floor-gin+select", Label: "floor: bare Gin + our Find's SQLite SELECT (by the token-hash index)", Family: FamilyGORM, Role: RoleFloor,
		Kinds: []string{KindRead}, New: newFloorSelect},
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

// App is one contender's Gin router and what the harness needs to drive it
// as a browser would.
type App struct {
	Name   string
	Router http.Handler
	// CookieName is the session cookie the browser keeps; "" for bare Gin
	// and the floors, which set none.
	CookieName string
	// Clock, when set, is the clock the session layer and its backend read;
	// the touch kind moves it forward.
	Clock *Clock
	// RoundTrips, when set, counts the memcached requests sent so far.
	RoundTrips *atomic.Int64
	// Elsewhere, when set, is a second instance of the same app (same
	// keys, caches of its own): the browsers of the never-seen-cookie
	// read log in there, as behind a load balancer, so that this
	// instance has never seen their cookies.
	Elsewhere *App
	// FloorOps, for a floor, counts the backend operations it has run.
	FloorOps *atomic.Int64
	close    []func()

	// The login kind's users (kinds.go): the next one to log in, and
	// which have logged in before, untimed.
	nextUser int
	returned []bool
}

// Bare reports whether a has no session layer (bare Gin or a floor).
func (a *App) Bare() bool { return a.CookieName == "" }

// Close releases what the contender opened (databases, clients).
func (a *App) Close() {
	for i := len(a.close) - 1; i >= 0; i-- {
		a.close[i]()
	}
	a.close = nil
}

// Clock is an injected clock: the real time plus an offset that the touch
// kind sets, so that a request can arrive after the touch interval without
// the benchmark sleeping.
type Clock struct{ offset atomic.Int64 }

// Now is the clock's time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Set moves the clock to d after the real time.
func (c *Clock) Set(d time.Duration) { c.offset.Store(int64(d)) }

// RandKey returns n random bytes.
func RandKey(n int) []byte {
	k := make([]byte, n)
	rand.Read(k)
	return k
}

var quiet = slog.New(slog.DiscardHandler)

var silentGORM = &gormdb.Config{Logger: gormlogger.Default.LogMode(gormlogger.Silent)}

var seq atomic.Int64

// sqlitePath is a fresh SQLite file in env.Dir.
func sqlitePath(env *Env, name string) string {
	return filepath.Join(env.Dir, fmt.Sprintf("%s-%d.db", name, seq.Add(1)))
}

// sqliteDSN opens a database/sql SQLite file with the settings the
// securesession sqlite helper uses: WAL, a busy timeout, immediate
// transactions and synchronous=NORMAL.
func sqliteDSN(path string) string {
	return "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=NORMAL"
}

// The routes. Every handler answers 204 on success; GET /count, used only
// by the tests, reports the write counter in an X-Count header.
//
//	POST /login, POST /login/:user   create a session holding a user ID and a role
//	GET  /read                        an authenticated request reading the user ID (401 if anonymous)
//	POST /write                       read a counter, increment it, save
//	POST /logout                      end the session
//	POST /logout-everywhere           end every session of the user (ours only)

const (
	userID = "alice"
	role   = "admin"
)

func loginUser(c *gin.Context) string {
	if u := c.Param("user"); u != "" {
		return u
	}
	return userID
}

func ours(backend securesession.Backend, name string, clock *Clock) (*App, error) {
	mw, err := securesession.New(backend, securesession.Options{Logger: quiet, Now: clock.Now})
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.Use(mw)
	login := func(c *gin.Context) {
		if err := securesession.Login(c, loginUser(c)); err != nil {
			c.AbortWithStatus(500)
			return
		}
		sessions.Default(c).Set("role", role)
		c.Status(http.StatusNoContent)
	}
	r.POST("/login", login)
	r.POST("/login/:user", login)
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
	r.POST("/logout", func(c *gin.Context) {
		if err := securesession.Logout(c); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.POST("/logout-everywhere", func(c *gin.Context) {
		switch err := securesession.LogoutEverywhere(c); {
		case errors.Is(err, securesession.ErrCannotRevoke):
			c.AbortWithStatus(http.StatusNotImplemented)
		case err != nil:
			c.AbortWithStatus(500)
		default:
			c.Status(http.StatusNoContent)
		}
	})
	r.GET("/count", count(func(c *gin.Context) any { return sessions.Default(c).Get("n") }))
	return &App{Name: name, Router: r, CookieName: securesession.DefaultCookieName, Clock: clock}, nil
}

func count(get func(*gin.Context) any) gin.HandlerFunc {
	return func(c *gin.Context) {
		n, _ := get(c).(int)
		c.Header("X-Count", strconv.Itoa(n))
		c.Status(http.StatusNoContent)
	}
}

func ginContrib(store sessions.Store, name string) *App {
	r := gin.New()
	r.Use(sessions.Sessions("session", store))
	login := func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user", loginUser(c))
		s.Set("role", role)
		if err := s.Save(); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	}
	r.POST("/login", login)
	r.POST("/login/:user", login)
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
	// gin-contrib's usual logout: clear the values and expire the cookie.
	// Path is repeated because Options replaces the whole struct and the
	// browser would otherwise scope the deletion to the request's path.
	r.POST("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		s.Options(sessions.Options{Path: "/", MaxAge: -1})
		if err := s.Save(); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/count", count(func(c *gin.Context) any { return sessions.Default(c).Get("n") }))
	return &App{Name: name, Router: r, CookieName: "session"}
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

func scsApp(store scs.Store, name string) *App {
	m := scs.New()
	m.Store = store
	m.Cookie.Name = "session"
	m.ErrorFunc = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(500) }
	r := gin.New()
	r.Use(scsGin(m))
	login := func(c *gin.Context) {
		ctx := c.Request.Context()
		// A new token at login, as scs documents (session fixation).
		if err := m.RenewToken(ctx); err != nil {
			c.AbortWithStatus(500)
			return
		}
		m.Put(ctx, "user", loginUser(c))
		m.Put(ctx, "role", role)
		c.Status(http.StatusNoContent)
	}
	r.POST("/login", login)
	r.POST("/login/:user", login)
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
	r.POST("/logout", func(c *gin.Context) {
		if err := m.Destroy(c.Request.Context()); err != nil {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/count", count(func(c *gin.Context) any { return m.GetInt(c.Request.Context(), "n") }))
	return &App{Name: name, Router: r, CookieName: "session"}
}

// bareRouter serves every route with 204 and no session, except those in
// override, which do a floor's operation instead.
func bareRouter(override map[string]gin.HandlerFunc) *gin.Engine {
	r := gin.New()
	ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	for _, rt := range []struct{ method, path string }{
		{"POST", "/login"}, {"POST", "/login/:user"}, {"GET", "/read"}, {"POST", "/write"},
		{"POST", "/logout"}, {"POST", "/logout-everywhere"}, {"GET", "/count"},
	} {
		h := ok
		if o := override[rt.method+" "+rt.path]; o != nil {
			h = o
		}
		r.Handle(rt.method, rt.path, h)
	}
	return r
}

func newBare(*Env) (*App, error) {
	return &App{Name: "bare-gin", Router: bareRouter(nil)}, nil
}

func newCookieStore(clock *Clock, rev cookie.Revocation) (*cookie.Store, error) {
	return newCookieStoreKey(RandKey(32), clock, rev)
}

func newCookieStoreKey(key []byte, clock *Clock, rev cookie.Revocation) (*cookie.Store, error) {
	return cookie.NewStore(cookie.Options{Keys: [][]byte{key}, Now: clock.Now, Revocation: rev})
}

func newOursCookie(*Env) (*App, error) {
	clock := new(Clock)
	key := RandKey(32)
	s, err := newCookieStoreKey(key, clock, nil)
	if err != nil {
		return nil, err
	}
	other, err := newCookieStoreKey(key, clock, nil)
	if err != nil {
		return nil, err
	}
	a, err := ours(s, "ours-cookie", clock)
	if err != nil {
		return nil, err
	}
	if a.Elsewhere, err = ours(other, "ours-cookie (another instance)", clock); err != nil {
		return nil, err
	}
	return a, nil
}

// newOursCookieRevocation is the cookie backend with server-side
// revocation in process memory, without which it cannot log out
// everywhere.
func newOursCookieRevocation(*Env) (*App, error) {
	clock := new(Clock)
	s, err := newCookieStore(clock, cookie.NewMemoryRevocation(securesession.DefaultAbsoluteTimeout))
	if err != nil {
		return nil, err
	}
	return ours(s, "ours-cookie-revocation", clock)
}

// newOursCookieShared is the cookie backend with a SharedRevocation whose
// entries live in memcached, as a fleet runs it: two instances (the
// never-seen-cookie read logs in on the other), each with its own client
// and SharedRevocation syncing in the background at the default interval.
// A read of a session the instance has seen asks memcached nothing; a
// never-seen one looks its keys up once.
func newOursCookieShared(env *Env) (*App, error) {
	clock := new(Clock)
	key := RandKey(32)
	prefix := fmt.Sprintf("ssrev%d:", seq.Add(1))
	var closers []func()
	instance := func(name string) (*App, error) {
		c, rt, err := memcacheClient(env)
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { c.Close() })
		rs, err := ssmemcache.NewRevocationStore(c, ssmemcache.RevocationStoreOptions{Prefix: prefix})
		if err != nil {
			return nil, err
		}
		rev, err := cookie.NewSharedRevocation(rs, cookie.SharedRevocationOptions{})
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { rev.Close() })
		s, err := newCookieStoreKey(key, clock, rev)
		if err != nil {
			return nil, err
		}
		a, err := ours(s, name, clock)
		if err != nil {
			return nil, err
		}
		a.RoundTrips = rt
		return a, nil
	}
	fail := func(err error) (*App, error) {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		return nil, err
	}
	a, err := instance("ours-cookie-shared-memcache")
	if err != nil {
		return fail(err)
	}
	if a.Elsewhere, err = instance("ours-cookie-shared-memcache (another instance)"); err != nil {
		return fail(err)
	}
	a.close = append(a.close, closers...)
	return a, nil
}

func newGinContribCookie(*Env) (*App, error) {
	// A 32-byte hash key and a 32-byte block key, as gin-contrib's README
	// recommends.
	return ginContrib(gccookie.NewStore(RandKey(32), RandKey(32)), "gincontrib-cookie"), nil
}

func newSCSMemory(*Env) (*App, error) {
	return scsApp(memstore.NewWithCleanupInterval(0), "scs-memstore"), nil
}

var errNoMemcached = errors.New("no memcached running")

func newOursMemcache(env *Env) (*App, error) {
	c, rt, err := memcacheClient(env)
	if err != nil {
		return nil, err
	}
	clock := new(Clock)
	s, err := ssmemcache.NewStore(c, ssmemcache.Options{Key: RandKey(32), Prefix: fmt.Sprintf("ss%d:", seq.Add(1)), Now: clock.Now})
	if err != nil {
		c.Close()
		return nil, err
	}
	a, err := ours(s, "ours-memcache", clock)
	if err != nil {
		c.Close()
		return nil, err
	}
	a.RoundTrips = rt
	a.close = append(a.close, func() { c.Close() })
	return a, nil
}

func newGinContribMemcached(env *Env) (*App, error) {
	c, rt, err := memcacheClient(env)
	if err != nil {
		return nil, err
	}
	// A hash key only, as gin-contrib's README shows for server-side stores.
	a := ginContrib(gcmemcached.NewStore(c, fmt.Sprintf("gc%d:", seq.Add(1)), RandKey(32)), "gincontrib-memcached")
	a.RoundTrips = rt
	a.close = append(a.close, func() { c.Close() })
	return a, nil
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
	clock := new(Clock)
	s, err := ssgorm.NewStore(db, ssgorm.Options{Key: RandKey(32), Now: clock.Now})
	if err != nil {
		closeDB()
		return nil, err
	}
	a, err := ours(s, "ours-gorm-sqlite", clock)
	if err != nil {
		s.Close()
		closeDB()
		return nil, err
	}
	a.close = append(a.close, closeDB, func() { s.Close() })
	return a, nil
}

func newGinContribGORM(env *Env) (*App, error) {
	// The same SQLite settings as ours (WAL, busy timeout, NORMAL sync),
	// opened with the same helper, and GORM's default config otherwise.
	db, closeDB, err := openGORMSQLite(env, "gincontrib-gorm")
	if err != nil {
		return nil, err
	}
	a := ginContrib(gcgorm.NewStore(db, false, RandKey(32)), "gincontrib-gorm-sqlite")
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
	a := scsApp(sqlite3store.NewWithCleanupInterval(db, 0), "scs-sqlite3store")
	a.close = append(a.close, func() { db.Close() })
	return a, nil
}

// Env is what the contenders share: a temporary directory for SQLite files
// and the address of a real memcached ("" when none is running).
type Env struct {
	Dir          string
	MemcacheAddr string
	// MemcachedKeys lists the keys memcached holds under a prefix (the
	// GetMulti floor needs the keys our backend reads); nil without
	// memcached.
	MemcachedKeys func(prefix string) ([]string, error)
}

// TempEnv creates a temporary directory (and nothing else).
func TempEnv() (*Env, func(), error) {
	dir, err := os.MkdirTemp("", "securesession-bench-")
	if err != nil {
		return nil, nil, err
	}
	return &Env{Dir: dir}, func() { os.RemoveAll(dir) }, nil
}
