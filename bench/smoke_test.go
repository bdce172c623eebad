package bench

import (
	"context"
	"testing"
)

// TestContenders serves each contender's requests once, so that CI checks
// the module builds and every contender works without running benchmarks.
func TestContenders(t *testing.T) {
	for _, c := range Contenders {
		t.Run(c.Name, func(t *testing.T) {
			a := newApp(t, c)
			for _, r := range Requests {
				if c.ReadOnly && r.Name != "Read" {
					continue
				}
				if err := a.Check(r); err != nil {
					t.Error(err)
				}
				// And twice more through the benchmark path, which reuses
				// the logged-in cookie.
				w := &Sink{H: make(map[string][]string)}
				req := a.NewRequest(r)
				for range 2 {
					if st := a.Serve(w, req); st != 204 {
						t.Errorf("%s %s: status %d", c.Name, r.Name, st)
					}
				}
			}
		})
	}
}

func TestFloors(t *testing.T) {
	n, err := TypicalCookieLen()
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewAEADFloor(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Value) != n || !f.Open() {
		t.Errorf("AEAD floor: value of %d characters (want %d), open ok = %v", len(f.Value), n, f.Open())
	}
	sf, closeFn, err := NewSelectFloor(env)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if !sf.Select(context.Background()) {
		t.Error("select floor failed")
	}
	if env.MemcacheAddr == "" {
		t.Skip("SKIPPING the GetMulti floor: needs memcached: " + noMemcached)
	}
	gf, closeGF, err := NewGetMultiFloor(env, MemcachedKeys)
	if err != nil {
		t.Fatal(err)
	}
	defer closeGF()
	if len(gf.Keys) != 3 {
		t.Errorf("GetMulti floor reads %d keys %q, want the 3 of an authenticated read", len(gf.Keys), gf.Keys)
	}
}
