package mlerr

import (
	"math"
	"sync/atomic"
)

// Budget is a retry budget: a token bucket shared by every caller of one
// client, so that when most calls fail, retries slow down to a trickle
// instead of multiplying the load on a sick server.
//
// Each first attempt deposits Ratio of a token; each retry withdraws a whole
// one; the bucket holds at most Capacity tokens and starts full. With
// Ratio 0.1, retries add at most 10% to the traffic once the initial
// Capacity is spent. An empty budget never refuses a first attempt: Retry
// just stops retrying, with stopBudget. A Budget is safe for concurrent use
// and never allocates.
//
// The Runs whose retry policies share a Budget also share one in-flight
// window (see Limits.InFlight): a 429 or 503 answer to any of them halves
// how many batches each may have in flight, and acknowledged writes raise
// it again, one batch per 8, up to each run's InFlight.
type Budget struct {
	milli    atomic.Int64 // tokens × 1000
	ratio    int64        // deposit per first attempt, in milli-tokens
	capacity int64        // in milli-tokens
	win      window       // the in-flight window of the runs sharing the budget
}

// NewBudget returns a full budget that earns ratio tokens per first attempt
// (clamped to [0, 1]; 0.1 means one retry per ten calls in the long run) and
// holds at most capacity tokens (at least 1), the burst of retries allowed
// after a quiet period.
func NewBudget(ratio float64, capacity int) *Budget {
	if !(ratio > 0) { // NaN too
		ratio = 0
	}
	if ratio > 1 {
		ratio = 1
	}
	if capacity < 1 {
		capacity = 1
	}
	if capacity > math.MaxInt64/2000 {
		capacity = math.MaxInt64 / 2000
	}
	b := &Budget{ratio: int64(math.Round(ratio * 1000)), capacity: int64(capacity) * 1000}
	b.milli.Store(b.capacity)
	return b
}

// Tokens returns the retries the budget would allow now.
func (b *Budget) Tokens() float64 { return float64(b.milli.Load()) / 1000 }

// deposit credits one first attempt.
func (b *Budget) deposit() {
	if b.ratio == 0 {
		return
	}
	for {
		cur := b.milli.Load()
		if cur >= b.capacity {
			return
		}
		next := min(cur+b.ratio, b.capacity)
		if b.milli.CompareAndSwap(cur, next) {
			return
		}
	}
}

// withdraw takes one token for a retry, reporting false when there is none.
func (b *Budget) withdraw() bool {
	for {
		cur := b.milli.Load()
		if cur < 1000 {
			return false
		}
		if b.milli.CompareAndSwap(cur, cur-1000) {
			return true
		}
	}
}
