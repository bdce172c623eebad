package bench

// Floors: a bare Gin router whose measured route does only the unavoidable
// work of one backend, with no session layer around it. They answer the
// question "how close to the backend's own cost is the session layer?".

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/chacha20poly1305"

	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
)

// floorApp is bare Gin with op on route ("METHOD /path"; a floor of the
// login kind also on POST /login/:user, which the kind sends). It counts
// the operations it ran in App.FloorOps, so that a test can see that the
// measured requests reached op rather than bare Gin's route.
func floorApp(name, route string, op func(*gin.Context) bool, closeFn func()) *App {
	ops := new(atomic.Int64)
	h := func(c *gin.Context) {
		ops.Add(1)
		if !op(c) {
			c.AbortWithStatus(500)
			return
		}
		c.Status(http.StatusNoContent)
	}
	override := map[string]gin.HandlerFunc{route: h}
	if route == "POST /login" {
		override["POST /login/:user"] = h
	}
	r := bareRouter(override)
	a := &App{Name: name, Router: r, FloorOps: ops}
	if closeFn != nil {
		a.close = append(a.close, closeFn)
	}
	return a
}

// b64 is the cookie backend's encoding of cookie values.
var b64 = base64.RawURLEncoding

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
	plainLen := max(rawLen-aeadHeader-aead.Overhead(), 0)
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
	var b Browser
	if err := a.Login(&b, ""); err != nil {
		return 0, err
	}
	_, v, _ := strings.Cut(b.Cookie, "=")
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
	return floorApp("floor-gin+aead", "GET /read", func(c *gin.Context) bool {
		_, err := c.Cookie("session") // the bare browser's cookie: Gin parses the header as the backend does
		return err == nil && f.Open()
	}, nil), nil
}

// GetMultiFloor reads, in one GetMulti, exactly the items our memcache
// backend reads for an authenticated request (found by listing the keys
// memcached holds under the store's prefix after a login).
type GetMultiFloor struct {
	Client  *gomemcache.Client
	Keys    []string
	Session string // the key of the session item (the largest), which a write replaces
	Gen     string // the key of the user's generation item, which a login reads
	value   []byte // the session item's value, which a login floor adds anew
	prefix  string
}

// NewGetMultiFloor logs in through our memcache backend and returns the
// keys of the items that session's read fetches.
func NewGetMultiFloor(env *Env) (*GetMultiFloor, func(), error) {
	if env == nil || env.MemcachedKeys == nil {
		return nil, nil, errNoMemcached
	}
	c, _, err := memcacheClient(env)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*GetMultiFloor, func(), error) { c.Close(); return nil, nil, err }
	prefix := fmt.Sprintf("fl%d:", seq.Add(1))
	s, err := ssmemcache.NewStore(c, ssmemcache.Options{Key: RandKey(32), Prefix: prefix})
	if err != nil {
		return fail(err)
	}
	a, err := ours(s, "floor", new(Clock))
	if err != nil {
		return fail(err)
	}
	if err := a.Login(new(Browser), ""); err != nil {
		return fail(err)
	}
	all, err := env.MemcachedKeys(prefix)
	if err != nil {
		return fail(err)
	}
	// An authenticated read fetches the session and the user's generation;
	// the per-user index item a login writes is read only by logins and
	// listings.
	var keys []string
	for _, k := range all {
		if strings.HasPrefix(k, prefix+"s") || strings.HasPrefix(k, prefix+"u") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return fail(fmt.Errorf("getmulti floor: no items under %q", prefix))
	}
	f := &GetMultiFloor{Client: c, Keys: keys, prefix: prefix}
	items, err := c.GetMulti(keys)
	if err != nil || len(items) != len(keys) {
		return fail(fmt.Errorf("getmulti floor: GetMulti found %d of %d items: %v", len(items), len(keys), err))
	}
	for k, it := range items {
		if f.Session == "" || len(it.Value) > len(items[f.Session].Value) {
			f.Session = k
		}
		if strings.HasPrefix(k, prefix+"u") {
			f.Gen = k
		}
	}
	if f.Gen == "" {
		return fail(fmt.Errorf("getmulti floor: no generation item under %q", prefix))
	}
	f.value = items[f.Session].Value
	return f, func() { c.Close() }, nil
}

// Get does the GetMulti and checks every item came back.
func (f *GetMultiFloor) Get() (map[string]*gomemcache.Item, bool) {
	m, err := f.Client.GetMulti(f.Keys)
	return m, err == nil && len(m) == len(f.Keys)
}

// CAS does the GetMulti and a compare-and-swap of the session item with
// its own value: the two round trips of our authenticated write.
func (f *GetMultiFloor) CAS() bool {
	m, ok := f.Get()
	if !ok {
		return false
	}
	it := m[f.Session]
	it.Expiration = int32(30 * time.Minute / time.Second)
	return f.Client.CompareAndSwap(it) == nil
}

// freshKey is a key of the session key's length that was never written.
func (f *GetMultiFloor) freshKey() string {
	b := make([]byte, b64.DecodedLen(len(f.Session)-len(f.prefix)-1))
	rand.Read(b)
	return (f.prefix + "s" + b64.EncodeToString(b))[:len(f.Session)]
}

// Login does a get of the user's generation item and an add of an item
// the size of the session item under a fresh key: the two round trips no
// login that stores a session can avoid. Ours takes a third, the CAS of
// the user's session index (for listing and limits), which this floor
// leaves out on purpose: the floor ratio shows what it costs.
func (f *GetMultiFloor) Login() bool {
	if _, err := f.Client.Get(f.Gen); err != nil {
		return false
	}
	return f.Client.Add(&gomemcache.Item{Key: f.freshKey(), Value: f.value, Expiration: int32(30 * time.Minute / time.Second)}) == nil
}

// Logout does the GetMulti and a delete: the two round trips of our
// logout (the delete is of a key never written, which costs memcached the
// same lookup).
func (f *GetMultiFloor) Logout() bool {
	if _, ok := f.Get(); !ok {
		return false
	}
	err := f.Client.Delete(f.freshKey())
	return err == nil || errors.Is(err, gomemcache.ErrCacheMiss)
}

func newFloorLogin(env *Env) (*App, error) {
	f, closeFn, err := NewGetMultiFloor(env)
	if err != nil {
		return nil, err
	}
	return floorApp("floor-gin+get+add", "POST /login", func(*gin.Context) bool { return f.Login() }, closeFn), nil
}

func newFloorLogout(env *Env) (*App, error) {
	f, closeFn, err := NewGetMultiFloor(env)
	if err != nil {
		return nil, err
	}
	return floorApp("floor-gin+gets+delete", "POST /logout", func(*gin.Context) bool { return f.Logout() }, closeFn), nil
}

func newFloorGetMulti(env *Env) (*App, error) {
	f, closeFn, err := NewGetMultiFloor(env)
	if err != nil {
		return nil, err
	}
	return floorApp("floor-gin+getmulti", "GET /read", func(*gin.Context) bool { _, ok := f.Get(); return ok }, closeFn), nil
}

func newFloorCAS(env *Env) (*App, error) {
	f, closeFn, err := NewGetMultiFloor(env)
	if err != nil {
		return nil, err
	}
	return floorApp("floor-gin+gets+cas", "POST /write", func(*gin.Context) bool { return f.CAS() }, closeFn), nil
}

// SelectFloor is the SELECT our GORM backend's Find runs, through a
// prepared database/sql statement on the same SQLite file: the row by its
// token hash (the id column, under a unique index; the primary key is the
// handle), live rows only, scanning every column Find reads.
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
	a, err := ours(s, "floor", new(Clock))
	if err == nil {
		err = a.Login(new(Browser), "")
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	sqlDB, _ := db.DB()
	var id string
	if err := sqlDB.QueryRow("SELECT id FROM " + ssgorm.DefaultTableName + " LIMIT 1").Scan(&id); err != nil {
		cleanup()
		return nil, nil, err
	}
	stmt, err := sqlDB.Prepare("SELECT handle, user_id, data, created, auth_time, last_seen, deadline, expires_at, user_agent, ip FROM " +
		ssgorm.DefaultTableName + " WHERE id = ? AND expires_at > ? LIMIT 1")
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

// Select reads the row.
func (f *SelectFloor) Select(ctx context.Context) bool {
	var (
		handle, user, userAgent, ip string
		data                        []byte
		c, a, l, d, e               int64
	)
	err := f.stmt.QueryRowContext(ctx, f.id, time.Now().UnixNano()).Scan(&handle, &user, &data, &c, &a, &l, &d, &e, &userAgent, &ip)
	return err == nil
}

func newFloorSelect(env *Env) (*App, error) {
	f, closeFn, err := NewSelectFloor(env)
	if err != nil {
		return nil, err
	}
	return floorApp("floor-gin+select", "GET /read", func(c *gin.Context) bool { return f.Select(c.Request.Context()) }, closeFn), nil
}
