// Package cachehdr writes the response headers that keep a session's
// responses out of browser and shared caches. The middleware and the
// gin-contrib compatibility store use the same rules.
package cachehdr

import (
	"net/http"
	"strings"
)

// NoStore makes the response uncacheable whatever the handler set:
// Cache-Control becomes exactly "no-store", the CDN-targeted fields that a
// CDN would obey instead of Cache-Control (RFC 9213's CDN-Cache-Control and
// vendor variants such as Cloudflare-CDN-Cache-Control, and
// Surrogate-Control) are removed, and Vary names Cookie.
func NoStore(h http.Header) {
	cc, vary := h["Cache-Control"], h["Vary"]
	switch {
	case cc == nil && vary == nil:
		// Both values in one allocation, each capped so that an Add to
		// one never writes into the other.
		both := []string{"no-store", "Cookie"}
		h["Cache-Control"], h["Vary"] = both[0:1:1], both[1:2:2]
	case len(cc) == 1 && cc[0] == "no-store":
		// Already so, maybe by an earlier call: nothing to allocate.
	default:
		h["Cache-Control"] = []string{"no-store"}
	}
	for k := range h {
		if targeted(k) {
			delete(h, k)
		}
	}
	VaryCookie(h)
}

// targeted reports whether the header name k is a CDN-targeted cache
// field, compared case-insensitively in case a handler wrote the map
// directly without canonical keys.
func targeted(k string) bool {
	const cdn = "cdn-cache-control"
	return strings.EqualFold(k, "Surrogate-Control") ||
		(len(k) >= len(cdn) && strings.EqualFold(k[len(k)-len(cdn):], cdn))
}

// VaryCookie adds Cookie to the response's Vary header unless it is
// already there (or Vary is "*"), so that a cache that does store the
// response keys it on the cookie.
func VaryCookie(h http.Header) {
	for _, v := range h["Vary"] {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, "Cookie") {
				return
			}
		}
	}
	h["Vary"] = append(h["Vary"], "Cookie")
}

// SetsCookie reports whether h carries a Set-Cookie for the cookie name,
// whoever wrote it.
func SetsCookie(h http.Header, name string) bool {
	for _, line := range h["Set-Cookie"] {
		line = strings.TrimLeft(line, " \t")
		if len(line) > len(name) && line[len(name)] == '=' && line[:len(name)] == name {
			return true
		}
	}
	return false
}
