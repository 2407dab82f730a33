package mlerr

import (
	"encoding/json"
	"fmt"
	"time"
)

// Error is the library's structured error: an MLflow code, a message, the
// extra JSON fields MLflow puts beside them (details), an optional cause, and
// what was observed on the wire (the HTTP status, the Retry-After asked for).
//
// errors.Is(err, code) matches an *Error's code, errors.Is(err, kind) its kind
// and the kind's parents, and errors.As(err, &e) finds it through any wrapping.
// An *Error is immutable once built: the With methods return a modified copy.
type Error struct {
	// Only the code and the message live in the Error itself, so that New
	// allocates 32 bytes; the rest hangs off x (see errorExt).
	code    Code
	message string
	x       *errorExt // nil when there is no kind, cause or wire field
}

// errorExt holds an Error's fields that New leaves empty. It is never
// modified once an Error points to it: errors built from one kind share that
// kind's (Kind.ext), copies made by the With methods share their original's.
// Code that changes a field gives the Error a new errorExt (editExt, or one
// of the blocks below for an Error being built).
type errorExt struct {
	kind  *Kind
	cause error
	wire  *wireExt // nil when no wire field is set
}

// wireExt holds the fields the wire decoders and the With methods set, under
// the same rule as errorExt.
type wireExt struct {
	name       string // error_code as received when it is no name of ours; else ""
	details    map[string]json.RawMessage
	status     int           // HTTP status observed on the wire; 0 if none
	retryAfter time.Duration // Retry-After asked for by the server; 0 if none
}

// causedError allocates an Error and its errorExt at once (64 bytes).
type causedError struct {
	e Error
	x errorExt
}

// wireError allocates an Error with both extensions at once.
type wireError struct {
	e Error
	x errorExt
	w wireExt
}

// newError returns an error with a kind (or nil) and a cause (or nil), in
// one allocation: 32 bytes without a cause (a kind's errors share the
// kind's errorExt), 64 with one.
func newError(code Code, kind *Kind, message string, cause error) *Error {
	if cause == nil {
		e := &Error{code: code, message: message}
		if kind != nil {
			e.x = kind.ext()
		}
		return e
	}
	b := &causedError{e: Error{code: code, message: message}, x: errorExt{kind: kind, cause: cause}}
	b.e.x = &b.x
	return &b.e
}

// newWireError returns an empty error whose two extensions are its own, in
// one allocation, for the decoders to fill in.
func newWireError() *Error {
	b := &wireError{}
	b.x.wire = &b.w
	b.e.x = &b.x
	return &b.e
}

// New returns an error with the given code and message.
func New(code Code, message string) *Error {
	return &Error{code: code, message: message}
}

// Errorf returns an error with the given code and a message formatted as
// fmt.Errorf does; a %w verb makes its operand the cause (Unwrap returns it).
func Errorf(code Code, format string, args ...any) *Error {
	return errorf(code, nil, format, args)
}

// errorf is Errorf for an error of kind (or nil).
func errorf(code Code, kind *Kind, format string, args []any) *Error {
	if msg, cause, ok := errorfMessage(format, args); ok {
		return newError(code, kind, msg, cause)
	}
	w := fmt.Errorf(format, args...)
	return newError(code, kind, w.Error(), wrappedCause(w))
}

// wrappedCause is the cause of an error made by fmt.Errorf: the operand of
// its one %w, the error itself for several (which keeps every operand
// reachable), nil for none.
func wrappedCause(w error) error {
	switch u := w.(type) {
	case interface{ Unwrap() error }:
		return u.Unwrap()
	case interface{ Unwrap() []error }:
		return w
	}
	return nil
}

// Wrap returns err with a code and a message in front of it; err becomes the
// cause. Wrap(nil, ...) returns nil, so it can wrap a call's result directly.
func Wrap(err error, code Code, message string) error {
	if err == nil {
		return nil
	}
	return newError(code, nil, message, err)
}

// InvalidParameterValue returns an INVALID_PARAMETER_VALUE error with a
// formatted message, like MLflow's MlflowException.invalid_parameter_value.
func InvalidParameterValue(format string, args ...any) *Error {
	return Errorf(CodeInvalidParameterValue, format, args...)
}

// Code returns the error's code (INTERNAL_ERROR when the wire named a code
// this library does not know; see Name).
func (e *Error) Code() Code { return e.code }

// Name returns the error_code string: the code's MLflow name, or the name
// exactly as a server sent it when it is not one of MLflow's.
func (e *Error) Name() string {
	if n := e.rawName(); n != "" {
		return n
	}
	return e.code.String()
}

// wireExt returns e's wire fields, or nil.
func (e *Error) wireExt() *wireExt {
	if e.x == nil {
		return nil
	}
	return e.x.wire
}

// rawName returns the error_code as received when it is no name of ours,
// else "".
func (e *Error) rawName() string {
	if w := e.wireExt(); w != nil {
		return w.name
	}
	return ""
}

// observedStatus returns the HTTP status observed on the wire, or 0.
func (e *Error) observedStatus() int {
	if w := e.wireExt(); w != nil {
		return w.status
	}
	return 0
}

// Message returns the human-readable message, without the code.
func (e *Error) Message() string { return e.message }

// Kind returns the error's kind, or nil.
func (e *Error) Kind() *Kind {
	if e.x == nil {
		return nil
	}
	return e.x.kind
}

// Details returns the extra JSON members that accompany the code and message
// on the wire, as raw JSON. The map is shared: do not modify it.
func (e *Error) Details() map[string]json.RawMessage {
	if w := e.wireExt(); w != nil {
		return w.details
	}
	return nil
}

// Detail decodes the detail called key into v. It returns false when the
// detail is absent or does not decode into v.
func (e *Error) Detail(key string, v any) bool {
	raw, ok := e.Details()[key]
	return ok && json.Unmarshal(raw, v) == nil
}

// HTTPStatus returns the HTTP status observed on the wire, or when there was
// none the code's status (Code.HTTPStatus).
func (e *Error) HTTPStatus() int {
	if s := e.observedStatus(); s != 0 {
		return s
	}
	return e.code.HTTPStatus()
}

// RetryAfter returns the delay the server asked for before a retry (from a
// Retry-After header), or 0.
func (e *Error) RetryAfter() time.Duration {
	if w := e.wireExt(); w != nil {
		return w.retryAfter
	}
	return 0
}

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error {
	if e.x == nil {
		return nil
	}
	return e.x.cause
}

// Error returns "CODE: message", followed by ": cause" when the cause's text is
// not already part of the message.
func (e *Error) Error() string {
	s := e.Name()
	cause := e.Unwrap()
	switch {
	case e.message != "" && cause != nil && !e.causeInMessage(cause):
		return s + ": " + e.message + ": " + cause.Error()
	case e.message != "":
		return s + ": " + e.message
	case cause != nil:
		return s + ": " + cause.Error()
	}
	return s
}

// causeInMessage reports whether the message already ends with the cause's
// text, as it does for errors built by Errorf with %w.
func (e *Error) causeInMessage(cause error) bool {
	c := cause.Error()
	return len(c) <= len(e.message) && e.message[len(e.message)-len(c):] == c
}

// Is reports whether target is the error's code, its kind, or an ancestor of
// its kind. It is what makes errors.Is(err, CodeX) and errors.Is(err, ErrX)
// work.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case Code:
		return e.code == t
	case *Kind:
		return e.Kind().isA(t)
	}
	return false
}

// clone returns a shallow copy (sharing e's extensions) for the With methods.
func (e *Error) clone() *Error {
	c := *e
	return &c
}

// cloneExt returns a copy of e with its own copy of the errorExt, in one
// allocation.
func (e *Error) cloneExt() (*Error, *errorExt) {
	b := &causedError{e: *e}
	if e.x != nil {
		b.x = *e.x
	}
	b.e.x = &b.x
	return &b.e, &b.x
}

// cloneWire returns a copy of e with its own copies of both extensions, in
// one allocation.
func (e *Error) cloneWire() (*Error, *wireExt) {
	b := &wireError{e: *e}
	if e.x != nil {
		b.x = *e.x
		if e.x.wire != nil {
			b.w = *e.x.wire
		}
	}
	b.x.wire = &b.w
	b.e.x = &b.x
	return &b.e, &b.w
}

// WithDetail returns a copy of e with one more detail, value encoded as JSON.
// A value that cannot be encoded is stored as its fmt %v text.
func (e *Error) WithDetail(key string, value any) *Error {
	raw, err := json.Marshal(value)
	if err != nil {
		raw, _ = json.Marshal(fmt.Sprint(value))
	}
	old := e.Details()
	c, w := e.cloneWire()
	w.details = make(map[string]json.RawMessage, len(old)+1)
	for k, v := range old {
		w.details[k] = v
	}
	w.details[key] = raw
	return c
}

// ownsExt reports whether e has an errorExt of its own, holding a cause or
// what came over the wire; without one, e has none or its kind's shared one.
func (e *Error) ownsExt() bool {
	return e.x != nil && (e.x.cause != nil || e.x.wire != nil)
}

// WithKind returns a copy of e with the given kind.
func (e *Error) WithKind(k *Kind) *Error {
	if !e.ownsExt() {
		c := e.clone()
		c.x = nil
		if k != nil {
			c.x = k.ext()
		}
		return c
	}
	c, x := e.cloneExt()
	x.kind = k
	return c
}

// WithCause returns a copy of e whose Unwrap returns cause.
func (e *Error) WithCause(cause error) *Error {
	c, x := e.cloneExt()
	x.cause = cause
	return c
}

// WithHTTPStatus returns a copy of e that reports status as observed on the
// wire. A status of 0 (or a negative one) clears it.
func (e *Error) WithHTTPStatus(status int) *Error {
	c, w := e.cloneWire()
	w.status = max(status, 0)
	return c
}

// WithRetryAfter returns a copy of e that asks for a retry after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c, w := e.cloneWire()
	w.retryAfter = d
	return c
}

// withObserved returns a copy of e that reports status and retryAfter as
// observed on the wire, or e itself when both are zero (and e has none).
func (e *Error) withObserved(status int, retryAfter time.Duration) *Error {
	if status == e.observedStatus() && retryAfter == e.RetryAfter() {
		return e
	}
	c, w := e.cloneWire()
	w.status, w.retryAfter = status, retryAfter
	return c
}

// CodeOf returns the code of the first *Error, Code, *Kind or other error with
// a Code() Code method (such as *BatchError) found in err's chain (depth first,
// as errors.Is searches). Without one, context.Canceled
// gives CANCELLED, context.DeadlineExceeded DEADLINE_EXCEEDED, and any other
// error INTERNAL_ERROR. CodeOf(nil) is the zero code. Like Classify, it looks
// at no more than 10,000 errors of err's tree. It does not allocate.
func CodeOf(err error) Code {
	if err == nil {
		return 0
	}
	return codeFound(walker{goal: goalCode}.find(err))
}

// HTTPStatusOf returns the HTTP status for err: the status of CodeOf(err),
// or when that code comes from an *Error, the status that error observed on
// the wire (Error.HTTPStatus). HTTPStatusOf(nil) is 200.
func HTTPStatusOf(err error) int {
	if err == nil {
		return 200
	}
	found := walker{goal: goalCode}.find(err)
	if e, ok := found.(*Error); ok {
		return e.HTTPStatus()
	}
	return codeFound(found).HTTPStatus()
}

// AsError returns the first *Error in err's chain, or nil. Unlike errors.As it
// does not allocate.
func AsError(err error) *Error {
	e, _ := walker{goal: goalError}.find(err).(*Error)
	return e
}
