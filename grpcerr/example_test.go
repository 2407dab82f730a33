package grpcerr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// runService answers every unary call with an MLflow error.
type runService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (runService) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return nil, mlerr.ErrRunNotFound.New("run 42 not found").WithDetail("run_id", "42")
}

// A gRPC server and client with the interceptors on both sides, over
// loopback: the handler returns an *mlerr.Error, the caller gets it back
// with its MLflow code and details, and gRPC-aware code still sees the
// status.
func Example() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcerr.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(grpcerr.StreamServerInterceptor()))
	testgrpc.RegisterTestServiceServer(srv, runService{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	defer func() { srv.Stop(); <-done }()

	cc, err := grpc.NewClient("passthrough:///"+lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(grpcerr.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(grpcerr.StreamClientInterceptor()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cc.Close()

	_, err = testgrpc.NewTestServiceClient(cc).UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
	fmt.Println(err)
	fmt.Println("RESOURCE_DOES_NOT_EXIST:", errors.Is(err, mlerr.CodeResourceDoesNotExist))
	if e := mlerr.AsError(err); e != nil {
		var id string
		e.Detail("run_id", &id)
		fmt.Println("run_id:", id)
	}
	fmt.Println("retry:", mlerr.Classify(err).Retry)
	fmt.Println("gRPC code:", status.Code(err))
	// Output:
	// RESOURCE_DOES_NOT_EXIST: run 42 not found
	// RESOURCE_DOES_NOT_EXIST: true
	// run_id: 42
	// retry: false
	// gRPC code: NotFound
}

// Status writes the MLflow code into an ErrorInfo and RetryAfter into a
// RetryInfo; FromStatus reads them back, and mlerr.Classify honours the
// delay as it honours an HTTP Retry-After.
func ExampleStatus() {
	s := grpcerr.Status(mlerr.New(mlerr.CodeResourceExhausted, "slow down").WithRetryAfter(2 * time.Second))
	fmt.Println(s.Code(), s.Message())
	for _, d := range s.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fmt.Println("ErrorInfo:", d.GetReason(), d.GetDomain())
		case *errdetails.RetryInfo:
			fmt.Println("RetryInfo:", d.GetRetryDelay().AsDuration())
		}
	}
	back := grpcerr.FromStatus(s)
	fmt.Println(mlerr.CodeOf(back), mlerr.Classify(back).After)
	// Output:
	// ResourceExhausted slow down
	// ErrorInfo: RESOURCE_EXHAUSTED mlflow.org
	// RetryInfo: 2s
	// RESOURCE_EXHAUSTED 2s
}

// A status from a server that sends no ErrorInfo of ours gets the canonical
// MLflow code of its gRPC code.
func ExampleFromStatus() {
	err := grpcerr.FromStatus(status.New(codes.Unavailable, "backend restarting"))
	fmt.Println(err)
	fmt.Println("retry:", mlerr.Classify(err).Retry)
	// Output:
	// TEMPORARILY_UNAVAILABLE: backend restarting
	// retry: true
}
