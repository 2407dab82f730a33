package mlerr

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Collector gathers the outcome of a batch processed by concurrent workers:
// each worker reports each item it handled with Succeed or Fail, and Result
// returns the items that succeeded and the *BatchError of those that failed,
// following the BatchError convention. All methods are safe for concurrent
// use. The zero Collector is not usable; call NewCollector.
//
// When an index is reported more than once (a worker that retries an item
// itself, say), the last report wins: an item that failed and then
// succeeded counts as succeeded.
type Collector[T any] struct {
	mu        sync.Mutex
	total     int
	seq       uint64
	succeeded []collectedSuccess[T]
	failures  []collectedFailure[T]
	now       func() time.Time
}

// collectedSuccess is a reported success with its order of arrival.
type collectedSuccess[T any] struct {
	seq   uint64
	index int
	item  T
}

// collectedFailure is a reported failure with its order of arrival.
type collectedFailure[T any] struct {
	seq uint64
	f   Failure[T]
}

// NewCollector returns a Collector for a batch of total items.
func NewCollector[T any](total int) *Collector[T] {
	return &Collector[T]{total: total, now: time.Now}
}

// Succeed records that the item at index succeeded.
func (c *Collector[T]) Succeed(index int, item T) {
	c.mu.Lock()
	c.seq++
	c.succeeded = append(c.succeeded, collectedSuccess[T]{c.seq, index, item})
	c.mu.Unlock()
}

// Fail records that the item at index failed, now, for reason (which may be
// empty: see NewBatchError) because of cause (which may be nil).
func (c *Collector[T]) Fail(index int, item T, reason string, cause error) {
	c.Add(Failure[T]{Item: item, Index: index, Reason: reason, Cause: cause})
}

// Add records a failure as given. A zero Time is set to now; a zero Code and
// an empty Reason are derived as NewBatchError does.
func (c *Collector[T]) Add(f Failure[T]) {
	if f.Time.IsZero() {
		f.Time = c.now()
	}
	c.mu.Lock()
	c.seq++
	c.failures = append(c.failures, collectedFailure[T]{c.seq, f})
	c.mu.Unlock()
}

// Result returns the items that succeeded, in the order of their index, and
// the error for those that failed (nil when none did), whose Total is the
// total given to NewCollector (raised, if need be, to cover every index
// reported). Result does not reset the Collector: a later call includes what
// was reported since.
func (c *Collector[T]) Result() ([]T, *BatchError[T]) {
	c.mu.Lock()
	ok := slices.Clone(c.succeeded)
	bad := slices.Clone(c.failures)
	total := c.total
	c.mu.Unlock()

	ok = lastReportPerIndex(ok, func(s collectedSuccess[T]) (int, uint64) { return s.index, s.seq })
	bad = lastReportPerIndex(bad, func(f collectedFailure[T]) (int, uint64) { return f.f.Index, f.seq })
	items, failures := mergeReports(ok, bad)
	total = max(total, len(items)+len(failures))
	if n := len(ok); n > 0 {
		total = max(total, ok[n-1].index+1)
	}
	return items, NewBatchError(total, failures)
}

// mergeReports merges the successes and the failures, each sorted by index
// with one report per index, into the items that succeeded and the failures,
// in index order; for an index reported both ways, the later report wins.
func mergeReports[T any](ok []collectedSuccess[T], bad []collectedFailure[T]) ([]T, []Failure[T]) {
	items := make([]T, 0, len(ok))
	failures := make([]Failure[T], 0, len(bad))
	for len(ok) > 0 || len(bad) > 0 {
		switch next := nextReport(ok, bad); {
		case next < 0:
			items = append(items, ok[0].item)
			ok = ok[1:]
		case next > 0:
			failures = append(failures, bad[0].f)
			bad = bad[1:]
		default:
			items, failures = appendLater(items, failures, ok[0], bad[0])
			ok, bad = ok[1:], bad[1:]
		}
	}
	return items, failures
}

// appendLater appends, of a success and a failure reported for one index,
// the one reported last.
func appendLater[T any](items []T, failures []Failure[T], s collectedSuccess[T], f collectedFailure[T]) ([]T, []Failure[T]) {
	if s.seq > f.seq {
		return append(items, s.item), failures
	}
	return items, append(failures, f.f)
}

// nextReport compares the first success and the first failure left: below 0
// when the success comes first (or no failure is left), above 0 when the
// failure does, 0 when both are for one index.
func nextReport[T any](ok []collectedSuccess[T], bad []collectedFailure[T]) int {
	switch {
	case len(bad) == 0:
		return -1
	case len(ok) == 0:
		return 1
	}
	return cmp.Compare(ok[0].index, bad[0].f.Index)
}

// lastReportPerIndex sorts reports by index and keeps the last report of
// each index (orders of arrival are unique).
func lastReportPerIndex[R any](rs []R, key func(R) (index int, seq uint64)) []R {
	// By index, the latest report first: compacting keeps the first of each
	// index.
	slices.SortFunc(rs, func(a, b R) int {
		ai, as := key(a)
		bi, bs := key(b)
		return cmp.Or(cmp.Compare(ai, bi), cmp.Compare(bs, as))
	})
	return slices.CompactFunc(rs, func(a, b R) bool {
		ai, _ := key(a)
		bi, _ := key(b)
		return ai == bi
	})
}
