package mlerr

import (
	"strconv"
	"strings"
	"time"
)

// stopReason says why Retry gave up; RetryError.Reason is its name.
type stopReason uint8

const (
	stopExhausted stopReason = iota + 1
	stopElapsed
	stopBudget
	stopCanceled
	stopPermanent
)

func (r stopReason) String() string {
	if r >= stopExhausted && int(r) < len(stopReasonNames) {
		return stopReasonNames[r]
	}
	return "stop(" + strconv.Itoa(int(r)) + ")"
}

var stopReasonNames = [...]string{
	stopExhausted: "exhausted", stopElapsed: "elapsed", stopBudget: "budget",
	stopCanceled: "canceled", stopPermanent: "permanent",
}

// RetryError is what Retry and Do return when they give up, whatever the
// reason, even after a single attempt whose error was not retryable: callers
// can always errors.As it. Unwrap returns the last error, so errors.Is(err,
// CodeTemporarilyUnavailable) and CodeOf(err) still see it.
type RetryError struct {
	// Attempts is the number of calls of the operation.
	Attempts int
	// Elapsed is the time from the first failure to giving up (the time
	// MaxElapsed limits); 0 when the first failure was the last.
	Elapsed time.Duration
	// Reason says why Retry stopped, as net.OpError's Op names an
	// operation: "exhausted" (the policy's MaxAttempts were made),
	// "elapsed" (the next attempt would start after the policy's
	// MaxElapsed, counted from the first failure, or after the caller's
	// context deadline, so Retry did not wait for it), "budget" (the shared
	// retry budget had no token left), "canceled" (the caller's context was
	// canceled or reached its deadline; Last is then a *TimeoutError of
	// kind "context") or "permanent" (the error is not retryable, see
	// Classify, was marked with Permanent, or is a nested Retry loop's
	// *RetryError).
	Reason string
	// Last is the last attempt's error, without a Permanent mark. An
	// attempt that ran out of time is a *TimeoutError around the
	// operation's own error.
	Last error

	ctxErr error // the caller's context error, when canceled
}

// Error returns "retry stopped (<reason>) after <n> attempt(s)[ in <elapsed>]: <last>".
func (e *RetryError) Error() string {
	var b strings.Builder
	b.WriteString("retry stopped (")
	b.WriteString(e.Reason)
	b.WriteString(") after ")
	writeCount(&b, e.Attempts, "attempt")
	if e.Elapsed > 0 {
		b.WriteString(" in ")
		b.WriteString(e.Elapsed.String())
	}
	if e.Last != nil {
		b.WriteString(": ")
		b.WriteString(e.Last.Error())
	}
	return b.String()
}

// Unwrap returns the last error.
func (e *RetryError) Unwrap() error { return e.Last }

// Is reports whether target is the caller's context error that stopped the
// retries (Reason "canceled"), so that errors.Is(err, context.Canceled) holds
// even when the operation returned an error of its own.
func (e *RetryError) Is(target error) bool {
	return e.ctxErr != nil && target == e.ctxErr
}
