package mlerr

import (
	"context"
	"math"
	"time"
)

// RetryEvent describes a retry about to happen; Policy.OnRetry receives it.
type RetryEvent struct {
	// Attempt is the number of the attempt that failed (1 for the first).
	Attempt int
	// Err is its error (a *TimeoutError when it ran out of time).
	Err error
	// Wait is the delay chosen before the next attempt.
	Wait time.Duration
	// Reason is the classifier's reason for retrying (Decision.Reason).
	Reason string
}

// Retry calls op until it succeeds or the policy says stop, waiting between
// attempts as the policy says. It returns nil on success, and a *RetryError
// when it gives up (Unwrap gives op's last error).
//
// op receives a context that ends at the caller's context or the policy's
// AttemptTimeout, whichever is first. Errors are classified by the policy's
// Classify (by default the package's Classify); the caller's context ending
// stops Retry whatever the classification, and interrupts a wait at once.
// With the default classifier, an error that holds a *RetryError (a nested
// Retry loop that gave up) is not retried again: the attempts would multiply.
//
// Cost: with AttemptTimeout Off, a call that succeeds at once neither
// allocates, reads the clock nor arms a timer. An AttemptTimeout costs a
// context.WithTimeout per attempt (4 allocations), unless the caller's
// context ends sooner. Failures read the clock once each; a zero wait never
// arms a timer.
func Retry(ctx context.Context, p Policy, op func(ctx context.Context) error) error {
	if p.Budget != nil {
		p.Budget.deposit()
	}
	actx, cancel := attemptContext(ctx, &p)
	err := op(actx)
	if cancel != nil {
		err = endAttempt(actx, cancel, err, &p)
	}
	if err == nil {
		return nil
	}
	return retryFailed(ctx, &p, op, err)
}

// retryFailed is Retry after a first failure: kept apart so that the success
// path sets nothing up.
func retryFailed(ctx context.Context, p *Policy, op func(ctx context.Context) error, err error) error {
	var l loop
	for {
		if stop := l.failed(ctx, p, err); stop != nil {
			return stop
		}
		actx, cancel := attemptContext(ctx, p)
		err = op(actx)
		if cancel != nil {
			err = endAttempt(actx, cancel, err, p)
		}
		if err == nil {
			return nil
		}
	}
}

// Do is Retry for an operation that returns a value: it returns the value of
// the first successful attempt, or the zero T and a *RetryError.
func Do[T any](ctx context.Context, p Policy, op func(ctx context.Context) (T, error)) (T, error) {
	if p.Budget != nil {
		p.Budget.deposit()
	}
	actx, cancel := attemptContext(ctx, &p)
	v, err := op(actx)
	if cancel != nil {
		err = endAttempt(actx, cancel, err, &p)
	}
	if err == nil {
		return v, nil
	}
	return doFailed(ctx, &p, op, err)
}

func doFailed[T any](ctx context.Context, p *Policy, op func(ctx context.Context) (T, error), err error) (T, error) {
	var l loop
	for {
		if stop := l.failed(ctx, p, err); stop != nil {
			var zero T
			return zero, stop
		}
		actx, cancel := attemptContext(ctx, p)
		v, err2 := op(actx)
		if cancel != nil {
			err2 = endAttempt(actx, cancel, err2, p)
		}
		if err2 == nil {
			return v, nil
		}
		err = err2
	}
}

// endAttempt releases an attempt's context; an error after its deadline
// passed becomes a *TimeoutError of kind TimeoutAttempt.
func endAttempt(actx context.Context, cancel context.CancelFunc, err error, p *Policy) error {
	timedOut := err != nil && actx.Err() == context.DeadlineExceeded
	cancel()
	if timedOut {
		return &TimeoutError{Kind: TimeoutAttempt, Timeout: p.attemptTimeout(), Err: err}
	}
	return err
}

// attemptContext returns the context for one attempt and its cancel func, or
// ctx itself and nil when no attempt timeout applies: none is set, or the
// caller's deadline comes first anyway.
func attemptContext(ctx context.Context, p *Policy) (context.Context, context.CancelFunc) {
	if p.AttemptTimeout < 0 { // Off: the allocation-free path, inlined
		return ctx, nil
	}
	return timedContext(ctx, p)
}

func timedContext(ctx context.Context, p *Policy) (context.Context, context.CancelFunc) {
	at := p.attemptTimeout()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= at {
		return ctx, nil
	}
	return context.WithTimeout(ctx, at)
}

// loop is the state of one Retry call between attempts. It is set up at the
// first failure, so that a call that succeeds at once pays nothing for it.
type loop struct {
	r        resolved
	clock    Clock
	attempts int
	first    time.Time // time of the first failure
	base     float64   // the next backoff delay before jitter, in ns
}

// maxBase keeps a growing uncapped delay finite (about 146 years).
const maxBase = float64(math.MaxInt64 / 2)

func (l *loop) now() time.Time {
	if l.clock != nil {
		return l.clock.Now()
	}
	return time.Now()
}

// failed handles the failure of an attempt: it returns the *RetryError to
// give up with, or nil after waiting for the next attempt.
func (l *loop) failed(ctx context.Context, p *Policy, err error) *RetryError {
	l.attempts++
	var now time.Time
	if l.attempts == 1 {
		l.r = p.resolve()
		l.clock = p.Clock
		now = l.now()
		l.first = now
		l.base = float64(l.r.initialDelay)
		if l.r.maxDelay > 0 {
			l.base = min(l.base, float64(l.r.maxDelay))
		}
	} else {
		now = l.now()
	}
	if cerr := ctx.Err(); cerr != nil {
		return l.canceled(err, cerr, now)
	}

	var d Decision
	if p.Classify == nil {
		s := signals{goal: goalDecision}
		s.read(err)
		if s.timeout == nil && s.netTimeout && !s.permanent {
			if k, ok := netTimeoutKind(err); ok {
				te := &TimeoutError{Kind: k, Err: err}
				err, s.timeout = te, te
			}
		}
		d = s.decide()
		if s.retried && !s.permanent {
			d = Decision{Reason: "nested retry gave up"}
		}
	} else {
		if k, ok := netTimeoutKind(err); ok && !isTimeoutError(err) {
			err = &TimeoutError{Kind: k, Err: err}
		}
		d = p.Classify(err)
	}

	if !d.Retry {
		return l.stopAt(StopPermanent, err, now)
	}
	if l.r.maxAttempts > 0 && l.attempts >= l.r.maxAttempts {
		return l.stopAt(StopExhausted, err, now)
	}
	wait := l.wait(d)
	if l.r.maxElapsed > 0 && now.Sub(l.first)+wait > l.r.maxElapsed {
		return l.stopAt(StopElapsed, err, now)
	}
	if dl, ok := ctx.Deadline(); ok && wait > 0 && !now.Add(wait).Before(dl) {
		return l.stopAt(StopElapsed, err, now)
	}
	if p.Budget != nil && !p.Budget.withdraw() {
		return l.stopAt(StopBudget, err, now)
	}
	if p.OnRetry != nil {
		p.OnRetry(RetryEvent{Attempt: l.attempts, Err: err, Wait: wait, Reason: d.Reason})
	}
	if wait > 0 {
		var serr error
		if l.clock != nil {
			serr = l.clock.Sleep(ctx, wait)
		} else {
			serr = systemClock{}.Sleep(ctx, wait)
		}
		if serr != nil {
			if cerr := ctx.Err(); cerr != nil {
				return l.canceled(err, cerr, l.now())
			}
			return l.canceled(err, serr, l.now())
		}
	} else if cerr := ctx.Err(); cerr != nil {
		return l.canceled(err, cerr, now)
	}
	return nil
}

// wait returns the delay before the next attempt and advances the backoff.
func (l *loop) wait(d Decision) time.Duration {
	base := l.base
	next := base * l.r.multiplier
	if l.r.maxDelay > 0 && next > float64(l.r.maxDelay) {
		next = float64(l.r.maxDelay)
	}
	l.base = min(next, maxBase)

	if d.After > 0 {
		if l.r.maxRetryAfter > 0 && d.After > l.r.maxRetryAfter {
			return l.r.maxRetryAfter
		}
		return d.After
	}
	if base <= 0 {
		return 0
	}
	switch l.r.jitter {
	case JitterNone:
		return time.Duration(base)
	case JitterEqual:
		return time.Duration(base/2 + l.uniform()*base/2)
	}
	return time.Duration(l.uniform() * base)
}

// uniform returns the policy's random number, forced into [0, 1] so that a
// faulty source cannot make a wait negative or longer than its delay.
func (l *loop) uniform() float64 {
	u := l.r.random()
	if !(u >= 0) { // NaN too
		return 0
	}
	return min(u, 1)
}

// canceled gives up because the caller's context ended; a deadline is
// reported as a *TimeoutError of kind TimeoutContext.
func (l *loop) canceled(last, cerr error, now time.Time) *RetryError {
	if cerr == context.DeadlineExceeded {
		if te, ok := last.(*TimeoutError); !ok || te.Kind != TimeoutContext {
			last = &TimeoutError{Kind: TimeoutContext, Err: last}
		}
	}
	e := l.stopAt(StopCanceled, last, now)
	e.ctxErr = cerr
	return e
}

func (l *loop) stopAt(reason StopReason, last error, now time.Time) *RetryError {
	if pe, ok := last.(*permanentError); ok {
		last = pe.err
	}
	return &RetryError{Attempts: l.attempts, Elapsed: now.Sub(l.first), Reason: reason, Last: last}
}

func isTimeoutError(err error) bool {
	s := signals{goal: goalDecision}
	s.read(err)
	return s.timeout != nil
}
