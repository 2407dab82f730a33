package mlerr

import (
	"slices"
	"sync"
	"time"
)

// Collector gathers the outcome of a batch processed by concurrent workers:
// each worker reports each item it handled with Succeed or Fail, and Result
// returns the items that succeeded and the *BatchError of those that failed,
// following the BatchError convention. All methods are safe for concurrent
// use. The zero Collector is not usable; call NewCollector.
type Collector[T any] struct {
	mu        sync.Mutex
	total     int
	succeeded []indexed[T]
	failures  []Failure[T]
	now       func() time.Time
}

// indexed is a successful item with its index in the batch.
type indexed[T any] struct {
	index int
	item  T
}

// NewCollector returns a Collector for a batch of total items.
func NewCollector[T any](total int) *Collector[T] {
	return &Collector[T]{total: total, now: time.Now}
}

// Succeed records that the item at index succeeded.
func (c *Collector[T]) Succeed(index int, item T) {
	c.mu.Lock()
	c.succeeded = append(c.succeeded, indexed[T]{index, item})
	c.mu.Unlock()
}

// Fail records that the item at index failed for reason (which may be empty:
// see NewBatchError) because of cause (which may be nil), now.
func (c *Collector[T]) Fail(index int, item T, reason string, cause error) {
	c.Add(Failure[T]{Item: item, Index: index, Reason: reason, Cause: cause})
}

// Add records a failure as given; a zero Time is set to now, a zero Code and
// an empty Reason are derived as NewBatchError does.
func (c *Collector[T]) Add(f Failure[T]) {
	if f.Time.IsZero() {
		f.Time = c.now()
	}
	c.mu.Lock()
	c.failures = append(c.failures, f)
	c.mu.Unlock()
}

// Result returns the items that succeeded, in the order of their index, and
// the error for those that failed (nil when none did). The Collector may go
// on collecting; a later Result includes what was added since.
func (c *Collector[T]) Result() ([]T, *BatchError[T]) {
	c.mu.Lock()
	ok := slices.Clone(c.succeeded)
	failures := slices.Clone(c.failures)
	total := c.total
	c.mu.Unlock()

	slices.SortStableFunc(ok, func(a, b indexed[T]) int { return a.index - b.index })
	items := make([]T, len(ok))
	for i := range ok {
		items[i] = ok[i].item
	}
	if n := len(ok) + len(failures); total < n {
		total = n
	}
	return items, NewBatchError(total, failures)
}
