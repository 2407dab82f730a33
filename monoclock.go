package mlerr

import (
	"context"
	"sync/atomic"
	"time"
)

// monoRebase is how long monoClock derives the wall time from the monotonic
// clock before it reads the wall clock again.
const monoRebase = time.Second

// monoClock is a Run's default clock. Its Now reads only the monotonic
// clock and adds the elapsed time to a wall time read at most a second
// before: time.Now reads both clocks, and on a virtual machine each read can
// cost several times an uncontended mutex, which matters on a log call's
// path. A wall clock step (NTP) is seen within a second, a slew of at most
// 0.5 ms/s is absorbed at each re-read. Sleep is the system clock's.
type monoClock struct {
	base atomic.Pointer[monoBase]
}

// monoBase is a wall time and the monotonic reading taken with it.
type monoBase struct {
	wall int64     // Unix nanoseconds
	mono time.Time // carries the monotonic reading
}

func newMonoClock() *monoClock {
	c := &monoClock{}
	c.rebase()
	return c
}

func (c *monoClock) rebase() *monoBase {
	now := time.Now()
	b := &monoBase{wall: now.UnixNano(), mono: now}
	c.base.Store(b)
	return b
}

// Now returns the current wall time, without a monotonic reading.
func (c *monoClock) Now() time.Time {
	b := c.base.Load()
	d := time.Since(b.mono)
	if d >= monoRebase || d < 0 {
		b = c.rebase()
		d = 0
	}
	return time.Unix(0, b.wall+int64(d))
}

// Sleep is the system clock's Sleep.
func (c *monoClock) Sleep(ctx context.Context, d time.Duration) error {
	return systemClock{}.Sleep(ctx, d)
}
