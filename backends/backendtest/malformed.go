package backendtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gin-securesession/securesession"
)

// malformedChecks call the Backend methods directly, as an application
// does with a token from a JSON body or a WebSocket message that never
// went through net/http's cookie parsing.
var malformedChecks = []check{
	{"MalformedTokensNeverPanicOrOpen", testMalformedTokens},
}

// badToken is one token that no backend may accept, made from a genuine
// token g.
type badToken struct {
	kind string
	make func(g string) string
}

func insertAt(i int, s string) func(string) string {
	return func(g string) string {
		i := min(i, len(g))
		return g[:i] + s + g[i:]
	}
}

// badTokens are whitespace, control and non-ASCII bytes, alone and
// inside a genuine token, and the genuine token truncated and doubled.
// Go's base64 decoders skip CR and LF even in Strict mode, so a backend
// that decodes before checking the alphabet reads "g with CRLF inserted"
// as g itself.
var badTokens = []badToken{
	{"crlf-only", func(g string) string { return strings.Repeat("\r\n", len(g)/2+1) }},
	{"lf-only", func(g string) string { return strings.Repeat("\n", len(g)) }},
	{"four-chars-in-line-breaks", func(g string) string { return "AQAB" + strings.Repeat("\r\n", len(g)/2) }},
	{"genuine-crlf-middle", func(g string) string { return insertAt(len(g)/2, "\r\n")(g) }},
	{"genuine-crlf-prefix", insertAt(0, "\r\n")},
	{"genuine-crlf-suffix", func(g string) string { return g + "\r\n" }},
	{"genuine-lf-wrapped", func(g string) string {
		var b strings.Builder
		for i := 0; i < len(g); i += 16 {
			b.WriteString(g[i:min(i+16, len(g))])
			b.WriteByte('\n')
		}
		return b.String()
	}},
	{"genuine-cr", insertAt(3, "\r")},
	{"genuine-space", insertAt(10, " ")},
	{"genuine-leading-space", insertAt(0, " ")},
	{"genuine-trailing-space", func(g string) string { return g + " " }},
	{"genuine-tab", insertAt(7, "\t")},
	{"genuine-nul", insertAt(5, "\x00")},
	{"genuine-trailing-nul", func(g string) string { return g + "\x00" }},
	{"genuine-del", insertAt(5, "\x7f")},
	{"genuine-non-ascii", insertAt(7, "é")},
	{"genuine-invalid-utf8", insertAt(7, "\xff")},
	{"genuine-last-byte-non-ascii", func(g string) string { return g[:len(g)-1] + "\x80" }},
	{"spaces", func(g string) string { return strings.Repeat(" ", len(g)) }},
	{"tabs", func(g string) string { return strings.Repeat("\t", len(g)) }},
	{"nuls", func(g string) string { return strings.Repeat("\x00", len(g)) }},
	{"control-bytes", func(g string) string {
		b := make([]byte, len(g))
		for i := range b {
			b[i] = byte(i % 32)
		}
		return string(b)
	}},
	{"non-ascii", func(g string) string { return strings.Repeat("é", len(g)/2) }},
	{"truncated-half", func(g string) string { return g[:len(g)/2] }},
	{"truncated-one", func(g string) string { return g[:len(g)-1] }},
	{"doubled", func(g string) string { return g + g }},
	{"empty", func(string) string { return "" }},
}

const malformedName = "__Host-malformed"

func malformedRecord(user string) securesession.Record {
	now := time.Now()
	return securesession.Record{
		UserID: user, AuthTime: now, Created: now, LastSeen: now,
		Deadline: now.Add(time.Hour), Expires: now.Add(30 * time.Minute),
		Values: []byte{1, 1, 3, 1, 'k', 3, 1, 'v'},
	}
}

// noPanic runs fn and reports a panic as a test error naming the method
// and the kind of token (never the token: it holds a genuine one).
func noPanic(t *testing.T, method, kind string, fn func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s with a %s token panicked: %v", method, kind, p)
		}
	}()
	fn()
}

// testMalformedTokens passes every bad token to every method that takes
// one. None may panic; Find, Update, Touch and Rotate must reject it with
// ErrInvalidToken (Find never finds it); Delete must not end,
// and RevokeUser must not keep, the genuine session a bad token was made
// from: a genuine token with CRLF inserted is not that token.
func testMalformedTokens(t *testing.T, f *factory) {
	b := f.backend(t)
	ctx := context.Background()
	var rnd [6]byte
	rand.Read(rnd[:])
	user := "malformed-" + hex.EncodeToString(rnd[:])
	rec := malformedRecord(user)
	g, err := b.Create(ctx, malformedName, &rec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	stillThere := func(after string) {
		t.Helper()
		if _, found, err := b.Find(ctx, malformedName, g); !found || err != nil {
			t.Fatalf("after %s the genuine session is gone: found=%v err=%v", after, found, err)
		}
	}
	stillThere("Create")
	invalid := func(method, kind string, err error) {
		t.Helper()
		if !errors.Is(err, securesession.ErrInvalidToken) {
			t.Errorf("%s with a %s token: err = %v, want one wrapping ErrInvalidToken", method, kind, err)
		}
	}
	for _, bt := range badTokens {
		bad := bt.make(g)
		if bad == g {
			t.Fatalf("test setup: %s is the genuine token", bt.kind)
		}
		noPanic(t, "Find", bt.kind, func() {
			_, found, err := b.Find(ctx, malformedName, bad)
			if found {
				t.Errorf("Find with a %s token found a session", bt.kind)
			}
			invalid("Find", bt.kind, err)
		})
		noPanic(t, "Update", bt.kind, func() {
			r := malformedRecord(user)
			_, err := b.Update(ctx, malformedName, bad, &r)
			invalid("Update", bt.kind, err)
		})
		noPanic(t, "Touch", bt.kind, func() {
			r := malformedRecord(user)
			_, err := b.Touch(ctx, malformedName, bad, &r)
			invalid("Touch", bt.kind, err)
		})
		noPanic(t, "Rotate", bt.kind, func() {
			r := malformedRecord(user)
			_, err := b.Rotate(ctx, malformedName, bad, &r)
			invalid("Rotate", bt.kind, err)
		})
		noPanic(t, "Delete", bt.kind, func() {
			err := b.Delete(ctx, malformedName, bad)
			if err != nil && !errors.Is(err, securesession.ErrInvalidToken) && !errors.Is(err, securesession.ErrCannotRevoke) {
				t.Errorf("Delete with a %s token: %v; want nil or ErrInvalidToken", bt.kind, err)
			}
		})
		stillThere(fmt.Sprintf("Find, Update, Touch, Rotate and Delete with a %s token", bt.kind))
	}

	// RevokeUser's keep: a bad token names no session, so it keeps none
	// (or it is refused and nothing is revoked). Each kind gets a fresh
	// genuine session, since a RevokeUser that works ends it.
	for _, bt := range badTokens {
		r := malformedRecord(user)
		g, err := b.Create(ctx, malformedName, &r)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		var rerr error
		noPanic(t, "RevokeUser", bt.kind, func() {
			rerr = b.RevokeUser(ctx, user, securesession.Ref{Name: malformedName, Token: bt.make(g)})
		})
		switch {
		case errors.Is(rerr, securesession.ErrCannotRevoke), errors.Is(rerr, securesession.ErrInvalidToken):
			continue
		case rerr != nil:
			t.Errorf("RevokeUser keeping a %s token: %v", bt.kind, rerr)
			continue
		}
		if _, found, _ := b.Find(ctx, malformedName, g); found {
			t.Errorf("RevokeUser keeping a %s token kept the genuine session it was made from", bt.kind)
		}
	}
}
