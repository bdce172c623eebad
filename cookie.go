package securesession

import (
	"time"

	"github.com/gin-securesession/securesession/internal/cachehdr"
	"github.com/gin-securesession/securesession/internal/cookiehdr"
)

// attrs returns the session cookie's attributes for a response to a
// request that reached the application over t.
func (cfg *config) attrs(t transport) cookiehdr.Attrs {
	return cookiehdr.Attrs{
		Name:        cfg.cookieName(t),
		Domain:      cfg.domain,
		Path:        cfg.path,
		Secure:      cfg.secure(t),
		HttpOnly:    true,
		SameSite:    cfg.sameSite,
		Partitioned: cfg.partitioned,
	}
}

// cookieName returns the session cookie's name for a request over t: the
// configured name, or under InsecureAllowHTTP with the default name
// "session" for plain HTTP, since the prefixed names require Secure.
func (cfg *config) cookieName(t transport) string {
	if cfg.insecureHTTP && !t.https {
		return cfg.insecureName
	}
	return cfg.name
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
	a := s.m.cfg.attrs(s.tr)
	s.m.cfg.checkPlainHTTP(s.c.Request.Context(), s.tr, a.Secure)
	a.MaxAge = s.cookieMaxAge(now) // remember.go
	cookiehdr.Replace(h, a.Name, setCookieLine(&a, tok, now))
	cachehdr.NoStore(h)
}

// setCookieLine is cookiehdr.String built in a stack buffer, so that a
// typical session cookie costs one allocation, the header value.
func setCookieLine(a *cookiehdr.Attrs, tok string, now time.Time) string {
	var buf [512]byte
	return string(cookiehdr.Append(buf[:0], a, tok, now))
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
	a := s.m.cfg.attrs(s.tr)
	a.MaxAge = -1
	cookiehdr.Replace(h, a.Name, cookiehdr.String(&a, "", now))
	cachehdr.NoStore(h)
}

// cacheHeaders applies the caching rules to the response headers at the
// moment they go out, after the handler and the save had their say:
//
//   - a response that sets or expires the session cookie, or that answers
//     a token-authenticated API request, is never cacheable: a shared
//     cache must never hand one user's Set-Cookie or token to another, so
//     whatever the handler set is replaced by no-store;
//   - a response for a logged-in user gets no-store and Vary: Cookie, so
//     that the browser does not show the page again from its cache or its
//     back/forward cache after logout. Two exceptions keep a Cache-Control
//     that the handler set: a handler that never used the session (a
//     static file, whose content cannot depend on it), and, with
//     Options.InsecureAllowCachingAuthenticated, any handler (Vary: Cookie
//     is added);
//   - any other response keeps the handler's headers.
func (s *session) cacheHeaders() {
	h := s.w.ResponseWriter.Header()
	switch {
	case s.viaHeader:
		h.Set("Cache-Control", "no-store")
	case cachehdr.SetsCookie(h, s.name):
		cachehdr.NoStore(h)
	case s.rec.UserID != "":
		if h.Get("Cache-Control") != "" {
			if !s.accessed {
				return
			}
			if s.m.cfg.cacheAuthed {
				cachehdr.VaryCookie(h)
				return
			}
		}
		cachehdr.NoStore(h)
	}
}
