package mlerr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestConstructors(t *testing.T) {
	base := errors.New("disk full")
	other := errors.New("quota")
	tests := []struct {
		name    string
		err     *mlerr.Error
		code    mlerr.Code
		message string
		text    string // Error()
		cause   error  // what Unwrap returns; nil for none
		is      []error
	}{
		{"New", mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found"),
			mlerr.CodeResourceDoesNotExist, "Run 42 not found", "RESOURCE_DOES_NOT_EXIST: Run 42 not found", nil,
			[]error{mlerr.CodeResourceDoesNotExist}},
		{"New without message", mlerr.New(mlerr.CodeAborted, ""),
			mlerr.CodeAborted, "", "ABORTED", nil, []error{mlerr.CodeAborted}},
		{"New with unknown code", mlerr.New(mlerr.Code(77), "m"),
			mlerr.Code(77), "m", "Code(77): m", nil, []error{mlerr.Code(77)}},
		{"Errorf without %w", mlerr.Errorf(mlerr.CodeBadRequest, "bad %s (%d)", "x", 3),
			mlerr.CodeBadRequest, "bad x (3)", "BAD_REQUEST: bad x (3)", nil, nil},
		{"Errorf with %w", mlerr.Errorf(mlerr.CodeIOError, "writing run %s: %w", "abc", base),
			mlerr.CodeIOError, "writing run abc: disk full", "IO_ERROR: writing run abc: disk full", base,
			[]error{base, mlerr.CodeIOError}},
		{"Errorf with %v of an error does not wrap", mlerr.Errorf(mlerr.CodeIOError, "writing: %v", base),
			mlerr.CodeIOError, "writing: disk full", "IO_ERROR: writing: disk full", nil, nil},
		{"Errorf with two %w", mlerr.Errorf(mlerr.CodeIOError, "%w and %w", base, other),
			mlerr.CodeIOError, "disk full and quota", "IO_ERROR: disk full and quota", nil,
			[]error{base, other}},
		{"InvalidParameterValue", mlerr.InvalidParameterValue("Invalid value %q for parameter '%s'", "x y", "name"),
			mlerr.CodeInvalidParameterValue, `Invalid value "x y" for parameter 'name'`,
			`INVALID_PARAMETER_VALUE: Invalid value "x y" for parameter 'name'`, nil,
			[]error{mlerr.CodeInvalidParameterValue}},
		{"Wrap", mlerr.Wrap(base, mlerr.CodeIOError, "saving checkpoint").(*mlerr.Error),
			mlerr.CodeIOError, "saving checkpoint", "IO_ERROR: saving checkpoint: disk full", base,
			[]error{base, mlerr.CodeIOError}},
		{"Wrap without message", mlerr.Wrap(base, mlerr.CodeIOError, "").(*mlerr.Error),
			mlerr.CodeIOError, "", "IO_ERROR: disk full", base, []error{base}},
		{"WithCause whose text is in the message", mlerr.New(mlerr.CodeIOError, "save: disk full").WithCause(base),
			mlerr.CodeIOError, "save: disk full", "IO_ERROR: save: disk full", base, []error{base}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.err
			assert.Equal(t, tt.code, e.Code())
			assert.Equal(t, tt.message, e.Message())
			assert.Equal(t, tt.text, e.Error())
			switch {
			case tt.cause != nil:
				assert.Same(t, tt.cause, e.Unwrap())
			case len(tt.is) > 1: // two %w: the cause holds both operands
				assert.NotNil(t, e.Unwrap())
			default:
				assert.Nil(t, e.Unwrap())
			}
			for _, target := range tt.is {
				assert.ErrorIs(t, e, target)
			}
			assert.ErrorIs(t, e, tt.code)
			assert.NotErrorIs(t, e, mlerr.CodeDataLoss)
			assert.Nil(t, e.Kind())
			assert.Equal(t, tt.code.HTTPStatus(), e.HTTPStatus())
			assert.Zero(t, e.RetryAfter())
			assert.Nil(t, e.Details())
			assert.Equal(t, tt.code, mlerr.CodeOf(e))
		})
	}
}

func TestWrapNil(t *testing.T) {
	assert.Nil(t, mlerr.Wrap(nil, mlerr.CodeIOError, "x"))
	assert.NoError(t, mlerr.Wrap(nil, mlerr.CodeIOError, "x"))
	assert.Nil(t, mlerr.ErrRest.Wrap(nil, "x"))
}

func TestWithCopies(t *testing.T) {
	orig := mlerr.New(mlerr.CodeTemporarilyUnavailable, "busy").WithDetail("a", 1)
	cause := io.ErrUnexpectedEOF

	withDetail := orig.WithDetail("b", []string{"x"})
	withKind := orig.WithKind(mlerr.ErrNetwork)
	withCause := orig.WithCause(cause)
	withStatus := orig.WithHTTPStatus(502)
	withRetry := orig.WithRetryAfter(3 * time.Second)

	// The original is unchanged.
	assert.Len(t, orig.Details(), 1)
	assert.Nil(t, orig.Kind())
	assert.Nil(t, orig.Unwrap())
	assert.Equal(t, 503, orig.HTTPStatus())
	assert.Zero(t, orig.RetryAfter())

	// Each copy has its change and keeps the rest.
	for _, c := range []*mlerr.Error{withDetail, withKind, withCause, withStatus, withRetry} {
		assert.NotSame(t, orig, c)
		assert.Equal(t, mlerr.CodeTemporarilyUnavailable, c.Code())
		assert.Equal(t, "busy", c.Message())
		var a int
		assert.True(t, c.Detail("a", &a))
		assert.Equal(t, 1, a)
	}
	var b []string
	assert.True(t, withDetail.Detail("b", &b))
	assert.Equal(t, []string{"x"}, b)
	assert.Same(t, mlerr.ErrNetwork, withKind.Kind())
	assert.ErrorIs(t, withKind, mlerr.ErrNetwork)
	assert.Same(t, cause, withCause.Unwrap())
	assert.ErrorIs(t, withCause, io.ErrUnexpectedEOF)
	assert.Equal(t, "TEMPORARILY_UNAVAILABLE: busy: unexpected EOF", withCause.Error())
	assert.Equal(t, 502, withStatus.HTTPStatus())
	assert.Equal(t, 503, withStatus.WithHTTPStatus(0).HTTPStatus(), "0 clears the observed status")
	assert.Equal(t, 3*time.Second, withRetry.RetryAfter())

	// A detail that cannot be JSON keeps its text.
	odd := orig.WithDetail("ch", make(chan int))
	var s string
	assert.True(t, odd.Detail("ch", &s))
	assert.Contains(t, s, "0x")
	assert.True(t, json.Valid(odd.Details()["ch"]))
	assert.False(t, odd.Detail("missing", &s))
	var n int
	assert.False(t, odd.Detail("ch", &n), "wrong type")
}

// deep wraps err in n layers of fmt.Errorf %w, alternating with errors.Join.
func deep(err error, n int) error {
	for i := range n {
		if i%2 == 0 {
			err = fmt.Errorf("layer %d: %w", i, err)
		} else {
			err = errors.Join(errors.New("unrelated"), err)
		}
	}
	return err
}

func TestIsAsThroughWrapping(t *testing.T) {
	leaf := mlerr.ErrTraceDataNotFound.New("trace 7 not found").WithDetail("trace_id", "7")
	for _, depth := range []int{0, 1, 2, 5, 20, 60} {
		err := deep(leaf, depth)
		t.Run(fmt.Sprint(depth), func(t *testing.T) {
			assert.ErrorIs(t, err, mlerr.CodeNotFound)
			assert.ErrorIs(t, err, mlerr.ErrTraceDataNotFound)
			assert.ErrorIs(t, err, mlerr.ErrTraceData)
			assert.ErrorIs(t, err, mlerr.ErrTracing)
			assert.NotErrorIs(t, err, mlerr.ErrTraceDataCorrupted)
			assert.NotErrorIs(t, err, mlerr.ErrRest)
			assert.NotErrorIs(t, err, mlerr.CodeResourceDoesNotExist)

			var e *mlerr.Error
			require.ErrorAs(t, err, &e)
			assert.Same(t, leaf, e)
			assert.Same(t, leaf, mlerr.AsError(err))
			assert.Equal(t, mlerr.CodeNotFound, mlerr.CodeOf(err))
			assert.Equal(t, 404, mlerr.HTTPStatusOf(err))
		})
	}
}

func TestJoinFindsFirst(t *testing.T) {
	a := mlerr.New(mlerr.CodeResourceExhausted, "a").WithHTTPStatus(429)
	b := mlerr.New(mlerr.CodeDataLoss, "b")
	err := errors.Join(errors.New("plain"), fmt.Errorf("x: %w", a), b)
	assert.Equal(t, mlerr.CodeResourceExhausted, mlerr.CodeOf(err))
	assert.Same(t, a, mlerr.AsError(err))
	assert.Equal(t, 429, mlerr.HTTPStatusOf(err))
	assert.ErrorIs(t, err, mlerr.CodeDataLoss, "errors.Is sees every branch")
	assert.ErrorIs(t, err, mlerr.CodeResourceExhausted)
}

// ownCoder has a Code method of its own, as BatchError does.
type ownCoder struct{ inner error }

func (c ownCoder) Error() string    { return "ownCoder" }
func (c ownCoder) Code() mlerr.Code { return mlerr.CodeAborted }
func (c ownCoder) Unwrap() error    { return c.inner }

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want mlerr.Code
		http int
	}{
		{"nil", nil, 0, 200},
		{"*Error", mlerr.New(mlerr.CodePermissionDenied, "no"), mlerr.CodePermissionDenied, 403},
		{"bare Code", mlerr.CodeRequestLimitExceeded, mlerr.CodeRequestLimitExceeded, 429},
		{"wrapped Code", fmt.Errorf("x: %w", mlerr.CodeUnauthenticated), mlerr.CodeUnauthenticated, 401},
		{"a kind", mlerr.ErrRunNotFound, mlerr.CodeResourceDoesNotExist, 404},
		{"a wrapped kind", fmt.Errorf("x: %w", mlerr.ErrQueueFull), mlerr.CodeResourceExhausted, 429},
		{"own Code method", ownCoder{mlerr.New(mlerr.CodeDataLoss, "inner")}, mlerr.CodeAborted, 409},
		{"context.Canceled", context.Canceled, mlerr.CodeCancelled, 499},
		{"wrapped context.Canceled", fmt.Errorf("query: %w", context.Canceled), mlerr.CodeCancelled, 499},
		{"context.DeadlineExceeded", context.DeadlineExceeded, mlerr.CodeDeadlineExceeded, 504},
		{"joined DeadlineExceeded", errors.Join(io.EOF, context.DeadlineExceeded), mlerr.CodeDeadlineExceeded, 504},
		{"*Error before context", mlerr.Wrap(context.Canceled, mlerr.CodeAborted, "stop"), mlerr.CodeAborted, 409},
		{"plain error", io.EOF, mlerr.CodeInternalError, 500},
		{"observed status", fmt.Errorf("x: %w", mlerr.New(mlerr.CodeInternalError, "gw").WithHTTPStatus(502)), mlerr.CodeInternalError, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mlerr.CodeOf(tt.err))
			assert.Equal(t, tt.http, mlerr.HTTPStatusOf(tt.err))
		})
	}
	assert.Nil(t, mlerr.AsError(nil))
	assert.Nil(t, mlerr.AsError(io.EOF))
	assert.Nil(t, mlerr.AsError(mlerr.CodeAborted))
}

func TestCodeOfContextFromRealContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Equal(t, mlerr.CodeCancelled, mlerr.CodeOf(ctx.Err()))
	ctx, cancel = context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	assert.Equal(t, mlerr.CodeDeadlineExceeded, mlerr.CodeOf(ctx.Err()))
	assert.Equal(t, mlerr.CodeDeadlineExceeded, mlerr.CodeOf(context.Cause(ctx)))
}

// loop unwraps to itself; fork joins itself twice.
type loop struct{}

func (l *loop) Error() string { return "loop" }
func (l *loop) Unwrap() error { return l }

type fork struct{}

func (f *fork) Error() string   { return "fork" }
func (f *fork) Unwrap() []error { return []error{f, f} }

func TestCyclesAreBounded(t *testing.T) {
	for _, err := range []error{&loop{}, &fork{}, fmt.Errorf("x: %w", &fork{})} {
		assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(err))
		assert.Nil(t, mlerr.AsError(err))
		assert.Equal(t, 500, mlerr.HTTPStatusOf(err))
	}
	// A code deep in a very long chain is past the bound (10,000 errors):
	// CodeOf gives up rather than walking forever.
	long := chained(mlerr.New(mlerr.CodeDataLoss, "deep"), 10_000)
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(long))
	assert.ErrorIs(t, long, mlerr.CodeDataLoss, "errors.Is itself has no bound")
}

// link wraps an error without formatting it, so that a chain of 10,000
// costs no quadratic text.
type link struct{ err error }

func (l *link) Error() string { return "link" }
func (l *link) Unwrap() error { return l.err }

// chained wraps err in n links.
func chained(err error, n int) error {
	for range n {
		err = &link{err}
	}
	return err
}

// TestOneBoundForEveryWalk: CodeOf, HTTPStatusOf, AsError and Classify look
// at the same 10,000 errors of a tree, so they agree on what it holds: an
// *Error that is the 10,000th error of a chain is seen by all four, one
// further is seen by none.
func TestOneBoundForEveryWalk(t *testing.T) {
	leaf := mlerr.New(mlerr.CodeTemporarilyUnavailable, "down")
	inside := chained(leaf, 9_999)
	assert.Equal(t, mlerr.CodeTemporarilyUnavailable, mlerr.CodeOf(inside))
	assert.Equal(t, 503, mlerr.HTTPStatusOf(inside))
	assert.Same(t, leaf, mlerr.AsError(inside))
	assert.Equal(t, mlerr.Decision{Retry: true, Reason: "code transient"}, mlerr.Classify(inside))

	past := chained(leaf, 10_000)
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(past))
	assert.Equal(t, 500, mlerr.HTTPStatusOf(past))
	assert.Nil(t, mlerr.AsError(past))
	assert.Equal(t, mlerr.Decision{Reason: "not retryable"}, mlerr.Classify(past))

	// The bound counts errors, not depth: a join of two such chains is
	// read up to the 10,000th error in all, into the second one.
	joined := errors.Join(chained(errors.New("x"), 5_000), chained(leaf, 4_997))
	assert.Equal(t, mlerr.CodeTemporarilyUnavailable, mlerr.CodeOf(joined))
	assert.Same(t, leaf, mlerr.AsError(joined))
	joined = errors.Join(chained(errors.New("x"), 5_000), chained(leaf, 4_998))
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(joined))
	assert.Nil(t, mlerr.AsError(joined))
	assert.Equal(t, mlerr.Decision{Reason: "not retryable"}, mlerr.Classify(joined))
}

func TestNoAllocations(t *testing.T) {
	err := deep(mlerr.New(mlerr.CodeResourceDoesNotExist, "x"), 5)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.CodeOf(err) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.AsError(err) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.HTTPStatusOf(err) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.Classify(err) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = errors.Is(err, mlerr.CodeResourceDoesNotExist) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = errors.Is(err, mlerr.ErrTracing) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.CodeForHTTPStatus(404) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.CodeDataLoss.HTTPStatus() }))
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { sinkErr = mlerr.New(mlerr.CodeAborted, "x") }))
}
