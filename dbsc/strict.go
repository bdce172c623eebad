package dbsc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
)

// decodeB64 decodes s as base64url without padding, in canonical form
// only: no "=", no whitespace or line breaks (which encoding/base64 would
// otherwise skip), and no non-zero bits in the last character. Two
// different strings therefore never decode to the same bytes.
func decodeB64(s string) ([]byte, bool) {
	if len(s)%4 == 1 {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, false
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}

var b64 = base64.RawURLEncoding

// maxMembers bounds the members of any JSON object this package reads. A
// JWS header, a claims set and a JWK each have a handful.
const maxMembers = 32

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate member")
)

// members calls f with each member of the JSON object in data, in order.
// It accepts exactly one object with at most maxMembers members and
// refuses duplicate names, which encoding/json would otherwise resolve
// silently in favour of the last one (the "alg" smuggling trick). Names
// are matched exactly by the caller, never case-insensitively as
// encoding/json does for struct fields.
func members(data []byte, f func(name string, value json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errNotObject
	}
	seen := make([]string, 0, 8)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := t.(string)
		if !ok {
			return errNotObject
		}
		if slices.Contains(seen, name) {
			return errDuplicate
		}
		if len(seen) == maxMembers {
			return errors.New("too many members")
		}
		seen = append(seen, name)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := f(name, v); err != nil {
			return err
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// jsonString returns the JSON string in v, refusing any other type
// (null included, which json.Unmarshal would turn into "").
func jsonString(v json.RawMessage) (string, bool) {
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}
