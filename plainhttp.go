package securesession

import (
	"context"
	"net"
	"strings"
)

// plainHTTPReason is the text of the EventPlainHTTP warning.
const plainHTTPReason = "a Secure session cookie was sent over plain HTTP, so the browser will drop it and the user " +
	"will not stay logged in; serve HTTPS, or behind a TLS-terminating proxy list its address in Options.TrustedProxies " +
	"(as for the gin engine's trusted proxies) and have it send X-Forwarded-Proto: https; for local development over plain " +
	"HTTP use a loopback address (localhost, 127.0.0.1) with Options.InsecureAllowHTTP"

// checkPlainHTTP warns, once per middleware, when a Secure cookie answers
// a request that the browser made over plain HTTP to a host other than
// loopback: the browser refuses to store such a cookie, and nothing else
// would tell the operator why logins do not stick. Loopback is left out
// because browsers treat http://localhost as a secure context.
func (cfg *config) checkPlainHTTP(ctx context.Context, t transport, secure bool) {
	if !secure || t.https || isLoopback(t.host) {
		return
	}
	cfg.warnPlainHTTP.Do(func() {
		cfg.emit(ctx, Event{Kind: EventPlainHTTP, Reason: plainHTTPReason})
	})
}

// isLoopback reports whether host (a Host header, maybe with a port) names
// the local machine.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// secure reports whether a cookie sent over t gets the Secure attribute:
// always, except under InsecureAllowHTTP for plain HTTP to a loopback host.
func (cfg *config) secure(t transport) bool {
	return !(cfg.insecureHTTP && !t.https && isLoopback(t.host))
}
