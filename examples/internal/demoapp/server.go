package demoapp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// Environment variables every example reads.
const (
	// AddrEnv is the listen address; default DefaultAddr.
	AddrEnv = "ADDR"
	// TLSCertEnv and TLSKeyEnv name a certificate and key file. When both
	// are set the example serves HTTPS.
	TLSCertEnv = "TLS_CERT_FILE"
	TLSKeyEnv  = "TLS_KEY_FILE"
	// DevEnv set to 1 turns on the plain-HTTP development mode
	// (securesession.Options.InsecureAllowHTTP). Nothing else does: not a
	// loopback listen address, not a missing certificate.
	DevEnv = "DEV"
	// TrustedProxiesEnv is a comma-separated list of the addresses or CIDRs
	// of the reverse proxies in front of the example, for both gin's
	// SetTrustedProxies and securesession.Options.TrustedProxies.
	TrustedProxiesEnv = "TRUSTED_PROXIES"
	// KeysEnv holds comma-separated base64 32-byte session keys, the first
	// of which seals new sessions (`openssl rand -base64 32`).
	KeysEnv = "SESSION_KEYS"
)

// DefaultAddr is the listen address when $ADDR is unset: loopback only.
const DefaultAddr = "127.0.0.1:8080"

// Dev reports whether $DEV is 1, and says loudly what that means.
func Dev() bool {
	if os.Getenv(DevEnv) != "1" {
		return false
	}
	slog.Warn("!!! DEV=1: DEVELOPMENT MODE. securesession.Options.InsecureAllowHTTP is on: over plain HTTP " +
		"to localhost or 127.0.0.1 the session cookie is sent WITHOUT Secure and named \"session\". " +
		"Never set DEV=1 in production; there, serve HTTPS or run behind a TLS-terminating proxy listed in " + TrustedProxiesEnv + ".")
	return true
}

// List splits a comma-separated environment variable; nil when unset.
func List(name string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Serve runs srv until SIGINT or SIGTERM, over HTTPS when $TLS_CERT_FILE
// and $TLS_KEY_FILE are set or srv.TLSConfig holds a certificate, then
// shuts it down gracefully and runs closers (to stop a store's sweeper or
// close its database). It is srv.ListenAndServe with a graceful shutdown;
// nothing in it concerns sessions.
func Serve(srv *http.Server, closers ...func() error) {
	certFile, keyFile := os.Getenv(TLSCertEnv), os.Getenv(TLSKeyEnv)
	useTLS := certFile != "" && keyFile != "" || srv.TLSConfig != nil
	if !useTLS && os.Getenv(DevEnv) != "1" && len(List(TrustedProxiesEnv)) == 0 {
		slog.Warn("serving plain HTTP without DEV=1 or a trusted proxy: session cookies are Secure and " +
			"named __Host-session, so a browser talking http:// to this server may drop them (Chromium and " +
			"Firefox keep them only for localhost). Serve HTTPS (" + TLSCertEnv + ", " + TLSKeyEnv + "), put a " +
			"TLS-terminating proxy in front (" + TrustedProxiesEnv + "), or set DEV=1 for local development.")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			errc <- err
			return
		}
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		slog.Info("listening", "url", scheme+"://"+ln.Addr().String()+"/")
		if useTLS {
			errc <- srv.ServeTLS(ln, certFile, keyFile) // files "" with srv.TLSConfig
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			Fatal("serving", err)
		}
	case <-ctx.Done():
		slog.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			slog.Error("shutdown", "error", err)
		}
	}
	for _, c := range closers {
		if err := c(); err != nil {
			slog.Error("closing the session store", "error", err)
		}
	}
}

// NewEngine returns the demo app on backend with the middleware configured
// by opts and no trusted proxies, without serving it, for tests that serve
// it in-process. The examples' main.go files spell the same wiring out.
// The handlers in first run before everything else.
func NewEngine(backend securesession.Backend, backendName string, opts securesession.Options, first ...gin.HandlerFunc) (*gin.Engine, error) {
	mw, err := securesession.New(backend, opts)
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.Use(first...)
	r.Use(gin.Recovery())
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	r.Use(mw)
	Register(r, backendName)
	return r, nil
}
