package mlerr

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"
)

// The kinds of TimeoutError.
const (
	timeoutContext = "context"
	timeoutAttempt = "attempt"
	timeoutConnect = "connect"
	timeoutRead    = "read"
)

// TimeoutError says which deadline ended an operation. Retry puts one around
// the error of an attempt that timed out, so errors.As(err, &te) tells a
// caller's deadline from a per-attempt timeout or a network timeout.
// errors.Is(err, context.DeadlineExceeded) is true for every kind, and Unwrap
// returns the operation's own error.
type TimeoutError struct {
	// Kind is the deadline that fired, as net.OpError's Op names an
	// operation: "context" (the caller's context reached its deadline;
	// never retried), "attempt" (the Policy's AttemptTimeout ended one
	// attempt; retried), "connect" (establishing the connection timed out:
	// a dial or TLS handshake timeout; retried) or "read" (the connection was
	// up but the answer did not come in time: a read deadline, or an
	// http.Client Timeout while awaiting headers or reading the body;
	// retried).
	Kind string
	// Timeout is the limit that was exceeded when the library knows it (the
	// Policy's AttemptTimeout for "attempt"), else 0: the caller's
	// context and the network stack do not tell their original durations.
	Timeout time.Duration
	// Err is the operation's error.
	Err error
}

// Error returns "<kind> timeout[ after <Timeout>]: <Err>".
func (e *TimeoutError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind)
	b.WriteString(" timeout")
	if e.Timeout > 0 {
		b.WriteString(" after ")
		b.WriteString(e.Timeout.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the operation's error.
func (e *TimeoutError) Unwrap() error { return e.Err }

// Is reports whether target is context.DeadlineExceeded, so that every
// timeout, whichever deadline fired, matches it.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// networkTimeoutKind tells, for an error that holds a timeout of the
// network stack, whether it happened while connecting or later.
func networkTimeoutKind(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return timeoutConnect
	}
	if strings.Contains(err.Error(), "TLS handshake timeout") {
		return timeoutConnect
	}
	return timeoutRead
}
