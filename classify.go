package mlerr

import (
	"time"
)

// Decision is a classifier's verdict on an error: retry or not, and after
// what delay.
type Decision struct {
	// Retry is true when the operation may be tried again.
	Retry bool
	// After is the delay the error explicitly asks for (a server's
	// Retry-After, or RetryAfter from the operation); 0 when it asks for
	// none, and the policy's backoff applies.
	After time.Duration
	// Reason names the signal that decided, for logs: "permanent",
	// "retry-after", "attempt timeout", "context canceled", "code transient",
	// "status 5xx", "connection refused", "dns not found", "certificate",
	// "malformed url", "not retryable", ...
	Reason string
}

// Classify decides whether the operation that failed with err may be retried,
// from the most specific signal in err's chain:
//
//  1. Permanent(err) anywhere: never.
//  2. An explicit delay: an *Error with a RetryAfter (the server's
//     Retry-After), or RetryAfter(err, d) from the operation: retry after it.
//  3. A *TimeoutError: retried unless it is the caller's context
//     (timeoutContext).
//  4. context.Canceled and context.DeadlineExceeded: never; they are the
//     caller's decision. (Retry itself tells an attempt's timeout from the
//     caller's deadline, see TimeoutError.)
//  5. An *Error that came over HTTP (it has an observed status): the code's
//     retry class (Code.Retry) when the server named a code of its own; when
//     the code was only derived from the status, or the name is unknown, the
//     status decides: 408, 429 and 5xx except 501 are retried. A 2xx
//     status is never retried, whatever the body says: the call succeeded.
//  6. Network errors: connection refused, reset, aborted, broken pipe,
//     unreachable network or host, network timeouts, temporary DNS failures,
//     io.ErrUnexpectedEOF and a connection closed before the response
//     (io.EOF inside a *url.Error) are retried; DNS "not found", TLS and
//     certificate errors and malformed URLs never. A network error decides
//     even under an *Error or Code attached locally (without a status), so
//     wrapping a certificate error with a retryable code does not make it
//     retried.
//  7. Otherwise the code in the chain (*Error, Code, *Kind, or an error with
//     a Code() Code method such as *BatchError) by its retry class.
//  8. Anything else: not retried.
//
// Classify looks through a *RetryError at its last error, so that a caller
// can still ask whether a failure that exhausted its retries was transient.
// (Retry itself does not retry an operation whose error is a *RetryError:
// nested retry loops would multiply the attempts.)
//
// Classify looks at no more than 10,000 errors of err's chain or tree, so
// that an error that joins itself at every level (exponentially many paths)
// or unwraps to itself cannot hang it.
//
// Classify does not allocate.
func Classify(err error) Decision {
	if err == nil {
		return Decision{Reason: "nil error"}
	}
	var s signals
	s.read(err)
	return s.decide()
}

// Permanent marks err as final: Retry and Do stop at once and return it
// (without the mark) as the last error of a *RetryError with stopPermanent.
// Permanent(nil) is nil. The mark wins over everything else in the chain.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RetryAfter marks err as retryable after d: an operation uses it to ask for
// a delay itself, as a server does with Retry-After. The delay is clamped by
// the Policy's MaxRetryAfter like a server's. RetryAfter(nil, d) is nil, and
// a d <= 0 returns err unchanged.
func RetryAfter(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &delayError{err: err, after: d}
}

type delayError struct {
	err   error
	after time.Duration
}

func (e *delayError) Error() string { return e.err.Error() }
func (e *delayError) Unwrap() error { return e.err }

// decide turns what a goalDecision walk found into a Decision, in the order
// Classify documents: first the marks that the caller or the operation put
// on the error (rules 1 to 4), then what the error says of itself.
func (s *signals) decide() Decision {
	if d := s.markDecision(); d.Reason != "" {
		return d
	}
	if e := s.observedError(); e != nil {
		return observedDecision(e.code, e.x.wire)
	}
	return s.localDecision()
}

// observedError is the error that gives the code when it is an *Error that
// came over HTTP (it has an observed status), else nil.
func (s *signals) observedError() *Error {
	if e, ok := s.src.(*Error); ok && e.observedStatus() != 0 {
		return e
	}
	return nil
}

// localDecision applies rules 6 to 8 of Classify, for an error that did
// not come over HTTP: a network error, else the code in the chain.
func (s *signals) localDecision() Decision {
	switch {
	case s.netReason != "":
		return Decision{Retry: s.netRetry, Reason: s.netReason}
	case s.src != nil:
		return codeDecision(s.code)
	}
	return Decision{Reason: "not retryable"}
}

// markDecision applies rules 1 to 4 of Classify: a Permanent mark, a delay
// asked for, a *TimeoutError, a context error. Its Reason is "" when none
// applies.
func (s *signals) markDecision() Decision {
	switch {
	case s.permanent:
		return Decision{Reason: "permanent"}
	case s.after > 0:
		return Decision{Retry: true, After: s.after, Reason: "retry-after"}
	case s.timeout != nil:
		return timeoutDecision(s.timeout.Kind)
	case s.ctx != 0:
		return contextDecision(s.ctx)
	}
	return Decision{}
}

func contextDecision(c Code) Decision {
	if c == CodeCancelled {
		return Decision{Reason: "context canceled"}
	}
	return Decision{Reason: "context deadline"}
}

// observedDecision decides for an *Error of code c that came over HTTP (w
// holds its status): a 2xx status is never retried (the server said it
// succeeded: repeating could apply the call twice); a code named by the
// server decides, unless it is no name of ours or was only derived from the
// status, and then the status does.
func observedDecision(c Code, w *wireExt) Decision {
	switch {
	case statusClass(w.status) == 2:
		return Decision{Reason: "status 2xx"}
	case w.name != "" || CodeForHTTPStatus(w.status) == c:
		return statusDecision(w.status)
	}
	return codeDecision(c)
}

// timeoutDecision: only the caller's deadline is final.
func timeoutDecision(kind string) Decision {
	switch kind {
	case timeoutContext:
		return Decision{Reason: "context deadline"}
	case timeoutAttempt:
		return Decision{Retry: true, Reason: "attempt timeout"}
	case timeoutConnect:
		return Decision{Retry: true, Reason: "connect timeout"}
	}
	return Decision{Retry: true, Reason: "read timeout"}
}

func codeDecision(c Code) Decision { return codeDecisions[c.retry()] }

// codeDecisions is the decision for each retry class.
var codeDecisions = [...]Decision{
	retryNever:     {Reason: "code never"},
	retryTransient: {Retry: true, Reason: "code transient"},
	retryThrottled: {Retry: true, Reason: "code throttled"},
}

// statusDecision applies the HTTP rules: 408 and 429 and every 5xx but 501
// (Not Implemented, a final answer) are worth another try.
func statusDecision(status int) Decision {
	switch {
	case status == 408:
		return Decision{Retry: true, Reason: "status 408"}
	case status == 429:
		return Decision{Retry: true, Reason: "status 429"}
	case status == 501:
		return Decision{Reason: "status 501"}
	case statusClass(status) == 5:
		return Decision{Retry: true, Reason: "status 5xx"}
	}
	return Decision{Reason: "status final"}
}
