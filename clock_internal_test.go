package mlerr

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

// The system clock's Sleep returns as soon as the context ends.
func TestSystemClockSleepCanceled(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := systemClock{}
	assert.WithinDuration(t, time.Now(), clk.Now(), time.Minute)
	assert.NoError(t, clk.Sleep(context.Background(), 0), "a zero sleep returns at once")
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	assert.ErrorIs(t, clk.Sleep(ctx, time.Hour), context.Canceled) // hangs for an hour if broken
	assert.ErrorIs(t, clk.Sleep(ctx, 0), context.Canceled, "done context wins over a zero sleep")
}
