package grpcerr_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

func TestUnaryOverGRPC(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want decoded
	}{
		{
			name: "an MLflow code with details and Retry-After",
			err: mlerr.New(mlerr.CodeResourceDoesNotExist, "run 42 not found").
				WithDetail("run_id", "42").WithRetryAfter(time.Second),
			want: decoded{Code: mlerr.CodeResourceDoesNotExist, Name: "RESOURCE_DOES_NOT_EXIST", Message: "run 42 not found",
				Details: map[string]string{"run_id": `"42"`}, RetryAfter: time.Second},
		},
		{
			name: "an unknown name",
			err:  mustUnmarshalError(t, `{"error_code":"CUSTOM_THING","message":"custom"}`),
			want: decoded{Code: mlerr.CodeInternalError, Name: "CUSTOM_THING", Message: "custom"},
		},
		{
			name: "a plain error",
			err:  errors.New("disk full"),
			want: decoded{Code: mlerr.CodeInternalError, Name: "INTERNAL_ERROR", Message: "disk full"},
		},
		{
			name: "a status error of the handler's own",
			err:  status.Error(codes.FailedPrecondition, "not now"),
			want: decoded{Code: mlerr.CodeInvalidState, Name: "INVALID_STATE", Message: "not now"},
		},
	}
	svc := &service{}
	var handlerErr atomic.Pointer[error]
	svc.unary = func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		return nil, *handlerErr.Load()
	}
	addr := serve(t, svc, true)
	rich, plain := dial(t, addr, true), dial(t, addr, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlerErr.Store(&tt.err)
			_, err := rich.UnaryCall(callCtx(t), &testgrpc.SimpleRequest{})
			require.Error(t, err)
			var ge *grpcerr.Error
			require.ErrorAs(t, err, &ge, "the client interceptor returns an *Error")
			assert.Equal(t, tt.want, decodedOf(t, err))
			assert.True(t, errors.Is(err, tt.want.Code), "errors.Is(err, %s)", tt.want.Code)
			assert.True(t, errors.Is(err, mlerr.ErrRest))

			// A client without the interceptor gets the status Status
			// writes; the interceptor's error still answers it.
			_, plainErr := plain.UnaryCall(callCtx(t), &testgrpc.SimpleRequest{})
			sent := status.Convert(plainErr)
			assertSameStatus(t, grpcerr.Status(tt.err), sent)
			got, ok := status.FromError(err)
			require.True(t, ok)
			assertSameStatus(t, sent, got)
			assert.Equal(t, sent.Code(), status.Code(err))
		})
	}
}

func TestUnaryBatchOverGRPC(t *testing.T) {
	addr := serve(t, &service{unary: errFromHandler(itemBatch())}, true)
	_, err := dial(t, addr, true).UnaryCall(callCtx(t), &testgrpc.SimpleRequest{})
	var be *mlerr.BatchError[json.RawMessage]
	require.ErrorAs(t, err, &be)
	wantTotal, want := viewOf(t, itemBatch())
	total, got := viewOf(t, be)
	assert.Equal(t, wantTotal, total)
	assert.Equal(t, want, got)
	assert.True(t, errors.Is(err, mlerr.CodeResourceDoesNotExist), "a failure's code")
	assert.Equal(t, itemBatch().Code(), mlerr.CodeOf(err), "the batch's code")

	_, plainErr := dial(t, addr, false).UnaryCall(callCtx(t), &testgrpc.SimpleRequest{})
	d := detailsOf(t, status.Convert(plainErr))
	assert.Equal(t, []violation{
		{"loss", "not finite", "INVALID_PARAMETER_VALUE"},
		{"lr", "param changed", "INVALID_PARAMETER_VALUE"},
		{"4", "run gone", "RESOURCE_DOES_NOT_EXIST"},
	}, violationsOf(d.bad), "a plain gRPC client reads the BadRequest")
}

func TestClientInterceptorAgainstAPlainServer(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		code  mlerr.Code
		retry bool
	}{
		{"UNAVAILABLE", status.Error(codes.Unavailable, "down"), mlerr.CodeTemporarilyUnavailable, true},
		{"DEADLINE_EXCEEDED sent by the server", status.Error(codes.DeadlineExceeded, "slow backend"), mlerr.CodeDeadlineExceeded, true},
		{"RESOURCE_EXHAUSTED", status.Error(codes.ResourceExhausted, "quota"), mlerr.CodeResourceExhausted, true},
		{"NOT_FOUND", status.Error(codes.NotFound, "gone"), mlerr.CodeNotFound, false},
		{"INVALID_ARGUMENT", status.Error(codes.InvalidArgument, "bad"), mlerr.CodeInvalidParameterValue, false},
		// Without the server interceptor, gRPC sends a handler's *mlerr.Error
		// as UNKNOWN: the MLflow code is lost, and it is never retried.
		{"an *mlerr.Error without the server interceptor", mlerr.New(mlerr.CodeTemporarilyUnavailable, "down"), mlerr.CodeUnparseableHTTPError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, &service{unary: errFromHandler(tt.err)}, false)
			_, err := dial(t, addr, true).UnaryCall(callCtx(t), &testgrpc.SimpleRequest{})
			assert.Equal(t, tt.code, mlerr.CodeOf(err))
			assert.Equal(t, tt.retry, mlerr.Classify(err).Retry, "%+v", mlerr.Classify(err))
			assert.True(t, errors.Is(err, grpcerr.ErrStatus))
		})
	}
}

func TestRetryWaitsForRetryInfo(t *testing.T) {
	tests := []struct {
		name string
		rich bool // the server uses this package's interceptors
		err  error
	}{
		{"an *mlerr.Error with RetryAfter", true,
			mlerr.New(mlerr.CodeResourceExhausted, "slow down").WithRetryAfter(1500 * time.Millisecond)},
		{"a plain server's RESOURCE_EXHAUSTED with RetryInfo", false,
			withDetails(t, status.New(codes.ResourceExhausted, "slow down"),
				&errdetails.RetryInfo{RetryDelay: durationpbOf(1500 * time.Millisecond)}).Err()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			svc := &service{unary: func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
				if calls.Add(1) <= 2 {
					return nil, tt.err
				}
				return &testgrpc.SimpleResponse{}, nil
			}}
			client := dial(t, serve(t, svc, tt.rich), true)
			clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			var reasons []string
			p := mlerr.Policy{
				MaxAttempts: 5, InitialDelay: 10 * time.Millisecond, NoJitter: true, Clock: clock,
				OnRetry: func(ev mlerr.RetryEvent) { reasons = append(reasons, ev.Reason) },
			}
			err := mlerr.Retry(callCtx(t), p, func(ctx context.Context) error {
				_, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
				return err
			})
			require.NoError(t, err)
			assert.Equal(t, int32(3), calls.Load())
			assert.Equal(t, []time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond}, clock.waits(),
				"Retry waited what RetryInfo asked for, not its own 10 ms backoff")
			assert.Equal(t, []string{"retry-after", "retry-after"}, reasons)
		})
	}
}

func TestCallersOwnContext(t *testing.T) {
	svc := &service{unary: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	client := dial(t, serve(t, svc, true), true)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	for _, tt := range []struct {
		ctx   context.Context
		code  mlerr.Code
		grpc  codes.Code
		cause error
	}{
		{canceled, mlerr.CodeCancelled, codes.Canceled, context.Canceled},
		{past, mlerr.CodeDeadlineExceeded, codes.DeadlineExceeded, context.DeadlineExceeded},
	} {
		_, unaryErr := client.UnaryCall(tt.ctx, &testgrpc.SimpleRequest{})
		// Opening a stream with the context fails at once, in the
		// interceptor's streamer call.
		_, streamErr := client.StreamingOutputCall(tt.ctx, &testgrpc.StreamingOutputCallRequest{})
		for _, err := range []error{unaryErr, streamErr} {
			var ge *grpcerr.Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tt.code, mlerr.CodeOf(err))
			assert.Equal(t, tt.grpc, status.Code(err))
			assert.True(t, errors.Is(err, tt.cause), "the context's error is the cause")
			assert.False(t, mlerr.Classify(err).Retry, "the caller's decision is not retried: %+v", mlerr.Classify(err))
		}
	}
}

func TestStreamFailsMidway(t *testing.T) {
	failure := mlerr.New(mlerr.CodeDataLoss, "disk gone").WithDetail("sent", 3)
	svc := &service{stream: func(_ *testgrpc.StreamingOutputCallRequest, s testgrpc.TestService_StreamingOutputCallServer) error {
		for range 3 {
			if err := s.Send(&testgrpc.StreamingOutputCallResponse{}); err != nil {
				return err
			}
		}
		return failure
	}}
	addr := serve(t, svc, true)
	for _, rich := range []bool{true, false} {
		stream, err := dial(t, addr, rich).StreamingOutputCall(callCtx(t), &testgrpc.StreamingOutputCallRequest{})
		require.NoError(t, err)
		received := 0
		for {
			_, err = stream.Recv()
			if err != nil {
				break
			}
			received++
		}
		assert.Equal(t, 3, received, "the messages sent before the failure arrive")
		require.NotErrorIs(t, err, io.EOF)
		assert.Equal(t, codes.DataLoss, status.Code(err))
		if rich {
			assert.Equal(t, decoded{Code: mlerr.CodeDataLoss, Name: "DATA_LOSS", Message: "disk gone",
				Details: map[string]string{"sent": "3"}}, decodedOf(t, err))
		} else {
			assertSameStatus(t, grpcerr.Status(failure), status.Convert(err))
		}
	}
}

func TestStreamEndsCleanly(t *testing.T) {
	svc := &service{stream: func(_ *testgrpc.StreamingOutputCallRequest, s testgrpc.TestService_StreamingOutputCallServer) error {
		return s.Send(&testgrpc.StreamingOutputCallResponse{})
	}}
	stream, err := dial(t, serve(t, svc, true), true).StreamingOutputCall(callCtx(t), &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	_, err = stream.Header()
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)
	_, err = stream.Recv()
	assert.Same(t, io.EOF, err, "the end of a stream stays io.EOF")
}

func TestStreamFailsAtOnce(t *testing.T) {
	svc := &service{stream: func(*testgrpc.StreamingOutputCallRequest, testgrpc.TestService_StreamingOutputCallServer) error {
		return mlerr.ErrUnauthorized.New("token expired")
	}}
	stream, err := dial(t, serve(t, svc, true), true).StreamingOutputCall(callCtx(t), &testgrpc.StreamingOutputCallRequest{})
	require.NoError(t, err)
	_, err = stream.Header()
	// Header may report the failure or leave it to Recv.
	if err == nil {
		_, err = stream.Recv()
	}
	assert.Equal(t, mlerr.CodePermissionDenied, mlerr.CodeOf(err))
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
	var ge *grpcerr.Error
	assert.ErrorAs(t, err, &ge)
}
