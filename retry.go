package mlerr

import (
	"cmp"
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
// when it gives up (Unwrap gives op's last error). Retry is Do for an
// operation without a value.
//
// op receives a context that ends at the caller's context or the policy's
// AttemptTimeout, whichever is first. Errors are classified by the policy's
// Classify (by default the package's Classify); the caller's context ending
// stops Retry whatever the classification, and interrupts a wait at once.
// Whatever the classifier, an error that holds a *RetryError (a nested Retry
// loop that gave up) is not retried again: the attempts would multiply.
//
// Cost: with AttemptTimeout Off, a call that succeeds at once neither
// allocates, reads the clock nor arms a timer. An AttemptTimeout costs a
// context.WithTimeout per attempt (4 allocations), unless the caller's
// context ends sooner. Failures read the clock once each; a zero wait never
// arms a timer.
func Retry(ctx context.Context, p Policy, op func(ctx context.Context) error) error {
	_, err := do(ctx, &p, func(ctx context.Context) (struct{}, error) { return struct{}{}, op(ctx) })
	return err
}

// Do is Retry for an operation that returns a value: it returns the value of
// the first successful attempt, or the zero T and a *RetryError.
func Do[T any](ctx context.Context, p Policy, op func(ctx context.Context) (T, error)) (T, error) {
	return do(ctx, &p, op)
}

// do is the one retry loop, of Retry and Do alike. (It takes the policy by
// pointer so that Retry, which passes it on, does not copy it twice.)
func do[T any](ctx context.Context, p *Policy, op func(ctx context.Context) (T, error)) (T, error) {
	if p.Budget != nil {
		p.Budget.deposit()
	}
	// The first attempt is attempt's body, inlined: a call less on the path
	// of an operation that succeeds at once (BenchmarkRetry/success).
	actx, cancel := attemptContext(ctx, p)
	v, err := op(actx)
	if cancel != nil {
		err = endAttempt(actx, cancel, err, p)
	}
	if err == nil {
		return v, nil
	}
	return retryFailed(ctx, p, op, err)
}

// retryFailed is Do after a first failure: kept apart so that the success
// path sets nothing up.
func retryFailed[T any](ctx context.Context, p *Policy, op func(ctx context.Context) (T, error), err error) (T, error) {
	l := loop{r: p.resolve()}
	for {
		if stop := l.failed(ctx, err); stop != nil {
			var zero T
			return zero, stop
		}
		v, again := attempt(ctx, p, op)
		if again == nil {
			return v, nil
		}
		err = again
	}
}

// attempt calls op once, with the policy's AttemptTimeout.
func attempt[T any](ctx context.Context, p *Policy, op func(ctx context.Context) (T, error)) (T, error) {
	actx, cancel := attemptContext(ctx, p)
	v, err := op(actx)
	if cancel != nil {
		err = endAttempt(actx, cancel, err, p)
	}
	return v, err
}

// endAttempt releases an attempt's context; an error after its deadline
// passed becomes a *TimeoutError of kind timeoutAttempt.
func endAttempt(actx context.Context, cancel context.CancelFunc, err error, p *Policy) error {
	timedOut := err != nil && actx.Err() == context.DeadlineExceeded
	cancel()
	if timedOut {
		return &TimeoutError{Kind: timeoutAttempt, Timeout: p.attemptTimeout(), Err: err}
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
	attempts int
	first    time.Time // time of the first failure
	base     float64   // the next backoff delay before jitter, in ns
}

// maxBase keeps a growing uncapped delay finite (about 146 years).
const maxBase = float64(math.MaxInt64 / 2)

// failed handles the failure of an attempt, in four steps (count, judge,
// next, sleep): it returns the *RetryError to give up with, or nil after
// waiting for the next attempt.
func (l *loop) failed(ctx context.Context, err error) *RetryError {
	now := l.count()
	if stop := l.ended(ctx, err, now); stop != nil {
		return stop
	}
	d, err := judge(err, l.r.classify)
	wait, stop := l.next(ctx, d, now)
	if stop != 0 {
		return l.stopAt(stop, err, now)
	}
	if l.r.onRetry != nil {
		l.r.onRetry(RetryEvent{Attempt: l.attempts, Err: err, Wait: wait, Reason: d.Reason})
	}
	return l.sleep(ctx, err, wait, now)
}

// count records a failed attempt and returns the time of its failure; the
// first failure starts the backoff and the elapsed time.
func (l *loop) count() time.Time {
	l.attempts++
	now := l.r.clock.Now()
	if l.attempts == 1 {
		l.first = now
		l.base = float64(l.r.initialDelay)
		if l.r.maxDelay > 0 {
			l.base = min(l.base, float64(l.r.maxDelay))
		}
	}
	return now
}

// judge is the loop's one decision on the error of an attempt, whatever the
// classifier: a timeout of the network stack becomes a *TimeoutError (unless
// the error holds one already, or a Permanent mark), the classifier decides,
// and an error that holds a *RetryError is not retried (a nested loop gave
// up: retrying would multiply its attempts). It returns the decision and the
// error as the classifier saw it.
//
// A nil classify is the package's Classify, whose verdict judge reads from
// the walk it has made anyway: the same signals, with the *TimeoutError put
// in front, that Classify would find in the error it returns (a second walk
// costs BenchmarkRetry/3-failures-zero-delay 12% more instructions).
func judge(err error, classify func(error) Decision) (Decision, error) {
	var s signals
	s.read(err)
	err = s.timeoutOf(err)
	d := s.decideWith(classify, err)
	if d.Retry && s.retried {
		d = Decision{Reason: "nested retry gave up"}
	}
	return d, err
}

// timeoutOf returns err as judge hands it on: a *TimeoutError around err
// when s saw a timeout of the network stack but neither a *TimeoutError nor
// a Permanent mark; else err itself.
func (s *signals) timeoutOf(err error) error {
	if !s.netTimeout || s.timeout != nil || s.permanent {
		return err
	}
	s.timeout = &TimeoutError{Kind: networkTimeoutKind(err), Err: err}
	return s.timeout
}

// decideWith is the verdict of classify on err, or for a nil classify the
// package's Classify, read from s.
func (s *signals) decideWith(classify func(error) Decision, err error) Decision {
	if classify == nil {
		return s.decide()
	}
	return classify(err)
}

// next decides whether the loop tries again after the failure at now
// judged d: it returns the wait before the next attempt, or why to stop.
// The budget is asked last, so that a token is spent only on a retry that
// every other limit allows.
func (l *loop) next(ctx context.Context, d Decision, now time.Time) (time.Duration, stopReason) {
	if !d.Retry {
		return 0, stopPermanent
	}
	if l.exhausted() {
		return 0, stopExhausted
	}
	wait := l.wait(d)
	if l.pastMaxElapsed(now, wait) || pastDeadline(ctx, now, wait) {
		return 0, stopElapsed
	}
	if l.overBudget() {
		return 0, stopBudget
	}
	return wait, 0
}

// exhausted reports whether the policy's MaxAttempts have been made.
func (l *loop) exhausted() bool {
	return l.r.maxAttempts > 0 && l.attempts >= l.r.maxAttempts
}

// overBudget reports whether the shared retry budget, when there is one,
// has no token left; when it has, it spends one.
func (l *loop) overBudget() bool {
	return l.r.budget != nil && !l.r.budget.withdraw()
}

// pastMaxElapsed reports whether an attempt after wait would start past the
// policy's MaxElapsed, counted from the first failure.
func (l *loop) pastMaxElapsed(now time.Time, wait time.Duration) bool {
	return l.r.maxElapsed > 0 && now.Sub(l.first)+wait > l.r.maxElapsed
}

// pastDeadline reports whether an attempt after wait would start at or past
// the caller's deadline (a zero wait always may try).
func pastDeadline(ctx context.Context, now time.Time, wait time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && wait > 0 && !now.Add(wait).Before(dl)
}

// sleep waits before the next attempt. It returns the *RetryError to give up
// with when the caller's context ends first (or has ended, for a zero wait).
func (l *loop) sleep(ctx context.Context, last error, wait time.Duration, now time.Time) *RetryError {
	if wait <= 0 {
		return l.ended(ctx, last, now)
	}
	serr := l.r.clock.Sleep(ctx, wait)
	if serr == nil {
		return nil
	}
	// The context's own error when it has ended, else the clock's.
	return l.canceled(last, cmp.Or(ctx.Err(), serr), l.r.clock.Now())
}

// ended returns the *RetryError to give up with when the caller's context
// has ended, else nil.
func (l *loop) ended(ctx context.Context, last error, now time.Time) *RetryError {
	if cerr := ctx.Err(); cerr != nil {
		return l.canceled(last, cerr, now)
	}
	return nil
}

// wait returns the delay before the next attempt and advances the backoff.
func (l *loop) wait(d Decision) time.Duration {
	base := l.base
	l.base = l.r.grow(base)
	if d.After > 0 {
		return l.r.clampAfter(d.After)
	}
	return l.jitter(base)
}

// jitter randomises a backoff delay: a uniform time in [0, base), unless
// the policy says NoJitter.
func (l *loop) jitter(base float64) time.Duration {
	switch {
	case base <= 0:
		return 0
	case l.r.noJitter:
		return time.Duration(base)
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
// reported as a *TimeoutError of kind timeoutContext.
func (l *loop) canceled(last, cerr error, now time.Time) *RetryError {
	if cerr == context.DeadlineExceeded {
		last = contextTimeout(last)
	}
	e := l.stopAt(stopCanceled, last, now)
	e.ctxErr = cerr
	return e
}

// contextTimeout returns last as a *TimeoutError of kind timeoutContext:
// itself when it is one, else one around it.
func contextTimeout(last error) error {
	if te, ok := last.(*TimeoutError); ok && te.Kind == timeoutContext {
		return last
	}
	return &TimeoutError{Kind: timeoutContext, Err: last}
}

func (l *loop) stopAt(reason stopReason, last error, now time.Time) *RetryError {
	if pe, ok := last.(*permanentError); ok {
		last = pe.err
	}
	return &RetryError{Attempts: l.attempts, Elapsed: now.Sub(l.first), Reason: reason.String(), Last: last}
}
