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

// walker walks an error tree for its goal, depth first, in the order
// errors.Is and errors.As search it (each error before what it wraps, joined
// errors in order), looking at maxVisits errors at most.
type walker struct {
	goal goal
	s    *signals // where a goalDecision walk records what it sees; nil for the other goals
}

// find returns the first error of err's tree that meets w's goal: an *Error
// (goalError); an *Error, a Code, a *Kind with a code, another coder or a
// context error (goalCode); a Permanent mark (goalDecision, which records in
// w.s what it sees on the way). It returns nil when the walk meets none.
func (w walker) find(err error) error {
	_, found := w.walk(err, maxVisits)
	return found
}

// walk visits err's chain and, through joins, its tree, until it finds what
// it looks for or left visits are spent (each error visited costs one). It
// returns the visits left and what it found (0 and the error when it found
// one; the visits left and nil when it did not).
//
// An *Error is matched first, by one comparison; any other error goes
// through one type switch that both reads it and finds what it wraps: Go
// resolves its interface cases with one lookup, where a switch to read the
// error and another to unwrap it cost two. A *Kind is a coder and is read
// as one; a bare Code, which has no methods beyond Error, comes last.
func (w walker) walk(err error, left int) (int, error) {
	for ; err != nil && left > 0; left-- {
		if e, ok := err.(*Error); ok {
			if w.sawError(e) {
				return 0, e
			}
			err = e.Unwrap()
			continue
		}
		switch e := err.(type) {
		case coder:
			return w.sawCoder(err, e, left)
		case interface{ Unwrap() error }:
			if w.sawWrapper(err) {
				return 0, err
			}
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			return w.walkJoined(e.Unwrap(), left-1)
		case Code:
			return w.sawCode(e, left)
		default:
			return w.sawLeaf(err, left)
		}
	}
	return left, nil
}

// walkJoined walks each of a join's errors in turn, sharing the visits left.
func (w walker) walkJoined(errs []error, left int) (int, error) {
	for _, err := range errs {
		var found error
		if left, found = w.walk(err, left); found != nil || left <= 0 {
			return 0, found
		}
	}
	return left, nil
}

// sawCoder reads an error with a code of its own, then goes on below it. A
// *Kind without a code (or a nil one) gives none, and wraps nothing.
func (w walker) sawCoder(err error, c coder, left int) (int, error) {
	if codeless(c) {
		return left - 1, nil
	}
	switch w.goal {
	case goalCode:
		return 0, err
	case goalDecision:
		w.s.sawCode(c.Code(), err)
	}
	return w.walkBelow(err, left)
}

// codeless reports whether c is a *Kind without a code, or a nil one.
func codeless(c coder) bool {
	k, ok := c.(*Kind)
	return ok && (k == nil || k.code == 0)
}

// walkBelow goes on below err, whose own Unwrap walk could not take.
func (w walker) walkBelow(err error, left int) (int, error) {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return w.walk(u.Unwrap(), left-1)
	case interface{ Unwrap() []error }:
		return w.walkJoined(u.Unwrap(), left-1)
	}
	return w.sawLeaf(err, left)
}

// sawLeaf reads an error that wraps nothing and is no code: a context error
// (which a goalCode walk takes), and for a decision, the network errors and
// the signals that only leaves give (the network stack's timeouts, an
// unexpected EOF).
func (w walker) sawLeaf(err error, left int) (int, error) {
	switch {
	case w.goal == goalError:
	case isContextError(err):
		if w.goal == goalCode {
			return 0, err
		}
		w.s.sawContext(err)
	case w.goal == goalDecision:
		w.s.sawLeaf(err)
	}
	return left - 1, nil
}

// sawError reads an *Error, which every goal but goalDecision takes.
func (w walker) sawError(e *Error) bool {
	if w.goal != goalDecision {
		return true
	}
	w.s.sawError(e)
	return false
}

// sawWrapper reads an error that wraps another, which only a goalDecision
// walk looks at: it takes a Permanent mark (see signals.sawMark).
func (w walker) sawWrapper(err error) bool {
	return w.goal == goalDecision && w.s.sawMark(err)
}

// sawCode reads a bare Code, which goalCode takes and which wraps nothing.
func (w walker) sawCode(c Code, left int) (int, error) {
	if w.goal == goalDecision {
		w.s.sawCode(c, c)
	}
	if w.goal == goalCode {
		return 0, c
	}
	return left - 1, nil
}

// isContextError reports whether err is one of the context package's errors.
func isContextError(err error) bool {
	return err == context.Canceled || err == context.DeadlineExceeded
}

// contextCode is the code of a context error: CANCELLED for
// context.Canceled, DEADLINE_EXCEEDED for context.DeadlineExceeded.
func contextCode(err error) Code {
	if err == context.Canceled {
		return CodeCancelled
	}
	return CodeDeadlineExceeded
}

// codeFound is the code of what a goalCode walk found: its own, that of a
// context error, or INTERNAL_ERROR when the walk found nothing.
func codeFound(found error) Code {
	if e, ok := found.(*Error); ok { // the common case, inlined
		return e.code
	}
	return codeOfFound(found)
}

func codeOfFound(found error) Code {
	switch e := found.(type) {
	case nil:
		return CodeInternalError
	case Code:
		return e
	case coder:
		return e.Code()
	}
	return contextCode(found)
}

// signals is what a goalDecision walk saw: the first error of each sort
// that Classify ranks.
type signals struct {
	permanent  bool // a Permanent mark
	retried    bool // a *RetryError: a nested retry loop gave up
	netTimeout bool // a timeout of the network stack
	netRetry   bool // the first network error's verdict (with netReason)

	code Code  // src's code
	ctx  Code  // CANCELLED or DEADLINE_EXCEEDED for the first context error; 0 if none
	src  error // the first error that carries a code (not a context error)

	after     time.Duration // the first delay asked for (RetryAfter, Retry-After)
	timeout   *TimeoutError // the first *TimeoutError
	netReason string        // the first network error's Decision.Reason; "" if none
}

// read walks err's tree and records what it sees in s.
func (s *signals) read(err error) {
	walker{goal: goalDecision, s: s}.find(err)
}

// sawMark records what an error that wraps another says: the marks of this
// package (Permanent, RetryAfter, a *TimeoutError, a *RetryError) and the
// network errors that wrap a cause. A Permanent mark ends the walk.
func (s *signals) sawMark(err error) bool {
	switch e := err.(type) {
	case *permanentError:
		s.permanent = true
		return true
	case *delayError:
		s.sawDelay(e.after)
	case *TimeoutError:
		s.sawTimeout(e)
	case *RetryError:
		s.retried = true
	default:
		if d, ok := netDecision(err); ok {
			s.sawNet(d)
		}
	}
	return false
}

// sawError records an *Error: its code (for the first one that gives a code)
// and the Retry-After it carries.
func (s *signals) sawError(e *Error) {
	if w := e.wireExt(); w != nil && w.retryAfter > 0 {
		s.sawDelay(w.retryAfter)
	}
	s.sawCode(e.code, e)
}

// sawCode records the first error that carries a code.
func (s *signals) sawCode(c Code, src error) {
	if s.src == nil {
		s.src, s.code = src, c
	}
}

// sawContext records the first context error, by its code.
func (s *signals) sawContext(err error) {
	if s.ctx == 0 {
		s.ctx = contextCode(err)
	}
}

// sawLeaf records the verdict of a leaf that is a network error, or a
// network-stack timeout, or an unexpected EOF.
func (s *signals) sawLeaf(err error) {
	if d, ok := netDecision(err); ok {
		s.sawNet(d)
	}
	if d, ok := leafDecision(err); ok {
		s.sawNet(d)
	}
}

// sawTimeout records the first *TimeoutError.
func (s *signals) sawTimeout(e *TimeoutError) {
	if s.timeout == nil {
		s.timeout = e
	}
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
