// Package dbsctest is the browser's side of DBSC, for tests: it reads the
// Secure-Session-Registration and Secure-Session-Challenge headers a
// server sends the way a browser does, independently of the package dbsc
// code that writes them.
package dbsctest
