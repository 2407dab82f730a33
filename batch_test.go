package mlerr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var batchT0 = time.Date(2026, 2, 2, 15, 32, 30, 0, time.UTC)

// batchFail is a failure of item "i<index>" at batchT0.
func batchFail(index int, reason string, code Code, cause error) Failure[string] {
	return Failure[string]{Item: fmt.Sprintf("i%d", index), Index: index, Reason: reason, Code: code, Time: batchT0, Cause: cause}
}

func TestNewBatchErrorNilWithoutFailures(t *testing.T) {
	assert.Nil(t, NewBatchError[string](10, nil))
	assert.Nil(t, NewBatchError(10, []Failure[string]{}))
	var be *BatchError[string]
	assert.NoError(t, be.Err(), "a nil *BatchError is a nil error through Err")
	assert.Equal(t, 0.0, be.FailureRate())
	assert.Nil(t, be.Failed())
	assert.Equal(t, Code(0), be.Code())
}

func TestNewBatchErrorCompletesFailures(t *testing.T) {
	notFound := New(CodeResourceDoesNotExist, "asset not found")
	plain := errors.New("connection reset")
	tests := []struct {
		name       string
		in         Failure[string]
		wantCode   Code
		wantReason string
	}{
		{"all given", batchFail(0, "bad", CodeBadRequest, notFound), CodeBadRequest, "bad"},
		{"code from *Error cause", batchFail(0, "", 0, notFound), CodeResourceDoesNotExist, "asset not found"},
		{"code from wrapped cause", batchFail(0, "r", 0, fmt.Errorf("upload: %w", notFound)), CodeResourceDoesNotExist, "r"},
		{"plain cause", batchFail(0, "", 0, plain), CodeInternalError, "connection reset"},
		{"context cause", batchFail(0, "", 0, context.DeadlineExceeded), CodeDeadlineExceeded, "context deadline exceeded"},
		{"no cause, code given", batchFail(0, "", CodeQuotaExceeded, nil), CodeQuotaExceeded, "QUOTA_EXCEEDED"},
		{"nothing given", batchFail(0, "", 0, nil), CodeInternalError, "INTERNAL_ERROR"},
		{"*Error without message", batchFail(0, "", 0, New(CodeAborted, "")), CodeAborted, "ABORTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := NewBatchError(1, []Failure[string]{tt.in})
			require.NotNil(t, be)
			assert.Equal(t, tt.wantCode, be.Failures[0].Code)
			assert.Equal(t, tt.wantReason, be.Failures[0].Reason)
			assert.Equal(t, batchT0, be.Failures[0].Time, "a given time is kept")
		})
	}
}

func TestNewBatchErrorSortsAndFixesTotal(t *testing.T) {
	before := time.Now()
	fs := []Failure[string]{batchFail(7, "b", CodeBadRequest, nil), batchFail(2, "a", CodeBadRequest, nil), {Item: "x", Index: 4}}
	be := NewBatchError(3, fs)
	require.NotNil(t, be)
	var idx []int
	for _, f := range be.Failures {
		idx = append(idx, f.Index)
	}
	assert.Equal(t, []int{2, 4, 7}, idx)
	assert.Equal(t, 8, be.Total, "Total covers the largest index")
	assert.False(t, be.Failures[1].Time.Before(before), "a zero time becomes the time of the call")

	be = NewBatchError(1, []Failure[string]{batchFail(0, "a", 0, nil), batchFail(0, "b", 0, nil)})
	assert.Equal(t, 2, be.Total, "Total is at least the number of failures")
}

func TestBatchErrorText(t *testing.T) {
	tests := []struct {
		name  string
		total int
		fs    []Failure[string]
		want  string
	}{
		{"one", 1, []Failure[string]{batchFail(0, "boom", 0, nil)}, "1 of 1 item failed: 1 x boom"},
		{
			"counts per reason, most frequent first",
			100,
			[]Failure[string]{batchFail(1, "invalid format", 0, nil), batchFail(5, "asset not found", 0, nil), batchFail(9, "asset not found", 0, nil)},
			"3 of 100 items failed: 2 x asset not found, 1 x invalid format",
		},
		{
			"ties in order of first occurrence",
			10,
			[]Failure[string]{batchFail(3, "b", 0, nil), batchFail(1, "a", 0, nil), batchFail(2, "c", 0, nil)},
			"3 of 10 items failed: 1 x a, 1 x c, 1 x b",
		},
		{
			"at most five reasons",
			50,
			[]Failure[string]{batchFail(0, "r0", 0, nil), batchFail(1, "r1", 0, nil), batchFail(2, "r2", 0, nil), batchFail(3, "r3", 0, nil),
				batchFail(4, "r4", 0, nil), batchFail(5, "r5", 0, nil), batchFail(6, "r6", 0, nil), batchFail(7, "r0", 0, nil)},
			"8 of 50 items failed: 2 x r0, 1 x r1, 1 x r2, 1 x r3, 1 x r4, and 2 other reasons",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NewBatchError(tt.total, tt.fs).Error())
		})
	}
}

func TestBatchErrorTextIsShortForManyDistinctReasons(t *testing.T) {
	var fs []Failure[string]
	for i := range 1000 {
		fs = append(fs, batchFail(i, fmt.Sprintf("item %d is broken", i), 0, nil))
	}
	msg := NewBatchError(5000, fs).Error()
	assert.Less(t, len(msg), 200, msg)
	assert.True(t, strings.HasPrefix(msg, "1000 of 5000 items failed: 1 x item 0 is broken,"), msg)
	assert.True(t, strings.HasSuffix(msg, "and 995 other reasons"), msg)
}

func TestBatchErrorCode(t *testing.T) {
	c := func(codes ...Code) []Failure[string] {
		fs := make([]Failure[string], len(codes))
		for i, code := range codes {
			fs[i] = batchFail(i, "r", code, nil)
		}
		return fs
	}
	tests := []struct {
		name string
		fs   []Failure[string]
		want Code
	}{
		{"single", c(CodeNotFound), CodeNotFound},
		{"all the same", c(CodeTemporarilyUnavailable, CodeTemporarilyUnavailable), CodeTemporarilyUnavailable},
		{"most frequent", c(CodeBadRequest, CodeTemporarilyUnavailable, CodeTemporarilyUnavailable), CodeTemporarilyUnavailable},
		{"tie: not retryable wins", c(CodeTemporarilyUnavailable, CodeBadRequest), CodeBadRequest},
		{"tie: not retryable wins, either order", c(CodeBadRequest, CodeTemporarilyUnavailable), CodeBadRequest},
		{"tie among retryable: first", c(CodeDeadlineExceeded, CodeTemporarilyUnavailable), CodeDeadlineExceeded},
		{"tie among not retryable: first", c(CodeNotFound, CodeBadRequest, CodeBadRequest, CodeNotFound), CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := NewBatchError(10, tt.fs)
			assert.Equal(t, tt.want, be.Code())
			assert.Equal(t, tt.want, CodeOf(be), "CodeOf uses the overall code")
			assert.Equal(t, tt.want, CodeOf(fmt.Errorf("upload: %w", be)), "through wrapping too")
		})
	}
}

func TestBatchErrorAccessors(t *testing.T) {
	be := NewBatchError(8, []Failure[string]{
		batchFail(6, "missing", CodeResourceDoesNotExist, nil),
		batchFail(1, "missing", CodeResourceDoesNotExist, nil),
		batchFail(3, "too big", CodeInvalidParameterValue, nil),
		batchFail(5, "busy", CodeTemporarilyUnavailable, nil),
	})
	assert.Equal(t, []string{"i1", "i3", "i5", "i6"}, be.Failed())
	assert.Equal(t, map[string][]string{"missing": {"i1", "i6"}, "too big": {"i3"}, "busy": {"i5"}}, be.ByReason())
	assert.Equal(t, 0.5, be.FailureRate())

	r := be.Retryable()
	require.NotNil(t, r)
	assert.Equal(t, []string{"i5"}, r.Failed())
	assert.Equal(t, 8, r.Total)
	assert.Nil(t, be.Where(func(Failure[string]) bool { return false }))
	assert.Equal(t, []string{"i1", "i6"}, be.Where(func(f Failure[string]) bool { return f.Reason == "missing" }).Failed())
}

type batchItemError struct{ key string }

func (e *batchItemError) Error() string { return "bad item " + e.key }

func TestBatchErrorReachesEveryCause(t *testing.T) {
	sentinel := errors.New("sentinel")
	be := NewBatchError(5, []Failure[string]{
		batchFail(0, "", 0, fmt.Errorf("first: %w", fs.ErrNotExist)),
		batchFail(1, "", 0, &batchItemError{"k1"}),
		batchFail(2, "quota", CodeQuotaExceeded, nil), // no cause: its code stands in
		batchFail(4, "", 0, fmt.Errorf("last: %w", sentinel)),
	})
	var err error = fmt.Errorf("uploading: %w", be)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorIs(t, err, sentinel, "the last cause")
	assert.ErrorIs(t, err, CodeQuotaExceeded, "a code without a cause")
	assert.NotErrorIs(t, err, context.Canceled)

	var ie *batchItemError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "k1", ie.key)
	var got *BatchError[string]
	require.ErrorAs(t, err, &got)
	assert.Same(t, be, got)
	assert.Len(t, be.Unwrap(), 4)

	// A code given explicitly is found even when the cause has another.
	be2 := NewBatchError(1, []Failure[string]{batchFail(0, "", CodeBadRequest, New(CodeInternalError, "x"))})
	assert.ErrorIs(t, be2, CodeBadRequest)
	assert.ErrorIs(t, be2, CodeInternalError)
}

// batchListError is an error type that == cannot compare.
type batchListError []string

func (l batchListError) Error() string { return strings.Join(l, "; ") }

func TestBatchErrorIsWithIncomparableErrors(t *testing.T) {
	be := NewBatchError(2, []Failure[string]{
		batchFail(0, "", 0, batchListError{"a", "b"}),
		batchFail(1, "", 0, fmt.Errorf("wrapped: %w", batchListError{"c"})),
	})
	assert.NotPanics(t, func() {
		assert.False(t, errors.Is(be, batchListError{"a", "b"}), "an incomparable target is never equal")
	})
	var le batchListError
	require.ErrorAs(t, be, &le)
	assert.Equal(t, batchListError{"a", "b"}, le)
	assert.Equal(t, "a; b", be.Failures[0].Reason)
}

func TestBatchErrorIsDirectAndWrappedCauses(t *testing.T) {
	direct := New(CodeAborted, "direct")
	inner := errors.New("inner")
	be := NewBatchError(3, []Failure[string]{batchFail(0, "", 0, direct), batchFail(2, "", 0, fmt.Errorf("outer: %w", inner))})
	tests := []struct {
		target error
		want   bool
	}{
		{direct, true},
		{inner, true},
		{CodeAborted, true},
		{CodeInternalError, true}, // the wrapped plain error has no code: INTERNAL_ERROR
		{CodeNotFound, false},
		{ErrRest, false},
		{errors.New("inner"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, errors.Is(be, tt.target), "%v", tt.target)
	}
}
