package mlerr

import (
	"math/rand/v2"
	"time"
)

// Off turns a duration of a Policy off: for a limit (MaxDelay, MaxElapsed,
// AttemptTimeout, MaxRetryAfter) it means "no limit", for InitialDelay "no
// wait between attempts". Any negative duration means the same.
const Off time.Duration = -1

// The defaults a zero field of a Policy stands for (see DefaultPolicy).
const (
	defaultMaxAttempts    = 10
	defaultInitialDelay   = 500 * time.Millisecond
	defaultMultiplier     = 2.0
	defaultMaxDelay       = 30 * time.Second
	defaultMaxElapsed     = 5 * time.Minute
	defaultAttemptTimeout = 30 * time.Second
	defaultMaxRetryAfter  = 2 * time.Minute
)

// Policy says how Retry and Do repeat a failing operation. It is a value: copy
// it and change fields freely. A zero field means its default (see
// DefaultPolicy); a negative duration (Off) turns that limit off.
//
// The delay before retry n (n = 1 for the first retry) is
// min(InitialDelay·Multiplier^(n-1), MaxDelay), and the wait a uniform
// random time in [0, delay) (full jitter), unless NoJitter. When the
// error asks for a delay (Retry-After, see Classify), that delay is used
// instead, clamped to MaxRetryAfter.
type Policy struct {
	// MaxAttempts bounds the calls of the operation, the first one included:
	// 1 means no retry. 0 means 10 (see DefaultPolicy); negative means no bound
	// (MaxElapsed, the budget or the context still stop the loop).
	MaxAttempts int

	// InitialDelay is the delay before the first retry (0: 500 ms; Off: no
	// wait at all, and no timer is armed).
	InitialDelay time.Duration
	// MaxDelay caps every backoff delay (0: 30 s; Off: no cap).
	MaxDelay time.Duration
	// Multiplier grows the delay after each retry (0: 2). Values below 1
	// count as 1, a constant delay.
	Multiplier float64
	// NoJitter waits exactly each delay instead of a random time in [0,
	// delay). Retries of callers that failed together then stay in lock
	// step: use it for a single caller, or in tests.
	NoJitter bool
	// Rand returns uniform random numbers in [0, 1) for the jitter (nil:
	// math/rand/v2's Float64, safe for concurrent use). Pass a seeded
	// generator's method value, such as rand.New(src).Float64, for
	// reproducible delays; it is called from the goroutine running Retry.
	Rand func() float64

	// MaxElapsed bounds the time from the first failure until a retry would
	// start (0: 5 min; Off: no bound). Retry never sleeps past it: when the
	// next wait would end after it, Retry stops with stopElapsed at once.
	MaxElapsed time.Duration
	// AttemptTimeout bounds each attempt: the operation's context is cancelled
	// after it (0: 30 s; Off: none). An attempt that runs out of time is
	// retried; its error is a *TimeoutError of kind timeoutAttempt. Each
	// attempt with a timeout costs a context.WithTimeout (a few allocations);
	// when the caller's context ends sooner, none is made. Set it Off when the
	// operation bounds itself (for instance an http.Client with a Timeout)
	// for the allocation-free path.
	AttemptTimeout time.Duration
	// MaxRetryAfter clamps a delay the error asks for (Retry-After) so that a
	// server cannot put the caller to sleep for days (0: 2 min; Off: no
	// clamp, MaxElapsed still applies).
	MaxRetryAfter time.Duration

	// Budget, when set, limits retries across every caller sharing it: when
	// it is empty Retry stops with stopBudget instead of retrying. It never
	// refuses a first attempt. Nil means no budget.
	Budget *Budget
	// Classify decides whether an error is retried and after what delay
	// (nil: the package's Classify). A custom function can fall back to
	// Classify for the cases it does not care about. Whichever it is, it
	// sees a network-stack timeout as a *TimeoutError, and Retry does not
	// retry an error that holds a *RetryError (a nested loop that gave up)
	// even when it says to.
	Classify func(error) Decision
	// OnRetry, when set, is called before each wait with the attempt that
	// failed, its error and the wait chosen. It runs on Retry's goroutine:
	// keep it short.
	OnRetry func(RetryEvent)
	// Clock tells the time and sleeps (nil: the system clock). Tests inject a
	// fake one so that no test sleeps for real.
	Clock Clock
}

// DefaultPolicy returns the default policy with every field spelled out; a
// zero Policy behaves the same. The defaults suit a call to a remote tracking
// server from a training job:
//
//	MaxAttempts     10     with the delays below, about a minute of backoff:
//	                       enough to ride out a server restart or a load
//	                       balancer failover, short enough that a dead server
//	                       is reported while someone still watches the job
//	InitialDelay    500ms  the first retry is quick: most blips last under a
//	Multiplier      2      second; later ones back off so that a sick server
//	MaxDelay        30s    is not hammered, and no single wait looks hung
//	MaxElapsed      5m     counted from the first failure, so that one slow
//	                       first attempt does not eat the budget
//	AttemptTimeout  30s    longer than any healthy MLflow call, short enough
//	                       that a connection stuck without an answer is
//	                       abandoned and retried
//	MaxRetryAfter   2m     servers ask for seconds; more is a misconfiguration
//	                       or a long outage, and a multi-day sleep would look
//	                       like a hang
//	NoJitter        false  every wait uniform in [0, delay), which spreads
//	                       thousands of training ranks that failed together
//	                       over the whole interval (AWS's analysis found it
//	                       the best at reducing contention)
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:    defaultMaxAttempts,
		InitialDelay:   defaultInitialDelay,
		MaxDelay:       defaultMaxDelay,
		Multiplier:     defaultMultiplier,
		MaxElapsed:     defaultMaxElapsed,
		AttemptTimeout: defaultAttemptTimeout,
		MaxRetryAfter:  defaultMaxRetryAfter,
	}
}

// orDefault resolves a duration field: 0 gives def, a negative value 0 (off).
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// resolved is a Policy with its defaults applied; built on the first failure
// only, so that a call that succeeds at once pays nothing for it.
type resolved struct {
	maxAttempts   int // 0: unbounded
	initialDelay  time.Duration
	maxDelay      time.Duration // 0: uncapped
	multiplier    float64
	maxElapsed    time.Duration // 0: unbounded
	maxRetryAfter time.Duration // 0: unclamped
	noJitter      bool
	random        func() float64
	classify      func(error) Decision // nil: the package's Classify (see judge)
	clock         Clock
	budget        *Budget
	onRetry       func(RetryEvent)
}

func (p *Policy) resolve() resolved {
	r := resolved{
		maxAttempts:   orDefaultCount(p.MaxAttempts, defaultMaxAttempts),
		initialDelay:  orDefault(p.InitialDelay, defaultInitialDelay),
		maxDelay:      orDefault(p.MaxDelay, defaultMaxDelay),
		multiplier:    resolveMultiplier(p.Multiplier),
		maxElapsed:    orDefault(p.MaxElapsed, defaultMaxElapsed),
		maxRetryAfter: orDefault(p.MaxRetryAfter, defaultMaxRetryAfter),
		noJitter:      p.NoJitter,
		random:        orDefaultRand(p.Rand),
		classify:      p.Classify,
		clock:         orDefaultClock(p.Clock),
		budget:        p.Budget,
		onRetry:       p.OnRetry,
	}
	return r
}

// orDefaultRand resolves Rand: nil gives math/rand's Float64.
func orDefaultRand(random func() float64) func() float64 {
	if random == nil {
		return rand.Float64
	}
	return random
}

// orDefaultClock resolves Clock: nil gives the system clock.
func orDefaultClock(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}

// orDefaultCount resolves MaxAttempts: 0 gives def, a negative count 0
// (unbounded).
func orDefaultCount(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// resolveMultiplier resolves Multiplier: 0 gives the default, a value below
// 1 (or NaN) 1, a constant delay.
func resolveMultiplier(m float64) float64 {
	switch {
	case m == 0:
		return defaultMultiplier
	case m < 1 || m != m: // NaN too
		return 1
	}
	return m
}

// grow returns the backoff delay that follows base (in ns), capped by
// MaxDelay and kept finite.
func (r *resolved) grow(base float64) float64 {
	next := base * r.multiplier
	if r.maxDelay > 0 && next > float64(r.maxDelay) {
		next = float64(r.maxDelay)
	}
	return min(next, maxBase)
}

// clampAfter clamps a delay an error asks for to MaxRetryAfter.
func (r *resolved) clampAfter(d time.Duration) time.Duration {
	if r.maxRetryAfter > 0 && d > r.maxRetryAfter {
		return r.maxRetryAfter
	}
	return d
}

// attemptTimeout returns the per-attempt timeout in force, 0 for none.
func (p *Policy) attemptTimeout() time.Duration {
	return orDefault(p.AttemptTimeout, defaultAttemptTimeout)
}
