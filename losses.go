package mlerr

import "time"

// maxEventItems bounds the lost items one event lists (LostItems); the
// exact number lost is its "lost" detail (LostCount). An outage that drops
// millions of points keeps a bounded record.
const maxEventItems = 1000

// lossRecord gathers the items one event says were lost: the first
// maxEventItems of them, and how many in all.
type lossRecord struct {
	failures []Failure[Item]
	n        int64
}

// add1 records one lost item.
func (l *lossRecord) add1(it *Item, reason string, code Code, cause error, now time.Time) {
	l.n++
	if len(l.failures) < maxEventItems {
		l.failures = append(l.failures, Failure[Item]{Item: *it, Index: len(l.failures), Reason: reason, Code: code, Time: now, Cause: cause})
	}
}

// add records lost items, all for one reason.
func (l *lossRecord) add(items []Item, reason string, code Code, cause error, now time.Time) {
	for i := range items {
		l.add1(&items[i], reason, code, cause, now)
	}
}

// batch returns the *BatchError[Item] of the items recorded, or nil.
func (l *lossRecord) batch() error {
	if be := NewBatchError(len(l.failures), l.failures); be != nil {
		return be
	}
	return nil
}

// wrap returns the event's error: of kind k and code c, saying msg, caused
// by the *BatchError[Item] of the items recorded, with the exact count as
// its "lost" detail.
func (l *lossRecord) wrap(c Code, k *Kind, msg string) *Error {
	return newError(c, k, msg, l.batch()).WithDetail("lost", l.n)
}
