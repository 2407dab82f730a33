package mlerr

import (
	"strconv"
	"strings"
	"time"
)

// StopReason says why Retry gave up.
type StopReason uint8

const (
	// StopExhausted: the policy's MaxAttempts were made.
	StopExhausted StopReason = iota + 1
	// StopElapsed: the next attempt would start after the policy's
	// MaxElapsed (counted from the first failure) or after the caller's
	// context deadline, so Retry did not wait for it.
	StopElapsed
	// StopBudget: the shared retry budget had no token left.
	StopBudget
	// StopCanceled: the caller's context was canceled or reached its
	// deadline (then Last is a *TimeoutError of kind TimeoutContext).
	StopCanceled
	// StopPermanent: the error is not retryable (see Classify), was marked
	// with Permanent, or is a nested Retry loop's *RetryError.
	StopPermanent
)

// String returns "exhausted", "elapsed", "budget", "canceled" or
// "permanent".
func (r StopReason) String() string {
	if r >= StopExhausted && int(r) < len(stopReasonNames) {
		return stopReasonNames[r]
	}
	return "stop(" + strconv.Itoa(int(r)) + ")"
}

var stopReasonNames = [...]string{
	StopExhausted: "exhausted", StopElapsed: "elapsed", StopBudget: "budget",
	StopCanceled: "canceled", StopPermanent: "permanent",
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
	// Reason says why Retry stopped.
	Reason StopReason
	// Last is the last attempt's error, without a Permanent mark. An
	// attempt that ran out of time is a *TimeoutError around the
	// operation's own error.
	Last error

	ctxErr error // the caller's context error, for StopCanceled
}

// Error returns "retry stopped (<reason>) after <n> attempt(s)[ in <elapsed>]: <last>".
func (e *RetryError) Error() string {
	var b strings.Builder
	b.WriteString("retry stopped (")
	b.WriteString(e.Reason.String())
	b.WriteString(") after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
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
// retries (StopCanceled), so that errors.Is(err, context.Canceled) holds
// even when the operation returned an error of its own.
func (e *RetryError) Is(target error) bool {
	return e.ctxErr != nil && target == e.ctxErr
}
