package mlerr

import (
	"context"
	"time"
)

// maxVisits bounds how many errors of a tree one walk looks at, whatever it
// looks for, so that CodeOf, AsError, HTTPStatusOf and Classify agree on what
// an error holds. An error that unwraps to itself, or that joins itself at
// every level (exponentially many paths), ends the walk instead of looping
// or exploding, while a *BatchError of a full batch (1,000 failures, each
// with a chain of a few errors) is still read whole.
const maxVisits = 10_000

// goal says what a walk looks for, and so where it stops.
type goal uint8

const (
	// goalError stops at the first *Error (AsError).
	goalError goal = iota + 1
	// goalCode stops at the first error that gives a code: an *Error, a
	// Code, a *Kind with a code, a coder, or a context error (CodeOf).
	goalCode
	// goalDecision reads every error for the signals Classify ranks, and
	// stops only at a Permanent mark (Classify, Retry).
	goalDecision
)

// coder is implemented by errors that carry an overall code of their own,
// such as *BatchError; a walk takes it instead of searching their causes.
type coder interface{ Code() Code }

// signals is what one walk of an error tree found: the first error of each
// sort that matters, in the order errors.Is and errors.As search the tree
// (depth first, each error before what it wraps, joined errors in order).
type signals struct {
	goal goal

	// For goalDecision only (a goalCode or goalError walk stops before it
	// has read the whole tree).
	permanent  bool // a Permanent mark
	retried    bool // a *RetryError: a nested retry loop gave up
	netTimeout bool // a timeout of the network stack
	netRetry   bool // the first network error's verdict (with netReason)

	code Code // src's code
	ctx  Code // CANCELLED or DEADLINE_EXCEEDED for the first context error; 0 if none

	first *Error // the first *Error (goalError only)
	src   error  // the first error that carries a code (not a context error)

	after     time.Duration // the first delay asked for (RetryAfter, Retry-After)
	timeout   *TimeoutError // the first *TimeoutError
	netReason string        // the first network error's Decision.Reason; "" if none
}

// read walks err's tree for s.goal. (Callers keep s in a variable of their
// own: returning it by value costs a copy as long as the walk.)
func (s *signals) read(err error) { s.walk(err, maxVisits) }

// walk visits err's chain and, through joins, its tree, until what it
// sees ends it or left visits are spent (each error visited costs one). It
// returns the visits left, 0 when the walk must end.
//
// One type switch both reads an error and finds what it wraps: Go resolves
// its interface cases with one lookup, where a switch to read the error and
// another to unwrap it cost two (BenchmarkCodeOf: the lookup is most of the
// time of a wrapped error).
func (s *signals) walk(err error, left int) int {
	for ; err != nil && left > 0; left-- {
		switch e := err.(type) {
		case *Error:
			if s.sawError(e) {
				return 0
			}
			err = e.Unwrap()
		case Code, *Kind:
			return s.sawLeafCode(err, left)
		case coder:
			return s.sawCoder(err, e, left)
		case interface{ Unwrap() error }:
			if s.goal == goalDecision && s.sawMark(err) {
				return 0
			}
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			return s.walkJoined(e.Unwrap(), left-1)
		default:
			return s.sawLeaf(err, left)
		}
	}
	return left
}

// walkJoined walks each of a join's errors in turn, sharing the visits left.
func (s *signals) walkJoined(errs []error, left int) int {
	for _, err := range errs {
		if left = s.walk(err, left); left <= 0 {
			return 0
		}
	}
	return left
}

// sawCoder records an error with a code of its own (not for goalError),
// then goes on below it.
func (s *signals) sawCoder(err error, c coder, left int) int {
	if s.goal != goalError && s.sawCode(c.Code(), err) {
		return 0
	}
	return s.walkBelow(err, left)
}

// walkBelow goes on below err, whose own Unwrap walk could not take.
func (s *signals) walkBelow(err error, left int) int {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return s.walk(u.Unwrap(), left-1)
	case interface{ Unwrap() []error }:
		return s.walkJoined(u.Unwrap(), left-1)
	}
	return s.sawLeaf(err, left)
}

// sawLeafCode records a bare Code or a *Kind, which wrap nothing.
func (s *signals) sawLeafCode(err error, left int) int {
	var c Code
	switch e := err.(type) {
	case Code:
		c = e
	case *Kind:
		if e == nil || e.code == 0 {
			return left - 1
		}
		c = e.code
	}
	if s.goal != goalError && s.sawCode(c, err) {
		return 0
	}
	return left - 1
}

// sawLeaf looks at an error that wraps nothing and is no code: a context
// error, and for a decision, the network errors and the signals that only
// leaves give (the network stack's timeouts, an unexpected EOF).
func (s *signals) sawLeaf(err error, left int) int {
	switch {
	case s.goal == goalError:
	case err == context.Canceled:
		return s.sawContext(CodeCancelled, left)
	case err == context.DeadlineExceeded:
		return s.sawContext(CodeDeadlineExceeded, left)
	case s.goal == goalDecision:
		if d, ok := netDecision(err); ok {
			s.sawNet(d)
		}
		if d, ok := leafDecision(err); ok {
			s.sawNet(d)
		}
	}
	return left - 1
}

// sawContext records the first context error (by its code); it ends a
// goalCode walk.
func (s *signals) sawContext(c Code, left int) int {
	if s.ctx == 0 {
		s.ctx = c
	}
	if s.goal == goalCode {
		return 0
	}
	return left - 1
}

// sawMark records, for a decision, what an error that wraps another says:
// the marks of this package (Permanent, RetryAfter, a *TimeoutError, a
// *RetryError) and the network errors that wrap a cause. A Permanent mark
// ends the walk.
func (s *signals) sawMark(err error) bool {
	switch e := err.(type) {
	case *permanentError:
		s.permanent = true
		return true
	case *delayError:
		s.sawDelay(e.after)
	case *TimeoutError:
		if s.timeout == nil {
			s.timeout = e
		}
	case *RetryError:
		s.retried = true
	default:
		if d, ok := netDecision(err); ok {
			s.sawNet(d)
		}
	}
	return false
}

// sawError records an *Error: the first one, its code, its Retry-After.
func (s *signals) sawError(e *Error) bool {
	switch s.goal {
	case goalError:
		s.first = e
		return true
	case goalDecision:
		if w := e.wireExt(); w != nil && w.retryAfter > 0 {
			s.sawDelay(w.retryAfter)
		}
	}
	return s.sawCode(e.code, e)
}

// sawCode records the first error that carries a code; it ends a goalCode
// walk.
func (s *signals) sawCode(c Code, src error) bool {
	if s.src == nil {
		s.src, s.code = src, c
	}
	return s.goal == goalCode
}

func (s *signals) sawDelay(d time.Duration) {
	if s.after == 0 {
		s.after = d
	}
}

func (s *signals) sawNet(d Decision) {
	if d.Reason == reasonNetTimeout {
		s.netTimeout = true
	}
	if s.netReason == "" {
		s.netRetry, s.netReason = d.Retry, d.Reason
	}
}

// codeOf is CodeOf's answer from a goalCode walk: the code found, that of
// the context error found, or INTERNAL_ERROR when neither was.
func (s *signals) codeOf() Code {
	switch {
	case s.src != nil:
		return s.code
	case s.ctx != 0:
		return s.ctx
	}
	return CodeInternalError
}
