package mlerr

import (
	"context"
	"errors"
	"time"
)

// RetryFailed calls op once with the items of be that failed and returns
// the items that now succeeded and what still failed, as a new *BatchError
// whose failures keep their ORIGINAL Index and whose Total is be.Total. The
// error is nil when every item succeeded, and RetryFailed(ctx, nil, op)
// does nothing.
//
// op follows the BatchError convention: it returns nil (or a nil
// *BatchError[T]) when all its items succeeded, a *BatchError[T] (possibly wrapped) whose indexes point into
// the slice op was given when some failed, or any other error when all of
// them failed with that cause. A BatchError from op whose indexes do not fit
// its slice is a bug of op: every item is then counted as failed, with an
// INTERNAL_ERROR cause saying so and wrapping op's error.
//
// RetryFailed tries once; to retry with backoff, call it from Retry or wrap
// op. Fix what made the items fail before retrying those that are not
// retryable, or retry only the retryable ones with RetryFailedWhere.
func RetryFailed[T any](ctx context.Context, be *BatchError[T], op func(ctx context.Context, items []T) error) (succeeded []T, err error) {
	return RetryFailedWhere(ctx, be, nil, op)
}

// RetryFailedWhere is RetryFailed for the failures for which retry returns
// true; a nil retry retries them all. The other failures are not tried and
// stay in the returned error unchanged. To retry only what may succeed
// without a fix:
//
//	ok, err := mlerr.RetryFailedWhere(ctx, be, mlerr.Failure[Item].Retryable, upload)
func RetryFailedWhere[T any](ctx context.Context, be *BatchError[T], retry func(Failure[T]) bool, op func(ctx context.Context, items []T) error) (succeeded []T, err error) {
	if be == nil || len(be.Failures) == 0 {
		return nil, nil
	}
	tried, kept := partitionFailures(be.Failures, retry)
	if len(tried) == 0 {
		return nil, newRetriedError(be.Total, kept, nil)
	}
	items := itemsOf(tried)
	succeeded, still := outcomeOf(tried, items, op(ctx, items))
	return succeeded, newRetriedError(be.Total, kept, still)
}

// partitionFailures splits failures into those retry selects (all of them
// for a nil retry) and the others.
func partitionFailures[T any](failures []Failure[T], retry func(Failure[T]) bool) (tried, kept []Failure[T]) {
	if retry == nil {
		return failures, nil
	}
	for _, f := range failures {
		if retry(f) {
			tried = append(tried, f)
		} else {
			kept = append(kept, f)
		}
	}
	return tried, kept
}

// outcomeOf reads op's error for the tried failures, whose items op was
// given: the items that succeeded, and the failures that remain, at their
// original indexes.
func outcomeOf[T any](tried []Failure[T], items []T, opErr error) (succeeded []T, still []Failure[T]) {
	if succeededAll[T](opErr) {
		return items, nil
	}
	inner := asBatchError[T](opErr)
	if inner == nil {
		return nil, allFailedWith(tried, opErr)
	}
	failedAt, bad, ok := failedIndexes(inner, len(items))
	if !ok {
		cause := Errorf(CodeInternalError, "retrying %d failed items: the operation reported item index %d twice or outside [0,%d): %w",
			len(items), bad, len(items), opErr)
		return nil, allFailedWith(tried, cause)
	}
	return mapBack(tried, items, inner.Failures, failedAt)
}

// mapBack returns the items that did not fail again, and the failures again
// (indexed into items) at their original indexes and with their items.
func mapBack[T any](tried []Failure[T], items []T, again []Failure[T], failedAt []bool) (succeeded []T, still []Failure[T]) {
	still = make([]Failure[T], 0, len(again))
	for _, f := range again {
		f.Index, f.Item = tried[f.Index].Index, tried[f.Index].Item
		still = append(still, f)
	}
	succeeded = make([]T, 0, len(items)-len(still))
	for j, item := range items {
		if !failedAt[j] {
			succeeded = append(succeeded, item)
		}
	}
	return succeeded, still
}

// succeededAll reports whether an operation's error says every item
// succeeded: nil, or a nil *BatchError[T].
func succeededAll[T any](err error) bool {
	be, ok := err.(*BatchError[T])
	return err == nil || ok && be == nil
}

// asBatchError returns the first *BatchError[T] in err's chain, or nil
// (also for a nil one).
func asBatchError[T any](err error) *BatchError[T] {
	var be *BatchError[T]
	errors.As(err, &be)
	return be
}

// failedIndexes marks the indexes into a slice of n items that inner reports
// as failed. When one is outside [0,n) or reported twice, it returns that
// index and false.
func failedIndexes[T any](inner *BatchError[T], n int) (failedAt []bool, bad int, ok bool) {
	failedAt = make([]bool, n)
	for _, f := range inner.Failures {
		if j := f.Index; j < 0 || j >= n || failedAt[j] {
			return nil, j, false
		}
		failedAt[f.Index] = true
	}
	return failedAt, 0, true
}

// allFailedWith returns tried as failures anew, all with the cause err.
func allFailedWith[T any](tried []Failure[T], err error) []Failure[T] {
	now := time.Now()
	code := CodeOf(err)
	reason := failureReasonOf(err, code)
	out := make([]Failure[T], len(tried))
	for i, f := range tried {
		out[i] = Failure[T]{Item: f.Item, Index: f.Index, Reason: reason, Code: code, Time: now, Cause: err}
	}
	return out
}

// newRetriedError merges the failures not tried with those that failed again,
// as a BatchError over the original total; nil when both are empty.
func newRetriedError[T any](total int, kept, still []Failure[T]) error {
	all := make([]Failure[T], 0, len(kept)+len(still))
	all = append(append(all, kept...), still...)
	if be := NewBatchError(total, all); be != nil {
		return be
	}
	return nil
}
