package grpcerr_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mlerr/mlerr/grpcerr"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/types/known/durationpb"
)

// service is grpc-go's interop test service (so no code is generated
// here) with the behaviour of each test.
type service struct {
	testgrpc.UnimplementedTestServiceServer
	unary  func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error)
	stream func(req *testgrpc.StreamingOutputCallRequest, s testgrpc.TestService_StreamingOutputCallServer) error
}

func (s *service) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return s.unary(ctx, req)
}

func (s *service) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream testgrpc.TestService_StreamingOutputCallServer) error {
	return s.stream(req, stream)
}

// serve starts svc on a loopback port, with this package's server
// interceptors when rich is true, and stops it when the test ends. It
// returns the server's address.
func serve(t *testing.T, svc *service, rich bool) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var opts []grpc.ServerOption
	if rich {
		opts = append(opts,
			grpc.ChainUnaryInterceptor(grpcerr.UnaryServerInterceptor()),
			grpc.ChainStreamInterceptor(grpcerr.StreamServerInterceptor()))
	}
	srv := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, svc)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		wg.Wait()
	})
	return lis.Addr().String()
}

// dial connects to addr, with this package's client interceptors when rich
// is true, and closes the connection when the test ends.
func dial(t *testing.T, addr string, rich bool) testgrpc.TestServiceClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if rich {
		opts = append(opts,
			grpc.WithChainUnaryInterceptor(grpcerr.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(grpcerr.StreamClientInterceptor()))
	}
	cc, err := grpc.NewClient("passthrough:///"+addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	return testgrpc.NewTestServiceClient(cc)
}

// callCtx is the context of a test's calls: generous, so that a slow
// machine never fails a test, and never reached by a passing one.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is an mlerr.Clock whose Sleep returns at once, moving its time
// on and recording the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// errFromHandler is a handler that fails with err.
func errFromHandler(err error) func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) { return nil, err }
}

func durationpbOf(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
