package mlerrtest

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Clock is an mlerr.Clock for tests: its time stands still until Sleep or
// Advance moves it, and Sleep returns at once, so retries, backoffs and a
// Run's timers take no real time. Pass it to mlerr.WithClock or set it as
// mlerr.Policy.Clock. The zero value is not usable: call NewClock.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// Epoch is the time NewClock starts at.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewClock returns a Clock at Epoch.
func NewClock() *Clock { return &Clock{now: Epoch} }

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

// Advance moves the clock d forward, as time passing outside a Sleep.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleeps returns the durations of the Sleep calls so far, in order: a
// retry strategy's backoffs.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}
