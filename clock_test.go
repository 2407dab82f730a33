package mlerr_test

import (
	"context"
	"sync"
	"time"
)

// fakeClock is a Clock whose time moves only when told: Sleep advances it at
// once (recording the wait), or, in blocking mode, waits for the context to
// end. No test sleeps for real.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	block  bool               // Sleep waits for ctx instead of advancing
	asleep chan time.Duration // in blocking mode, told of each Sleep
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	block := c.block
	if !block {
		c.now = c.now.Add(d)
	}
	c.mu.Unlock()
	if !block {
		return ctx.Err()
	}
	if c.asleep != nil {
		c.asleep <- d
	}
	<-ctx.Done()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}
