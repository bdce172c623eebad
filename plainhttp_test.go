package securesession_test

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-securesession/securesession"
)

// TestSecureCookieOverPlainHTTPWarnsOnce: the Quick start served over
// plain HTTP on a public address issues a Secure cookie the browser
// drops. The middleware says so once, in the log and as an event, naming
// what to set; loopback and HTTPS requests never trigger it.
func TestSecureCookieOverPlainHTTPWarnsOnce(t *testing.T) {
	var logs bytes.Buffer
	var n atomic.Int32
	r := router(t, newCookieStore(t), securesession.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnEvent: func(e securesession.Event) {
			if e.Kind == securesession.EventPlainHTTP {
				n.Add(1)
			}
		},
	})
	serve(r, "POST", "http://localhost:8080/set?key=k&val=v", nil)
	if n.Load() != 0 {
		t.Fatal("a plain-HTTP request to localhost warned; browsers keep Secure cookies there")
	}
	for range 3 {
		serve(r, "POST", "http://app.example/set?key=k&val=v", nil)
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("%d plain_http events after three requests, want exactly 1", got)
	}
	log := logs.String()
	if strings.Count(log, "event=plain_http") != 1 {
		t.Fatalf("log has %d plain_http records, want 1:\n%s", strings.Count(log, "event=plain_http"), log)
	}
	for _, want := range []string{"level=WARN", "drop", "TrustedProxies", "X-Forwarded-Proto"} {
		if !strings.Contains(log, want) {
			t.Errorf("the warning does not say %q:\n%s", want, log)
		}
	}
}

func TestSecureCookieOverHTTPSDoesNotWarn(t *testing.T) {
	var n atomic.Int32
	r := router(t, newCookieStore(t), securesession.Options{OnEvent: func(e securesession.Event) {
		if e.Kind == securesession.EventPlainHTTP {
			n.Add(1)
		}
	}})
	req := httptestRequest("POST", "https://app.example/set?key=k&val=v")
	req.TLS = &tls.ConnectionState{}
	r.ServeHTTP(discard{}, req)
	if n.Load() != 0 {
		t.Fatal("an HTTPS request warned about plain HTTP")
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
