package mlerr

import (
	"context"
	"time"
)

// Clock is the time source of Retry and of a Run: a Policy's Clock field
// (nil: the system clock) and WithClock replace the system clock, so that
// tests control time and never sleep for real.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d, or until ctx is done, whichever comes first. It
	// returns nil after a full wait and ctx.Err() when ctx ended it early. A
	// Sleep must return at once when ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// systemClock is the clock of the time package (a nil Policy.Clock): time.Now,
// and a Sleep that arms a timer and stops it when ctx ends first.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
