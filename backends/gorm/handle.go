package gorm

import (
	"crypto/rand"
	"encoding/hex"
)

// This file holds session handles: how they are drawn and recognised.

// newHandle returns a fresh session handle: 128 bits from crypto/rand in
// lowercase hex. It is drawn independently of the token, so nothing about
// the token can be learnt from it.
func newHandle() string {
	var b [handleBytes]byte
	rand.Read(b[:]) // never returns an error (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// handleBytes is the size of a handle's random part; handles are twice as
// many hex digits.
const handleBytes = 16

// validHandle reports whether h is shaped like a handle newHandle made.
// Anything else cannot name a session and never reaches the database.
func validHandle(h string) bool {
	if len(h) != 2*handleBytes {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
