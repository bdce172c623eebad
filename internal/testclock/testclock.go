// Package testclock is a manually advanced clock for tests of timeouts:
// the test moves time forward instead of sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock is a manually advanced clock. Its zero value reads the zero time;
// New returns one reading the present. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a Clock reading the present.
func New() *Clock { return &Clock{t: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (backwards if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
