package securesession

import (
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession/internal/cachehdr"
)

// The default error answers: a short page a person can read (Chromium
// shows "This page isn't working" for an empty 5xx body), or JSON for a
// client that asks for it. Their text is fixed here: an answer never
// carries the error, a token, or anything else from the request.

// errorAnswer is one default error response.
type errorAnswer struct {
	status int
	code   string // stable, for clients: the "code" field of the JSON body
	title  string
	msg    string
}

var (
	answerUnavailable = errorAnswer{http.StatusServiceUnavailable, "session_unavailable",
		"Sessions are unavailable", "The session store is not answering. Nothing was changed; please try again in a moment."}
	answerSaveFailed = errorAnswer{http.StatusInternalServerError, "session_save_failed",
		"Your session could not be saved", "The server could not save your session, so this action did not complete. Please try again; if it keeps happening, contact the site's operators."}
	answerTooLarge = errorAnswer{http.StatusInternalServerError, "session_too_large",
		"Your session could not be saved", "Your session holds more data than fits, so this action did not complete. Please contact the site's operators."}
	answerCrossOrigin = errorAnswer{http.StatusForbidden, "cross_origin_denied",
		"Request from another site refused", "This form or request came from another website, and was refused to protect your account. Go back to the site itself and try again."}
	answerTwoCredentials = errorAnswer{http.StatusBadRequest, "ambiguous_credentials",
		"Two sessions in one request", "The request carried a session both in a cookie and in an Authorization header. Send only one of them."}
)

// errTwoCredentials is the 400 for a request with both a session cookie
// and an Authorization header.
var errTwoCredentials = errors.New("securesession: both a session cookie and an Authorization header")

// DefaultErrorHandler is the Options.ErrorHandler used when none is set:
// it records err with c.Error and aborts with 503 Service Unavailable for a
// *BackendError and 500 Internal Server Error otherwise, with a short body
// that names neither the error nor the session: an HTML page, or
// {"error": "...", "code": "..."} when the request's Accept header asks
// for JSON (or, without an Accept preference, when the session came in an
// Authorization header). A Location, Refresh or Content-Disposition header
// the handler had set is removed. An application's own ErrorHandler may
// call it after logging.
func DefaultErrorHandler(c *gin.Context, err error) {
	_ = c.Error(err)
	var be *BackendError
	switch {
	case errors.As(err, &be):
		writeErrorAnswer(c, answerUnavailable)
	case errors.Is(err, ErrTooLarge):
		writeErrorAnswer(c, answerTooLarge)
	default:
		writeErrorAnswer(c, answerSaveFailed)
	}
}

// DefaultCrossOriginDenied is the Options.CrossOriginDenied used when none
// is set: it aborts with 403 Forbidden and a short body, HTML or JSON as
// for DefaultErrorHandler, that tells the user the request came from
// another site.
func DefaultCrossOriginDenied(c *gin.Context, err error) {
	writeErrorAnswer(c, answerCrossOrigin)
}

// writeErrorPage answers the middleware's own refusals.
func writeErrorPage(c *gin.Context, err error) {
	if errors.Is(err, errTwoCredentials) {
		writeErrorAnswer(c, answerTwoCredentials)
		return
	}
	DefaultErrorHandler(c, err)
}

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
<h1>{{.Title}}</h1>
<p>{{.Msg}}</p>
<p style="color:#666">Error {{.Status}} ({{.Code}})</p>
</body></html>
`))

func writeErrorAnswer(c *gin.Context, a errorAnswer) {
	h := c.Writer.Header()
	// Headers the handler set for the answer it meant to give would make
	// the browser follow a redirect or download the error instead.
	for _, k := range []string{"Location", "Refresh", "Content-Disposition", "Content-Encoding", "Content-Length", "Content-Range", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	// The answer is written before the middleware's own caching rules
	// would run, so it applies them itself: no-store, the CDN-targeted
	// fields the handler set removed, Vary: Cookie.
	cachehdr.NoStore(h)
	h.Set("X-Content-Type-Options", "nosniff")
	var body []byte
	if wantsJSON(c.Request) {
		body, _ = json.Marshal(struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}{a.msg, a.code})
		body = append(body, '\n')
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		var sb strings.Builder
		_ = errorTemplate.Execute(&sb, struct {
			Title, Msg, Code string
			Status           int
		}{a.title, a.msg, a.code, a.status})
		body = []byte(sb.String())
		h.Set("Content-Type", "text/html; charset=utf-8")
	}
	c.Status(a.status)
	_, _ = c.Writer.Write(body)
	c.Abort()
}

// wantsJSON reports whether the client prefers JSON to HTML: the first
// media range of its Accept header (q > 0) that names HTML or JSON
// decides; with neither, a client that sent an Authorization header (an
// API client) gets JSON and everyone else HTML.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(strings.Join(r.Header.Values("Accept"), ","), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
			continue // q=0: not acceptable
		}
		switch {
		case mt == "text/html" || mt == "application/xhtml+xml":
			return false
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return true
		}
	}
	return r.Header.Get("Authorization") != ""
}
