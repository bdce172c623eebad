package securesession

import (
	"errors"
	"runtime"
	"strings"
)

// ErrDefaultMany is the panic value that replaces the type assertion
// failure of gin-contrib's sessions.DefaultMany under this middleware.
// DefaultMany reads a map of named sessions that only
// sessions.SessionsMany stores; securesession serves one session per
// request, through sessions.Default, under the same context key, so the
// two cannot share a router.
var ErrDefaultMany = errors.New("securesession: sessions.DefaultMany is not supported: securesession serves one session per request; " +
	"use sessions.Default(c), and keep other data under distinct keys of that session")

// explainDefaultMany, deferred around the handlers, turns the panic of
// sessions.DefaultMany (interface {} is *securesession.session, not
// map[string]sessions.Session) into one that says what to do instead. Any
// other panic continues unchanged.
func explainDefaultMany() {
	v := recover()
	if v == nil {
		return
	}
	if te, ok := v.(*runtime.TypeAssertionError); ok && strings.Contains(te.Error(), "*securesession.session") && strings.Contains(te.Error(), "map[string]sessions.Session") {
		panic(ErrDefaultMany)
	}
	panic(v)
}
