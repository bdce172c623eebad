package securesession_test

import (
	"encoding/gob"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// typedApp runs set in one request and get in the next, with the cookie
// of the first fed back, so every value has been through the store.
type typedApp struct {
	t      *testing.T
	r      *gin.Engine
	set    func(c *gin.Context)
	get    func(c *gin.Context)
	client rqClient
	ran    bool // get ran, so its checks were made
}

func newTypedApp(t *testing.T) *typedApp {
	t.Helper()
	mw, err := securesession.New(rqStore(t), securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a := &typedApp{t: t, r: gin.New()}
	a.r.Use(mw)
	a.r.POST("/set", func(c *gin.Context) {
		a.set(c)
		if err := sessions.Default(c).Save(); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	a.r.GET("/get", func(c *gin.Context) {
		a.get(c)
		a.ran = true
	})
	a.client = rqClient{t: t, h: a.r}
	return a
}

// run stores the values with set and reads them back with get in a later
// request; it fails the test unless the save succeeded.
func (a *typedApp) run(set, get func(c *gin.Context)) *httptest.ResponseRecorder {
	a.t.Helper()
	a.set, a.get = set, get
	if w := a.client.do("POST", "/set"); w.Code != http.StatusNoContent {
		a.t.Fatalf("set: %d %q", w.Code, w.Body)
	}
	if a.client.cookie == nil {
		a.t.Fatal("set: no session cookie")
	}
	a.ran = false
	w := a.client.do("GET", "/get")
	if !a.ran {
		a.t.Fatalf("get did not run: %d %q", w.Code, w.Body)
	}
	return w
}

type typedCase struct {
	key string
	val any
	get func(c *gin.Context, key string) (any, bool) // Get with the stored type
}

func as[T any](c *gin.Context, key string) (any, bool) { return securesession.Get[T](c, key) }

// Every type the codec keeps without gob.
var builtInValues = []typedCase{
	{"bool", true, as[bool]},
	{"string", "héllo", as[string]},
	{"int", -42, as[int]},
	{"int8", int8(-8), as[int8]},
	{"int16", int16(-16), as[int16]},
	{"int32", int32(-32), as[int32]},
	{"int64", int64(-1) << 62, as[int64]},
	{"uint", uint(42), as[uint]},
	{"uint8", uint8(8), as[uint8]},
	{"uint16", uint16(16), as[uint16]},
	{"uint32", uint32(32), as[uint32]},
	{"uint64", uint64(1) << 63, as[uint64]},
	{"float32", float32(1.5), as[float32]},
	{"float64", 2.25, as[float64]},
	{"bytes", []byte{0, 1, 0xff}, as[[]byte]},
	{"duration", 90 * time.Second, as[time.Duration]},
	{"strings", []string{"a", "b"}, as[[]string]},
	{"ints", []int{1, -2}, as[[]int]},
	{"int64s", []int64{1 << 40}, as[[]int64]},
	{"float64s", []float64{0.5}, as[[]float64]},
	{"bools", []bool{true, false}, as[[]bool]},
	{"map string", map[string]string{"k": "v"}, as[map[string]string]},
	{"map int", map[string]int{"k": 7}, as[map[string]int]},
	{"map bool", map[string]bool{"k": true}, as[map[string]bool]},
	{"any slice", []any{"a", 1, []string{"nested"}}, as[[]any]},
	{"any map", map[string]any{"n": int64(3), "m": map[string]any{"deep": true}}, as[map[string]any]},
}

func TestGetReturnsEveryBuiltInTypeAfterARoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 0, 123, time.FixedZone("CET", 3600))
	w := newTypedApp(t).run(func(c *gin.Context) {
		s := sessions.Default(c)
		for _, tc := range builtInValues {
			s.Set(tc.key, tc.val)
		}
		s.Set("time", at)
	}, func(c *gin.Context) {
		for _, tc := range builtInValues {
			got, ok := tc.get(c, tc.key)
			if !ok || !reflect.DeepEqual(got, tc.val) {
				t.Errorf("Get[%T](%q) = %#v, %v; want %#v, true", tc.val, tc.key, got, ok, tc.val)
			}
		}
		if got, ok := securesession.Get[time.Time](c, "time"); !ok || !got.Equal(at) {
			t.Errorf("Get[time.Time] = %v, %v; want %v, true", got, ok, at)
		}
	})
	if w.Code != http.StatusOK {
		t.Fatalf("get: %d", w.Code)
	}
}

func TestGetRefusesAValueOfAnotherType(t *testing.T) {
	newTypedApp(t).run(func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("n", 7)
		s.Set("list", []string{"a"})
		s.Set("nil", nil)
	}, func(c *gin.Context) {
		for name, got := range map[string]func() (any, bool){
			"int as int64":        func() (any, bool) { return securesession.Get[int64](c, "n") },
			"int as string":       func() (any, bool) { return securesession.Get[string](c, "n") },
			"int as float64":      func() (any, bool) { return securesession.Get[float64](c, "n") },
			"[]string as []any":   func() (any, bool) { return securesession.Get[[]any](c, "list") },
			"missing key":         func() (any, bool) { return securesession.Get[int](c, "absent") },
			"missing key, as any": func() (any, bool) { return securesession.Get[any](c, "absent") },
			"nil value":           func() (any, bool) { return securesession.Get[any](c, "nil") },
		} {
			v, ok := got()
			if ok || v != nil && !reflect.ValueOf(v).IsZero() {
				t.Errorf("%s: got %#v, %v; want the zero value and false", name, v, ok)
			}
		}
		if n, ok := securesession.Get[int](c, "n"); !ok || n != 7 {
			t.Errorf("Get[int] = %d, %v; want 7, true", n, ok)
		}
	})
}

// A defined type is not its underlying type: it goes through gob, and
// comes back as itself once registered.
type typedRole string

type typedProfile struct {
	Name  string
	Roles []typedRole
}

func TestGetGobRegisteredTypesAfterARoundTrip(t *testing.T) {
	gob.Register(typedRole(""))
	gob.Register(typedProfile{})
	want := typedProfile{Name: "alice", Roles: []typedRole{"admin"}}
	newTypedApp(t).run(func(c *gin.Context) {
		sessions.Default(c).Set("role", typedRole("admin"))
		sessions.Default(c).Set("profile", want)
	}, func(c *gin.Context) {
		if r, ok := securesession.Get[typedRole](c, "role"); !ok || r != "admin" {
			t.Errorf("Get[typedRole] = %q, %v", r, ok)
		}
		if _, ok := securesession.Get[string](c, "role"); ok {
			t.Error("Get[string] of a typedRole succeeded")
		}
		if p, ok := securesession.Get[typedProfile](c, "profile"); !ok || !reflect.DeepEqual(p, want) {
			t.Errorf("Get[typedProfile] = %+v, %v", p, ok)
		}
	})
}

type typedUnregistered struct{ A int }

func TestSavingAnUnregisteredTypeFailsAndSaysWhy(t *testing.T) {
	a := newTypedApp(t)
	a.set = func(c *gin.Context) { sessions.Default(c).Set("u", typedUnregistered{A: 1}) }
	w := a.client.do("POST", "/set") // an explicit Save
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "gob.Register") ||
		!strings.Contains(w.Body.String(), "typedUnregistered") || a.client.cookie != nil {
		t.Errorf("Save: %d %q, cookie %v; want the save refused, naming the type and gob.Register", w.Code, w.Body, a.client.cookie)
	}

	// The automatic save goes to Options.ErrorHandler, 500 by default.
	mw, _ := securesession.New(rqStore(t), securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	r := gin.New()
	r.Use(mw)
	r.POST("/set", func(c *gin.Context) {
		sessions.Default(c).Set("u", typedUnregistered{A: 1})
		c.String(http.StatusOK, "handler body")
	})
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/set", nil))
	if w.Code != http.StatusInternalServerError || len(w.Result().Cookies()) != 0 {
		t.Errorf("automatic save: %d %q, cookies %v; want 500 and no session", w.Code, w.Body, w.Header().Values("Set-Cookie"))
	}
}

func TestPopReadsAValueOnce(t *testing.T) {
	a := newTypedApp(t)
	w := a.run(func(c *gin.Context) { sessions.Default(c).Set("flash", "saved") }, func(c *gin.Context) {
		v, ok := securesession.Pop[string](c, "flash")
		c.String(http.StatusOK, "%q %v", v, ok)
	})
	if w.Body.String() != `"saved" true` {
		t.Fatalf("first Pop: %q", w.Body)
	}
	if w = a.client.do("GET", "/get"); w.Body.String() != `"" false` {
		t.Errorf("second Pop, with the cookie the first returned: %q, want it gone", w.Body)
	}
}

func TestPopLeavesAValueOfAnotherType(t *testing.T) {
	a := newTypedApp(t)
	w := a.run(func(c *gin.Context) { sessions.Default(c).Set("n", 7) }, func(c *gin.Context) {
		s, ok := securesession.Pop[string](c, "n")
		c.String(http.StatusOK, "%q %v", s, ok)
	})
	if w.Body.String() != `"" false` || len(w.Result().Cookies()) != 0 {
		t.Fatalf("Pop[string] of an int: %q, cookies %v; want false and the session unchanged", w.Body, w.Header().Values("Set-Cookie"))
	}
	a.get = func(c *gin.Context) {
		n, ok := securesession.Pop[int](c, "n")
		c.String(http.StatusOK, "%d %v", n, ok)
	}
	if w = a.client.do("GET", "/get"); w.Body.String() != "7 true" {
		t.Errorf("Pop[int] afterwards: %q, want the value still there", w.Body)
	}
}

func TestGetAndPopWithoutSessionMiddleware(t *testing.T) {
	r := gin.New()
	r.GET("/", func(c *gin.Context) {
		g, gok := securesession.Get[string](c, "k")
		p, pok := securesession.Pop[int](c, "k")
		c.String(http.StatusOK, fmt.Sprintf("%q %v %d %v", g, gok, p, pok))
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusOK || w.Body.String() != `"" false 0 false` {
		t.Errorf("%d %q; want zero values and false, no panic", w.Code, w.Body)
	}
}

// Get reads sessions.Default, so it serves gin-contrib's own middleware
// too.
func TestGetWorksWithGinContribSessions(t *testing.T) {
	store, err := securesession.NewGinContribStore(rqStore(t), securesession.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(sessions.Sessions("sid", store))
	r.POST("/set", func(c *gin.Context) {
		sessions.Default(c).Set("n", 7)
		_ = sessions.Default(c).Save()
	})
	r.GET("/get", func(c *gin.Context) {
		n, ok := securesession.Pop[int](c, "n")
		c.String(http.StatusOK, "%d %v", n, ok)
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/set", nil))
	req := httptest.NewRequest("GET", "/get", nil)
	for _, ck := range w.Result().Cookies() {
		req.AddCookie(ck)
	}
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Body.String() != "7 true" {
		t.Errorf("Pop[int] under sessions.Sessions: %q", w.Body)
	}
}
