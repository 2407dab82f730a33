package mlerr

import (
	"context"
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
//     (TimeoutContext).
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
	s.walk(err)
	return s.decide()
}

// IsRetryable reports whether Classify(err) allows a retry.
func IsRetryable(err error) bool { return Classify(err).Retry }

// Permanent marks err as final: Retry and Do stop at once and return it
// (without the mark) as the last error of a *RetryError with StopPermanent.
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

// classifyVisits bounds how many errors Classify's walk looks at. Unlike
// CodeOf, which stops at the first code, the walk reads every node for the
// signals of lower rank (a Retry-After, a Permanent mark deep in a join), so
// its bound is wider than maxVisits: a *BatchError of a full batch (1,000
// failures, each with a chain of a few errors) is still read whole.
const classifyVisits = 10_000

// signals is what one walk of an error chain found; decide turns it into a
// Decision in the order Classify documents.
type signals struct {
	permanent  bool
	after      time.Duration
	timeout    *TimeoutError
	ctxErr     error
	hasCode    bool
	code       Code
	status     int  // observed HTTP status of the first *Error; 0 if none
	named      bool // that *Error carried an error_code name we do not know
	hasNet     bool
	net        Decision
	netTimeout bool // a network-stack timeout was found
	retried    bool // a *RetryError: a nested retry loop already gave up
}

// walk visits err's chain depth first, as errors.Is does, recording the first
// of each signal. It stops at a Permanent mark, and after classifyVisits
// errors in all: an error that joins itself at every level has
// exponentially many paths, and a cyclic one endless ones.
func (s *signals) walk(err error) { s.walkIn(err, classifyVisits) }

// walkIn is walk looking at most at budget errors; it returns what is left
// of the budget.
func (s *signals) walkIn(err error, budget int) int {
	for ; err != nil && budget > 0; budget-- {
		if s.visit(err) {
			return budget
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			budget--
			for _, inner := range u.Unwrap() {
				if budget = s.walkIn(inner, budget); s.permanent || budget <= 0 {
					return budget
				}
			}
			return budget
		default:
			s.visitLeaf(err)
			return budget - 1
		}
	}
	return budget
}

// visit records what one node of the chain says; true stops the walk.
func (s *signals) visit(err error) bool {
	switch e := err.(type) {
	case *permanentError:
		s.permanent = true
		return true
	case *delayError:
		if s.after == 0 {
			s.after = e.after
		}
	case *Error:
		if w := e.wireExt(); w != nil {
			if s.after == 0 && w.retryAfter > 0 {
				s.after = w.retryAfter
			}
			if !s.hasCode {
				s.hasCode, s.code, s.status, s.named = true, e.code, w.status, w.name != ""
			}
		} else if !s.hasCode {
			s.hasCode, s.code = true, e.code
		}
	case *TimeoutError:
		if s.timeout == nil {
			s.timeout = e
		}
	case *RetryError:
		s.retried = true
	case Code:
		s.setCode(e)
	case *Kind:
		if e != nil && e.code != 0 {
			s.setCode(e.code)
		}
	case coder:
		s.setCode(e.Code())
	default:
		if err == context.Canceled || err == context.DeadlineExceeded {
			if s.ctxErr == nil {
				s.ctxErr = err
			}
			return false
		}
		if d, ok := netDecision(err); ok {
			s.setNet(d)
		}
	}
	return false
}

// visitLeaf looks at the innermost error of a chain for the signals that only
// leaves give: the network stack's timeouts and an unexpected EOF.
func (s *signals) visitLeaf(err error) {
	if err == context.Canceled || err == context.DeadlineExceeded {
		return // recorded by visit; a context error is no network timeout
	}
	if d, ok := leafDecision(err); ok {
		s.setNet(d)
	}
}

func (s *signals) setCode(c Code) {
	if !s.hasCode {
		s.hasCode, s.code = true, c
	}
}

func (s *signals) setNet(d Decision) {
	if d.Reason == reasonNetTimeout {
		s.netTimeout = true
	}
	if !s.hasNet {
		s.hasNet, s.net = true, d
	}
}

func (s *signals) decide() Decision {
	switch {
	case s.permanent:
		return Decision{Reason: "permanent"}
	case s.after > 0:
		return Decision{Retry: true, After: s.after, Reason: "retry-after"}
	case s.timeout != nil:
		return timeoutDecision(s.timeout.Kind)
	case s.ctxErr == context.Canceled:
		return Decision{Reason: "context canceled"}
	case s.ctxErr != nil:
		return Decision{Reason: "context deadline"}
	case s.hasCode && s.status >= 200 && s.status < 300:
		return Decision{Reason: "status 2xx"} // the server said it succeeded: repeating could apply the call twice
	case s.hasCode && s.status != 0:
		if s.named || CodeForHTTPStatus(s.status) == s.code {
			return statusDecision(s.status)
		}
		return codeDecision(s.code)
	case s.hasNet:
		return s.net
	case s.hasCode:
		return codeDecision(s.code)
	}
	return Decision{Reason: "not retryable"}
}

func timeoutDecision(k TimeoutKind) Decision {
	switch k {
	case TimeoutContext:
		return Decision{Reason: "context deadline"}
	case TimeoutAttempt:
		return Decision{Retry: true, Reason: "attempt timeout"}
	case TimeoutConnect:
		return Decision{Retry: true, Reason: "connect timeout"}
	}
	return Decision{Retry: true, Reason: "read timeout"}
}

func codeDecision(c Code) Decision {
	switch c.Retry() {
	case RetryTransient:
		return Decision{Retry: true, Reason: "code transient"}
	case RetryThrottled:
		return Decision{Retry: true, Reason: "code throttled"}
	}
	return Decision{Reason: "code never"}
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
	case status >= 500 && status <= 599:
		return Decision{Retry: true, Reason: "status 5xx"}
	}
	return Decision{Reason: "status final"}
}
