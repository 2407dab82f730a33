package mlerrtest

import (
	"context"
	"time"

	"github.com/mlerr/mlerr/internal/fakeclock"
)

// Clock is an mlerr.Clock for tests: its time stands still until Sleep or
// Advance moves it, and Sleep returns at once, so retries, backoffs and a
// Run's timers take no real time. Pass it to mlerr.WithClock or set it as
// mlerr.Policy.Clock. The zero value is not usable: call NewClock.
type Clock struct {
	c *fakeclock.Clock
}

// Epoch is the time NewClock starts at.
var Epoch = fakeclock.Epoch

// NewClock returns a Clock at Epoch.
func NewClock() *Clock { return &Clock{c: fakeclock.New()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.c.Now() }

// Sleep moves the clock d forward (d <= 0: not at all), records d and
// returns at once; when ctx is done it returns ctx's error and moves
// nothing. It yields the processor, so that a loop of sleeps lets other
// goroutines run.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error { return c.c.Sleep(ctx, d) }

// Advance moves the clock d forward, as time passing outside a Sleep.
func (c *Clock) Advance(d time.Duration) { c.c.Advance(d) }

// Sleeps returns the durations of the Sleep calls so far, in order: a
// retry strategy's backoffs.
func (c *Clock) Sleeps() []time.Duration { return c.c.Sleeps() }
