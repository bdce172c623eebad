package dbsctest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/dbsc/dbsctest"
)

// refServer is a minimal DBSC server built on package dbsc, the shape the
// middleware integration will take: the outstanding challenge and the key
// live in the session record, and each challenge is taken (cleared) under
// the record's lock before the proof is checked.
type refServer struct {
	mu       sync.Mutex
	pending  dbsc.Challenge // registration challenge of the last login
	sessions map[string]*record
	bound    map[string]string // bound cookie value → session id

	cookie    dbsc.BoundCookie
	ahead     bool // send a challenge ahead on every 200
	races     int  // answer this many valid proofs with a fresh challenge
	endNext   bool // end the session on the next successful refresh
	refreshes int
}

type record struct {
	key       *dbsc.PublicKey
	challenge dbsc.Challenge
}

func newRefServer(t *testing.T) (*refServer, *httptest.Server, *http.Client) {
	s := &refServer{sessions: map[string]*record{}, bound: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("POST /dbsc/register", s.register)
	mux.HandleFunc("POST /dbsc/refresh", s.refresh)
	mux.HandleFunc("GET /protected", s.protected)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Jar, _ = cookiejar.New(nil)
	return s, srv, hc
}

func (s *refServer) login(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = dbsc.NewChallenge(time.Now())
	v, err := dbsc.FormatRegistration(dbsc.Registration{Path: "/dbsc/register", Challenge: s.pending})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set(dbsc.HeaderRegistration, v)
}

func (s *refServer) register(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.pending
	s.pending = dbsc.Challenge{} // single use, whatever the outcome
	key, err := dbsc.VerifyRegistration(r.Header.Get(dbsc.HeaderResponse), ch, time.Now())
	if err != nil {
		http.Error(w, string(dbsc.ReasonOf(err)), http.StatusBadRequest)
		return
	}
	// The key goes into the record in its stored form.
	stored, err := dbsc.ParsePublicKey(key.JWK())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	id := dbsc.NewSessionID()
	s.sessions[id] = &record{key: stored}
	cred, _ := s.cookie.Credential()
	s.issue(w, id, dbsc.SessionConfig{
		SessionIdentifier: id,
		RefreshURL:        "/dbsc/refresh",
		Scope:             dbsc.Scope{Origin: "https://" + r.Host},
		Credentials:       []dbsc.Credential{cred},
	})
}

func (s *refServer) refresh(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := dbsc.ParseSessionID(r.Header.Get(dbsc.HeaderSessionID))
	rec := s.sessions[id]
	if err != nil || rec == nil {
		// Unknown session: end it in the browser.
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(dbsc.EndSessionBody))
		return
	}
	ch := rec.challenge
	rec.challenge = dbsc.Challenge{}
	proof := r.Header.Get(dbsc.HeaderResponse)
	if proof == "" {
		s.challenge(w, id, rec) // the first refresh POST never has a proof
		return
	}
	if err := dbsc.VerifyRefresh(proof, rec.key, ch, time.Now()); err != nil {
		// Retryable or not, the answer is a fresh challenge, never 401;
		// only a device with the key gets past it.
		s.challenge(w, id, rec)
		return
	}
	if s.races > 0 {
		s.races--
		s.challenge(w, id, rec)
		return
	}
	s.refreshes++
	if s.endNext {
		delete(s.sessions, id)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(dbsc.EndSessionBody))
		return
	}
	s.issue(w, id, dbsc.SessionConfig{})
}

func (s *refServer) challenge(w http.ResponseWriter, id string, rec *record) {
	rec.challenge = dbsc.NewChallenge(time.Now())
	v, _ := dbsc.FormatChallenge(rec.challenge, id)
	w.Header().Set(dbsc.HeaderChallenge, v)
	w.WriteHeader(http.StatusForbidden)
}

// issue sets a new bound cookie (revoking the old value) and writes cfg
// as the body if it is not zero.
func (s *refServer) issue(w http.ResponseWriter, id string, cfg dbsc.SessionConfig) {
	for v, sid := range s.bound {
		if sid == id {
			delete(s.bound, v)
		}
	}
	val := dbsc.NewSessionID()
	s.bound[val] = id
	line, _ := s.cookie.SetCookie(val, time.Now())
	w.Header().Add("Set-Cookie", line)
	if s.ahead {
		rec := s.sessions[id]
		rec.challenge = dbsc.NewChallenge(time.Now())
		v, _ := dbsc.FormatChallenge(rec.challenge, id)
		w.Header().Set(dbsc.HeaderChallenge, v)
	}
	if cfg.SessionIdentifier != "" {
		b, err := json.Marshal(cfg)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}

func (s *refServer) protected(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := r.Cookie(dbsc.DefaultBoundCookieName)
	if err != nil || s.bound[c.Value] == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
}

func get(t *testing.T, hc *http.Client, url string) *http.Response {
	t.Helper()
	res, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// registerOver logs in and registers c; it returns the session.
func registerOver(t *testing.T, c *dbsctest.Client, srv *httptest.Server, hc *http.Client) *dbsctest.Session {
	t.Helper()
	res := get(t, hc, srv.URL+"/login")
	sess, _, err := c.Register(context.Background(), hc, srv.URL, res.Header.Get(dbsc.HeaderRegistration))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return sess
}

func boundCookie(t *testing.T, hc *http.Client, srv *httptest.Server) string {
	t.Helper()
	for _, c := range hc.Jar.Cookies(mustURL(srv.URL)) {
		if c.Name == dbsc.DefaultBoundCookieName {
			return c.Value
		}
	}
	t.Fatal("no bound cookie in the jar")
	return ""
}

func TestRegisterAndRefreshOverHTTPS(t *testing.T) {
	for _, alg := range []dbsc.Algorithm{dbsc.ES256, dbsc.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			s, srv, hc := newRefServer(t)
			c := newClient(t, alg)
			sess := registerOver(t, c, srv, hc)
			if sess.Config.RefreshURL != "/dbsc/refresh" || sess.Config.Credentials[0].Name != dbsc.DefaultBoundCookieName {
				t.Fatalf("session config %+v", sess.Config)
			}
			first := boundCookie(t, hc, srv)
			if res := get(t, hc, srv.URL+"/protected"); res.StatusCode != 200 {
				t.Fatalf("protected with the bound cookie: %d", res.StatusCode)
			}

			resp, err := c.Refresh(context.Background(), hc, sess)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if resp.Posts != 2 || s.refreshes != 1 {
				t.Fatalf("refresh took %d POSTs (%d accepted), want the unsigned one and one signed", resp.Posts, s.refreshes)
			}
			if second := boundCookie(t, hc, srv); second == first {
				t.Fatal("the refresh did not renew the bound cookie")
			}
			if res := get(t, hc, srv.URL+"/protected"); res.StatusCode != 200 {
				t.Fatalf("protected after refresh: %d", res.StatusCode)
			}
			// The stolen copy of the first cookie no longer works.
			stolen, _ := http.NewRequest("GET", srv.URL+"/protected", nil)
			stolen.AddCookie(&http.Cookie{Name: dbsc.DefaultBoundCookieName, Value: first})
			res, err := srv.Client().Do(stolen)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the replaced bound cookie still works: %d", res.StatusCode)
			}
		})
	}
}

func TestRefreshUsesChallengeSentAhead(t *testing.T) {
	s, srv, hc := newRefServer(t)
	s.ahead = true
	c := newClient(t, dbsc.ES256)
	sess := registerOver(t, c, srv, hc)
	if sess.Ahead == "" {
		t.Fatal("the challenge sent ahead on the registration 200 was not kept")
	}
	for i := range 3 {
		resp, err := c.Refresh(context.Background(), hc, sess)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Posts != 1 {
			t.Fatalf("refresh %d took %d POSTs, want one signed POST", i, resp.Posts)
		}
	}
}

func TestRefreshRetriesAfterBenignRace(t *testing.T) {
	s, srv, hc := newRefServer(t)
	s.races = 2
	c := newClient(t, dbsc.ES256)
	sess := registerOver(t, c, srv, hc)
	resp, err := c.Refresh(context.Background(), hc, sess)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Posts != 4 {
		t.Fatalf("refresh took %d POSTs, want 4", resp.Posts)
	}
}

func TestRefreshByAnotherDeviceFails(t *testing.T) {
	s, srv, hc := newRefServer(t)
	c := newClient(t, dbsc.ES256)
	sess := registerOver(t, c, srv, hc)
	_, err := c.With(dbsctest.WrongKey).Refresh(context.Background(), hc, sess)
	var se *dbsctest.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden || se.Step != "refresh" {
		t.Fatalf("got %v, want a 403 from refresh", err)
	}
	if s.refreshes != 0 {
		t.Fatal("the server accepted a proof from the wrong key")
	}
	// The real device still can.
	if _, err := c.Refresh(context.Background(), hc, sess); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrationByMisbehavingClientFails(t *testing.T) {
	_, srv, hc := newRefServer(t)
	c := newClient(t, dbsc.ES256)
	for f := dbsctest.WrongKey; f <= dbsctest.DERSignature; f++ {
		res := get(t, hc, srv.URL+"/login")
		_, resp, err := c.With(f).Register(context.Background(), hc, srv.URL, res.Header.Get(dbsc.HeaderRegistration))
		var se *dbsctest.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
			t.Fatalf("%v: got %v, want 400", f, err)
		}
		t.Logf("%v: %s", f, resp.Body)
	}
}

func TestRefreshAnswerCanEndTheSession(t *testing.T) {
	s, srv, hc := newRefServer(t)
	s.endNext = true
	c := newClient(t, dbsc.ES256)
	sess := registerOver(t, c, srv, hc)
	if _, err := c.Refresh(context.Background(), hc, sess); err != nil {
		t.Fatal(err)
	}
	if !sess.Ended {
		t.Fatal(`{"continue":false} did not end the session`)
	}
	if _, err := c.Refresh(context.Background(), hc, sess); err == nil {
		t.Fatal("refreshed an ended session")
	}
}

func TestRegisterRefusesHTTP(t *testing.T) {
	c := newClient(t, dbsc.ES256)
	hdr := `(ES256);path="/r";challenge="c"`
	if _, _, err := c.Register(context.Background(), http.DefaultClient, "http://127.0.0.1:1", hdr); err == nil {
		t.Fatal("registered over plain http")
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
