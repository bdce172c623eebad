package config_test

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// pgURL turns testservers' key=value DSN into a postgres:// URL.
func pgURL(t *testing.T, dsn string) string {
	t.Helper()
	u := &url.URL{Scheme: "postgres"}
	q := url.Values{}
	var user, pass, host, port, db string
	for _, f := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "user":
			user = v
		case "password":
			pass = v
		case "host":
			host = v
		case "port":
			port = v
		case "dbname":
			db = v
		default:
			q.Set(k, v)
		}
	}
	if pass != "" {
		u.User = url.UserPassword(user, pass)
	} else {
		u.User = url.User(user)
	}
	if strings.HasPrefix(host, "/") {
		q.Set("host", host)
		host = "localhost"
	}
	u.Host = host
	if port != "" {
		u.Host += ":" + port
	}
	u.Path = "/" + db
	u.RawQuery = q.Encode()
	return u.String()
}

// roundTrip creates, finds, logs out a session directly on the backend.
func roundTrip(t *testing.T, b securesession.Backend) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	rec := &securesession.Record{UserID: "u1", AuthTime: now, Created: now, LastSeen: now,
		Deadline: now.Add(time.Hour), Expires: now.Add(30 * time.Minute), Values: []byte{}}
	tok, err := b.Create(ctx, "session", rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, found, err := b.Find(ctx, "session", tok)
	if err != nil || !found || got.UserID != "u1" {
		t.Fatalf("Find = %+v, %v, %v", got.UserID, found, err)
	}
}

// reachableStrings returns every string reachable from v: the results of
// Error and String on every error in its chain, and every string field,
// map key or element found by following v's fields, pointers, slices, maps
// and interfaces (unexported ones too), so that a test can check that a
// secret is neither printed nor reachable by unwrapping and type-asserting
// (pgconn's ConnectError, for one, carries the parsed Config with its
// Password).
func reachableStrings(v any) []string {
	var out []string
	seen := map[uintptr]bool{}
	var walk func(rv reflect.Value, depth int)
	walk = func(rv reflect.Value, depth int) {
		if !rv.IsValid() || depth > 12 {
			return
		}
		if rv.CanInterface() && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
			func() {
				defer func() { _ = recover() }() // a method that cannot print this value
				switch x := rv.Interface().(type) {
				case error:
					out = append(out, x.Error())
				case fmt.Stringer:
					out = append(out, x.String())
				}
			}()
		}
		switch rv.Kind() {
		case reflect.String:
			out = append(out, rv.String())
		case reflect.Pointer:
			if rv.IsNil() || seen[rv.Pointer()] {
				return
			}
			seen[rv.Pointer()] = true
			walk(rv.Elem(), depth+1)
		case reflect.Interface:
			walk(rv.Elem(), depth+1)
		case reflect.Struct:
			for i := 0; i < rv.NumField(); i++ {
				walk(rv.Field(i), depth+1)
			}
		case reflect.Slice, reflect.Array:
			if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
				out = append(out, string(rv.Bytes()))
				return
			}
			for i := 0; i < rv.Len() && i < 64; i++ {
				walk(rv.Index(i), depth+1)
			}
		case reflect.Map:
			it := rv.MapRange()
			for it.Next() {
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
			}
		}
	}
	walk(reflect.ValueOf(v), 0)
	return out
}

// assertAbsent fails the test if secret, in any letter case, appears in
// any string reachable from v (see reachableStrings); what says where v
// came from.
func assertAbsent(t *testing.T, what string, v any, secret string) {
	t.Helper()
	for _, s := range reachableStrings(v) {
		if strings.Contains(strings.ToLower(s), strings.ToLower(secret)) {
			t.Errorf("%s reveals the planted secret: %q", what, s)
			return
		}
	}
}
