package securesession

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults that the zero Options stand for.
const (
	// DefaultCookieName is the cookie name when Options.CookieName is
	// empty and no Domain is set. The __Host- prefix makes browsers refuse
	// the cookie unless it is Secure, host-only and Path=/, so a sibling
	// subdomain cannot plant or overwrite it.
	DefaultCookieName = "__Host-session"

	// DefaultDomainCookieName is the default name when Options.Domain is
	// set: __Host- forbids a Domain, so the weaker __Secure- prefix is used.
	DefaultDomainCookieName = "__Secure-session"

	// DefaultInsecureCookieName is the default name of a cookie sent
	// without Secure under InsecureAllowHTTP, since prefixed cookies
	// require Secure.
	DefaultInsecureCookieName = "session"

	// DefaultIdleTimeout ends a session after 30 minutes without a
	// request (OWASP ASVS 4.0.3 3.3.2, level 2).
	DefaultIdleTimeout = 30 * time.Minute

	// DefaultAbsoluteTimeout ends a session 12 hours after login whatever
	// the activity (OWASP ASVS 4.0.3 3.3.2, level 2).
	DefaultAbsoluteTimeout = 12 * time.Hour

	// MaxCookieLifetime is the longest Max-Age browsers honour (RFC 6265bis
	// caps it at 400 days) and so the longest
	// Options.RememberAbsoluteTimeout.
	MaxCookieLifetime = 400 * 24 * time.Hour

	// MaxCookieSize is the most bytes a cookie's name plus value may have:
	// browsers ignore larger cookies (RFC 6265bis), so larger incoming
	// cookies are rejected before decoding and Save refuses to write them.
	MaxCookieSize = 4096
)

// Options configures the middleware. The zero value is the recommended,
// secure configuration: every field documents what its zero value means.
// Options is read once by New; changing it afterwards has no effect.
//
// Fields whose names start with Insecure weaken a protection and exist for
// development or for a deployment that provides the protection another
// way.
type Options struct {
	// CookieName is the session cookie's name. Default: "__Host-session",
	// "__Secure-session" when Domain is set; with InsecureAllowHTTP,
	// "session" for a response to a plain-HTTP request (the default name
	// stays prefixed for a request that arrived over HTTPS, directly or
	// through a trusted proxy). A name with the __Host- prefix requires no Domain
	// and Path "/"; a __Host- or __Secure- prefix is incompatible with
	// InsecureAllowHTTP. New checks the prefix case-insensitively, as
	// browsers do.
	CookieName string

	// Domain makes the cookie visible to subdomains of Domain. Default: ""
	// (host-only, the safest). Setting it exposes the session to every
	// subdomain; prefer a host-only cookie.
	Domain string

	// Path is the cookie's Path. Default "/". Anything else requires a
	// Domain-less, non-__Host- cookie name and only scopes where the browser
	// sends the cookie; it is not a security boundary between applications
	// on one host.
	Path string

	// SameSite is the cookie's SameSite attribute. Default (0):
	// http.SameSiteLaxMode. http.SameSiteStrictMode is stricter;
	// http.SameSiteNoneMode is allowed only with Secure, so New rejects it
	// with InsecureAllowHTTP. http.SameSiteDefaultMode is treated as Lax:
	// the attribute is always written.
	SameSite http.SameSite

	// Partitioned adds the Partitioned attribute (CHIPS), for a session
	// that lives inside a third-party iframe. Default false.
	Partitioned bool

	// IdleTimeout ends a session after this long without a request.
	// Default 30 minutes. It is enforced on the server from the time of
	// the last request, never left to the browser. Must not exceed
	// AbsoluteTimeout.
	IdleTimeout time.Duration

	// AbsoluteTimeout ends a session this long after it was created or
	// last rotated by Login, whatever the activity. Default 12 hours.
	AbsoluteTimeout time.Duration

	// RememberIdleTimeout is IdleTimeout for a session whose Login was
	// given RememberMe. Default 7 days. Must not exceed
	// RememberAbsoluteTimeout, and must exceed TouchInterval.
	RememberIdleTimeout time.Duration

	// RememberAbsoluteTimeout is AbsoluteTimeout for a session whose Login
	// was given RememberMe, and the longest Max-Age of its persistent
	// cookie. Default 30 days. Must be longer than AbsoluteTimeout (and
	// than DeviceBinding.BoundAbsoluteTimeout) and at most
	// MaxCookieLifetime. Sessions without RememberMe always get a
	// browser-session cookie (no Max-Age), which the browser drops when it
	// closes; the server enforces the timeouts either way.
	RememberAbsoluteTimeout time.Duration

	// MaxSessionsPerUser limits how many live sessions one user may have
	// at once (OWASP ASVS 5.0 7.1.2): a login beyond it ends the user's
	// least recently used sessions, or is refused with SessionLimitPolicy
	// RefuseNewLogin. It holds under concurrent logins. Default 0: no
	// limit. It needs a backend that implements SessionLimiter (gorm,
	// memcache, memory; the cookie backend cannot count sessions): New
	// returns an error naming this field otherwise.
	MaxSessionsPerUser int

	// SessionLimitPolicy is what a login beyond MaxSessionsPerUser does.
	// Default EvictLeastRecentlyUsed.
	SessionLimitPolicy SessionLimitPolicy

	// TouchInterval throttles idle-timeout refreshes: a request that does
	// not change the session records its activity only if the last
	// recorded activity is older than TouchInterval. Default: a twentieth
	// of IdleTimeout, at most one minute. Must be less than IdleTimeout.
	TouchInterval time.Duration

	// RecordClientInfo stores the client's User-Agent and IP address with
	// the session, for a "your active sessions" page. Default false.
	//
	// The IP address is gin's Context.ClientIP, which believes the
	// X-Forwarded-For and X-Real-IP headers of every peer the engine
	// trusts as a proxy, and a new gin engine trusts every peer: unless
	// the application calls engine.SetTrustedProxies with its reverse
	// proxies' addresses (or nil, without a proxy), any client chooses the
	// IP address shown for its session, and can show the user a
	// reassuring one. The middleware checks the engine on the first
	// request and logs a warning, once, if it trusts every peer. The User-
	// Agent is whatever the client sends. Show both as the client's
	// claims, never as evidence.
	RecordClientInfo bool

	// ClearSiteData adds `Clear-Site-Data: "cache", "storage"` to logout
	// responses. Default false. "cookies" is deliberately not sent: it
	// clears cookies for the whole registrable domain, subdomains included.
	ClearSiteData bool

	// TrustedOrigins are origins (scheme://host[:port]) allowed to make
	// cross-origin unsafe requests, as for
	// http.CrossOriginProtection.AddTrustedOrigin. Default none.
	TrustedOrigins []string

	// AuthorizationHeader lets API clients (mobile apps, CLIs, single-page
	// apps on another origin) carry their session in an
	// "Authorization: Bearer <token>" header instead of the cookie. The
	// token is the same credential the cookie would hold, so every backend
	// works unchanged, with the same rotation, logout and timeouts. An API
	// client gets its token from LoginToken and any replacement in the
	// Session-Token response header (TokenHeader). Requests whose session
	// comes from the header skip the cross-origin check (a browser never
	// attaches the header on its own) and get Cache-Control: no-store. A
	// request that carries both the cookie and the header is refused with
	// 400. Tokens are never read from a URL query or a form field: those end
	// up in logs, proxies and browser history (OWASP ASVS 3.1.1). Default
	// false: only the cookie is read.
	AuthorizationHeader bool

	// InsecureDisableCrossOriginProtection turns off the cross-origin
	// request check. Default false: unsafe-method requests (POST, PUT,
	// PATCH, DELETE, ...) that a browser marks as cross-origin are refused
	// with 403 Forbidden, using http.CrossOriginProtection. Disable it only
	// if another layer (a CSRF token middleware) does the same job.
	InsecureDisableCrossOriginProtection bool

	// InsecureAllowCachingAuthenticated lets a handler's own Cache-Control
	// header stand on a response for a logged-in user. Default false:
	// every response for a logged-in user gets Cache-Control: no-store and
	// Vary: Cookie, set as the headers go out, whatever the handler set
	// (except on a response whose handler never used the session, such as
	// a static file: a Cache-Control set there is kept, since the content
	// cannot depend on the session). With it, a response for a logged-in
	// user on which the handler set Cache-Control keeps it (Vary: Cookie is
	// still added); one without still gets no-store. The risk: a private
	// page that the browser has cached is shown again after logout (by the
	// Back button, or to the next person at a shared computer), and a
	// shared cache that ignores "private" or Vary serves one user's page to
	// another. A response that sets or expires the session cookie is never
	// cacheable, whatever this says.
	InsecureAllowCachingAuthenticated bool

	// InsecureAllowHTTP is for local development over plain HTTP: the
	// Secure attribute is omitted when, and only when, the browser used
	// plain HTTP to a loopback host (localhost, *.localhost, 127.0.0.0/8,
	// [::1]). Requests for any other host still get Secure cookies, which a
	// browser will not send back over HTTP; so do requests that arrived
	// over TLS or through a trusted proxy that says https (see
	// TrustedProxies), whatever their host. For plain-HTTP responses the
	// default cookie name becomes "session", since prefixed names require
	// Secure. Default false.
	InsecureAllowHTTP bool

	// TrustedProxies lists the reverse proxies (IP addresses or CIDRs,
	// e.g. "10.0.0.0/8") whose forwarding headers are believed. For a
	// request whose peer address is listed, X-Forwarded-Proto and
	// X-Forwarded-Host (or RFC 7239 Forwarded, when neither is present)
	// say how the browser reached the application: a proxy that says
	// https gets a Secure cookie with its prefixed name whatever
	// InsecureAllowHTTP says, and the cross-origin check compares Origin
	// with the forwarded host. Headers from any other peer are ignored.
	// Default none: every forwarding header is ignored. Pass the same list
	// to gin's Engine.SetTrustedProxies so that ClientIP agrees. New
	// refuses a prefix that covers every address.
	TrustedProxies []string

	// InsecureCrossOriginBypassPatterns are http.ServeMux patterns (e.g.
	// "POST /saml/acs", "/oidc/callback") for which the cross-origin check
	// is skipped, as http.CrossOriginProtection.AddInsecureBypassPattern
	// does. It is for endpoints that an identity provider's page posts to
	// from another origin: a SAML assertion consumer service, an OpenID
	// Connect response_mode=form_post redirect URI. Such a handler must
	// authenticate the request itself (a signed assertion, the state and
	// nonce it issued); the SameSite=Lax session cookie is not sent with a
	// cross-site POST, so the handler sees an anonymous session and starts
	// a new one with Login. Default none.
	InsecureCrossOriginBypassPatterns []string

	// ErrorHandler is called when the middleware cannot serve the session:
	// err is a *BackendError when the backend failed (the default handler
	// answers 503 Service Unavailable) and otherwise an error from saving
	// the session at the end of the request, such as ErrTooLarge (500). The
	// handler must write a response or abort the context. It is never
	// called for a missing, expired or tampered cookie: those are anonymous
	// sessions. Default: DefaultErrorHandler, which aborts with 503 or 500
	// and a short HTML or JSON body that reveals nothing of err.
	ErrorHandler func(c *gin.Context, err error)

	// CrossOriginDenied is called for a request refused by the cross-origin
	// check. Default: DefaultCrossOriginDenied, a 403 with a short HTML or
	// JSON body.
	CrossOriginDenied func(c *gin.Context, err error)

	// OnEvent, if set, is called synchronously for every session event
	// (created, rotated, logged out, expired, rejected cookie, revoked,
	// backend error). It must be safe for concurrent use and quick.
	// Events never carry a raw session token or cookie value.
	OnEvent func(Event)

	// Logger receives the same events as log records. Default:
	// slog.Default(). Lifecycle events log at Debug or Info, rejected
	// cookies at Warn, backend errors at Error. Use
	// slog.New(slog.DiscardHandler) to silence it.
	Logger *slog.Logger

	// Now is the clock. Default time.Now. Tests inject a clock to check
	// timeouts without sleeping.
	Now func() time.Time

	// DeviceBinding, if set, binds logged-in browser sessions to the
	// device with Device Bound Session Credentials (DBSC): the login
	// response offers a registration, the middleware serves the
	// registration and refresh endpoints, and once a device has
	// registered its key, the session cookie alone no longer
	// authenticates: a request also needs the short-lived bound cookie
	// that only the key holder can renew. Browsers without DBSC never
	// register and keep unbound sessions. DBSC needs HTTPS; with
	// InsecureAllowHTTP no registration is offered over plain HTTP.
	// Default nil: off. See DeviceBinding.
	DeviceBinding *DeviceBinding
}

// SessionLimitPolicy says what a login beyond Options.MaxSessionsPerUser
// does.
type SessionLimitPolicy int

const (
	// EvictLeastRecentlyUsed ends the user's sessions with the oldest
	// activity to make room for the new login: the user is never locked
	// out, and a forgotten device loses its session. The default.
	EvictLeastRecentlyUsed SessionLimitPolicy = iota

	// RefuseNewLogin leaves the user's sessions alone and makes Login and
	// LoginToken return ErrTooManySessions: with it the login's write
	// happens inside Login, so that the handler can answer.
	RefuseNewLogin
)

// config is Options validated and compiled; it never changes after New.
type config struct {
	name             string // for a cookie sent with Secure
	insecureName     string // for a cookie sent without Secure under InsecureAllowHTTP
	domain           string
	path             string
	sameSite         http.SameSite
	partitioned      bool
	rememberIdle     time.Duration // RememberIdleTimeout
	rememberAbs      time.Duration // RememberAbsoluteTimeout
	rememberSplit    time.Duration // lifetimes longer than this are remembered; see lifecycle.go
	idle             time.Duration
	absolute         time.Duration
	touch            time.Duration
	recordClient     bool
	clearSiteData    bool
	insecureHTTP     bool
	bearer           bool
	crossOrigin      *http.CrossOriginProtection
	trustedProxies   []netip.Prefix
	warnPlainHTTP    *sync.Once
	errorHandler     func(*gin.Context, error)
	crossOriginDeny  func(*gin.Context, error)
	onEvent          func(Event)
	logger           *slog.Logger
	now              func() time.Time
	lowerCookieName  string
	hostPrefixed     bool
	securePrefixed   bool
	clearSiteDataHdr string
	cacheAuthed      bool         // InsecureAllowCachingAuthenticated
	bind             *bindConfig  // nil: DBSC off
	limit            SessionLimit // Max 0: no limit
}

func (o *Options) compile() (*config, error) {
	c := &config{
		domain:        o.Domain,
		path:          o.Path,
		sameSite:      o.SameSite,
		partitioned:   o.Partitioned,
		idle:          o.IdleTimeout,
		absolute:      o.AbsoluteTimeout,
		touch:         o.TouchInterval,
		recordClient:  o.RecordClientInfo,
		clearSiteData: o.ClearSiteData,
		insecureHTTP:  o.InsecureAllowHTTP,
		cacheAuthed:   o.InsecureAllowCachingAuthenticated,
		bearer:        o.AuthorizationHeader,
		errorHandler:  o.ErrorHandler,
		onEvent:       o.OnEvent,
		logger:        o.Logger,
		now:           o.Now,
	}
	c.name = o.CookieName
	if c.name == "" {
		switch {
		case o.InsecureAllowHTTP && o.Path != "" && o.Path != "/":
			c.name = DefaultInsecureCookieName // no prefix fits a Path
		case o.Domain != "":
			c.name = DefaultDomainCookieName
		default:
			c.name = DefaultCookieName
		}
	}
	c.insecureName = c.name
	if o.InsecureAllowHTTP && o.CookieName == "" {
		c.insecureName = DefaultInsecureCookieName
	}
	if !validCookieName(c.name) {
		return nil, fmt.Errorf("securesession: Options.CookieName %q is not a valid cookie name (RFC 6265 token characters only)", c.name)
	}
	lower := strings.ToLower(c.name)
	c.lowerCookieName = lower
	c.hostPrefixed = strings.HasPrefix(lower, "__host-")
	c.securePrefixed = strings.HasPrefix(lower, "__secure-")
	if c.path == "" {
		c.path = "/"
	}
	if !strings.HasPrefix(c.path, "/") || strings.ContainsAny(c.path, ";\x00\r\n") || !printable(c.path) {
		return nil, fmt.Errorf("securesession: Options.Path %q must start with / and contain no ';' or control characters", o.Path)
	}
	if o.Domain != "" && (strings.ContainsAny(o.Domain, "; /:\x00\r\n") || !printable(o.Domain)) {
		return nil, fmt.Errorf("securesession: Options.Domain %q is not a host name", o.Domain)
	}
	if c.hostPrefixed && o.Domain != "" {
		return nil, fmt.Errorf("securesession: Options.Domain: cookie name %q has the __Host- prefix, which requires no Domain (use a __Secure- name to share the cookie with subdomains)", c.name)
	}
	if c.hostPrefixed && c.path != "/" {
		return nil, fmt.Errorf("securesession: Options.Path: cookie name %q has the __Host- prefix, which requires Path \"/\"", c.name)
	}
	if o.InsecureAllowHTTP && o.CookieName != "" && (c.hostPrefixed || c.securePrefixed) {
		return nil, fmt.Errorf("securesession: Options.CookieName: %q has a __Host-/__Secure- prefix, which browsers accept only with Secure; InsecureAllowHTTP omits Secure on loopback HTTP, so choose an unprefixed name", c.name)
	}
	switch c.sameSite {
	case 0, http.SameSiteDefaultMode:
		c.sameSite = http.SameSiteLaxMode
	case http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		if o.InsecureAllowHTTP {
			return nil, errors.New("securesession: Options.SameSite: SameSite=None requires the Secure attribute, which InsecureAllowHTTP can drop")
		}
	default:
		return nil, fmt.Errorf("securesession: Options.SameSite: unknown value %d", c.sameSite)
	}
	if c.partitioned && o.InsecureAllowHTTP {
		return nil, errors.New("securesession: Options.Partitioned requires the Secure attribute, which InsecureAllowHTTP can drop")
	}
	if c.idle == 0 {
		c.idle = DefaultIdleTimeout
	}
	if c.absolute == 0 {
		c.absolute = DefaultAbsoluteTimeout
	}
	if c.idle < 0 {
		return nil, fmt.Errorf("securesession: Options.IdleTimeout: %v is negative", c.idle)
	}
	if c.absolute < 0 {
		return nil, fmt.Errorf("securesession: Options.AbsoluteTimeout: %v is negative", c.absolute)
	}
	if c.idle > c.absolute {
		return nil, fmt.Errorf("securesession: Options.IdleTimeout (%v) exceeds Options.AbsoluteTimeout (%v)", c.idle, c.absolute)
	}
	if c.touch == 0 {
		c.touch = min(c.idle/20, time.Minute)
	}
	if c.touch < 0 || c.touch >= c.idle {
		return nil, fmt.Errorf("securesession: Options.TouchInterval: %v must be positive and less than IdleTimeout (%v)", c.touch, c.idle)
	}
	if !o.InsecureDisableCrossOriginProtection {
		c.crossOrigin = http.NewCrossOriginProtection()
		for _, origin := range o.TrustedOrigins {
			if err := c.crossOrigin.AddTrustedOrigin(origin); err != nil {
				return nil, fmt.Errorf("securesession: Options.TrustedOrigins: %w", err)
			}
		}
		if err := addBypassPatterns(c.crossOrigin, o.InsecureCrossOriginBypassPatterns); err != nil {
			return nil, err
		}
	} else if len(o.TrustedOrigins) > 0 {
		return nil, errors.New("securesession: Options.TrustedOrigins is set but InsecureDisableCrossOriginProtection turns the check off")
	} else if len(o.InsecureCrossOriginBypassPatterns) > 0 {
		return nil, errors.New("securesession: Options.InsecureCrossOriginBypassPatterns is set but InsecureDisableCrossOriginProtection turns the check off")
	}
	tp, err := parseTrustedProxies(o.TrustedProxies)
	if err != nil {
		return nil, err
	}
	c.trustedProxies = tp
	c.warnPlainHTTP = new(sync.Once)
	if c.errorHandler == nil {
		c.errorHandler = DefaultErrorHandler
	}
	c.crossOriginDeny = o.CrossOriginDenied
	if c.crossOriginDeny == nil {
		c.crossOriginDeny = DefaultCrossOriginDenied
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.clearSiteData {
		c.clearSiteDataHdr = `"cache", "storage"`
	}
	switch {
	case o.MaxSessionsPerUser < 0:
		return nil, fmt.Errorf("securesession: Options.MaxSessionsPerUser: %d is negative (0 means no limit)", o.MaxSessionsPerUser)
	case o.SessionLimitPolicy != EvictLeastRecentlyUsed && o.SessionLimitPolicy != RefuseNewLogin:
		return nil, fmt.Errorf("securesession: Options.SessionLimitPolicy: unknown value %d", o.SessionLimitPolicy)
	case o.SessionLimitPolicy == RefuseNewLogin && o.MaxSessionsPerUser == 0:
		return nil, errors.New("securesession: Options.SessionLimitPolicy is RefuseNewLogin but Options.MaxSessionsPerUser is 0 (no limit)")
	}
	c.limit = SessionLimit{Max: o.MaxSessionsPerUser, Refuse: o.SessionLimitPolicy == RefuseNewLogin}
	if c.bind, err = o.DeviceBinding.compile(c); err != nil {
		return nil, err
	}
	if err := c.compileRemember(o); err != nil {
		return nil, err
	}
	return c, nil
}

// validCookieName reports whether s is an RFC 6265 token.
func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
