package grpcerr

import (
	"context"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// UnaryServerInterceptor returns a server interceptor that sends the error a
// unary handler returns as Status(err): a *mlerr.Error or *mlerr.BatchError
// becomes a status with rich details, a status error is sent as it is. A
// handler's response and a nil error pass through untouched. Recovering
// from a handler's panic is left to the server (or to another interceptor).
func UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		return resp, statusError(err)
	}
}

// StreamServerInterceptor returns a server interceptor that sends the error
// a streaming handler returns as Status(err), as UnaryServerInterceptor
// does; the messages the handler sent before it failed have been sent.
func StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return statusError(handler(srv, ss))
	}
}

// statusError returns err as the error of its status; nil and errors that
// already answer GRPCStatus are returned as they are.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(statuser); ok {
		return err
	}
	return Status(err).Err()
}

// UnaryClientInterceptor returns a client interceptor that turns the status
// error of a failed call into an *Error (see FromStatus): it unwraps to an
// *mlerr.Error, so errors.Is(err, code) and mlerr.Retry work on it, and its
// GRPCStatus is the status received, so status.Code and status.FromError
// work as before.
//
// When the call failed because its own context ended (a CANCELLED or
// DEADLINE_EXCEEDED status while ctx.Err() is set), ctx.Err() becomes the
// cause of the *mlerr.Error, so that mlerr.Classify leaves the caller's
// decision alone instead of retrying it.
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return callError(ctx, invoker(ctx, method, req, reply, cc, opts...))
	}
}

// StreamClientInterceptor returns a client interceptor that converts the
// errors of a stream as UnaryClientInterceptor does: those of opening it and
// those its RecvMsg, SendMsg and Header return (io.EOF, the end of a stream,
// stays io.EOF).
func StreamClientInterceptor() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, callError(ctx, err)
		}
		return &clientStream{ClientStream: cs}, nil
	}
}

// clientStream converts the errors of the stream it wraps.
type clientStream struct {
	grpc.ClientStream
}

func (s *clientStream) RecvMsg(m any) error {
	return s.streamError(s.ClientStream.RecvMsg(m))
}

func (s *clientStream) SendMsg(m any) error {
	return s.streamError(s.ClientStream.SendMsg(m))
}

func (s *clientStream) Header() (metadata.MD, error) {
	md, err := s.ClientStream.Header()
	return md, s.streamError(err)
}

func (s *clientStream) streamError(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return callError(s.Context(), err)
}

// callError converts the error of a call made with ctx. The *Error it
// builds is its own until it returns it, so it may still set the cause.
func callError(ctx context.Context, err error) error {
	converted := FromError(err)
	e, ok := converted.(*Error)
	if !ok || e == err {
		return converted
	}
	if c := e.status.Code(); (c == codes.Canceled || c == codes.DeadlineExceeded) && ctx.Err() != nil && e.err.Unwrap() == nil {
		e.err = e.err.WithCause(ctx.Err())
	}
	return e
}
