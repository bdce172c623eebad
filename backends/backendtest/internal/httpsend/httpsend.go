// Package httpsend sends the conformance suite's requests as a browser
// would: one session cookie in, the response's session cookie out. Both
// the suite's load checks and the outage harness use it.
package httpsend

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// Sender sends requests to one test server under one cookie name. Its
// fields are set before the first Send; Send is safe for concurrent use.
type Sender struct {
	URL    string       // the server's base URL, without a trailing slash
	Name   string       // the session cookie's name
	Client *http.Client // the client every request goes through

	requests atomic.Int64
}

// Send sends one request with the session cookie value cookie (none if
// empty) and returns the status, the body and the response's session
// cookie, if any. A transport error is returned with the method and path.
func (s *Sender) Send(method, path, cookie string) (status int, body string, c *http.Cookie, err error) {
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		return 0, "", nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", s.Name+"="+cookie)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s.requests.Add(1)
	for _, rc := range resp.Cookies() {
		if rc.Name == s.Name {
			return resp.StatusCode, string(b), rc, nil
		}
	}
	return resp.StatusCode, string(b), nil, nil
}

// Requests returns the number of requests answered so far.
func (s *Sender) Requests() int64 { return s.requests.Load() }
