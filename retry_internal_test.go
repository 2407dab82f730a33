package mlerr

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr/internal/fakeclock"
)

// The steps of (*loop).failed, one table each: count, judge, next, sleep,
// wait.

// testLoop returns a loop over p, as retryFailed sets it up, on a fake clock.
func testLoop(p Policy) (*loop, *fakeclock.Clock) {
	clk := fakeclock.New()
	p.Clock = clk
	return &loop{r: p.resolve()}, clk
}

func TestLoopCount(t *testing.T) {
	tests := []struct {
		name     string
		policy   Policy
		wantBase time.Duration
	}{
		{"default first delay", Policy{}, 500 * time.Millisecond},
		{"first delay capped", Policy{InitialDelay: time.Minute, MaxDelay: 5 * time.Second}, 5 * time.Second},
		{"uncapped", Policy{InitialDelay: time.Minute, MaxDelay: Off}, time.Minute},
		{"no delay", Policy{InitialDelay: Off}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clk := testLoop(tt.policy)
			assert.Equal(t, fakeclock.Epoch, l.count())
			assert.Equal(t, 1, l.attempts)
			assert.Equal(t, fakeclock.Epoch, l.first)
			assert.Equal(t, float64(tt.wantBase), l.base)

			clk.Advance(time.Minute)
			l.base = 42
			assert.Equal(t, fakeclock.Epoch.Add(time.Minute), l.count(), "the time of this failure")
			assert.Equal(t, 2, l.attempts)
			assert.Equal(t, fakeclock.Epoch, l.first, "elapsed counts from the first failure")
			assert.Equal(t, 42.0, l.base, "only the first failure starts the backoff")
		})
	}
}

func TestJudge(t *testing.T) {
	unavailable := New(CodeTemporarilyUnavailable, "down")
	nested := &RetryError{Attempts: 3, Reason: "exhausted", Last: unavailable}
	readTimeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	always := func(error) Decision { return Decision{Retry: true, Reason: "always"} }
	tests := []struct {
		name     string
		err      error
		classify func(error) Decision
		want     Decision
		timeout  string // the kind of the *TimeoutError judge puts in front
		typed    bool   // whether it puts one
	}{
		{"transient code", unavailable, nil, Decision{Retry: true, Reason: "code transient"}, "", false},
		{"caller fault", New(CodeBadRequest, "no"), nil, Decision{Reason: "code never"}, "", false},
		{"custom classifier", New(CodeBadRequest, "no"), always, Decision{Retry: true, Reason: "always"}, "", false},
		{"read timeout", readTimeout, nil, Decision{Retry: true, Reason: "read timeout"}, timeoutRead, true},
		{"dial timeout", dialTimeout, nil, Decision{Retry: true, Reason: "connect timeout"}, timeoutConnect, true},
		{"timeout, custom classifier", readTimeout, always, Decision{Retry: true, Reason: "always"}, timeoutRead, true},
		{"attempt timeout kept", &TimeoutError{Kind: timeoutAttempt, Err: readTimeout}, nil, Decision{Retry: true, Reason: "attempt timeout"}, "", false},
		{"permanent timeout", Permanent(readTimeout), nil, Decision{Reason: "permanent"}, "", false},
		{"nested loop", nested, nil, Decision{Reason: "nested retry gave up"}, "", false},
		{"nested loop, custom classifier", nested, always, Decision{Reason: "nested retry gave up"}, "", false},
		{"nested loop, permanent", Permanent(nested), nil, Decision{Reason: "permanent"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, got := judge(tt.err, tt.classify)
			assert.Equal(t, tt.want, d)
			te, typed := got.(*TimeoutError)
			assert.Equal(t, tt.typed, typed && te.Err == tt.err, "%T", got)
			if tt.typed {
				assert.Equal(t, tt.timeout, te.Kind)
			} else {
				assert.Same(t, tt.err, got)
			}
			if tt.classify == nil {
				byClassify, _ := judge(tt.err, Classify)
				assert.Equal(t, d, byClassify, "nil is Classify")
			}
		})
	}
}

func TestLoopNext(t *testing.T) {
	retry := Decision{Retry: true, Reason: "code transient"}
	later := func(d time.Duration) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), fakeclock.Epoch.Add(d))
		t.Cleanup(cancel)
		return ctx
	}
	tests := []struct {
		name     string
		policy   Policy
		attempts int
		elapsed  time.Duration // since the first failure
		ctx      context.Context
		d        Decision
		budget   *Budget
		wait     time.Duration
		stop     stopReason
	}{
		{"retry", Policy{}, 1, 0, context.Background(), retry, nil, 500 * time.Millisecond, 0},
		{"not retryable", Policy{}, 1, 0, context.Background(), Decision{Reason: "code never"}, nil, 0, stopPermanent},
		{"last attempt", Policy{MaxAttempts: 3}, 3, 0, context.Background(), retry, nil, 0, stopExhausted},
		{"unbounded attempts", Policy{MaxAttempts: -1}, 1000, 0, context.Background(), retry, NewBudget(0, 1), 500 * time.Millisecond, 0},
		{"asked delay", Policy{}, 1, 0, context.Background(), Decision{Retry: true, After: 7 * time.Second}, nil, 7 * time.Second, 0},
		{"asked delay clamped", Policy{MaxRetryAfter: time.Minute}, 1, 0, context.Background(), Decision{Retry: true, After: time.Hour}, nil, time.Minute, 0},
		{"wait within MaxElapsed", Policy{MaxElapsed: time.Minute}, 2, 59 * time.Second, context.Background(), Decision{Retry: true, After: time.Second}, nil, time.Second, 0},
		{"wait past MaxElapsed", Policy{MaxElapsed: time.Minute}, 2, 59 * time.Second, context.Background(), Decision{Retry: true, After: 2 * time.Second}, nil, 0, stopElapsed},
		{"MaxElapsed off", Policy{MaxElapsed: Off}, 2, time.Hour, context.Background(), retry, nil, 500 * time.Millisecond, 0},
		{"wait before the caller's deadline", Policy{}, 1, 0, later(time.Second), retry, nil, 500 * time.Millisecond, 0},
		{"wait to the caller's deadline", Policy{}, 1, 0, later(500 * time.Millisecond), retry, nil, 0, stopElapsed},
		{"no wait at the caller's deadline", Policy{InitialDelay: Off}, 1, 0, later(0), retry, nil, 0, 0},
		{"budget token", Policy{}, 1, 0, context.Background(), retry, NewBudget(0, 1), 500 * time.Millisecond, 0},
		{"budget empty", Policy{}, 1, 0, context.Background(), retry, emptyBudget(), 0, stopBudget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.policy.NoJitter = true
			tt.policy.Budget = tt.budget
			l, _ := testLoop(tt.policy)
			l.count()
			l.attempts = tt.attempts
			tokens := 0.0
			if tt.budget != nil {
				tokens = tt.budget.Tokens()
			}
			wait, stop := l.next(tt.ctx, tt.d, l.first.Add(tt.elapsed))
			assert.Equal(t, tt.stop, stop)
			assert.Equal(t, tt.wait, wait)
			if tt.budget != nil && stop == 0 {
				assert.Equal(t, tokens-1, tt.budget.Tokens(), "a retry spends a token")
			}
		})
	}
	t.Run("no token spent on a stop", func(t *testing.T) {
		b := NewBudget(0, 1)
		l, _ := testLoop(Policy{MaxAttempts: 1, Budget: b})
		l.count()
		_, stop := l.next(context.Background(), retry, l.first)
		assert.Equal(t, stopExhausted, stop)
		assert.Equal(t, 1.0, b.Tokens())
	})
}

// emptyBudget returns a budget without a token left.
func emptyBudget() *Budget {
	b := NewBudget(0, 1)
	b.withdraw()
	return b
}

func TestLoopSleep(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	opErr := errors.New("op")
	tests := []struct {
		name   string
		ctx    context.Context
		wait   time.Duration
		slept  time.Duration
		stop   bool
		ctxErr error
	}{
		{"wait", context.Background(), time.Second, time.Second, false, nil},
		{"no wait", context.Background(), 0, 0, false, nil},
		{"canceled", canceled, time.Second, 0, true, context.Canceled},
		{"canceled, no wait", canceled, 0, 0, true, context.Canceled},
		{"deadline", expired, time.Second, 0, true, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clk := testLoop(Policy{})
			now := l.count()
			stop := l.sleep(tt.ctx, opErr, tt.wait, now)
			assert.Equal(t, tt.slept, clk.Now().Sub(now))
			if !tt.stop {
				assert.Nil(t, stop)
				return
			}
			require.NotNil(t, stop)
			assert.Equal(t, "canceled", stop.Reason)
			assert.ErrorIs(t, stop, tt.ctxErr)
			assert.ErrorIs(t, stop, opErr)
			var te *TimeoutError
			assert.Equal(t, tt.ctxErr == context.DeadlineExceeded, errors.As(stop, &te) && te.Kind == timeoutContext)
		})
	}
}

func TestLoopWait(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		random float64
		waits  []time.Duration // the first waits, without an asked delay
	}{
		{"none", Policy{NoJitter: true}, 0.5, []time.Duration{500e6, 1e9, 2e9, 4e9}},
		{"full", Policy{}, 0.5, []time.Duration{250e6, 500e6, 1e9, 2e9}},
		{"full, faulty random", Policy{}, 7, []time.Duration{500e6, 1e9, 2e9, 4e9}},
		{"capped", Policy{NoJitter: true, MaxDelay: 1500 * time.Millisecond}, 0, []time.Duration{500e6, 1e9, 1.5e9, 1.5e9}},
		{"factor 3", Policy{NoJitter: true, Multiplier: 3}, 0, []time.Duration{500e6, 1.5e9, 4.5e9, 13.5e9}},
		{"no delay", Policy{InitialDelay: Off}, 0.5, []time.Duration{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.policy.Rand = func() float64 { return tt.random }
			l, _ := testLoop(tt.policy)
			l.count()
			var got []time.Duration
			for range tt.waits {
				got = append(got, l.wait(Decision{Retry: true}))
			}
			assert.Equal(t, tt.waits, got)
		})
	}
	t.Run("an asked delay replaces the wait, the backoff still grows", func(t *testing.T) {
		l, _ := testLoop(Policy{NoJitter: true})
		l.count()
		assert.Equal(t, 3*time.Second, l.wait(Decision{Retry: true, After: 3 * time.Second}))
		assert.Equal(t, time.Second, l.wait(Decision{Retry: true}))
	})
}

func TestStopReasonNames(t *testing.T) {
	for r, s := range map[stopReason]string{
		stopExhausted: "exhausted", stopElapsed: "elapsed", stopBudget: "budget",
		stopCanceled: "canceled", stopPermanent: "permanent", 0: "stop(0)",
	} {
		assert.Equal(t, s, r.String())
	}
}
