package demoapp

import (
	"context"
	"crypto/tls"
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
	// are set the example serves HTTPS and never enables the plain-HTTP
	// development mode.
	TLSCertEnv = "TLS_CERT_FILE"
	TLSKeyEnv  = "TLS_KEY_FILE"
)

// DefaultAddr is the listen address when $ADDR is unset: loopback only.
const DefaultAddr = "127.0.0.1:8080"

// Config is what an example's main chooses: the backend and anything
// backend-specific. Run does the rest.
type Config struct {
	// Backend is the session store, e.g. a *cookie.Store.
	Backend securesession.Backend

	// BackendName is shown on the pages ("cookie", "memcache", ...).
	BackendName string

	// Options are the middleware options; leave them zero for the secure
	// defaults. Run sets InsecureAllowHTTP itself, and only for a plain
	// HTTP server on a loopback address.
	Options securesession.Options

	// Close, if set, runs after the server has shut down (to stop a
	// store's sweeper or close its database).
	Close func() error

	// TLS, if set, serves HTTPS with this configuration (its
	// certificate), as TLSCertEnv and TLSKeyEnv do with files.
	TLS *tls.Config
}

// Run serves the demo app on $ADDR until SIGINT or SIGTERM, then shuts
// down gracefully. It exits the process on a startup error.
func Run(cfg Config) {
	addr := os.Getenv(AddrEnv)
	if addr == "" {
		addr = DefaultAddr
	}
	certFile, keyFile := os.Getenv(TLSCertEnv), os.Getenv(TLSKeyEnv)
	useTLS := certFile != "" && keyFile != "" || cfg.TLS != nil

	opts := cfg.Options
	switch {
	case useTLS:
		// HTTPS: the secure defaults apply unchanged (__Host-session, Secure).
	case isLoopback(addr):
		// Browsers refuse Secure cookies over http://localhost (Safari) or
		// over http:// at all, so local development over plain HTTP needs
		// this. It only drops Secure for plain-HTTP requests to a loopback
		// host; never copy it into a production configuration.
		opts.InsecureAllowHTTP = true
		slog.Warn("!!! DEVELOPMENT MODE: serving plain HTTP on a loopback address with InsecureAllowHTTP " +
			"(session cookie without Secure, named \"session\"). In production serve HTTPS (set " +
			TLSCertEnv + " and " + TLSKeyEnv + ") or run behind a TLS-terminating proxy.")
	default:
		// Plain HTTP on a public address is only sensible behind a proxy
		// that terminates TLS: the cookies stay Secure, so a browser
		// talking plain HTTP to this port directly will not keep a session.
		slog.Warn("serving plain HTTP on a non-loopback address: cookies stay Secure, so put this behind a TLS-terminating proxy", "addr", addr)
	}

	r, err := NewEngine(cfg.Backend, cfg.BackendName, opts, gin.Logger())
	if err != nil {
		Fatal("configuring sessions", err)
	}

	srv := &http.Server{
		TLSConfig:         cfg.TLS,
		Addr:              addr,
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errc <- err
			return
		}
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		slog.Info("listening", "url", scheme+"://"+ln.Addr().String()+"/", "backend", cfg.BackendName)
		if useTLS {
			errc <- srv.ServeTLS(ln, certFile, keyFile) // files "" with cfg.TLS
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
	if cfg.Close != nil {
		if err := cfg.Close(); err != nil {
			slog.Error("closing the session store", "error", err)
		}
	}
}

// isLoopback reports whether the listen address addr accepts connections
// from this machine only. An empty host (":8080") listens everywhere.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewEngine returns the demo app on backend with the middleware configured
// by opts, without serving it (Run serves it; tests serve it in-process).
// The handlers in first run before everything else (Run logs requests).
func NewEngine(backend securesession.Backend, backendName string, opts securesession.Options, first ...gin.HandlerFunc) (*gin.Engine, error) {
	mw, err := securesession.New(backend, opts)
	if err != nil {
		return nil, err
	}
	r := gin.New()
	r.Use(first...)
	r.Use(gin.Recovery())
	// ClientIP (recorded with each session on the "active sessions" page)
	// must not trust X-Forwarded-For from anyone. Behind a reverse proxy,
	// list its address here instead.
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	r.Use(mw)
	Register(r, backendName)
	return r, nil
}
