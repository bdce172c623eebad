package securesession

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-securesession/securesession/internal/cookiehdr"
)

// attrs returns the session cookie's attributes for a response to r.
func (cfg *config) attrs(r *http.Request) cookiehdr.Attrs {
	return cookiehdr.Attrs{
		Name:        cfg.name,
		Domain:      cfg.domain,
		Path:        cfg.path,
		Secure:      !(cfg.insecureHTTP && r.TLS == nil && isLoopback(r.Host)),
		HttpOnly:    true,
		SameSite:    cfg.sameSite,
		Partitioned: cfg.partitioned,
	}
}

// setCookie sends tok: as the session cookie, or in TokenHeader to a
// client that carries its session in the Authorization header.
func (s *session) setCookie(tok string, now time.Time) {
	h := s.w.ResponseWriter.Header()
	if s.viaHeader {
		h.Set(TokenHeader, tok)
		h.Set("Cache-Control", "no-store")
		return
	}
	a := s.m.cfg.attrs(s.c.Request)
	life := s.m.cfg.rememberFor
	if s.maxAge > 0 {
		life = time.Duration(s.maxAge) * time.Second
	}
	a.MaxAge = cookieMaxAge(life, &s.rec, now)
	cookiehdr.Replace(h, a.Name, cookiehdr.String(&a, tok, now))
	noStore(h)
}

// expireCookie sends the session cookie expired, with the attributes it
// was issued with, so that the browser really drops it.
func (s *session) expireCookie(now time.Time) {
	h := s.w.ResponseWriter.Header()
	if s.viaHeader {
		h.Del(TokenHeader)
		h.Set("Cache-Control", "no-store")
		return
	}
	a := s.m.cfg.attrs(s.c.Request)
	a.MaxAge = -1
	cookiehdr.Replace(h, a.Name, cookiehdr.String(&a, "", now))
	noStore(h)
}

// noStore marks a response that carries a session cookie as uncacheable:
// a shared cache must never hand one user's Set-Cookie to another.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	for _, v := range h["Vary"] {
		if strings.Contains(strings.ToLower(v), "cookie") {
			return
		}
	}
	h.Add("Vary", "Cookie")
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
