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
	succeeded []success[T]
	failures  []failure[T]
	now       func() time.Time
}

// success is a reported success with its order of arrival.
type success[T any] struct {
	seq   uint64
	index int
	item  T
}

// failure is a reported failure with its order of arrival.
type failure[T any] struct {
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
	c.succeeded = append(c.succeeded, success[T]{c.seq, index, item})
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
	c.failures = append(c.failures, failure[T]{c.seq, f})
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

	ok = latest(ok, func(s success[T]) (int, uint64) { return s.index, s.seq })
	bad = latest(bad, func(f failure[T]) (int, uint64) { return f.f.Index, f.seq })
	items := make([]T, 0, len(ok))
	failures := make([]Failure[T], 0, len(bad))
	i, j := 0, 0
	for i < len(ok) || j < len(bad) {
		switch {
		case j == len(bad) || i < len(ok) && ok[i].index < bad[j].f.Index:
			items = append(items, ok[i].item)
			i++
		case i == len(ok) || bad[j].f.Index < ok[i].index:
			failures = append(failures, bad[j].f)
			j++
		default: // both for one index: the later report wins
			if ok[i].seq > bad[j].seq {
				items = append(items, ok[i].item)
			} else {
				failures = append(failures, bad[j].f)
			}
			i++
			j++
		}
	}
	if n := len(items) + len(failures); total < n {
		total = n
	}
	if n := len(ok); n > 0 && total <= ok[n-1].index {
		total = ok[n-1].index + 1
	}
	return items, NewBatchError(total, failures)
}

// latest sorts reports by index, then order of arrival, and keeps the last
// report of each index.
func latest[R any](rs []R, key func(R) (index int, seq uint64)) []R {
	slices.SortFunc(rs, func(a, b R) int {
		ai, as := key(a)
		bi, bs := key(b)
		if c := cmp.Compare(ai, bi); c != 0 {
			return c
		}
		return cmp.Compare(as, bs)
	})
	out := rs[:0]
	for _, r := range rs {
		i, _ := key(r)
		if n := len(out); n > 0 {
			if prev, _ := key(out[n-1]); prev == i {
				out[n-1] = r
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
