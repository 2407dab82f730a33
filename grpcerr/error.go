package grpcerr

import (
	"strings"

	"github.com/mlerr/mlerr"
	"google.golang.org/grpc/status"
)

// ErrStatus is the kind of the errors decoded from a gRPC status (FromStatus,
// FromError and the client interceptors). Its parent is mlerr.ErrRest, so
// code that asks errors.Is(err, mlerr.ErrRest) to tell a server's answer from
// a local failure treats gRPC answers like HTTP ones.
var ErrStatus = mlerr.NewKind("GRPCStatusError", mlerr.ErrRest, 0)

// Error is an error decoded from a gRPC status. It carries the decoded
// *mlerr.Error (Unwrap returns it, so errors.Is(err, code), errors.As(err,
// &mlerrErr), mlerr.CodeOf and mlerr.Classify see through it) and the status
// itself (GRPCStatus returns it, so status.FromError, status.Code and
// gRPC-aware callers get exactly what the server sent).
//
// An Error is immutable.
type Error struct {
	err    *mlerr.Error
	name   string // the ErrorInfo reason when it names no MLflow code; else ""
	status *status.Status
}

// Error returns the decoded error's text ("CODE: message"), with Name in
// front.
func (e *Error) Error() string {
	text := e.err.Error()
	if e.name == "" {
		return text
	}
	return e.name + strings.TrimPrefix(text, e.err.Name())
}

// Unwrap returns the decoded *mlerr.Error: its code, message, details (from
// the ErrorInfo metadata), RetryAfter (from RetryInfo), kind ErrStatus and,
// for a batch, a *mlerr.BatchError[json.RawMessage] as its cause.
func (e *Error) Unwrap() error { return e.err }

// GRPCStatus returns the status the error was decoded from, unchanged.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Name returns the error code name as the server sent it: the ErrorInfo
// reason when it is in Domain but names no MLflow code (the decoded
// *mlerr.Error then has the code the gRPC status code maps to, and that
// code's name), else the decoded error's Name.
func (e *Error) Name() string {
	if e.name != "" {
		return e.name
	}
	return e.err.Name()
}
