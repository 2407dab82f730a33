package grpcerr

import (
	"encoding/json"
	"slices"

	"github.com/mlerr/mlerr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxDetails bounds the details FromStatus reads from one ErrorInfo's
// metadata (the first ones in key order), so that huge metadata cannot make
// it work or allocate without bound.
const maxDetails = 256

// FromStatus returns the error a status stands for, or nil for a nil or OK
// status. It reads back everything Status writes, losslessly within the
// bounds given here:
//
//   - the code: the ErrorInfo reason when the ErrorInfo's domain is Domain
//     and the reason is an MLflow code name; otherwise (a server that sends
//     no ErrorInfo of ours, or a name this library does not know) the gRPC
//     code by the code table's canonical reverse map, mlerr.CodeForGRPC: a
//     name it does not know is kept verbatim as the Error's Name;
//   - the message: the status message;
//   - the details: the ErrorInfo metadata, each value as raw JSON when it is
//     valid JSON, else as a JSON string (at most 256, the first in key
//     order);
//   - RetryAfter: the RetryInfo delay, when positive;
//   - a batch: the *mlerr.BatchError[json.RawMessage] Status wrote (the
//     decoded error's cause), or for a BadRequest from another server, one
//     failure per violation: index its position, item the field as a JSON
//     string, reason the description (or the code's name when empty), code
//     the violation's reason when it is an MLflow code name, else the
//     status's code (at most 10,000 failures);
//   - the kind: ErrStatus, whose parent is mlerr.ErrRest.
//
// Details of other types, and ErrorInfos of other domains, are not decoded:
// the Error's GRPCStatus still has them.
func FromStatus(s *status.Status) *Error {
	if s == nil || s.Code() == codes.OK {
		return nil
	}
	var r received
	r.read(s)
	code, name := r.code(s.Code())
	e := mlerr.New(code, s.Message()).WithKind(ErrStatus)
	e = withMetadata(e, r.info.GetMetadata(), r.batch != nil)
	if d := r.retry.GetRetryDelay().AsDuration(); d > 0 {
		e = e.WithRetryAfter(d)
	}
	if r.batch != nil {
		e = e.WithCause(r.batch)
	}
	return &Error{err: e, name: name, status: s}
}

// FromError returns err converted by FromStatus when err itself (not an
// error wrapping one) answers GRPCStatus with a status that is not OK, as
// the errors of gRPC calls do; it returns any other error, and an *Error,
// unchanged.
func FromError(err error) error {
	s, ok := err.(statuser)
	if !ok {
		return err
	}
	if _, done := err.(*Error); done {
		return err
	}
	if e := FromStatus(s.GRPCStatus()); e != nil {
		return e
	}
	return err
}

// received is the details of a status that FromStatus reads: the first of
// each type.
type received struct {
	info  *errdetails.ErrorInfo // of Domain
	retry *errdetails.RetryInfo
	bad   *errdetails.BadRequest
	batch *mlerr.BatchError[json.RawMessage]
}

// read finds the details of s and its batch.
func (r *received) read(s *status.Status) {
	for _, d := range s.Details() {
		r.take(d)
	}
	switch {
	case r.info != nil:
		r.batch, _ = batchFromMetadata(r.info.GetMetadata())
	case r.bad != nil:
		r.batch = batchFromViolations(r.bad, mlerr.CodeForGRPC(uint32(s.Code())))
	}
}

// take keeps d when it is the first detail of its type that FromStatus
// reads.
func (r *received) take(d any) {
	switch m := d.(type) {
	case *errdetails.ErrorInfo:
		if r.info == nil && m.GetDomain() == Domain {
			r.info = m
		}
	case *errdetails.RetryInfo:
		if r.retry == nil {
			r.retry = m
		}
	case *errdetails.BadRequest:
		if r.bad == nil {
			r.bad = m
		}
	}
}

// code returns the decoded code, and the reason verbatim when it names no
// MLflow code.
func (r *received) code(grpcCode codes.Code) (mlerr.Code, string) {
	if r.info == nil {
		return mlerr.CodeForGRPC(uint32(grpcCode)), ""
	}
	if c, err := mlerr.ParseCode(r.info.GetReason()); err == nil && c != 0 {
		return c, ""
	}
	return mlerr.CodeForGRPC(uint32(grpcCode)), r.info.GetReason()
}

// withMetadata returns e with meta as its details (see FromStatus); the
// batch's keys are left out when the batch was read from them.
func withMetadata(e *mlerr.Error, meta map[string]string, batch bool) *mlerr.Error {
	if len(meta) == 0 {
		return e
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if batch && (k == metaBatchTotal || k == metaBatchFailures) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys[:min(len(keys), maxDetails)] {
		if v := meta[k]; json.Valid([]byte(v)) {
			e = e.WithDetail(k, json.RawMessage(v))
		} else {
			e = e.WithDetail(k, v)
		}
	}
	return e
}
