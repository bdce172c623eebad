// Package cookiehdr writes Set-Cookie header values and reads one cookie
// from a request without parsing the whole Cookie header into a slice.
//
// Attributes are written in net/http's order: Path, Domain, Expires,
// Max-Age, HttpOnly, Secure, SameSite, Partitioned.
package cookiehdr

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Attrs are the attributes of one Set-Cookie header.
type Attrs struct {
	Name        string
	Domain      string
	Path        string
	MaxAge      int // >0: persistent for MaxAge seconds; 0: browser-session cookie; <0: delete now
	Secure      bool
	HttpOnly    bool
	SameSite    http.SameSite
	Partitioned bool
}

var deletedExpires = time.Unix(0, 0).UTC().Format(http.TimeFormat)

// Append appends the Set-Cookie value for value under a to b. When
// a.MaxAge < 0 the value is ignored and the cookie is written empty and
// expired (Max-Age=0 and an Expires in 1970), keeping every other attribute
// so that the browser deletes exactly the cookie it holds.
func Append(b []byte, a *Attrs, value string, now time.Time) []byte {
	b = append(b, a.Name...)
	b = append(b, '=')
	if a.MaxAge >= 0 {
		b = append(b, value...)
	}
	if a.Path != "" {
		b = append(b, "; Path="...)
		b = append(b, a.Path...)
	}
	if a.Domain != "" {
		b = append(b, "; Domain="...)
		b = append(b, a.Domain...)
	}
	switch {
	case a.MaxAge > 0:
		b = append(b, "; Expires="...)
		b = now.Add(time.Duration(a.MaxAge)*time.Second).UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "; Max-Age="...)
		b = strconv.AppendInt(b, int64(a.MaxAge), 10)
	case a.MaxAge < 0:
		b = append(b, "; Expires="...)
		b = append(b, deletedExpires...)
		b = append(b, "; Max-Age=0"...)
	}
	if a.HttpOnly {
		b = append(b, "; HttpOnly"...)
	}
	if a.Secure {
		b = append(b, "; Secure"...)
	}
	switch a.SameSite {
	case http.SameSiteLaxMode:
		b = append(b, "; SameSite=Lax"...)
	case http.SameSiteStrictMode:
		b = append(b, "; SameSite=Strict"...)
	case http.SameSiteNoneMode:
		b = append(b, "; SameSite=None"...)
	}
	if a.Partitioned {
		b = append(b, "; Partitioned"...)
	}
	return b
}

// String returns Append as a string.
func String(a *Attrs, value string, now time.Time) string {
	return string(Append(make([]byte, 0, len(a.Name)+len(value)+128), a, value, now))
}

// Replace sets the Set-Cookie header value for cookie name in h to v,
// dropping any earlier Set-Cookie for the same name so that a response
// never carries two contradicting values for one cookie.
func Replace(h http.Header, name, v string) {
	old := h["Set-Cookie"]
	kept := old[:0]
	for _, line := range old {
		if !hasName(line, name) {
			kept = append(kept, line)
		}
	}
	h["Set-Cookie"] = append(kept, v)
}

func hasName(line, name string) bool {
	return len(line) > len(name) && line[len(name)] == '=' && line[:len(name)] == name
}

// Get returns the value of the first cookie called name in the request's
// Cookie headers and whether there was one. It does not validate the value;
// callers apply their own, stricter checks. Like net/http it strips one
// pair of surrounding double quotes.
func Get(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " \t\r\n")
			if len(part) <= len(name) || part[len(name)] != '=' || part[:len(name)] != name {
				continue
			}
			v := strings.TrimRight(part[len(name)+1:], " \t\r\n")
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}
