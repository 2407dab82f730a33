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
	var tried, kept []Failure[T]
	if retry == nil {
		tried = be.Failures
	} else {
		for _, f := range be.Failures {
			if retry(f) {
				tried = append(tried, f)
			} else {
				kept = append(kept, f)
			}
		}
	}
	if len(tried) == 0 {
		return nil, newRetriedError(be.Total, kept, nil)
	}
	items := make([]T, len(tried))
	for i := range tried {
		items[i] = tried[i].Item
	}

	opErr := op(ctx, items)
	if nilBE, ok := opErr.(*BatchError[T]); opErr == nil || ok && nilBE == nil {
		return items, newRetriedError(be.Total, kept, nil)
	}

	var inner *BatchError[T]
	if !errors.As(opErr, &inner) || inner == nil {
		return nil, newRetriedError(be.Total, kept, allFailedWith(tried, opErr))
	}
	failedAt := make([]bool, len(items))
	for i := range inner.Failures {
		j := inner.Failures[i].Index
		if j < 0 || j >= len(items) || failedAt[j] {
			cause := Errorf(CodeInternalError, "retrying %d failed items: the operation reported item index %d twice or outside [0,%d): %w",
				len(items), j, len(items), opErr)
			return nil, newRetriedError(be.Total, kept, allFailedWith(tried, cause))
		}
		failedAt[j] = true
	}
	still := make([]Failure[T], 0, len(inner.Failures))
	for i := range inner.Failures {
		f := inner.Failures[i]
		j := f.Index
		f.Index = tried[j].Index
		f.Item = tried[j].Item
		still = append(still, f)
	}
	succeeded = make([]T, 0, len(items)-len(still))
	for j, item := range items {
		if !failedAt[j] {
			succeeded = append(succeeded, item)
		}
	}
	return succeeded, newRetriedError(be.Total, kept, still)
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
