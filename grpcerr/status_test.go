package grpcerr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// details returns the rich details of s by type.
type details struct {
	info  *errdetails.ErrorInfo
	retry *errdetails.RetryInfo
	bad   *errdetails.BadRequest
	n     int
}

func detailsOf(t *testing.T, s *status.Status) details {
	t.Helper()
	var d details
	for _, x := range s.Details() {
		d.n++
		switch m := x.(type) {
		case *errdetails.ErrorInfo:
			d.info = m
		case *errdetails.RetryInfo:
			d.retry = m
		case *errdetails.BadRequest:
			d.bad = m
		default:
			t.Fatalf("unexpected detail %T: %v", x, x)
		}
	}
	return d
}

// assertSameStatus checks that two statuses have the same code, message and
// details, comparing the details as messages (their bytes depend on the
// order in which protobuf writes a map).
func assertSameStatus(t *testing.T, want, got *status.Status) {
	t.Helper()
	assert.Equal(t, want.Code(), got.Code())
	assert.Equal(t, want.Message(), got.Message())
	wd, gd := want.Details(), got.Details()
	require.Len(t, gd, len(wd))
	for i := range wd {
		w, wok := wd[i].(proto.Message)
		g, gok := gd[i].(proto.Message)
		require.True(t, wok && gok, "detail %d is a message: %v, %v", i, wd[i], gd[i])
		assert.True(t, proto.Equal(w, g), "detail %d: want %v, got %v", i, w, g)
	}
}

// violation is a BadRequest field violation, for comparisons.
type violation struct{ Field, Description, Reason string }

func violationsOf(bad *errdetails.BadRequest) []violation {
	var out []violation
	for _, v := range bad.GetFieldViolations() {
		out = append(out, violation{v.GetField(), v.GetDescription(), v.GetReason()})
	}
	return out
}

// decoded is what a decoded error says, for comparisons.
type decoded struct {
	Code       mlerr.Code
	Name       string
	Message    string
	Details    map[string]string
	RetryAfter time.Duration
}

func decodedOf(t *testing.T, err error) decoded {
	t.Helper()
	e := mlerr.AsError(err)
	require.NotNil(t, e, "an *mlerr.Error in %v", err)
	d := decoded{Code: e.Code(), Name: e.Name(), Message: e.Message(), RetryAfter: e.RetryAfter()}
	if n, ok := err.(interface{ Name() string }); ok {
		d.Name = n.Name()
	}
	for k, v := range e.Details() {
		if d.Details == nil {
			d.Details = map[string]string{}
		}
		d.Details[k] = string(v)
	}
	return d
}

func mustUnmarshalError(t *testing.T, body string) *mlerr.Error {
	t.Helper()
	var e mlerr.Error
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	return &e
}

func TestStatusOfAnError(t *testing.T) {
	e := mlerr.New(mlerr.CodeResourceDoesNotExist, "run 42 not found").
		WithDetail("run_id", "42").WithDetail("attempts", 3).WithRetryAfter(1500 * time.Millisecond)
	s := grpcerr.Status(e)
	assert.Equal(t, codes.NotFound, s.Code())
	assert.Equal(t, "run 42 not found", s.Message())
	d := detailsOf(t, s)
	assert.Equal(t, 2, d.n)
	require.NotNil(t, d.info)
	assert.Equal(t, "RESOURCE_DOES_NOT_EXIST", d.info.GetReason())
	assert.Equal(t, grpcerr.Domain, d.info.GetDomain())
	assert.Equal(t, map[string]string{"run_id": `"42"`, "attempts": "3"}, d.info.GetMetadata())
	require.NotNil(t, d.retry)
	assert.Equal(t, 1500*time.Millisecond, d.retry.GetRetryDelay().AsDuration())
	assert.Nil(t, d.bad, "no BadRequest for an error that is no invalid argument")
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		err  error
		grpc codes.Code
		want decoded
	}{
		{
			name: "code, message, details and Retry-After",
			err: mlerr.New(mlerr.CodeResourceDoesNotExist, "run 42 not found").
				WithDetail("run_id", "42").WithDetail("nested", map[string]any{"a": []int{1, 2}}).WithRetryAfter(2 * time.Second),
			grpc: codes.NotFound,
			want: decoded{Code: mlerr.CodeResourceDoesNotExist, Name: "RESOURCE_DOES_NOT_EXIST", Message: "run 42 not found",
				Details: map[string]string{"run_id": `"42"`, "nested": `{"a":[1,2]}`}, RetryAfter: 2 * time.Second},
		},
		{
			name: "a name the library does not know, kept verbatim",
			err:  mustUnmarshalError(t, `{"error_code":"CUSTOM_THING","message":"custom","hint":"retry later"}`),
			grpc: codes.Internal,
			want: decoded{Code: mlerr.CodeInternalError, Name: "CUSTOM_THING", Message: "custom",
				Details: map[string]string{"hint": `"retry later"`}},
		},
		{
			name: "an invalid parameter naming keys",
			err:  mlerr.InvalidParameterValue("keys too long").WithDetail("keys", []string{"a", "b"}),
			grpc: codes.InvalidArgument,
			want: decoded{Code: mlerr.CodeInvalidParameterValue, Name: "INVALID_PARAMETER_VALUE", Message: "keys too long",
				Details: map[string]string{"keys": `["a","b"]`}},
		},
		{
			name: "a detail whose key is a member name of MLflow JSON",
			err:  mlerr.New(mlerr.CodeAborted, "m").WithDetail("message", "inner").WithDetail("error_code", 7),
			grpc: codes.Aborted,
			want: decoded{Code: mlerr.CodeAborted, Name: "ABORTED", Message: "m",
				Details: map[string]string{"message": `"inner"`, "error_code": "7"}},
		},
		{
			name: "the zero code: INTERNAL, its name kept",
			err:  mlerr.New(0, "no code"),
			grpc: codes.Internal,
			want: decoded{Code: mlerr.CodeInternalError, Name: "OK", Message: "no code"},
		},
		{
			name: "a code number MLflow does not define",
			err:  mlerr.New(77, "odd"),
			grpc: codes.Unknown,
			want: decoded{Code: mlerr.CodeUnparseableHTTPError, Name: "Code(77)", Message: "odd"},
		},
		{
			name: "a bare code",
			err:  mlerr.CodeNotFound,
			grpc: codes.NotFound,
			want: decoded{Code: mlerr.CodeNotFound, Name: "NOT_FOUND", Message: "NOT_FOUND"},
		},
		{
			name: "a kind",
			err:  mlerr.ErrRunNotFound.New("run r1"),
			grpc: codes.NotFound,
			want: decoded{Code: mlerr.CodeResourceDoesNotExist, Name: "RESOURCE_DOES_NOT_EXIST", Message: "run r1"},
		},
		{
			name: "an *Error under fmt.Errorf: its own message",
			err:  fmt.Errorf("loading: %w", mlerr.New(mlerr.CodePermissionDenied, "no access")),
			grpc: codes.PermissionDenied,
			want: decoded{Code: mlerr.CodePermissionDenied, Name: "PERMISSION_DENIED", Message: "no access"},
		},
		{
			name: "an *Error in a join",
			err:  errors.Join(errors.New("plain"), mlerr.New(mlerr.CodeAlreadyExists, "twice")),
			grpc: codes.AlreadyExists,
			want: decoded{Code: mlerr.CodeAlreadyExists, Name: "ALREADY_EXISTS", Message: "twice"},
		},
		{
			name: "a plain error",
			err:  errors.New("disk full"),
			grpc: codes.Internal,
			want: decoded{Code: mlerr.CodeInternalError, Name: "INTERNAL_ERROR", Message: "disk full"},
		},
		{
			name: "context.Canceled",
			err:  fmt.Errorf("waiting: %w", context.Canceled),
			grpc: codes.Canceled,
			want: decoded{Code: mlerr.CodeCancelled, Name: "CANCELLED", Message: "waiting: context canceled"},
		},
		{
			name: "context.DeadlineExceeded",
			err:  context.DeadlineExceeded,
			grpc: codes.DeadlineExceeded,
			want: decoded{Code: mlerr.CodeDeadlineExceeded, Name: "DEADLINE_EXCEEDED", Message: "context deadline exceeded"},
		},
		{
			name: "invalid UTF-8 is replaced",
			err:  mlerr.New(mlerr.CodeBadRequest, "bad \xff byte").WithDetail("k\xfe", 1),
			grpc: codes.InvalidArgument,
			want: decoded{Code: mlerr.CodeBadRequest, Name: "BAD_REQUEST", Message: "bad \uFFFD byte",
				Details: map[string]string{"k\uFFFD": "1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := grpcerr.Status(tt.err)
			require.NotNil(t, s)
			assert.Equal(t, tt.grpc, s.Code())
			back := grpcerr.FromStatus(s)
			require.NotNil(t, back)
			assert.Equal(t, tt.want, decodedOf(t, back))
			assert.Same(t, s, back.GRPCStatus(), "the status decoded from")
			assert.True(t, errors.Is(back, grpcerr.ErrStatus), "kind ErrStatus")
			assert.True(t, errors.Is(back, mlerr.ErrRest), "a child of ErrRest")
			assert.True(t, errors.Is(back, tt.want.Code))

			// Status of the decoded error is the status it came from; of the
			// *mlerr.Error inside it, an equal status whenever the name is
			// one of MLflow's.
			assert.Same(t, s, grpcerr.Status(back))
			if tt.want.Name == tt.want.Code.String() {
				assertSameStatus(t, s, grpcerr.Status(mlerr.AsError(back)))
			}
		})
	}
}

func TestKeyViolations(t *testing.T) {
	tests := []struct {
		name string
		err  *mlerr.Error
		want []violation
	}{
		{"one key", mlerr.ErrInvalidName.New("bad key").WithDetail("key", "a b"),
			[]violation{{"a b", "bad key", "INVALID_PARAMETER_VALUE"}}},
		{"keys", mlerr.InvalidParameterValue("too long").WithDetail("keys", []string{"x", "y"}),
			[]violation{{"x", "too long", "INVALID_PARAMETER_VALUE"}, {"y", "too long", "INVALID_PARAMETER_VALUE"}}},
		{"both", mlerr.New(mlerr.CodeBadRequest, "m").WithDetail("key", "k").WithDetail("keys", []string{"l"}),
			[]violation{{"k", "m", "BAD_REQUEST"}, {"l", "m", "BAD_REQUEST"}}},
		{"keys of the wrong type", mlerr.InvalidParameterValue("m").WithDetail("keys", 3), nil},
		{"no key", mlerr.InvalidParameterValue("m"), nil},
		{"a key on an error of another class", mlerr.New(mlerr.CodeNotFound, "m").WithDetail("key", "k"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := detailsOf(t, grpcerr.Status(tt.err))
			assert.Equal(t, tt.want, violationsOf(d.bad))
			assert.Equal(t, tt.want != nil, d.bad != nil)
		})
	}
}

func TestStatusPassesStatusesThrough(t *testing.T) {
	plain := status.New(codes.Unavailable, "down")
	assert.Same(t, plain, grpcerr.Status(plain.Err()), "a status error")
	assert.Same(t, plain, grpcerr.Status(fmt.Errorf("calling: %w", plain.Err())), "wrapped: the status unchanged")

	decodedErr := grpcerr.FromStatus(plain)
	assert.Same(t, plain, grpcerr.Status(decodedErr), "an *Error: the status it came from")

	// An *mlerr.Error wrapping a status error is converted itself.
	s := grpcerr.Status(mlerr.Wrap(plain.Err(), mlerr.CodeResourceDoesNotExist, "lookup"))
	assert.Equal(t, codes.NotFound, s.Code())
	assert.Equal(t, "lookup", s.Message())

	// A status error that says OK is no success: it is sent as INTERNAL.
	ok := okStatusError{}
	s = grpcerr.Status(ok)
	assert.Equal(t, codes.Internal, s.Code())
	assert.Equal(t, "says OK", s.Message())

	assert.Nil(t, grpcerr.Status(nil))
}

// okStatusError is an error whose GRPCStatus is OK.
type okStatusError struct{}

func (okStatusError) Error() string              { return "says OK" }
func (okStatusError) GRPCStatus() *status.Status { return status.New(codes.OK, "") }

func TestStatusOfACyclicError(t *testing.T) {
	c := &cyclic{}
	c.next = c
	s := grpcerr.Status(c)
	assert.Equal(t, codes.Internal, s.Code(), "the walk ends")
}

// cyclic unwraps to itself through next.
type cyclic struct{ next error }

func (c *cyclic) Error() string { return "cyclic" }
func (c *cyclic) Unwrap() error { return c.next }

func TestFromStatusOfOtherServers(t *testing.T) {
	t.Run("nil and OK", func(t *testing.T) {
		assert.Nil(t, grpcerr.FromStatus(nil))
		assert.Nil(t, grpcerr.FromStatus(status.New(codes.OK, "fine")))
	})
	t.Run("an ErrorInfo of another domain is not read", func(t *testing.T) {
		s := withDetails(t, status.New(codes.NotFound, "gone"),
			&errdetails.ErrorInfo{Reason: "RESOURCE_DOES_NOT_EXIST", Domain: "example.com", Metadata: map[string]string{"k": "1"}})
		assert.Equal(t, decoded{Code: mlerr.CodeNotFound, Name: "NOT_FOUND", Message: "gone"}, decodedOf(t, grpcerr.FromStatus(s)))
	})
	t.Run("a reason of ours the library does not know", func(t *testing.T) {
		s := withDetails(t, status.New(codes.NotFound, "gone"), &errdetails.ErrorInfo{Reason: "SHELF_MISSING", Domain: grpcerr.Domain})
		e := grpcerr.FromStatus(s)
		assert.Equal(t, decoded{Code: mlerr.CodeNotFound, Name: "SHELF_MISSING", Message: "gone"}, decodedOf(t, e))
		assert.Equal(t, "SHELF_MISSING: gone", e.Error())
		assert.False(t, mlerr.Classify(e).Retry, "NOT_FOUND's class decides")
	})
	t.Run("the reason decides over the gRPC code", func(t *testing.T) {
		s := withDetails(t, status.New(codes.Internal, "m"), &errdetails.ErrorInfo{Reason: "RESOURCE_DOES_NOT_EXIST", Domain: grpcerr.Domain})
		assert.Equal(t, mlerr.CodeResourceDoesNotExist, mlerr.CodeOf(grpcerr.FromStatus(s)))
	})
	t.Run("metadata that is not JSON becomes a JSON string", func(t *testing.T) {
		s := withDetails(t, status.New(codes.Aborted, "m"), &errdetails.ErrorInfo{Reason: "ABORTED", Domain: grpcerr.Domain,
			Metadata: map[string]string{"text": "plain words", "number": " 12 ", "html": "<b>"}})
		assert.Equal(t, map[string]string{"text": `"plain words"`, "number": "12", "html": `"\u003cb\u003e"`},
			decodedOf(t, grpcerr.FromStatus(s)).Details)
	})
	t.Run("at most 256 details, the first in key order", func(t *testing.T) {
		meta := map[string]string{}
		for i := range 300 {
			meta[fmt.Sprintf("k%03d", i)] = "1"
		}
		s := withDetails(t, status.New(codes.Aborted, "m"), &errdetails.ErrorInfo{Reason: "ABORTED", Domain: grpcerr.Domain, Metadata: meta})
		got := decodedOf(t, grpcerr.FromStatus(s)).Details
		assert.Len(t, got, 256)
		assert.Contains(t, got, "k255")
		assert.NotContains(t, got, "k256")
	})
	t.Run("RetryInfo", func(t *testing.T) {
		for _, tt := range []struct {
			delay *durationpb.Duration
			want  time.Duration
		}{
			{durationpb.New(3 * time.Second), 3 * time.Second},
			{durationpb.New(-time.Second), 0},
			{nil, 0},
		} {
			s := withDetails(t, status.New(codes.ResourceExhausted, "slow down"), &errdetails.RetryInfo{RetryDelay: tt.delay})
			e := grpcerr.FromStatus(s)
			assert.Equal(t, tt.want, mlerr.AsError(e).RetryAfter(), "%v", tt.delay)
			assert.Equal(t, tt.want, mlerr.Classify(e).After)
		}
	})
	t.Run("details of unknown types are skipped", func(t *testing.T) {
		p := status.New(codes.Unavailable, "m").Proto()
		p.Details = append(p.Details, unknownAny())
		s := withDetails(t, status.FromProto(p), &errdetails.QuotaFailure{}, &errdetails.ErrorInfo{Reason: "IO_ERROR", Domain: grpcerr.Domain})
		assert.Equal(t, mlerr.CodeIOError, mlerr.CodeOf(grpcerr.FromStatus(s)))
	})
}

func withDetails(t *testing.T, s *status.Status, ds ...protoadapt.MessageV1) *status.Status {
	t.Helper()
	s, err := s.WithDetails(ds...)
	require.NoError(t, err)
	return s
}

// unknownAny is a detail of a type no package registers.
func unknownAny() *anypb.Any {
	return &anypb.Any{TypeUrl: "type.googleapis.com/example.Unregistered", Value: []byte{0x0a, 0x03, 'a', 'b', 'c'}}
}

func TestFromError(t *testing.T) {
	assert.Nil(t, grpcerr.FromError(nil))
	plain := errors.New("local")
	assert.Same(t, plain, grpcerr.FromError(plain), "an error without a status")
	wrapped := fmt.Errorf("w: %w", status.Error(codes.NotFound, "x"))
	assert.Same(t, wrapped, grpcerr.FromError(wrapped), "only an error that answers GRPCStatus itself")
	assert.Equal(t, okStatusError{}, grpcerr.FromError(okStatusError{}), "an OK status")

	statusErr := status.Error(codes.NotFound, "x")
	e := grpcerr.FromError(statusErr)
	var ge *grpcerr.Error
	require.ErrorAs(t, e, &ge)
	assert.Equal(t, status.Convert(statusErr), ge.GRPCStatus())
	assert.Same(t, e, grpcerr.FromError(e), "converting twice changes nothing")
	assert.Equal(t, codes.NotFound, status.Code(e), "status.Code sees the status")
	s, ok := status.FromError(e)
	assert.True(t, ok)
	assert.Equal(t, "x", s.Message())
}
