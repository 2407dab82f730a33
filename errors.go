package mlerr

import (
	"context"
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
	code       Code
	name       string // error_code as received when it is no name of ours; else ""
	message    string
	kind       *Kind
	details    map[string]json.RawMessage
	cause      error
	status     int           // HTTP status observed on the wire; 0 if none
	retryAfter time.Duration // Retry-After asked for by the server; 0 if none
}

// New returns an error with the given code and message.
func New(code Code, message string) *Error {
	return &Error{code: code, message: message}
}

// Errorf returns an error with the given code and a message formatted as
// fmt.Errorf does; a %w verb makes its operand the cause (Unwrap returns it).
func Errorf(code Code, format string, args ...any) *Error {
	if msg, cause, ok := errorfMessage(format, args); ok {
		return &Error{code: code, message: msg, cause: cause}
	}
	w := fmt.Errorf(format, args...)
	e := &Error{code: code, message: w.Error()}
	switch u := w.(type) {
	case interface{ Unwrap() error }:
		e.cause = u.Unwrap()
	case interface{ Unwrap() []error }:
		e.cause = w // keeps every %w operand reachable
	}
	return e
}

// Wrap returns err with a code and a message in front of it; err becomes the
// cause. Wrap(nil, ...) returns nil, so it can wrap a call's result directly.
func Wrap(err error, code Code, message string) error {
	if err == nil {
		return nil
	}
	return &Error{code: code, message: message, cause: err}
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
	if e.name != "" {
		return e.name
	}
	return e.code.String()
}

// Message returns the human-readable message, without the code.
func (e *Error) Message() string { return e.message }

// Kind returns the error's kind, or nil.
func (e *Error) Kind() *Kind { return e.kind }

// Details returns the extra JSON members that accompany the code and message
// on the wire, as raw JSON. The map is shared: do not modify it.
func (e *Error) Details() map[string]json.RawMessage { return e.details }

// Detail decodes the detail called key into v. It returns false when the
// detail is absent or does not decode into v.
func (e *Error) Detail(key string, v any) bool {
	raw, ok := e.details[key]
	return ok && json.Unmarshal(raw, v) == nil
}

// HTTPStatus returns the HTTP status observed on the wire, or when there was
// none the code's status (Code.HTTPStatus).
func (e *Error) HTTPStatus() int {
	if e.status != 0 {
		return e.status
	}
	return e.code.HTTPStatus()
}

// RetryAfter returns the delay the server asked for before a retry (from a
// Retry-After header), or 0.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Error returns "CODE: message", followed by ": cause" when the cause's text is
// not already part of the message.
func (e *Error) Error() string {
	s := e.Name()
	switch {
	case e.message != "" && e.cause != nil && !e.causeInMessage():
		return s + ": " + e.message + ": " + e.cause.Error()
	case e.message != "":
		return s + ": " + e.message
	case e.cause != nil:
		return s + ": " + e.cause.Error()
	}
	return s
}

// causeInMessage reports whether the message already ends with the cause's
// text, as it does for errors built by Errorf with %w.
func (e *Error) causeInMessage() bool {
	c := e.cause.Error()
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
		return e.kind.isA(t)
	}
	return false
}

// clone returns a shallow copy for the With methods.
func (e *Error) clone() *Error {
	c := *e
	return &c
}

// WithDetail returns a copy of e with one more detail, value encoded as JSON.
// A value that cannot be encoded is stored as its fmt %v text.
func (e *Error) WithDetail(key string, value any) *Error {
	raw, err := json.Marshal(value)
	if err != nil {
		raw, _ = json.Marshal(fmt.Sprint(value))
	}
	c := e.clone()
	c.details = make(map[string]json.RawMessage, len(e.details)+1)
	for k, v := range e.details {
		c.details[k] = v
	}
	c.details[key] = raw
	return c
}

// WithKind returns a copy of e with the given kind.
func (e *Error) WithKind(k *Kind) *Error {
	c := e.clone()
	c.kind = k
	return c
}

// WithCause returns a copy of e whose Unwrap returns cause.
func (e *Error) WithCause(cause error) *Error {
	c := e.clone()
	c.cause = cause
	return c
}

// WithHTTPStatus returns a copy of e that reports status as observed on the
// wire. A status of 0 (or a negative one) clears it.
func (e *Error) WithHTTPStatus(status int) *Error {
	c := e.clone()
	c.status = max(status, 0)
	return c
}

// WithRetryAfter returns a copy of e that asks for a retry after d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := e.clone()
	c.retryAfter = d
	return c
}

// CodeOf returns the code of the first *Error, Code, *Kind or other error with
// a Code() Code method (such as *BatchError) found in err's chain (depth first,
// as errors.Is searches). Without one, context.Canceled
// gives CANCELLED, context.DeadlineExceeded DEADLINE_EXCEEDED, and any other
// error INTERNAL_ERROR. CodeOf(nil) is the zero code. It does not allocate.
func CodeOf(err error) Code {
	if err == nil {
		return 0
	}
	if c, ok := findCode(err); ok {
		return c
	}
	return CodeInternalError
}

// coder is implemented by errors that carry an overall code of their own,
// such as *BatchError; CodeOf takes it instead of searching their causes.
type coder interface{ Code() Code }

// maxVisits bounds how many errors of a chain or tree CodeOf and AsError
// look at, so that a cyclic chain (an error that unwraps to itself, or joins
// itself twice) ends the search instead of looping or exploding.
const maxVisits = 100

func findCode(err error) (Code, bool) {
	f, _ := findCodeIn(err, maxVisits)
	return f.code, f.ok
}

// found is what findCodeIn found: a code and the error of the chain that
// gave it (an *Error, a Code, a *Kind, a coder, or a context error).
type found struct {
	code Code
	src  error
	ok   bool
}

// findCodeIn searches err's tree depth first, looking at most at budget
// errors. It returns what it found and what is left of the budget.
func findCodeIn(err error, budget int) (found, int) {
	for ; err != nil && budget > 0; budget-- {
		switch e := err.(type) {
		case *Error:
			return found{e.code, e, true}, budget
		case Code:
			return found{e, e, true}, budget
		case *Kind:
			if e.code != 0 {
				return found{e.code, e, true}, budget
			}
		case coder:
			return found{e.Code(), err, true}, budget
		}
		if err == context.Canceled {
			return found{CodeCancelled, err, true}, budget
		}
		if err == context.DeadlineExceeded {
			return found{CodeDeadlineExceeded, err, true}, budget
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			budget--
			for _, inner := range u.Unwrap() {
				var f found
				if f, budget = findCodeIn(inner, budget); f.ok {
					return f, budget
				}
			}
			return found{}, budget
		default:
			return found{}, budget
		}
	}
	return found{}, budget
}

// HTTPStatusOf returns the HTTP status for err: the status of CodeOf(err),
// or when that code comes from an *Error, the status that error observed on
// the wire (Error.HTTPStatus). HTTPStatusOf(nil) is 200.
func HTTPStatusOf(err error) int {
	f, _ := findCodeIn(err, maxVisits)
	if e, ok := f.src.(*Error); ok {
		return e.HTTPStatus()
	}
	c := f.code
	if c == 0 && err != nil {
		c = CodeInternalError
	}
	return c.HTTPStatus()
}

// AsError returns the first *Error in err's chain, or nil. Unlike errors.As it
// does not allocate.
func AsError(err error) *Error { return findError(err) }

func findError(err error) *Error {
	e, _ := findErrorIn(err, maxVisits)
	return e
}

// findErrorIn is findCodeIn for the first *Error.
func findErrorIn(err error, budget int) (*Error, int) {
	for ; err != nil && budget > 0; budget-- {
		if e, ok := err.(*Error); ok {
			return e, budget
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			budget--
			for _, inner := range u.Unwrap() {
				var e *Error
				if e, budget = findErrorIn(inner, budget); e != nil {
					return e, budget
				}
			}
			return nil, budget
		default:
			return nil, budget
		}
	}
	return nil, budget
}
