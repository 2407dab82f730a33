// Package fakeclock is a clock for tests (it implements mlerr.Clock): time
// stands still until a Sleep or Advance moves it, and Sleep returns at once,
// so retries and backoffs take no real time. It imports nothing of mlerr, so
// that the root package's own tests use it; mlerrtest.Clock is this clock for
// users' tests.
package fakeclock

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Clock is a fake clock, safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// Epoch is the time a new Clock starts at.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// New returns a clock at Epoch.
func New() *Clock { return &Clock{now: Epoch} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the clock d forward (d <= 0: not at all), records d and
// returns at once; when ctx is done it returns ctx's error and moves
// nothing. It yields the processor, so that a loop of sleeps lets other
// goroutines run.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	runtime.Gosched()
	return ctx.Err()
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Sleeps returns the durations of the Sleep calls so far, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}
