package grpcerr

import (
	"strings"
	"unicode/utf8"

	"github.com/mlerr/mlerr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Domain is the ErrorInfo domain of the statuses Status writes. It names the
// taxonomy of their reasons: MLflow's error code names (mlerr.Code.String),
// or a name a server sent in that taxonomy that this library does not know.
const Domain = "mlflow.org"

// Status returns err as a gRPC status with rich details. Status(nil) is nil
// (which gRPC reads as OK); any other error gives a status whose code is not
// OK.
//
// What is converted is the first of these found in err's chain, depth first
// (as errors.As searches):
//
//   - an error with a GRPCStatus method (a status error, an *Error decoded by
//     this package): its status, unchanged, so a proxy forwards what it
//     received (unless that status is nil or OK: an error is no success);
//   - an *mlerr.Error: see below; the text of errors wrapping it is not
//     part of the status, as with mlerr.WriteError;
//   - a *mlerr.BatchError: as an *mlerr.Error with the batch's code and
//     summary (BatchError.Error) as message, the batch below it.
//
// Any other error is converted as an *mlerr.Error of code mlerr.CodeOf(err)
// (INTERNAL_ERROR for an error without a code; context.Canceled gives
// CANCELLED, context.DeadlineExceeded DEADLINE_EXCEEDED) whose message is
// err.Error().
//
// An *mlerr.Error gives:
//
//   - the code: codes.Code(e.Code().GRPC()), the code table's gRPC column
//     (UNKNOWN for a number MLflow does not define); the zero code, whose
//     column is OK, is sent as INTERNAL with its name "OK" in the ErrorInfo,
//     as MLflow JSON sends it as INTERNAL_ERROR;
//   - the message: e.Message();
//   - an ErrorInfo detail: reason e.Name() (a name the library does not know
//     is kept verbatim), domain Domain, and as metadata every detail of
//     e.Details() with its raw JSON as the value;
//   - a RetryInfo detail when e.RetryAfter() > 0;
//   - a BadRequest detail with one violation per failed item when the error
//     is a batch, or has a *mlerr.BatchError in its cause chain: field is
//     the item's key (the "key" member of an item that encodes as a JSON
//     object, as mlerr.Item does) or else its index, description the
//     failure's reason and reason the failure's code name. The batch itself
//     travels in the ErrorInfo metadata, as "batch_total" (the number of
//     items) and "batch_failures" (the failures as BatchError.MarshalJSON
//     writes them: index, error_code, reason, time, item), so that
//     FromStatus gives it back whole;
//   - otherwise, for an error of gRPC class INVALID_ARGUMENT
//     (INVALID_PARAMETER_VALUE, BAD_REQUEST, ...) naming keys in a "key"
//     detail (a string) or a "keys" detail (an array of strings), a
//     BadRequest with one violation per key: field the key, description the
//     message, reason the error's name.
//
// Strings that are not valid UTF-8 (which protobuf refuses) are sent with
// each run of invalid bytes replaced by U+FFFD.
func Status(err error) *status.Status {
	if err == nil {
		return nil
	}
	switch src := source(err).(type) {
	case statuser:
		if s := src.GRPCStatus(); s != nil && s.Code() != codes.OK {
			return s
		}
	case *mlerr.Error:
		return encode(src, batchIn(src.Unwrap()))
	case batchError:
		return encode(mlerr.New(src.Code(), src.Error()), src)
	}
	return encode(mlerr.New(mlerr.CodeOf(err), err.Error()), nil)
}

// statuser is an error that is, or carries, a gRPC status.
type statuser interface {
	error
	GRPCStatus() *status.Status
}

// maxVisits bounds how many errors of a chain or tree source looks at, so
// that an error that unwraps to itself ends the search.
const maxVisits = 100

// source returns the error of err's chain that Status converts, or nil.
func source(err error) error {
	_, src := sourceIn(err, maxVisits)
	return src
}

// sourceIn is source looking at most at budget errors; it returns what is
// left of the budget, and the error found.
func sourceIn(err error, budget int) (int, error) {
	for ; err != nil && budget > 0; budget-- {
		switch e := err.(type) {
		case statuser, *mlerr.Error, batchError:
			return budget, err
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				var src error
				if budget, src = sourceIn(inner, budget-1); src != nil {
					return budget, src
				}
			}
			return budget, nil
		default:
			return budget, nil
		}
	}
	return budget, nil
}

// encode builds the status of e; batch (or nil) is the batch below e.
func encode(e *mlerr.Error, batch batchError) *status.Status {
	code := codes.Code(e.Code().GRPC())
	if code == codes.OK {
		code = codes.Code(mlerr.CodeInternalError.GRPC())
	}
	info := &errdetails.ErrorInfo{
		Reason:   validUTF8(e.Name()),
		Domain:   Domain,
		Metadata: metadataOf(e),
	}
	var room [3]protoadapt.MessageV1 // on the stack: WithDetails keeps no slice
	details := append(room[:0], info)
	if d := e.RetryAfter(); d > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	}
	var bad *errdetails.BadRequest
	if wire := batchWireOf(batch); wire != nil {
		if info.Metadata == nil {
			info.Metadata = make(map[string]string, 2)
		}
		info.Metadata[metaBatchTotal] = string(wire.Details.Total)
		info.Metadata[metaBatchFailures] = string(wire.Details.Failures)
		bad = wire.badRequest()
	} else if code == codes.InvalidArgument {
		bad = keyViolations(e)
	}
	if bad != nil {
		details = append(details, bad)
	}
	s := status.New(code, validUTF8(e.Message()))
	if rich, err := s.WithDetails(details...); err == nil {
		return rich
	}
	return s // not reached: every string was made valid UTF-8
}

// metadataOf returns e's details as ErrorInfo metadata, or nil.
func metadataOf(e *mlerr.Error) map[string]string {
	d := e.Details()
	if len(d) == 0 {
		return nil
	}
	m := make(map[string]string, len(d))
	for k, v := range d {
		m[validUTF8(k)] = validUTF8(string(v))
	}
	return m
}

// keyViolations returns a BadRequest with a violation per key that e names
// in its "key" or "keys" detail, or nil when it names none.
func keyViolations(e *mlerr.Error) *errdetails.BadRequest {
	var keys []string
	var key string
	if e.Detail("key", &key) {
		keys = append(keys, key)
	}
	var more []string
	if e.Detail("keys", &more) {
		keys = append(keys, more...)
	}
	if len(keys) == 0 {
		return nil
	}
	bad := &errdetails.BadRequest{FieldViolations: make([]*errdetails.BadRequest_FieldViolation, len(keys))}
	description, reason := validUTF8(e.Message()), validUTF8(e.Name())
	for i, k := range keys {
		bad.FieldViolations[i] = &errdetails.BadRequest_FieldViolation{Field: validUTF8(k), Description: description, Reason: reason}
	}
	return bad
}

// validUTF8 returns s with each run of invalid bytes replaced by U+FFFD; s
// itself when it is valid.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
