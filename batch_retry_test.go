package mlerr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// origin is a batch of 10 items i0..i9 in which i2 (not found), i5 (busy)
// and i8 (busy) failed.
func origin() *BatchError[string] {
	return NewBatchError(10, []Failure[string]{
		fail(2, "not found", CodeResourceDoesNotExist, nil),
		fail(5, "busy", CodeTemporarilyUnavailable, nil),
		fail(8, "busy", CodeTemporarilyUnavailable, nil),
	})
}

func indexes[T any](be *BatchError[T]) []int {
	var out []int
	for _, f := range be.Failures {
		out = append(out, f.Index)
	}
	return out
}

func TestRetryFailed(t *testing.T) {
	boom := New(CodeTemporarilyUnavailable, "still down")
	tests := []struct {
		name        string
		op          func(ctx context.Context, items []string) error
		wantGiven   []string
		wantOK      []string
		wantIndexes []int // nil: no error
		wantReasons []string
	}{
		{
			name:      "all succeed",
			op:        func(context.Context, []string) error { return nil },
			wantGiven: []string{"i2", "i5", "i8"},
			wantOK:    []string{"i2", "i5", "i8"},
		},
		{
			name:      "nil *BatchError is success",
			op:        func(_ context.Context, items []string) error { return NewBatchError[string](len(items), nil) },
			wantGiven: []string{"i2", "i5", "i8"},
			wantOK:    []string{"i2", "i5", "i8"},
		},
		{
			name: "some still fail: original indexes",
			op: func(_ context.Context, items []string) error {
				return NewBatchError(len(items), []Failure[string]{{Item: items[1], Index: 1, Reason: "busy again", Code: CodeTemporarilyUnavailable}})
			},
			wantGiven:   []string{"i2", "i5", "i8"},
			wantOK:      []string{"i2", "i8"},
			wantIndexes: []int{5},
			wantReasons: []string{"busy again"},
		},
		{
			name: "wrapped batch error",
			op: func(_ context.Context, items []string) error {
				return fmt.Errorf("upload: %w", NewBatchError(len(items), []Failure[string]{{Index: 2, Reason: "x"}, {Index: 0, Reason: "y"}}))
			},
			wantGiven:   []string{"i2", "i5", "i8"},
			wantOK:      []string{"i5"},
			wantIndexes: []int{2, 8},
			wantReasons: []string{"y", "x"},
		},
		{
			name:        "plain error: all failed with it",
			op:          func(context.Context, []string) error { return boom },
			wantGiven:   []string{"i2", "i5", "i8"},
			wantIndexes: []int{2, 5, 8},
			wantReasons: []string{"still down", "still down", "still down"},
		},
		{
			name: "index out of range: all failed, op's error kept",
			op: func(_ context.Context, items []string) error {
				return NewBatchError(10, []Failure[string]{{Index: 7, Reason: "x"}})
			},
			wantGiven:   []string{"i2", "i5", "i8"},
			wantIndexes: []int{2, 5, 8},
		},
		{
			name: "index twice: all failed",
			op: func(_ context.Context, items []string) error {
				return &BatchError[string]{Total: 3, Failures: []Failure[string]{{Index: 1, Reason: "x"}, {Index: 1, Reason: "y"}}}
			},
			wantGiven:   []string{"i2", "i5", "i8"},
			wantIndexes: []int{2, 5, 8},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var given []string
			ok, err := RetryFailed(context.Background(), origin(), func(ctx context.Context, items []string) error {
				given = append([]string(nil), items...)
				return tt.op(ctx, items)
			})
			assert.Equal(t, tt.wantGiven, given)
			assert.Equal(t, tt.wantOK, ok)
			if tt.wantIndexes == nil {
				assert.NoError(t, err)
				return
			}
			var be *BatchError[string]
			require.ErrorAs(t, err, &be)
			assert.Equal(t, 10, be.Total, "Total is the original batch's")
			assert.Equal(t, tt.wantIndexes, indexes(be))
			for _, f := range be.Failures {
				assert.Equal(t, fmt.Sprintf("i%d", f.Index), f.Item, "items match their original index")
			}
			if tt.wantReasons != nil {
				var reasons []string
				for _, f := range be.Failures {
					reasons = append(reasons, f.Reason)
				}
				assert.Equal(t, tt.wantReasons, reasons)
			}
		})
	}
}

func TestRetryFailedPlainErrorIsEveryCause(t *testing.T) {
	boom := New(CodeTemporarilyUnavailable, "still down")
	_, err := RetryFailed(context.Background(), origin(), func(context.Context, []string) error { return boom })
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, CodeTemporarilyUnavailable, CodeOf(err))

	_, err = RetryFailed(context.Background(), origin(), func(_ context.Context, items []string) error {
		return NewBatchError(len(items), []Failure[string]{{Index: -1}})
	})
	assert.Equal(t, CodeInternalError, CodeOf(err))
	assert.Contains(t, err.Error(), "index -1")
}

func TestRetryFailedWhereRetryable(t *testing.T) {
	var given []string
	ok, err := RetryFailedWhere(context.Background(), origin(), Failure[string].Retryable,
		func(_ context.Context, items []string) error {
			given = items
			return nil
		})
	assert.Equal(t, []string{"i5", "i8"}, given, "only the retryable ones are tried")
	assert.Equal(t, []string{"i5", "i8"}, ok)
	var be *BatchError[string]
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []int{2}, indexes(be), "the others stay failed")
	assert.Equal(t, "not found", be.Failures[0].Reason)
	assert.Equal(t, CodeResourceDoesNotExist, be.Code())
}

func TestRetryFailedWhereNothingToTry(t *testing.T) {
	called := false
	op := func(context.Context, []string) error { called = true; return nil }
	ok, err := RetryFailedWhere(context.Background(), origin(), func(Failure[string]) bool { return false }, op)
	assert.False(t, called)
	assert.Empty(t, ok)
	assert.Equal(t, []int{2, 5, 8}, indexes(err.(*BatchError[string])))

	ok, err = RetryFailed(context.Background(), nil, op)
	assert.False(t, called)
	assert.Nil(t, ok)
	assert.NoError(t, err)
}

func TestRetryFailedTwiceKeepsOriginalIndexes(t *testing.T) {
	// Round 1 fixes i2, round 2 fixes i8, i5 stays.
	rounds := [][]int{{1, 2}, {0}}
	be := origin()
	var err error
	for r, failIdx := range rounds {
		_, err = RetryFailed(context.Background(), be, func(_ context.Context, items []string) error {
			var fs []Failure[string]
			for _, j := range failIdx {
				if j < len(items) && (r == 0 || items[j] == "i5") {
					fs = append(fs, Failure[string]{Index: j, Reason: "again"})
				}
			}
			return NewBatchError(len(items), fs).Err()
		})
		require.True(t, errors.As(err, &be))
	}
	assert.Equal(t, []int{5}, indexes(be))
	assert.Equal(t, []string{"i5"}, be.Failed())
}
