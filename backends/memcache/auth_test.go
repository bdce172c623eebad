package memcache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/testservers"
)

// authDialer returns a gomemcache DialContext that logs each new
// connection in with memcached's ASCII-protocol authentication (-Y), the
// credentials going out as the connection's first command. gomemcache
// speaks only the text protocol, for which memcached has no SASL.
func authDialer(user, password string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	cred := user + " " + password
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			nc.SetDeadline(dl)
		}
		_, err = fmt.Fprintf(nc, "set auth 0 0 %d\r\n%s\r\n", len(cred), cred)
		var line string
		if err == nil {
			line, err = bufio.NewReader(nc).ReadString('\n') // nothing follows the answer
		}
		if err == nil && line != "STORED\r\n" {
			err = fmt.Errorf("memcached authentication: %s", strings.TrimSpace(line))
		}
		if err != nil {
			nc.Close()
			return nil, err
		}
		nc.SetDeadline(time.Time{})
		return nc, nil
	}
}

// TestASCIIAuthenticationThroughDialContext: with memcached's ASCII
// authentication on, a client without the credentials gets errors, never
// a silent logout, and a client that logs each connection in through
// DialContext is served, also once the server restarts and the pooled
// connections are replaced by fresh, newly authenticated ones.
func TestASCIIAuthenticationThroughDialContext(t *testing.T) {
	m := testservers.StartMemcachedAuthT(t, "app", "s3cret")
	key := newKey(t)

	anon := newTestStore(t, newClient(t, m.Addr()), Options{Key: key})
	if _, err := anon.Create(bg, cookie, newRecord(time.Now(), "alice", "v")); err == nil {
		t.Fatal("Create without credentials succeeded")
	}

	c := newClient(t, m.Addr())
	c.DialContext = authDialer("app", "s3cret")
	s := newTestStore(t, c, Options{Key: key})
	tok := mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v"))
	mustFind(t, s, cookie, tok)
	_, found, err := anon.Find(bg, cookie, tok)
	if found || err == nil || errors.Is(err, securesession.ErrInvalidToken) {
		t.Fatalf("Find without credentials: found=%v err=%v; want an outage error", found, err)
	}

	wrong := newClient(t, m.Addr())
	wrong.DialContext = authDialer("app", "wrong")
	if _, found, err := newTestStore(t, wrong, Options{Key: key}).Find(bg, cookie, tok); found || err == nil || !strings.Contains(err.Error(), "authentication failure") {
		t.Fatalf("Find with the wrong password: found=%v err=%v; want the authentication failure", found, err)
	}

	m.Stop()
	mustRestart(t, m)
	mustNotFind(t, s, cookie, tok) // memcached kept nothing, and no error
	mustFind(t, s, cookie, mustCreate(t, s, cookie, newRecord(time.Now(), "alice", "v")))
}
