// Package grpcerr carries mlerr's errors over gRPC: one error, three wires
// (MLflow JSON, problem+json, and a gRPC status with rich details).
//
// Status turns any error into a *status.Status: the code is the code
// table's gRPC column (mlerr.Code.GRPC), an ErrorInfo detail of domain
// Domain carries the MLflow code name and the error's details, a RetryInfo
// detail its RetryAfter, and a BadRequest detail one violation per failed
// item of a *mlerr.BatchError (or per key an invalid-parameter error names).
// FromStatus and FromError read all of it back into an *Error, which unwraps
// to the *mlerr.Error and still answers GRPCStatus with the status received:
//
//	err := grpcerr.FromError(grpcCallErr)
//	errors.Is(err, mlerr.CodeResourceDoesNotExist) // the MLflow code, not just NOT_FOUND
//	mlerr.Classify(err)                            // honours RetryInfo like Retry-After
//	status.Code(err)                               // codes.NotFound, as before
//
// For a status that comes without an ErrorInfo of ours, the code is the gRPC
// code's canonical MLflow code (mlerr.CodeForGRPC): the same code back for
// the codes alone in their gRPC class or marked canonical in the table, the
// canonical one of the class for the others (RESOURCE_DOES_NOT_EXIST comes
// back from a bare NOT_FOUND as NOT_FOUND).
//
// The interceptors do the conversions at the edges: UnaryServerInterceptor
// and StreamServerInterceptor send a handler's error as Status(err);
// UnaryClientInterceptor and StreamClientInterceptor turn a call's status
// error into an *Error.
//
// FromStatus and FromError are lossless for what Status wrote (fuzzed by
// FuzzFromStatus): a BadRequest comes back as a *mlerr.BatchError of
// json.RawMessage items, and the error's kind is ErrStatus, a child of
// mlerr.ErrRest. Of the table's codes, 15 are canonical for their gRPC class
// and come back as themselves from a bare status; the other 64 come back as
// their class's canonical code (codes_test.go lists them). The package is
// tested on loopback with grpc-go's interop service: both interceptor sides,
// a stream failing midway, and RESOURCE_EXHAUSTED with RetryInfo under
// mlerr.Retry. Converting costs about what building or reading the same
// status by hand does (docs/performance.md in the repository).
//
// The package is a module of its own, so that the mlerr module keeps to the
// standard library.
package grpcerr
