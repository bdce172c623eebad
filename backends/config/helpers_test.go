package config_test

import (
	"context"
	"net/url"
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
