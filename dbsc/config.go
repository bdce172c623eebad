package dbsc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-securesession/securesession/internal/cookiehdr"
)

// SessionConfig is the JSON body of a 200 answer to a registration (and,
// optionally, to a refresh). It tells the browser which session it now
// holds, where to refresh it, which requests it covers and which cookie it
// keeps alive. Marshalled with encoding/json it gives exactly the shape
// Chromium 156 accepts:
//
//	{"session_identifier":"…","refresh_url":"/dbsc/refresh",
//	 "scope":{"origin":"https://host","include_site":false,
//	          "scope_specification":[{"type":"exclude","domain":"host","path":"/static"}]},
//	 "credentials":[{"type":"cookie","name":"__Host-bound","attributes":"Path=/; HttpOnly; Secure; SameSite=Lax"}]}
//
// Its MarshalJSON refuses a configuration Chromium would reject or that
// would break the protocol. Serve it as application/json. A SessionConfig
// is a plain value; marshalling it is safe for concurrent use.
type SessionConfig struct {
	// SessionIdentifier names the DBSC session; the browser sends it back
	// in Sec-Secure-Session-Id. 1 to MaxSessionIDLength characters from
	// A–Z a–z 0–9 - _ . ~ (see NewSessionID). It is not a credential.
	SessionIdentifier string `json:"session_identifier"`

	// RefreshURL is the refresh endpoint, a path on this origin such as
	// "/dbsc/refresh" (same rules as Registration.Path). Chromium leaves
	// it out of the session's scope by itself.
	RefreshURL string `json:"refresh_url"`

	// Scope says which requests need the bound cookie.
	Scope Scope `json:"scope"`

	// Credentials lists the bound cookies; build each with
	// BoundCookie.Credential. At least one is required.
	Credentials []Credential `json:"credentials"`
}

// Scope is the "scope" member of a SessionConfig.
type Scope struct {
	// Origin is the origin the session covers, "https://host[:port]". ""
	// leaves it out, meaning the origin that registered.
	Origin string `json:"origin,omitempty"`

	// IncludeSite extends the scope from the origin to its whole site
	// (every subdomain of the registrable domain). Always written, also
	// when false.
	IncludeSite bool `json:"include_site"`

	// Specification refines the scope, for example to exclude static
	// assets that need no bound cookie. nil leaves the member out.
	Specification []ScopeRule `json:"scope_specification,omitempty"`
}

// ScopeRuleType is "include" or "exclude".
type ScopeRuleType string

// The two kinds of scope rule.
const (
	Include ScopeRuleType = "include"
	Exclude ScopeRuleType = "exclude"
)

// ScopeRule includes in or excludes from the scope the requests to Domain
// whose path starts with Path.
type ScopeRule struct {
	Type   ScopeRuleType `json:"type"`   // Include or Exclude
	Domain string        `json:"domain"` // a host, such as "example.com"
	Path   string        `json:"path"`   // a path prefix starting with "/"
}

// Credential is one entry of a SessionConfig's "credentials": the bound
// cookie the browser keeps alive. Build it with [BoundCookie.Credential]
// rather than by hand, so that Attributes matches the Set-Cookie header
// exactly (Chromium refuses the session otherwise).
type Credential struct {
	Type       string `json:"type"`       // always "cookie"
	Name       string `json:"name"`       // the cookie's name
	Attributes string `json:"attributes"` // its Set-Cookie attributes without Max-Age and Expires
}

// EndSessionBody is the JSON body of a refresh answer that ends the DBSC
// session: Chromium stops refreshing and forgets the key. (A
// Clear-Site-Data header does too.) Use it at logout, or when the session
// behind the bound cookie no longer exists.
const EndSessionBody = `{"continue":false}`

// MarshalJSON validates c and encodes it.
func (c SessionConfig) MarshalJSON() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("dbsc: session config: %w", err)
	}
	type plain SessionConfig // without this method
	return json.Marshal(plain(c))
}

func (c *SessionConfig) validate() error {
	if err := checkSessionID(c.SessionIdentifier); err != nil {
		return err
	}
	if err := checkPath(c.RefreshURL); err != nil {
		return fmt.Errorf("refresh_url: %w", err)
	}
	if o := c.Scope.Origin; o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || o != u.Scheme+"://"+u.Host {
			return errors.New(`scope origin must be "https://host[:port]"`)
		}
	}
	for _, r := range c.Scope.Specification {
		if r.Type != Include && r.Type != Exclude {
			return errors.New(`scope rule type must be "include" or "exclude"`)
		}
		if r.Domain == "" || !printable(r.Domain) || strings.ContainsAny(r.Domain, "/ ") {
			return errors.New("scope rule domain must be a host name")
		}
		if checkPath(r.Path) != nil {
			return errors.New(`scope rule path must be a path prefix starting with a single "/"`)
		}
	}
	if len(c.Credentials) == 0 {
		return errors.New("at least one credential is required")
	}
	for _, cr := range c.Credentials {
		if cr.Type != "cookie" {
			return errors.New(`credential type must be "cookie"`)
		}
		if !isCookieName(cr.Name) {
			return errors.New("credential name is not a valid cookie name")
		}
		if !printable(cr.Attributes) {
			return errors.New("credential attributes must be printable ASCII")
		}
	}
	return nil
}

// The bound cookie's defaults.
const (
	// DefaultBoundCookieName is the bound cookie's name when
	// BoundCookie.Name is "".
	DefaultBoundCookieName = "__Host-bound"

	// DefaultBoundCookieLifetime is the bound cookie's Max-Age when
	// BoundCookie.Lifetime is 0: a copied cookie jar works for at most
	// this long. Chromium refreshes when the cookie has about 2 minutes
	// left, so this means a signature about every 8 minutes of activity.
	DefaultBoundCookieLifetime = 10 * time.Minute
)

// BoundCookie describes the short-lived cookie that DBSC keeps alive. The
// Set-Cookie header and the SessionConfig credential are both built from
// it by the same code, so their attributes cannot drift apart.
//
// The zero BoundCookie is the recommended one: __Host-bound; Path=/;
// HttpOnly; Secure; SameSite=Lax; Max-Age=600. Secure and HttpOnly are
// always set (DBSC works only over HTTPS, and script never needs the
// cookie). A BoundCookie is a plain value; its methods are safe for
// concurrent use.
type BoundCookie struct {
	// Name is the cookie's name. "" means DefaultBoundCookieName. A
	// __Host- name requires Domain "" and Path "/".
	Name string

	// Domain, if set, shares the cookie with subdomains. "" (the default)
	// keeps it on this host only.
	Domain string

	// Path is the cookie's path. "" means "/".
	Path string

	// SameSite is the cookie's SameSite attribute. 0 (or
	// http.SameSiteDefaultMode) means Lax.
	SameSite http.SameSite

	// Lifetime is the cookie's Max-Age, in whole seconds from 1 second to
	// 24 hours. 0 means DefaultBoundCookieLifetime. Chromium refreshes
	// when under about 2 minutes remain, so a lifetime of 2 minutes or
	// less means a refresh before every request; 3 to 10 minutes is the
	// practical range.
	Lifetime time.Duration
}

func (b BoundCookie) attrs() (cookiehdr.Attrs, error) {
	a := cookiehdr.Attrs{Name: b.Name, Domain: b.Domain, Path: b.Path, Secure: true, HttpOnly: true, SameSite: b.SameSite}
	if a.Name == "" {
		a.Name = DefaultBoundCookieName
	}
	if a.Path == "" {
		a.Path = "/"
	}
	if a.SameSite == 0 || a.SameSite == http.SameSiteDefaultMode {
		a.SameSite = http.SameSiteLaxMode
	}
	life := b.Lifetime
	if life == 0 {
		life = DefaultBoundCookieLifetime
	}
	switch {
	case !isCookieName(a.Name):
		return a, errors.New("dbsc: bound cookie: invalid name")
	case strings.HasPrefix(a.Name, "__Host-") && (a.Domain != "" || a.Path != "/"):
		return a, errors.New(`dbsc: bound cookie: a __Host- name requires no Domain and Path "/"`)
	case a.Domain != "" && (!printable(a.Domain) || strings.ContainsAny(a.Domain, ";, ")):
		return a, errors.New("dbsc: bound cookie: invalid domain")
	case a.Path[0] != '/' || !printable(a.Path) || strings.ContainsAny(a.Path, ";"):
		return a, errors.New(`dbsc: bound cookie: path must start with "/" and contain no ";"`)
	case a.SameSite < http.SameSiteDefaultMode || a.SameSite > http.SameSiteNoneMode:
		return a, errors.New("dbsc: bound cookie: invalid SameSite")
	case life < time.Second || life > 24*time.Hour:
		return a, errors.New("dbsc: bound cookie: lifetime must be from 1 second to 24 hours")
	}
	a.MaxAge = int(life / time.Second)
	return a, nil
}

// SetCookie returns the Set-Cookie header value that issues the bound
// cookie with value at time now, with Expires and Max-Age set from the
// lifetime. value must be 1 to 1024 cookie-octets (base64url is fine).
func (b BoundCookie) SetCookie(value string, now time.Time) (string, error) {
	a, err := b.attrs()
	if err != nil {
		return "", err
	}
	if value == "" || len(value) > 1024 || !isCookieValue(value) {
		return "", errors.New("dbsc: bound cookie: value must be 1 to 1024 cookie-octets")
	}
	return cookiehdr.String(&a, value, now), nil
}

// Expire returns the Set-Cookie header value that deletes the bound cookie
// (same name, Domain and Path, Max-Age=0). Send it at logout together
// with the session cookie's deletion.
func (b BoundCookie) Expire() (string, error) {
	a, err := b.attrs()
	if err != nil {
		return "", err
	}
	a.MaxAge = -1
	return cookiehdr.String(&a, "", time.Time{}), nil
}

// Credential returns the SessionConfig credential for the bound cookie:
// its name and its attributes exactly as SetCookie writes them, without
// Expires and Max-Age.
func (b BoundCookie) Credential() (Credential, error) {
	a, err := b.attrs()
	if err != nil {
		return Credential{}, err
	}
	a.MaxAge = 0 // no Expires, no Max-Age
	line := cookiehdr.String(&a, "", time.Time{})
	return Credential{Type: "cookie", Name: a.Name, Attributes: strings.TrimPrefix(line, a.Name+"=; ")}, nil
}

// EffectiveLifetime returns the lifetime in use: b.Lifetime rounded down to
// whole seconds, or DefaultBoundCookieLifetime. It is 0 if b is invalid.
func (b BoundCookie) EffectiveLifetime() time.Duration {
	a, err := b.attrs()
	if err != nil {
		return 0
	}
	return time.Duration(a.MaxAge) * time.Second
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isCookieName reports whether s is an RFC 6265 cookie-name (an RFC 9110
// token).
func isCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// isCookieValue reports whether s is made of RFC 6265 cookie-octets.
func isCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}
