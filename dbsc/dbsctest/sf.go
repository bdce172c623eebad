package dbsctest

import (
	"errors"
	"strings"

	"github.com/gin-securesession/securesession/dbsc"
)

// ParseRegistration parses a Secure-Session-Registration header value the
// way a browser does (an RFC 8941 list of inner lists of algorithm tokens
// with parameters) and returns its first registration. The challenge's
// Expires is zero: the browser is not told it.
func ParseRegistration(header string) (dbsc.Registration, error) {
	p := &sfParser{s: header}
	p.ows()
	if !p.eat('(') {
		return dbsc.Registration{}, errors.New("dbsctest: registration header: want an inner list of algorithms")
	}
	var r dbsc.Registration
	for {
		p.sp()
		if p.eat(')') {
			break
		}
		tok, err := p.token()
		if err != nil {
			return dbsc.Registration{}, err
		}
		r.Algorithms = append(r.Algorithms, dbsc.Algorithm(tok))
	}
	params, err := p.params()
	if err != nil {
		return dbsc.Registration{}, err
	}
	p.ows()
	if !p.done() && !p.eat(',') {
		return dbsc.Registration{}, errors.New("dbsctest: registration header: trailing data")
	}
	r.Path, r.Challenge.Value = params["path"], params["challenge"]
	if r.Path == "" || r.Challenge.Value == "" {
		return dbsc.Registration{}, errors.New("dbsctest: registration header: path or challenge missing")
	}
	return r, nil
}

// ParseChallenge parses a Secure-Session-Challenge header value ("<c>";id="<id>")
// and returns the challenge and the session identifier ("" if absent).
func ParseChallenge(header string) (challenge, sessionID string, err error) {
	p := &sfParser{s: header}
	p.ows()
	if challenge, err = p.str(); err != nil {
		return "", "", err
	}
	params, err := p.params()
	if err != nil {
		return "", "", err
	}
	p.ows()
	if !p.done() && !p.eat(',') {
		return "", "", errors.New("dbsctest: challenge header: trailing data")
	}
	return challenge, params["id"], nil
}

// sfParser reads the subset of RFC 8941 that DBSC headers use: tokens,
// strings and parameters whose values are strings or tokens.
type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *sfParser) sp() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) ows() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) token() (string, error) {
	start := p.i
	if p.done() || !(isAlpha(p.s[p.i]) || p.s[p.i] == '*') {
		return "", errors.New("dbsctest: structured header: want a token")
	}
	for p.i < len(p.s) && (isTchar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) str() (string, error) {
	if !p.eat('"') {
		return "", errors.New("dbsctest: structured header: want a string")
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.done() || p.s[p.i] != '"' && p.s[p.i] != '\\' {
				return "", errors.New("dbsctest: structured header: bad escape")
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", errors.New("dbsctest: structured header: control character in string")
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("dbsctest: structured header: unterminated string")
}

func (p *sfParser) params() (map[string]string, error) {
	m := map[string]string{}
	for p.eat(';') {
		p.sp()
		start := p.i
		for p.i < len(p.s) && (p.s[p.i] >= 'a' && p.s[p.i] <= 'z' || p.s[p.i] >= '0' && p.s[p.i] <= '9' || strings.IndexByte("_-.*", p.s[p.i]) >= 0) {
			p.i++
		}
		key := p.s[start:p.i]
		if key == "" {
			return nil, errors.New("dbsctest: structured header: want a parameter name")
		}
		val := "?1"
		if p.eat('=') {
			var err error
			if p.i < len(p.s) && p.s[p.i] == '"' {
				val, err = p.str()
			} else {
				val, err = p.token()
			}
			if err != nil {
				return nil, err
			}
		}
		m[key] = val
	}
	return m, nil
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isTchar(c byte) bool {
	return isAlpha(c) || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
