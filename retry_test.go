package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mlerr/mlerr"
)

var errUnavailable = mlerr.New(mlerr.CodeTemporarilyUnavailable, "server restarting")

// failing returns an op that fails n times with err, then succeeds, and a
// pointer to its call count.
func failing(n int, err error) (func(context.Context) error, *int) {
	calls := 0
	return func(context.Context) error {
		calls++
		if calls <= n {
			return err
		}
		return nil
	}, &calls
}

// noJitter is a policy with a fake clock and exact delays.
func noJitter(clk *fakeClock) mlerr.Policy {
	p := mlerr.DefaultPolicy()
	p.Clock = clk
	p.NoJitter = true
	return p
}

func TestRetrySucceedsAtOnce(t *testing.T) {
	clk := newFakeClock()
	p := noJitter(clk)
	p.OnRetry = func(mlerr.RetryEvent) { t.Error("OnRetry called on success") }
	op, calls := failing(0, nil)
	require.NoError(t, mlerr.Retry(context.Background(), p, op))
	assert.Equal(t, 1, *calls)
	assert.Empty(t, clk.Sleeps())
}

func TestRetryBackoffSequence(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	tests := []struct {
		name   string
		policy func(p *mlerr.Policy)
		fails  int
		want   []time.Duration
	}{
		{"defaults: from 500ms, factor 2", func(*mlerr.Policy) {}, 5, []time.Duration{500 * ms, s, 2 * s, 4 * s, 8 * s}},
		{"defaults: capped at 30s", func(*mlerr.Policy) {}, 9, []time.Duration{500 * ms, s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}},
		{"custom factor and cap", func(p *mlerr.Policy) { p.InitialDelay, p.Multiplier, p.MaxDelay = s, 3, 5*s }, 4, []time.Duration{s, 3 * s, 5 * s, 5 * s}},
		{"initial delay above the cap", func(p *mlerr.Policy) { p.InitialDelay, p.MaxDelay = time.Minute, 5*s }, 2, []time.Duration{5 * s, 5 * s}},
		{"multiplier below 1 is constant", func(p *mlerr.Policy) { p.InitialDelay, p.Multiplier = s, 0.5 }, 3, []time.Duration{s, s, s}},
		{"no cap", func(p *mlerr.Policy) { p.InitialDelay, p.MaxDelay, p.MaxElapsed = s, mlerr.Off, mlerr.Off }, 7, []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s}},
		{"no delay: no timer at all", func(p *mlerr.Policy) { p.InitialDelay = mlerr.Off }, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			p := noJitter(clk)
			tt.policy(&p)
			var waits []time.Duration
			p.OnRetry = func(ev mlerr.RetryEvent) { waits = append(waits, ev.Wait) }
			op, calls := failing(tt.fails, errUnavailable)
			require.NoError(t, mlerr.Retry(context.Background(), p, op))
			assert.Equal(t, tt.fails+1, *calls)
			assert.Equal(t, tt.want, clk.Sleeps())
			if tt.want == nil {
				assert.Equal(t, make([]time.Duration, tt.fails), waits, "OnRetry reports zero waits")
			} else {
				assert.Equal(t, tt.want, waits, "OnRetry reports the waits slept")
			}
		})
	}
}

func TestRetryGivesUp(t *testing.T) {
	notFound := mlerr.New(mlerr.CodeResourceDoesNotExist, "no run 7")
	sentinel := errors.New("disk on fire")
	tests := []struct {
		name     string
		policy   func(p *mlerr.Policy)
		err      error
		attempts int
		reason   string
		last     error // errors.Is target
		elapsed  time.Duration
	}{
		{"exhausted", func(p *mlerr.Policy) { p.MaxAttempts = 4 }, errUnavailable, 4, "exhausted", mlerr.CodeTemporarilyUnavailable, 3500 * time.Millisecond},
		{"one attempt", func(p *mlerr.Policy) { p.MaxAttempts = 1 }, errUnavailable, 1, "exhausted", errUnavailable, 0},
		{"not retryable code", func(*mlerr.Policy) {}, notFound, 1, "permanent", mlerr.CodeResourceDoesNotExist, 0},
		{"plain error", func(*mlerr.Policy) {}, sentinel, 1, "permanent", sentinel, 0},
		{"permanent mark", func(*mlerr.Policy) {}, mlerr.Permanent(errUnavailable), 1, "permanent", errUnavailable, 0},
		{"default attempts", func(*mlerr.Policy) {}, errUnavailable, 10 /* the default */, "exhausted", errUnavailable, 121500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			p := noJitter(clk)
			tt.policy(&p)
			op, calls := failing(1000, tt.err)
			err := mlerr.Retry(context.Background(), p, op)
			var re *mlerr.RetryError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.attempts, re.Attempts)
			assert.Equal(t, tt.attempts, *calls)
			assert.Equal(t, tt.reason, re.Reason)
			assert.Equal(t, tt.elapsed, re.Elapsed)
			assert.ErrorIs(t, err, tt.last)
			assert.Equal(t, mlerr.CodeOf(tt.err), mlerr.CodeOf(err), "the code survives giving up")
			if errors.Is(tt.err, errUnavailable) {
				assert.Same(t, errUnavailable, re.Last, "Last is op's error, without a Permanent mark")
			}
			assert.Contains(t, err.Error(), "("+tt.reason+")")
		})
	}
}

// An operation that runs its own Retry loop is not retried again when that
// loop gives up: nested loops would multiply the attempts (3 × 3 here).
func TestNestedRetryIsNotRetried(t *testing.T) {
	clk := newFakeClock()
	inner := mlerr.Policy{MaxAttempts: 3, Clock: clk}
	calls := 0
	err := mlerr.Retry(context.Background(), mlerr.Policy{MaxAttempts: 3, Clock: clk}, func(ctx context.Context) error {
		return mlerr.Retry(ctx, inner, func(context.Context) error { calls++; return errUnavailable })
	})
	assert.Equal(t, 3, calls)
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "permanent", re.Reason)
	assert.Equal(t, 1, re.Attempts)
	assert.True(t, mlerr.Classify(err).Retry, "Classify still says the last failure was transient")
	assert.ErrorIs(t, err, mlerr.CodeTemporarilyUnavailable)
}

// A nil Policy.Classify means the package's Classify: Policy{} and
// Policy{Classify: mlerr.Classify} go through one decision, whatever the
// error. They once differed for a nested loop's *RetryError (given up at once
// with nil, retried with Classify) and for a network timeout marked
// Permanent (Last kept the mark inside a *TimeoutError with Classify).
func TestNilClassifyIsClassify(t *testing.T) {
	nested := &mlerr.RetryError{Attempts: 3, Reason: "exhausted", Last: errUnavailable}
	readTimeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := []struct {
		name     string
		err      error
		attempts int
		reason   string
	}{
		{"transient code", errUnavailable, 3, "exhausted"},
		{"caller fault", mlerr.New(mlerr.CodeResourceDoesNotExist, "no run 7"), 1, "permanent"},
		{"nested retry loop", fmt.Errorf("sync: %w", nested), 1, "permanent"},
		{"nested retry loop in a join", errors.Join(errUnavailable, nested), 1, "permanent"},
		{"permanent nested retry loop", mlerr.Permanent(nested), 1, "permanent"},
		{"network timeout", readTimeout, 3, "exhausted"},
		{"permanent network timeout", mlerr.Permanent(readTimeout), 1, "permanent"},
		{"retry-after", errUnavailable.WithRetryAfter(time.Second), 3, "exhausted"},
		{"permanent", mlerr.Permanent(errUnavailable), 1, "permanent"},
	}
	type outcome struct {
		Attempts int
		Reason   string
		Last     string // type and text of the last error
		Events   []string
	}
	run := func(t *testing.T, classify func(error) mlerr.Decision, opErr error) outcome {
		var o outcome
		p := mlerr.Policy{MaxAttempts: 3, NoJitter: true, Clock: newFakeClock(), Classify: classify,
			OnRetry: func(ev mlerr.RetryEvent) {
				o.Events = append(o.Events, fmt.Sprintf("%d %v %s %T", ev.Attempt, ev.Wait, ev.Reason, ev.Err))
			}}
		err := mlerr.Retry(context.Background(), p, func(context.Context) error { return opErr })
		var re *mlerr.RetryError
		require.ErrorAs(t, err, &re)
		o.Attempts, o.Reason, o.Last = re.Attempts, re.Reason, fmt.Sprintf("%T %v", re.Last, re.Last)
		return o
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byNil := run(t, nil, tt.err)
			assert.Equal(t, tt.attempts, byNil.Attempts)
			assert.Equal(t, tt.reason, byNil.Reason)
			assert.Equal(t, byNil, run(t, mlerr.Classify, tt.err), "nil and mlerr.Classify decide alike")
		})
	}
}

func TestRetryErrorMessage(t *testing.T) {
	e := &mlerr.RetryError{Attempts: 3, Elapsed: 1500 * time.Millisecond, Reason: "exhausted", Last: errUnavailable}
	assert.Equal(t, "retry stopped (exhausted) after 3 attempts in 1.5s: TEMPORARILY_UNAVAILABLE: server restarting", e.Error())
	e = &mlerr.RetryError{Attempts: 1, Reason: "permanent", Last: errUnavailable}
	assert.Equal(t, "retry stopped (permanent) after 1 attempt: TEMPORARILY_UNAVAILABLE: server restarting", e.Error())
}

func TestRetryAfterHonouredAndClamped(t *testing.T) {
	badRequest := mlerr.New(mlerr.CodeBadRequest, "slow down")
	tests := []struct {
		name   string
		policy func(p *mlerr.Policy)
		err    error
		sleeps []time.Duration
		reason string // "": success after one retry
	}{
		{"server asks 7s", func(*mlerr.Policy) {}, errUnavailable.WithRetryAfter(7 * time.Second), []time.Duration{7 * time.Second}, ""},
		{"asks less than backoff", func(*mlerr.Policy) {}, errUnavailable.WithRetryAfter(time.Millisecond), []time.Duration{time.Millisecond}, ""},
		{"three days clamped to default", func(*mlerr.Policy) {}, errUnavailable.WithRetryAfter(72 * time.Hour), []time.Duration{2 * time.Minute}, ""},
		{"clamped to custom max", func(p *mlerr.Policy) { p.MaxRetryAfter = 10 * time.Second }, errUnavailable.WithRetryAfter(time.Hour), []time.Duration{10 * time.Second}, ""},
		{"unclamped but past MaxElapsed: stop, no sleep", func(p *mlerr.Policy) { p.MaxRetryAfter = mlerr.Off }, errUnavailable.WithRetryAfter(72 * time.Hour), nil, "elapsed"},
		{"clamp above MaxElapsed: stop, no sleep", func(p *mlerr.Policy) { p.MaxRetryAfter, p.MaxElapsed = time.Hour, time.Minute }, errUnavailable.WithRetryAfter(2 * time.Hour), nil, "elapsed"},
		{"op asks for a delay", func(*mlerr.Policy) {}, mlerr.RetryAfter(badRequest, 3*time.Second), []time.Duration{3 * time.Second}, ""},
		{"op's delay is clamped too", func(p *mlerr.Policy) { p.MaxRetryAfter = time.Second }, mlerr.RetryAfter(badRequest, time.Hour), []time.Duration{time.Second}, ""},
		{"permanent wins over Retry-After", func(*mlerr.Policy) {}, mlerr.Permanent(errUnavailable.WithRetryAfter(time.Second)), nil, "permanent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			p := mlerr.DefaultPolicy() // full jitter: Retry-After must not be jittered
			p.Clock = clk
			p.Rand = func() float64 { return 0.25 }
			tt.policy(&p)
			op, _ := failing(1, tt.err)
			err := mlerr.Retry(context.Background(), p, op)
			assert.Equal(t, tt.sleeps, clk.Sleeps())
			if tt.reason == "" {
				require.NoError(t, err)
				return
			}
			var re *mlerr.RetryError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.reason, re.Reason)
		})
	}
}

// Both forms of the header, through the wire decoder: seconds and an HTTP date.
func TestRetryAfterHeaderForms(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	dec := mlerr.Decoder{Now: func() time.Time { return now }}
	body := []byte(`{"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"}`)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"12", 12 * time.Second},
		{now.Add(90 * time.Second).Format(http1123), 90 * time.Second},
		{now.Add(40 * 24 * time.Hour).Format(http1123), 2 * time.Minute},
		{"99999999", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			e := dec.DecodeError(503, map[string][]string{"Retry-After": {tt.header}}, body)
			clk := newFakeClock()
			p := mlerr.Policy{Clock: clk}
			op, _ := failing(1, e)
			require.NoError(t, mlerr.Retry(context.Background(), p, op))
			assert.Equal(t, []time.Duration{tt.want}, clk.Sleeps())
		})
	}
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// MaxElapsed counts from the first failure: a first attempt that takes ten
// minutes does not use up a one-minute budget. Retry stops before a wait that
// would end past the budget instead of sleeping into it.
func TestMaxElapsedFromFirstFailure(t *testing.T) {
	clk := newFakeClock()
	p := noJitter(clk)
	p.InitialDelay = 10 * time.Second
	p.MaxElapsed = time.Minute
	p.MaxDelay = mlerr.Off
	p.MaxAttempts = -1 // unbounded: the elapsed budget must stop it
	calls := 0
	err := mlerr.Retry(context.Background(), p, func(context.Context) error {
		calls++
		if calls == 1 {
			clk.Advance(10 * time.Minute) // a slow first attempt
		}
		return errUnavailable
	})
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "elapsed", re.Reason)
	// waits 10s and 20s (30s spent); the next, 40s, would end at 70s > 60s.
	assert.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second}, clk.Sleeps())
	assert.Equal(t, 3, calls)
	assert.Equal(t, 30*time.Second, re.Elapsed)
}

// A wait that would end after the caller's deadline is not started.
func TestWaitPastCallerDeadlineStops(t *testing.T) {
	clk := newFakeClock()
	clk.now = time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), clk.now.Add(time.Hour))
	defer cancel()
	p := noJitter(clk)
	p.InitialDelay = 40 * time.Minute
	p.MaxDelay = mlerr.Off
	p.MaxElapsed = mlerr.Off
	op, calls := failing(1000, errUnavailable)
	err := mlerr.Retry(ctx, p, op)
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "elapsed", re.Reason)
	assert.Equal(t, []time.Duration{40 * time.Minute}, clk.Sleeps(), "40m fits, the next 80m does not")
	assert.Equal(t, 2, *calls)
}

func TestCancelInterruptsSleepAtOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := newFakeClock()
	clk.block = true
	clk.asleep = make(chan time.Duration, 1)
	p := noJitter(clk)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opErr := fmt.Errorf("send: %w", errUnavailable)
	done := make(chan error, 1)
	go func() {
		done <- mlerr.Retry(ctx, p, func(context.Context) error { return opErr })
	}()
	assert.Equal(t, 500*time.Millisecond, <-clk.asleep, "Retry is asleep before the first retry")
	cancel()
	err := <-done
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "canceled", re.Reason)
	assert.Equal(t, 1, re.Attempts)
	assert.ErrorIs(t, err, context.Canceled, "even though op returned its own error")
	assert.ErrorIs(t, err, mlerr.CodeTemporarilyUnavailable)
	assert.Same(t, opErr, re.Last)
}

func TestCallerDeadlineIsTimeoutContext(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := mlerr.Retry(ctx, mlerr.Policy{Clock: newFakeClock()}, func(ctx context.Context) error { return ctx.Err() })
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "canceled", re.Reason)
	var te *mlerr.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "context", te.Kind)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, mlerr.Classify(te).Retry)
}

// The per-attempt timeout is real (context.WithTimeout): a few milliseconds
// here, where no fake clock can stand in for it.
func TestAttemptTimeoutIsRetried(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := noJitter(newFakeClock())
	p.AttemptTimeout = 5 * time.Millisecond
	var events []mlerr.RetryEvent
	p.OnRetry = func(ev mlerr.RetryEvent) { events = append(events, ev) }
	calls := 0
	got, err := mlerr.Do(context.Background(), p, func(ctx context.Context) (string, error) {
		calls++
		if calls == 1 {
			<-ctx.Done() // hangs until the attempt's deadline
			return "", fmt.Errorf("waiting for headers: %w", ctx.Err())
		}
		return "ok", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "ok", got)
	require.Len(t, events, 1)
	var te *mlerr.TimeoutError
	require.ErrorAs(t, events[0].Err, &te)
	assert.Equal(t, "attempt", te.Kind)
	assert.Equal(t, 5*time.Millisecond, te.Timeout)
	assert.ErrorIs(t, events[0].Err, context.DeadlineExceeded)
	assert.Equal(t, "attempt timeout", events[0].Reason)

	// every attempt times out: Last is the attempt's TimeoutError
	p.MaxAttempts = 2
	err = mlerr.Retry(context.Background(), p, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "exhausted", re.Reason)
	require.ErrorAs(t, re.Last, &te)
	assert.Equal(t, "attempt", te.Kind)
	assert.Equal(t, "attempt timeout after 5ms: context deadline exceeded", te.Error())
}

// The attempt's context carries the attempt timeout, unless the caller's
// deadline comes first (then no extra timer is made).
func TestAttemptContextDeadline(t *testing.T) {
	tests := []struct {
		name     string
		caller   time.Duration // 0: no deadline
		attempt  time.Duration
		wantFrom string // "caller", "attempt" or "none"
	}{
		{"attempt sooner", 2 * time.Hour, time.Hour, "attempt"},
		{"caller sooner", time.Minute, time.Hour, "caller"},
		{"no caller deadline", 0, time.Hour, "attempt"},
		{"attempt timeout off", 0, mlerr.Off, "none"},
		{"default 30s", 0, 0, "attempt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var callerDL time.Time
			if tt.caller > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.caller)
				defer cancel()
				callerDL, _ = ctx.Deadline()
			}
			start := time.Now()
			p := mlerr.Policy{AttemptTimeout: tt.attempt}
			require.NoError(t, mlerr.Retry(ctx, p, func(actx context.Context) error {
				dl, ok := actx.Deadline()
				switch tt.wantFrom {
				case "none":
					assert.False(t, ok)
					assert.Equal(t, ctx, actx, "the caller's context itself")
				case "caller":
					assert.Equal(t, callerDL, dl)
					assert.Equal(t, ctx, actx, "the caller's context itself")
				default:
					want := tt.attempt
					if want == 0 {
						want = 30 * time.Second // the default
					}
					assert.WithinRange(t, dl, start.Add(want), time.Now().Add(want))
				}
				return nil
			}))
		})
	}
}

func TestDoReturnsValue(t *testing.T) {
	clk := newFakeClock()
	calls := 0
	v, err := mlerr.Do(context.Background(), noJitter(clk), func(context.Context) (int, error) {
		calls++
		if calls < 3 {
			return -1, errUnavailable
		}
		return 42, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 42, v)
	assert.Equal(t, 3, calls)

	v, err = mlerr.Do(context.Background(), noJitter(clk), func(context.Context) (int, error) {
		return 7, mlerr.New(mlerr.CodeInvalidParameterValue, "bad")
	})
	assert.Zero(t, v, "a failure returns the zero value")
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "permanent", re.Reason)
}

func TestOnRetryEvents(t *testing.T) {
	clk := newFakeClock()
	p := noJitter(clk)
	p.MaxAttempts = 3
	var events []mlerr.RetryEvent
	p.OnRetry = func(ev mlerr.RetryEvent) { events = append(events, ev) }
	op, _ := failing(1000, errUnavailable)
	require.Error(t, mlerr.Retry(context.Background(), p, op))
	assert.Equal(t, []mlerr.RetryEvent{
		{Attempt: 1, Err: errUnavailable, Wait: 500 * time.Millisecond, Reason: "code transient"},
		{Attempt: 2, Err: errUnavailable, Wait: time.Second, Reason: "code transient"},
	}, events, "no event for the last attempt: there is no retry after it")
}

func TestPolicyClassifyOverrides(t *testing.T) {
	clk := newFakeClock()
	p := noJitter(clk)
	// an SDK that knows its POST is not idempotent: only retry refused connections
	p.Classify = func(err error) mlerr.Decision {
		if d := mlerr.Classify(err); d.Reason == "connection refused" {
			return d
		}
		return mlerr.Decision{Reason: "not idempotent"}
	}
	op, calls := failing(5, errUnavailable)
	err := mlerr.Retry(context.Background(), p, op)
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "permanent", re.Reason)
	assert.Equal(t, 1, *calls)

	// and the other way: retry everything after a fixed 2s
	p.Classify = func(error) mlerr.Decision { return mlerr.Decision{Retry: true, After: 2 * time.Second} }
	op, calls = failing(2, errors.New("opaque"))
	require.NoError(t, mlerr.Retry(context.Background(), p, op))
	assert.Equal(t, 3, *calls)
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second}, clk.Sleeps())
}

// Jitter keeps ranks that failed together from retrying together: 1000
// simulated callers' first waits cover the whole interval.
func TestJitterSpreadsRanks(t *testing.T) {
	const ranks = 1000
	const buckets = 10
	d := 500 * time.Millisecond // the default InitialDelay
	tests := []struct {
		name   string
		lo, hi time.Duration
	}{
		{"full", 0, d},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			firsts := firstWaits(t, ranks, mlerr.Policy{Rand: rng.Float64})
			var hist [buckets]int
			distinct := map[time.Duration]bool{}
			for _, w := range firsts {
				require.GreaterOrEqual(t, w, tt.lo)
				require.Less(t, w, tt.hi)
				distinct[w] = true
				hist[int(w-tt.lo)*buckets/int(tt.hi-tt.lo)]++
			}
			assert.Greater(t, len(distinct), ranks*99/100, "almost every rank waits a different time")
			for i, n := range hist {
				assert.InDelta(t, ranks/buckets, n, 40, "bucket %d of %d holds about a tenth of the ranks: %v", i, buckets, hist)
			}
		})
	}
	t.Run("none is lock step", func(t *testing.T) {
		for _, w := range firstWaits(t, 50, mlerr.Policy{NoJitter: true}) {
			assert.Equal(t, d, w)
		}
	})
	t.Run("default randomness spreads too", func(t *testing.T) {
		distinct := map[time.Duration]bool{}
		for _, w := range firstWaits(t, 100, mlerr.Policy{}) {
			distinct[w] = true
		}
		assert.Greater(t, len(distinct), 90)
	})
	t.Run("faulty randomness stays in range", func(t *testing.T) {
		for _, u := range []float64{-1, 1.5, math.NaN(), math.Inf(1)} {
			for _, w := range firstWaits(t, 1, mlerr.Policy{Rand: func() float64 { return u }}) {
				assert.GreaterOrEqual(t, w, time.Duration(0), "rand %v", u)
				assert.LessOrEqual(t, w, d, "rand %v", u)
			}
		}
	})
}

// firstWaits runs one failing-then-succeeding call per rank and returns the
// wait each chose before its first retry.
func firstWaits(t *testing.T, ranks int, p mlerr.Policy) []time.Duration {
	t.Helper()
	var waits []time.Duration
	for range ranks {
		p.Clock = newFakeClock()
		p.OnRetry = func(ev mlerr.RetryEvent) { waits = append(waits, ev.Wait) }
		op, _ := failing(1, errUnavailable)
		require.NoError(t, mlerr.Retry(context.Background(), p, op))
	}
	require.Len(t, waits, ranks)
	return waits
}

// The success path and the zero-wait failure path allocate nothing.
func TestRetryAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	ctx := context.Background()
	fast := mlerr.Policy{AttemptTimeout: mlerr.Off}
	ok := func(context.Context) error { return nil }
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.Retry(ctx, fast, ok) }), "success")

	fast.Budget = mlerr.NewBudget(0.1, 10)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.Retry(ctx, fast, ok) }), "success with a budget")

	zero := mlerr.Policy{AttemptTimeout: mlerr.Off, InitialDelay: mlerr.Off}
	n := 0
	flaky := func(context.Context) error {
		n++
		if n%4 != 0 {
			return errUnavailable
		}
		return nil
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = mlerr.Retry(ctx, zero, flaky) }), "3 failures, then success")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = mlerr.Do(ctx, zero, func(context.Context) (int, error) { return 1, nil })
	}), "Do")
}
