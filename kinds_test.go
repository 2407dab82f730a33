package mlerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestKindTree(t *testing.T) {
	tests := []struct {
		kind      *mlerr.Kind
		parent    *mlerr.Kind
		code      mlerr.Code
		path      string
		ancestors []*mlerr.Kind
	}{
		{mlerr.ErrRest, nil, mlerr.CodeInternalError, "RestError", nil},
		{mlerr.ErrExecution, nil, mlerr.CodeInternalError, "ExecutionError", nil},
		{mlerr.ErrMissingConfig, nil, mlerr.CodeInternalError, "MissingConfig", nil},
		{mlerr.ErrInvalidURL, nil, mlerr.CodeInvalidParameterValue, "InvalidURL", nil},
		{mlerr.ErrUnsupportedMultipartUpload, nil, mlerr.CodeNotImplemented, "UnsupportedMultipartUpload", nil},
		{mlerr.ErrNotImplemented, nil, mlerr.CodeNotImplemented, "NotImplemented", nil},
		{mlerr.ErrTracing, nil, mlerr.CodeInternalError, "TracingError", nil},
		{mlerr.ErrTraceData, mlerr.ErrTracing, mlerr.CodeInternalError, "TracingError/TraceDataError", []*mlerr.Kind{mlerr.ErrTracing}},
		{mlerr.ErrTraceDataNotFound, mlerr.ErrTraceData, mlerr.CodeNotFound, "TracingError/TraceDataError/TraceDataNotFound",
			[]*mlerr.Kind{mlerr.ErrTraceData, mlerr.ErrTracing}},
		{mlerr.ErrTraceDataCorrupted, mlerr.ErrTraceData, mlerr.CodeDataLoss, "TracingError/TraceDataError/TraceDataCorrupted",
			[]*mlerr.Kind{mlerr.ErrTraceData, mlerr.ErrTracing}},
		{mlerr.ErrRunExists, nil, mlerr.CodeResourceAlreadyExists, "RunExists", nil},
		{mlerr.ErrRunConflicting, nil, mlerr.CodeResourceConflict, "RunConflicting", nil},
		{mlerr.ErrForkParentNotFound, nil, mlerr.CodeResourceDoesNotExist, "ForkParentNotFound", nil},
		{mlerr.ErrDuplicatePoint, nil, mlerr.CodeAlreadyExists, "DuplicatePoint", nil},
		{mlerr.ErrValueTruncated, nil, mlerr.CodeInvalidParameterValue, "ValueTruncated", nil},
		{mlerr.ErrRecovered, nil, mlerr.CodeTemporarilyUnavailable, "ConnectionRecovered", nil},
		{mlerr.ErrNetwork, nil, mlerr.CodeTemporarilyUnavailable, "NetworkError", nil},
		{mlerr.ErrRunNotFound, nil, mlerr.CodeResourceDoesNotExist, "RunNotFound", nil},
		{mlerr.ErrInvalidRunParameters, nil, mlerr.CodeInvalidParameterValue, "InvalidRunParameters", nil},
		{mlerr.ErrUnauthorized, nil, mlerr.CodePermissionDenied, "Unauthorized", nil},
		{mlerr.ErrSynchronizationStopped, nil, mlerr.CodeInternalError, "SynchronizationStopped", nil},
		{mlerr.ErrInvalidValue, nil, mlerr.CodeInvalidParameterValue, "InvalidValue", nil},
		{mlerr.ErrStepNotIncreasing, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/StepNotIncreasing", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrTimestampDecreasing, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/TimestampDecreasing", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrNonFiniteValue, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/NonFiniteValue", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrInvalidName, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/InvalidName", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrValueTooLarge, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/ValueTooLarge", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrTypeMismatch, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/TypeMismatch", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrParamChanged, mlerr.ErrInvalidValue, mlerr.CodeInvalidParameterValue, "InvalidValue/ParamChanged", []*mlerr.Kind{mlerr.ErrInvalidValue}},
		{mlerr.ErrQueueFull, nil, mlerr.CodeResourceExhausted, "QueueFull", nil},
		{mlerr.ErrClosed, nil, mlerr.CodeInvalidState, "Closed", nil},
	}
	all := make([]*mlerr.Kind, len(tests))
	for i, tt := range tests {
		all[i] = tt.kind
	}
	for _, tt := range tests {
		t.Run(tt.kind.Name(), func(t *testing.T) {
			k := tt.kind
			assert.Same(t, tt.parent, k.Parent())
			assert.Equal(t, tt.code, k.Code())
			assert.Equal(t, tt.path, k.String())
			assert.Equal(t, k.Name(), k.Error())
			assert.Equal(t, tt.code, mlerr.CodeOf(k))

			// An error of the kind, behind some wrapping.
			e := k.New("m")
			wrapped := fmt.Errorf("outer: %w", errors.Join(errors.New("x"), e))
			assert.Same(t, k, e.Kind())
			assert.Equal(t, tt.code, e.Code())
			for _, other := range all {
				want := other == k || contains(tt.ancestors, other)
				assert.Equal(t, want, errors.Is(e, other), "%s is %s", k, other)
				assert.Equal(t, want, errors.Is(wrapped, other), "wrapped %s is %s", k, other)
				assert.Equal(t, want, errors.Is(k, other), "kind %s is %s", k, other)
			}
			assert.ErrorIs(t, wrapped, tt.code)
		})
	}
}

func contains(list []*mlerr.Kind, k *mlerr.Kind) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

func TestKindConstructors(t *testing.T) {
	base := errors.New("parquet footer missing")

	e := mlerr.ErrTraceDataCorrupted.Errorf("trace %d: %w", 7, base)
	assert.Equal(t, mlerr.CodeDataLoss, e.Code())
	assert.Same(t, mlerr.ErrTraceDataCorrupted, e.Kind())
	assert.Equal(t, "DATA_LOSS: trace 7: parquet footer missing", e.Error())
	assert.ErrorIs(t, e, base)
	assert.ErrorIs(t, e, mlerr.ErrTracing)

	w := mlerr.ErrNetwork.Wrap(base, "sending batch")
	require.Error(t, w)
	assert.Equal(t, "TEMPORARILY_UNAVAILABLE: sending batch: parquet footer missing", w.Error())
	assert.ErrorIs(t, w, mlerr.ErrNetwork)
	assert.ErrorIs(t, w, base)
	assert.Nil(t, mlerr.ErrNetwork.Wrap(nil, "x"))
}

func TestNewKind(t *testing.T) {
	sdk := mlerr.NewKind("SDKError", nil, mlerr.CodeAborted)
	child := mlerr.NewKind("SDKChild", sdk, 0)
	own := mlerr.NewKind("SDKOwn", sdk, mlerr.CodeDataLoss)
	orphan := mlerr.NewKind("Orphan", nil, 0)

	assert.Equal(t, mlerr.CodeAborted, child.Code(), "0 inherits the parent's code")
	assert.Equal(t, mlerr.CodeDataLoss, own.Code())
	assert.Equal(t, mlerr.Code(0), orphan.Code())
	assert.Equal(t, "SDKError/SDKChild", child.String())
	assert.ErrorIs(t, child.New("x"), sdk)
	assert.NotErrorIs(t, sdk.New("x"), child)
	assert.NotErrorIs(t, child.New("x"), mlerr.ErrRest)

	// A kind without a code is no code to CodeOf.
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(orphan))
	assert.Equal(t, mlerr.Code(0), orphan.New("x").Code())

	// An error without a kind matches no kind.
	assert.NotErrorIs(t, mlerr.New(mlerr.CodeAborted, "x"), sdk)
}
