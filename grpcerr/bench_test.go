package grpcerr_test

// The conversions against what a gRPC service pays without this package, in
// the same run, the baselines first so that benchstat compares with them
// (the ratios are in README-section.md):
//
//	go test -run '^$' -bench . -count 40 -benchtime 200ms -benchmem > /tmp/grpcerr.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl -filter .name:Status /tmp/grpcerr.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl -filter .name:FromError /tmp/grpcerr.txt

import (
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// benchShapes are the errors measured: a not-found error with one detail,
// and a throttled one with a Retry-After. Each comes with the status a
// service writes by hand for it with status.New(...).WithDetails(...): the
// same code, message and details.
var benchShapes = []struct {
	name string
	err  *mlerr.Error
	hand func() (*status.Status, error)
}{
	{
		name: "error",
		err:  mlerr.New(mlerr.CodeResourceDoesNotExist, "run 42 not found").WithDetail("run_id", "42"),
		hand: func() (*status.Status, error) {
			return status.New(codes.NotFound, "run 42 not found").WithDetails(&errdetails.ErrorInfo{
				Reason: "RESOURCE_DOES_NOT_EXIST", Domain: grpcerr.Domain, Metadata: map[string]string{"run_id": `"42"`},
			})
		},
	},
	{
		name: "throttled",
		err:  mlerr.New(mlerr.CodeResourceExhausted, "slow down").WithRetryAfter(2 * time.Second),
		hand: func() (*status.Status, error) {
			return status.New(codes.ResourceExhausted, "slow down").WithDetails(
				&errdetails.ErrorInfo{Reason: "RESOURCE_EXHAUSTED", Domain: grpcerr.Domain},
				&errdetails.RetryInfo{RetryDelay: durationpb.New(2 * time.Second)})
		},
	},
}

var (
	sinkStatus *status.Status
	sinkErr    error
	sinkAny    []any
)

// BenchmarkStatus: error -> status. impl=grpcerr is Status; the baseline,
// impl=status.New+WithDetails, builds the same status by hand.
func BenchmarkStatus(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run("shape="+sh.name+"/impl=status.New+WithDetails", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkStatus, sinkErr = sh.hand()
			}
		})
		b.Run("shape="+sh.name+"/impl=grpcerr", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkStatus = grpcerr.Status(sh.err)
			}
		})
	}
}

// BenchmarkFromError: a call's status error -> error. impl=grpcerr is
// FromError (what the client interceptors do); the baselines are
// status.FromError alone (impl=status.FromError) and with the details
// unpacked (impl=status.FromError+Details), what a client that reads rich
// details pays at least.
func BenchmarkFromError(b *testing.B) {
	for _, sh := range benchShapes {
		received := grpcerr.Status(sh.err).Err()
		b.Run("shape="+sh.name+"/impl=status.FromError", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkStatus, _ = status.FromError(received)
			}
		})
		b.Run("shape="+sh.name+"/impl=status.FromError+Details", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, _ := status.FromError(received)
				sinkAny = s.Details()
			}
		})
		b.Run("shape="+sh.name+"/impl=grpcerr", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkErr = grpcerr.FromError(received)
			}
		})
	}
}
