package memcache

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomemcache "github.com/bradfitz/gomemcache/memcache"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testservers"
)

// TestThreeServersOneDiesAndComesBack runs sessions on three memcached
// servers, kills one while requests are in flight, and restarts it. The
// requests whose items live on the dead server get errors (never a silent
// logout or a rejected cookie), every other request is served, service
// recovers by itself, and no goroutine outlives the client.
func TestThreeServersOneDiesAndComesBack(t *testing.T) {
	var srv [3]*testservers.Memcached
	var addrs []string
	for i := range srv {
		srv[i] = testServer(t)
		addrs = append(addrs, srv[i].Addr())
	}
	baseline := runtime.NumGoroutine()

	c := gomemcache.New(addrs...)
	c.Timeout = 300 * time.Millisecond
	c.MaxIdleConns = 16
	s := newTestStore(t, c, Options{})
	var sl gomemcache.ServerList
	if err := sl.SetServers(addrs...); err != nil {
		t.Fatal(err)
	}
	dead := srv[1].Addr()
	onDead := func(keys ...string) bool {
		for _, k := range keys {
			if k == "" {
				continue
			}
			a, err := sl.PickServer(k)
			if err != nil {
				t.Fatal(err)
			}
			if a.String() == dead {
				return true
			}
		}
		return false
	}

	now := time.Now()
	const n = 60
	toks := make([]string, n)
	for i := range toks {
		user := ""
		if i%3 != 0 {
			user = fmt.Sprintf("user%d", i)
		}
		toks[i] = mustCreate(t, s, cookie, newRecord(now, user, "v"))
	}

	// Readers run throughout the kill and the restart: no panic, and no
	// failure is ever reported as a tampered cookie.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var invalid atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.Find(bg, cookie, toks[i%n]); errors.Is(err, securesession.ErrInvalidToken) {
					invalid.Add(1)
				}
			}
		}()
	}

	time.Sleep(50 * time.Millisecond)
	srv[1].Stop()
	time.Sleep(50 * time.Millisecond)

	served, failed := 0, 0
	for _, tok := range toks {
		ks := keysOf(s, cookie, tok)
		if ks.user != "" && onDead(ks.session) != onDead(ks.user) {
			t.Fatal("a session's items are spread over several servers")
		}
		rec, found, err := s.Find(bg, cookie, tok)
		if onDead(ks.session, ks.user) {
			if err == nil || errors.Is(err, securesession.ErrInvalidToken) {
				t.Fatalf("session on the dead server: found=%v err=%v; want an outage error", found, err)
			}
			failed++
			continue
		}
		if err != nil || !found {
			t.Fatalf("session on live servers: found=%v err=%v; want it served", found, err)
		}
		served++
		rec.Values = []byte("written during the outage")
		_, err = s.Update(bg, cookie, tok, &rec)
		if onDead(ks.session) != (err != nil) {
			t.Fatalf("Update during the outage: %v (session item on the dead server: %v)", err, onDead(ks.session))
		}
	}
	if served == 0 || failed == 0 {
		t.Fatalf("served %d, failed %d: the key spread does not exercise both cases", served, failed)
	}
	t.Logf("during the outage: %d sessions served, %d failed", served, failed)

	if err := srv[1].Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if k := invalid.Load(); k != 0 {
		t.Fatalf("%d reads reported an outage as an invalid token", k)
	}

	// Recovered: no errors. Sessions whose session or generation item
	// lived on the restarted (empty) server are gone; the rest are intact.
	for _, tok := range toks {
		ks := keysOf(s, cookie, tok)
		_, found, err := s.Find(bg, cookie, tok)
		if err != nil {
			t.Fatalf("after the restart Find still fails: %v", err)
		}
		if want := !onDead(ks.session, ks.user); found != want {
			t.Fatalf("after the restart found=%v; want %v", found, want)
		}
	}
	for i := 0; i < 20; i++ {
		tok := mustCreate(t, s, cookie, newRecord(now, fmt.Sprintf("new%d", i), "v"))
		mustFind(t, s, cookie, tok)
	}

	// No goroutine or connection outlives the client.
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConcurrentUseIsRaceFree hammers one store from many goroutines (run
// with -race): logins, reads, writes, touches, logouts and revocations of
// shared users.
func TestConcurrentUseIsRaceFree(t *testing.T) {
	m := testServer(t)
	c := newClient(t, m.Addr())
	s := newTestStore(t, c, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			user := fmt.Sprintf("user%d", g%4)
			for i := 0; i < 40; i++ {
				now := time.Now()
				tok, err := s.Create(bg, cookie, newRecord(now, user, "v"))
				if err != nil {
					errs <- err
					return
				}
				rec, found, err := s.Find(bg, cookie, tok)
				if err != nil {
					errs <- err
					return
				}
				if !found {
					continue // revoked by a concurrent RevokeUser
				}
				rec.Values = []byte(fmt.Sprint(g, i))
				if _, err := s.Update(bg, cookie, tok, &rec); err != nil && !errors.Is(err, securesession.ErrNoRecord) {
					errs <- err
					return
				}
				rec.LastSeen = now.Add(time.Second)
				if _, err := s.Touch(bg, cookie, tok, &rec); err != nil && !errors.Is(err, securesession.ErrNoRecord) {
					errs <- err
					return
				}
				switch i % 8 {
				case 3:
					err = s.RevokeUser(bg, user, securesession.Ref{Name: cookie, Token: tok})
				case 7:
					err = s.RevokeUser(bg, user, securesession.Ref{})
				default:
					err = s.Delete(bg, cookie, tok)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
