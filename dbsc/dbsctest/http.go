package dbsctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-securesession/securesession/dbsc"
)

// Session is a registered DBSC session as the browser holds it. It is
// updated by Refresh and must not be refreshed concurrently.
type Session struct {
	// Origin is the server's origin, "https://host:port", that the
	// registration and refresh paths are relative to.
	Origin string

	// Config is the session configuration the server returned.
	Config dbsc.SessionConfig

	// Ahead is a challenge the server sent ahead of time on its last 200,
	// used by the next Refresh; "" if none.
	Ahead string

	// Ended is set when a refresh answer ended the session
	// ({"continue":false}); Chromium would then stop refreshing.
	Ended bool
}

// Response is what the server answered to the last POST of an exchange.
// The body has been read (up to 1 MiB) and closed.
type Response struct {
	StatusCode int         // the status of the last answer
	Header     http.Header // its headers
	Body       []byte      // its body
	Posts      int         // how many POSTs the exchange took
}

// StatusError reports that a DBSC endpoint answered with an unexpected
// status.
type StatusError struct {
	Step       string // "register" or "refresh"
	StatusCode int
}

// Error returns "dbsctest: <step>: status <code>".
func (e *StatusError) Error() string {
	return fmt.Sprintf("dbsctest: %s: status %d", e.Step, e.StatusCode)
}

// Register answers registrationHeader (a Secure-Session-Registration value
// the server sent) as Chromium does: it POSTs the registration path under
// origin with an empty body and the proof in Secure-Session-Response, and
// expects 200 with a session configuration. hc should have a cookie jar
// for the bound cookie and trust the server's certificate.
func (c *Client) Register(ctx context.Context, hc *http.Client, origin, registrationHeader string) (*Session, *Response, error) {
	path, proof, err := c.AnswerRegistration(registrationHeader)
	if err != nil {
		return nil, nil, err
	}
	resp, err := post(ctx, hc, origin+path, http.Header{dbsc.HeaderResponse: {proof}})
	if err != nil {
		return nil, nil, err
	}
	resp.Posts = 1
	if resp.StatusCode != http.StatusOK {
		return nil, resp, &StatusError{Step: "register", StatusCode: resp.StatusCode}
	}
	s := &Session{Origin: origin}
	if err := json.Unmarshal(resp.Body, &s.Config); err != nil {
		return nil, resp, fmt.Errorf("dbsctest: register: session config: %w", err)
	}
	if s.Config.SessionIdentifier == "" || s.Config.RefreshURL == "" || len(s.Config.Credentials) == 0 {
		return nil, resp, errors.New("dbsctest: register: session config lacks session_identifier, refresh_url or credentials")
	}
	s.takeAhead(resp.Header)
	return s, resp, nil
}

// maxRounds is how many signed POSTs Refresh makes before giving up: one,
// plus retries for a server that answers a valid proof with a fresh
// challenge (two tabs racing).
const maxRounds = 3

// Refresh refreshes s as Chromium does when the bound cookie is missing or
// about to expire: it POSTs the refresh URL with Sec-Secure-Session-Id,
// and with a proof only if a challenge was sent ahead; while the server
// answers 403 with a Secure-Session-Challenge for this session, it signs
// the challenge and POSTs again. It returns the final answer, and an
// error if that is not 200. A 200 whose body is {"continue":false} sets
// s.Ended.
func (c *Client) Refresh(ctx context.Context, hc *http.Client, s *Session) (*Response, error) {
	if s.Ended {
		return nil, errors.New("dbsctest: refresh: the session has ended")
	}
	h := http.Header{dbsc.HeaderSessionID: {s.Config.SessionIdentifier}}
	if s.Ahead != "" {
		proof, err := c.RefreshProof(s.Ahead)
		if err != nil {
			return nil, err
		}
		h.Set(dbsc.HeaderResponse, proof)
		s.Ahead = ""
	}
	var resp *Response
	for posts := 1; ; posts++ {
		var err error
		resp, err = post(ctx, hc, s.Origin+s.Config.RefreshURL, h)
		if err != nil {
			return nil, err
		}
		resp.Posts = posts
		hv := resp.Header.Get(dbsc.HeaderChallenge)
		if resp.StatusCode != http.StatusForbidden || hv == "" || posts > maxRounds {
			break
		}
		id, proof, err := c.AnswerChallenge(hv)
		if err != nil {
			return resp, err
		}
		if id != "" && id != s.Config.SessionIdentifier {
			return resp, errors.New("dbsctest: refresh: challenge for another session")
		}
		h.Set(dbsc.HeaderResponse, proof)
	}
	if resp.StatusCode != http.StatusOK {
		return resp, &StatusError{Step: "refresh", StatusCode: resp.StatusCode}
	}
	if body := bytes.TrimSpace(resp.Body); len(body) > 0 {
		var end struct {
			Continue *bool `json:"continue"`
		}
		if json.Unmarshal(body, &end) == nil && end.Continue != nil && !*end.Continue {
			s.Ended = true
			return resp, nil
		}
		var cfg dbsc.SessionConfig
		if json.Unmarshal(body, &cfg) == nil && cfg.SessionIdentifier != "" {
			s.Config = cfg
		}
	}
	s.takeAhead(resp.Header)
	return resp, nil
}

func (s *Session) takeAhead(h http.Header) {
	if v := h.Get(dbsc.HeaderChallenge); v != "" {
		if ch, id, err := ParseChallenge(v); err == nil && (id == "" || id == s.Config.SessionIdentifier) {
			s.Ahead = ch
		}
	}
}

func post(ctx context.Context, hc *http.Client, url string, h http.Header) (*Response, error) {
	if !strings.HasPrefix(url, "https://") {
		return nil, errors.New("dbsctest: DBSC needs https (Chromium ignores it over http)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, http.NoBody)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header.Set(k, v[0])
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &Response{StatusCode: res.StatusCode, Header: res.Header, Body: body}, nil
}
