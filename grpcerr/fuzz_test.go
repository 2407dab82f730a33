package grpcerr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fuzzSeeds are statuses of every shape FromStatus reads.
func fuzzSeeds() []*status.Status {
	huge := map[string]string{}
	for i := range 400 {
		huge[fmt.Sprintf("key%d", i)] = strings.Repeat("v", i)
	}
	foreign := status.New(codes.InvalidArgument, "bad")
	foreign, _ = foreign.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: "a", Description: "d", Reason: "RESOURCE_CONFLICT"}, {Field: "b"},
	}}, &errdetails.ErrorInfo{Reason: "X", Domain: "example.com"})
	hugeMeta, _ := status.New(codes.Aborted, "m").WithDetails(&errdetails.ErrorInfo{Reason: "ABORTED", Domain: grpcerr.Domain, Metadata: huge})
	unknown := status.New(codes.Unavailable, "m").Proto()
	unknown.Details = append(unknown.Details, unknownAny(), &anypb.Any{TypeUrl: "type.googleapis.com/google.rpc.ErrorInfo", Value: []byte{0xff, 0x01}})
	return []*status.Status{
		grpcerr.Status(mlerr.New(mlerr.CodeResourceDoesNotExist, "run 42 not found").WithDetail("run_id", "42").WithRetryAfter(time.Second)),
		grpcerr.Status(mlerr.InvalidParameterValue("bad").WithDetail("keys", []string{"a", "b"})),
		grpcerr.Status(itemBatch()),
		grpcerr.Status(mlerr.New(0, "zero")),
		foreign,
		hugeMeta,
		status.FromProto(unknown),
		status.New(codes.OK, ""),
	}
}

// FuzzFromStatus decodes arbitrary statuses (data is a google.rpc.Status in
// protobuf; the strings add an ErrorInfo of ours and a BadRequest): it never
// panics, its output is bounded by its input, and what it decodes survives
// Status and FromStatus again unchanged.
func FuzzFromStatus(f *testing.F) {
	for _, s := range fuzzSeeds() {
		data, err := proto.Marshal(s.Proto())
		require.NoError(f, err)
		f.Add(data, "", "", "", "", int64(0))
		f.Add(data, "RESOURCE_EXHAUSTED", "k", `{"a":1}`, "field", int64(time.Second))
	}
	f.Add([]byte{0x08, 0x05}, "SHELF_MISSING", "batch_total", "3", "", int64(-1))
	f.Fuzz(func(t *testing.T, data []byte, reason, key, value, field string, delay int64) {
		var p spb.Status
		if proto.Unmarshal(data, &p) != nil {
			p.Reset()
		}
		s := status.FromProto(&p)
		if reason != "" || key != "" || field != "" || delay != 0 {
			s = addFuzzDetails(s, reason, key, value, field, delay)
		}
		e := grpcerr.FromStatus(s)
		if s.Code() == codes.OK {
			assert.Nil(t, e)
			return
		}
		require.NotNil(t, e)
		assert.Same(t, s, e.GRPCStatus())
		inner := mlerr.AsError(e)
		require.NotNil(t, inner)
		assert.True(t, inner.Code().Known(), "a known code: %v", inner.Code())
		assert.True(t, errors.Is(e, grpcerr.ErrStatus))

		in := proto.Size(s.Proto())
		out, failures := outputSize(e)
		assert.LessOrEqual(t, out, 16*in+4096, "output bounded by the input (%d bytes in)", in)
		assert.LessOrEqual(t, len(inner.Details()), 256)
		assert.LessOrEqual(t, failures, 10_000)

		again := grpcerr.FromStatus(grpcerr.Status(inner))
		require.NotNil(t, again)
		assertSameDecoding(t, e, again)
	})
}

// addFuzzDetails adds to s an ErrorInfo of ours, a RetryInfo and a
// BadRequest made of the fuzzer's strings (made valid UTF-8, as protobuf
// requires).
func addFuzzDetails(s *status.Status, reason, key, value, field string, delay int64) *status.Status {
	valid := func(x string) string { return strings.ToValidUTF8(x, "?") }
	var ds []protoadapt.MessageV1
	if reason != "" || key != "" {
		ds = append(ds, &errdetails.ErrorInfo{Reason: valid(reason), Domain: grpcerr.Domain, Metadata: map[string]string{valid(key): valid(value)}})
	}
	if delay != 0 {
		ds = append(ds, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(delay))})
	}
	if field != "" {
		ds = append(ds, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: valid(field), Description: valid(value), Reason: valid(reason)},
		}})
	}
	if rich, err := s.WithDetails(ds...); err == nil {
		return rich
	}
	return s // an OK status takes no details
}

// outputSize is how much a decoded error holds: its text, its details and
// its batch's failures; and how many failures.
func outputSize(err error) (size, failures int) {
	size = len(err.Error())
	for k, v := range mlerr.AsError(err).Details() {
		size += len(k) + len(v)
	}
	var be *mlerr.BatchError[json.RawMessage]
	if errors.As(err, &be) {
		for _, f := range be.Failures {
			size += len(f.Reason) + len(f.Item)
		}
		failures = len(be.Failures)
	}
	return size, failures
}

// assertSameDecoding checks that two decoded errors say the same: code,
// message, details, Retry-After and batch; and the name, unless the first
// kept a name the library does not know (the *mlerr.Error inside it, which
// was re-encoded, has its code's name).
func assertSameDecoding(t *testing.T, want, got *grpcerr.Error) {
	t.Helper()
	w, g := decodedOf(t, want), decodedOf(t, got)
	if w.Name != w.Code.String() {
		w.Name = g.Name
	}
	assert.Equal(t, w, g)
	var wb, gb *mlerr.BatchError[json.RawMessage]
	hasW, hasG := errors.As(want, &wb), errors.As(got, &gb)
	require.Equal(t, hasW, hasG, "both have a batch, or neither")
	if !hasW {
		return
	}
	wt, wf := viewOf(t, wb)
	gt, gf := viewOf(t, gb)
	assert.Equal(t, wt, gt, "batch total")
	require.Len(t, gf, len(wf))
	for i := range wf {
		assert.True(t, wf[i].Time.Equal(gf[i].Time), "failure %d: time", i)
		wf[i].Time, gf[i].Time = time.Time{}, time.Time{}
	}
	assert.Equal(t, wf, gf)
}
