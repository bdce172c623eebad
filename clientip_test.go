package securesession_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// clientIPApp is an engine (configured by setup) with the middleware
// logging to logs, and a route that shows what ClientIP believed.
func clientIPApp(t *testing.T, o securesession.Options, logs *bytes.Buffer, setup func(*gin.Engine)) *gin.Engine {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mw, err := securesession.New(newCookieStore(t), o)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	setup(r)
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, "alice"); err != nil {
			c.String(http.StatusInternalServerError, "%v", err)
			return
		}
		c.String(http.StatusOK, "ip=%s", c.ClientIP())
	})
	return r
}

const trustWarning = "SetTrustedProxies"

func TestRecordClientInfoWarnsOnceWhenTheEngineTrustsEveryProxy(t *testing.T) {
	var logs bytes.Buffer
	r := clientIPApp(t, securesession.Options{RecordClientInfo: true}, &logs, func(*gin.Engine) {})
	spoofed := map[string]string{"X-Forwarded-For": "203.0.113.66"}
	for range 3 {
		if got := serve(r, "POST", "/login", spoofed).Body.String(); got != "ip=203.0.113.66" {
			t.Fatalf("under gin's defaults ClientIP = %q; the test needs the spoofed header to be believed", got)
		}
	}
	if n := strings.Count(logs.String(), trustWarning); n != 1 {
		t.Fatalf("the trusted-proxies warning was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "RecordClientInfo") {
		t.Errorf("the warning does not name the option at Warn level:\n%s", logs.String())
	}
}

func TestNoTrustedProxiesWarningWhenClientIPCannotBeForged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  securesession.Options
		setup func(*gin.Engine)
	}{
		{"SetTrustedProxies(nil)", securesession.Options{RecordClientInfo: true}, func(r *gin.Engine) {
			if err := r.SetTrustedProxies(nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"a listed proxy", securesession.Options{RecordClientInfo: true}, func(r *gin.Engine) {
			if err := r.SetTrustedProxies([]string{"10.0.0.0/8"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"ForwardedByClientIP off", securesession.Options{RecordClientInfo: true}, func(r *gin.Engine) { r.ForwardedByClientIP = false }},
		{"RecordClientInfo off", securesession.Options{}, func(*gin.Engine) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := clientIPApp(t, tc.opts, &logs, tc.setup)
			serve(r, "POST", "/login", map[string]string{"X-Forwarded-For": "203.0.113.66"})
			if strings.Contains(logs.String(), trustWarning) {
				t.Errorf("warned although the IP is not forged here:\n%s", logs.String())
			}
		})
	}
}
