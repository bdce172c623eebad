// Package logscan captures log output from concurrent writers and finds
// secrets in it, for the conformance suite and the outage harness.
package logscan

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
)

// Buffer is an io.Writer that keeps what is written to it. Its zero value
// is empty and ready; it is safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (w *Buffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// String returns everything written so far.
func (w *Buffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// FindSecret reports the first secret that text contains, in whole or as
// any substring of window bytes (a truncated or partly masked token is
// still a leak), or "" if none does. The report names the secret only by
// its index, length and position, never by value.
func FindSecret(text string, secrets []string, window int) string {
	subs := map[string]int{}
	for i, s := range secrets {
		if len(s) == 0 {
			continue
		}
		if len(s) <= window {
			if strings.Contains(text, s) {
				return fmt.Sprintf("secret #%d (%d bytes) appears whole", i, len(s))
			}
			continue
		}
		for j := 0; j+window <= len(s); j++ {
			subs[s[j:j+window]] = i
		}
	}
	if len(subs) == 0 {
		return ""
	}
	for j := 0; j+window <= len(text); j++ {
		if i, ok := subs[text[j:j+window]]; ok {
			return fmt.Sprintf("%d bytes of secret #%d (%d bytes) at offset %d of the log", window, i, len(secrets[i]), j)
		}
	}
	return ""
}
