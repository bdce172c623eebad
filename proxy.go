package securesession

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// This file decides how the browser reached the application: over HTTPS
// or not, and under which host name. Behind a TLS-terminating reverse
// proxy the request that arrives here is plain HTTP, often with the Host
// header rewritten to the upstream address (nginx's default); only the
// proxy knows what the browser used, and it says so in X-Forwarded-Proto
// and X-Forwarded-Host, or in RFC 7239's Forwarded header. Those headers
// are believed only from a peer listed in Options.TrustedProxies: from
// anyone else they are whatever the client chose to send.

// transport is how the browser reached the application.
type transport struct {
	https     bool   // TLS to this server, or a trusted proxy says https
	host      string // the Host the browser used: r.Host or a trusted proxy's forwarded host
	forwarded bool   // a trusted proxy's headers were used
}

// parseTrustedProxies compiles Options.TrustedProxies.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("securesession: Options.TrustedProxies: %q is not an IP address or CIDR: %w", s, err)
			}
			p = p.Masked()
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("securesession: Options.TrustedProxies: %q is not an IP address or CIDR: %w", s, err)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("securesession: Options.TrustedProxies: %q trusts every address, so any client could claim HTTPS or another host; list your proxies' addresses", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p)
	}
	return out, nil
}

// trustedPeer reports whether r came directly from a trusted proxy.
func (cfg *config) trustedPeer(r *http.Request) bool {
	if len(cfg.trustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range cfg.trustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// transport returns how the browser reached the application for r.
//
// From a trusted proxy, X-Forwarded-Proto and X-Forwarded-Host are read
// first: every mainstream proxy and load balancer writes them. RFC 7239
// Forwarded is read only when neither is present, so that a client's own
// Forwarded header, which many proxies pass through untouched, cannot
// override what the proxy wrote. Of a list the last value counts: it is
// the one the proxy nearest to the application added.
func (cfg *config) transport(r *http.Request) transport {
	t := transport{https: r.TLS != nil, host: r.Host}
	if !cfg.trustedPeer(r) {
		return t
	}
	proto := lastListValue(r.Header.Values("X-Forwarded-Proto"))
	host := lastListValue(r.Header.Values("X-Forwarded-Host"))
	if proto == "" && host == "" {
		proto, host = forwardedProtoHost(r.Header.Values("Forwarded"))
	}
	switch strings.ToLower(proto) {
	case "https":
		t.https, t.forwarded = true, true
	case "http":
		t.https, t.forwarded = false, true
	}
	if host != "" && validHost(host) {
		t.host, t.forwarded = host, true
	}
	return t
}

// forOriginCheck returns r as http.CrossOriginProtection must see it: with
// the Host the browser used, which it compares with the Origin header when
// a browser sends no Sec-Fetch-Site. The copy is shallow and only for the
// check.
func (t transport) forOriginCheck(r *http.Request) *http.Request {
	if !t.forwarded || t.host == r.Host {
		return r
	}
	r2 := *r
	r2.Host = t.host
	return &r2
}

// lastListValue returns the last element of a comma-separated header
// that may be repeated, trimmed.
func lastListValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// forwardedProtoHost returns the proto and host parameters of the last
// element of RFC 7239 Forwarded headers. Values may be tokens or quoted
// strings; a malformed last element yields nothing.
func forwardedProtoHost(vs []string) (proto, host string) {
	if len(vs) == 0 {
		return "", ""
	}
	elems := splitQuoted(strings.Join(vs, ","), ',')
	last := strings.TrimSpace(elems[len(elems)-1])
	for _, pair := range splitQuoted(last, ';') {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return "", ""
		}
		v, ok = unquote(strings.TrimSpace(v))
		if !ok {
			return "", ""
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "proto":
			proto = v
		case "host":
			host = v
		}
	}
	return proto, host
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote returns a token as is and a quoted-string without its quotes
// and escapes.
func unquote(v string) (string, bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, !strings.ContainsAny(v, "\" \t")
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' {
			i++
			if i == len(v)-1 {
				return "", false
			}
		}
		b.WriteByte(v[i])
	}
	return b.String(), true
}

// validHost reports whether h looks like a Host header value: a name or
// IP literal with an optional port, nothing that could smuggle a path,
// credentials or a second header.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}
