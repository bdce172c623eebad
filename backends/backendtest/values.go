package backendtest

import (
	"strings"
	"testing"
)

// valueChecks pin that session values come back as stored, saved with or
// without an explicit Save, in one backend write.
var valueChecks = []check{
	{"ValuesKeepTheirTypes", testValuesKeepTheirTypes},
	{"AutoSaveWithoutSave", testAutoSaveWithoutSave},
	{"ExplicitSaveWritesOnce", testExplicitSaveWritesOnce},
	{"Flashes", testFlashes},
}

func testValuesKeepTheirTypes(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/typed")
	got := cl.do("GET", "/typed").body
	want := strings.Join([]string{
		"int=int:42", "int64=int64:-7", "uint8=uint8:200", "float=float64:2.5", "bool=bool:true",
		"bytes=[]uint8:[1 2 3]", "strings=[]string:[a b]", "map=map[string]interface {}:map[n:1 s:x]",
		"time=time.Time:2026-11-24 12:00:00 +0000 UTC", "7=string:int key",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("values after a round trip:\n%s\nwant:\n%s", got, want)
	}
}

func testAutoSaveWithoutSave(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set-nosave?key=k&val=v1")
	if got := cl.do("GET", "/get?key=k").body; got != "string:v1" {
		t.Fatalf("after a Set without Save: got %q, want string:v1", got)
	}
	cl.do("POST", "/set-nosave?key=k&val=v2")
	if got := cl.do("GET", "/get?key=k").body; got != "string:v2" {
		t.Fatalf("after an update without Save: got %q, want string:v2", got)
	}
	// A redirect writes only a header; the change must still be saved.
	cl.do("POST", "/set-redirect?key=k&val=v3")
	if got := cl.do("GET", "/get?key=k").body; got != "string:v3" {
		t.Fatalf("after a Set before a redirect: got %q, want string:v3", got)
	}
}

func testExplicitSaveWritesOnce(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/set?key=k&val=v1")
	before := a.b.total()
	cl.do("POST", "/set?key=k&val=v2")
	if n := a.b.total() - before; n != 1 {
		t.Errorf("Set+Save caused %d backend writes (%v), want exactly 1", n, a.b.writes)
	}
}

func testFlashes(t *testing.T, f *factory) {
	a := newApp(t, f)
	cl := a.client()
	cl.do("POST", "/flash?msg=hello")
	if got := cl.do("GET", "/flashes").body; got != "[hello]" {
		t.Fatalf("flashes = %q, want [hello]", got)
	}
	if got := cl.do("GET", "/flashes").body; got != "[]" {
		t.Fatalf("flashes after reading = %q, want []", got)
	}
}
