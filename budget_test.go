package mlerr_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestNewBudgetClamps(t *testing.T) {
	tests := []struct {
		ratio    float64
		capacity int
		tokens   float64
	}{
		{0.1, 10, 10},
		{0.1, 0, 1},
		{0.1, -5, 1},
		{-1, 3, 3},
		{2, 3, 3},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.tokens, mlerr.NewBudget(tt.ratio, tt.capacity).Tokens(), "NewBudget(%v, %d) starts full", tt.ratio, tt.capacity)
	}
}

// runAlwaysFailing makes calls calls that always fail with a transient error
// and no wait, and returns how many attempts were made and how many calls
// stopped because the budget was empty.
func runAlwaysFailing(t *testing.T, b *mlerr.Budget, calls int) (attempts, budgetStops int) {
	t.Helper()
	p := mlerr.Policy{InitialDelay: mlerr.Off, AttemptTimeout: mlerr.Off, Budget: b, MaxAttempts: 10}
	for range calls {
		err := mlerr.Retry(context.Background(), p, func(context.Context) error {
			attempts++
			return errUnavailable
		})
		var re *mlerr.RetryError
		require.ErrorAs(t, err, &re)
		if re.Reason == "budget" {
			budgetStops++
		}
	}
	return attempts, budgetStops
}

// Under 100% failure, retries shrink to a trickle: after the initial burst
// (capacity), one retry per 1/ratio calls. First attempts are never refused.
func TestBudgetUnderTotalFailure(t *testing.T) {
	const calls = 1000
	without, _ := runAlwaysFailing(t, nil, calls)
	assert.Equal(t, calls*10, without, "without a budget every call makes 10 attempts")

	b := mlerr.NewBudget(0.1, 10)
	with, stops := runAlwaysFailing(t, b, calls)
	retries := with - calls
	assert.LessOrEqual(t, retries, 10+calls/10, "burst + ratio × calls")
	assert.GreaterOrEqual(t, retries, calls/10, "a trickle, not a stop: retries keep probing the server")
	assert.Greater(t, stops, calls*8/10, "most calls give up for the budget")
	assert.Less(t, b.Tokens(), 1.0)

	// the last 100 calls: a steady trickle of about 1 retry per 10 calls
	before := with
	with, _ = runAlwaysFailing(t, b, 100)
	assert.InDelta(t, 100+10, with, 2, "100 first attempts, about 10 retries (after %d)", before)
}

// Successful first attempts refill the budget, up to its capacity.
func TestBudgetRefills(t *testing.T) {
	b := mlerr.NewBudget(0.5, 4)
	runAlwaysFailing(t, b, 10)
	require.Less(t, b.Tokens(), 1.0)
	ok := mlerr.Policy{AttemptTimeout: mlerr.Off, Budget: b}
	for range 4 {
		require.NoError(t, mlerr.Retry(context.Background(), ok, func(context.Context) error { return nil }))
	}
	assert.GreaterOrEqual(t, b.Tokens(), 2.0)
	for range 100 {
		require.NoError(t, mlerr.Retry(context.Background(), ok, func(context.Context) error { return nil }))
	}
	assert.Equal(t, 4.0, b.Tokens(), "never above capacity")
}

// Many goroutines share one budget (run with -race): the retries granted
// never exceed what was deposited plus the initial tokens.
func TestBudgetConcurrent(t *testing.T) {
	const workers, callsEach = 8, 200
	b := mlerr.NewBudget(0.1, 20)
	p := mlerr.Policy{InitialDelay: mlerr.Off, AttemptTimeout: mlerr.Off, Budget: b, MaxAttempts: 5}
	var attempts atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range callsEach {
				_ = mlerr.Retry(context.Background(), p, func(context.Context) error {
					attempts.Add(1)
					return errUnavailable
				})
			}
		}()
	}
	wg.Wait()
	retries := attempts.Load() - workers*callsEach
	assert.LessOrEqual(t, retries, int64(20+workers*callsEach/10))
	assert.GreaterOrEqual(t, retries, int64(workers*callsEach/10))
}
