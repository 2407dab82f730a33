package mlerr_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCloseTimeoutWithDeadServer(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{CloseTimeout: 20 * time.Millisecond}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Refused())
	f.logSteps("x", 0, 10)
	f.run.Wait(canceledCtx()) // send now
	f.rec.waitFor(t, "network", mlerr.ErrNetwork)
	rep, err := f.close()
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.CodeDataLoss)
	assert.Equal(t, int64(10), rep.Dropped.Unsent, "items still queued at the deadline are lost")
	assert.Len(t, rep.Failed, 10)
	assert.Equal(t, mlerr.RunFailed, rep.Status)
	rec, _ := f.b.Run(rep.RunID)
	assert.Equal(t, mlerr.RunFailed, rec.Status, "the run is still ended, FAILED")

	assert.Equal(t, 1, f.rec.count("network", mlerr.ErrNetwork), "one outage, one call, however many rounds")
	errs := f.rec.errs("error")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], mlerr.CodeDeadlineExceeded)
	assert.Len(t, mlerr.LostItems(errs[0]), 10)
}

func TestCloseUsesCallerDeadline(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Refused())
	f.logSteps("x", 0, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	rep, err := f.run.Close(ctx)
	require.Error(t, err)
	assert.Equal(t, int64(3), rep.Dropped.Unsent)
}

func TestHangIsAnOutage(t *testing.T) {
	f := newBare(t)
	p := testPolicy(f.clock)
	p.AttemptTimeout = 5 * time.Millisecond // real time: a hung call is abandoned
	p.MaxAttempts = 2
	f.start(mlerr.WithRetryPolicy(p))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Hang())
	f.logSteps("x", 0, 5)
	require.Error(t, f.run.Wait(canceledCtx()), "Wait asks for a flush and returns at its context's end")

	err := f.rec.waitFor(t, "network", mlerr.ErrNetwork)
	var te *mlerr.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "attempt", te.Kind)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	h := f.run.Health()
	assert.True(t, h.Outage)
	assert.False(t, h.Healthy)
	assert.GreaterOrEqual(t, h.ConsecutiveFailures, 2)
	assert.Equal(t, 5, h.InFlight)
	assert.Error(t, h.LastError)

	f.logSteps("x", 5, 8) // logging goes on during the outage
	f.b.Heal(fb.Write)
	require.NoError(t, f.run.Wait(context.Background()))
	f.rec.waitFor(t, "warning", mlerr.ErrRecovered)
	assert.True(t, f.run.Health().Healthy)
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, seq(0, 8), steps(f.b.Items(rep.RunID), "x"), "every point, once")
	assert.Equal(t, 1, f.rec.count("network", nil))
	assert.Equal(t, int64(1), rep.Outages)
}

func TestTerminateDuringHang(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Hang())
	f.logSteps("x", 0, 5)
	f.run.Wait(canceledCtx())
	require.Eventually(t, func() bool { return f.b.Calls(fb.Write) == 1 }, safety, time.Millisecond, "the write hangs")
	f.run.Terminate()
	assert.ErrorIs(t, f.run.LogMetrics(9, map[string]float64{"x": 9}), mlerr.ErrClosed)
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, mlerr.RunKilled, rep.Status)
	assert.Equal(t, int64(5), rep.Unacknowledged, "the write in flight may have been applied")
	assert.Zero(t, rep.Dropped.Unsent)
	rec, _ := f.b.Run(rep.RunID)
	assert.Equal(t, mlerr.RunKilled, rec.Status)
	f.run.Terminate() // again: nothing happens
}

func TestCompleteDataOrStopTerminatesFromCallback(t *testing.T) {
	f := newBare(t)
	var stopped atomic.Int32
	var buf syncBuffer
	logger := newTextLogger(&buf)
	f.start(mlerr.WithCallbacksFor(func(r *mlerr.Run) mlerr.Callbacks {
		return mlerr.CompleteDataOrStop(logger, func() {
			stopped.Add(1)
			r.Terminate() // from the dispatcher goroutine: must not deadlock
		})
	}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 1, fb.Forbidden())
	f.logSteps("x", 0, 3)
	f.run.Wait(canceledCtx()) // send now
	require.Eventually(t, func() bool {
		return errors.Is(f.run.LogMetrics(100, map[string]float64{"y": 1}), mlerr.ErrClosed)
	}, safety, time.Millisecond, "the strategy stops the run on data loss")
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, mlerr.RunKilled, rep.Status)
	assert.Equal(t, int32(1), stopped.Load())
	assert.Contains(t, buf.String(), "data lost, stopping the run")
}

func TestCompleteDataOrStopIgnoresOutagesAndWaits(t *testing.T) {
	var stops atomic.Int32
	cbs := mlerr.CompleteDataOrStop(newTextLogger(&syncBuffer{}), func() { stops.Add(1) })
	now := time.Now()
	cbs.OnNetworkError(mlerr.ErrNetwork.New("down"), now)
	cbs.OnWarning(mlerr.ErrRecovered.New("up"), now)
	cbs.OnQueueFull(mlerr.ErrQueueFull.New("waited").WithDetail("dropped", 0).WithDetail("waited_ms", 5), now)
	assert.Zero(t, stops.Load())
	cbs.OnQueueFull(mlerr.ErrQueueFull.New("dropped").WithDetail("dropped", 3), now)
	assert.Equal(t, int32(1), stops.Load())
	cbs.OnError(mlerr.ErrUnauthorized.New("no"), now)
	assert.Equal(t, int32(1), stops.Load(), "stop is called once")

}

func TestKeepTrainingLogsAndGoesOn(t *testing.T) {
	var buf syncBuffer
	f := newFixture(t, mlerr.WithCallbacks(mlerr.KeepTraining(newTextLogger(&buf))))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 1, fb.Unauthorized())
	f.logSteps("x", 0, 3)
	require.NoError(t, f.run.Wait(context.Background()))
	f.logSteps("x", 3, 6)
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, mlerr.RunFailed, rep.Status)
	assert.Equal(t, seq(3, 6), steps(f.b.Items(rep.RunID), "x"), "training went on after the loss")
	out := buf.String()
	assert.Contains(t, out, "level=ERROR")
	assert.Contains(t, out, "kind=Unauthorized")
	assert.Contains(t, out, "items_lost=3")
}

func TestSenderPanicRestarts(t *testing.T) {
	f := newBare(t)
	p := testPolicy(f.clock)
	var panics atomic.Int32
	p.Classify = func(err error) mlerr.Decision {
		if panics.Add(1) == 1 {
			panic("classifier bug")
		}
		return mlerr.Classify(err)
	}
	f.start(mlerr.WithRetryPolicy(p))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 1, fb.Status(503))
	f.logSteps("x", 0, 5)
	require.NoError(t, f.run.Wait(context.Background()))
	assert.Equal(t, int64(1), f.run.Health().SenderRestarts)
	rep, err := f.close()
	require.NoError(t, err, "the batch survived the panic")
	assert.Equal(t, seq(0, 5), steps(f.b.Items(rep.RunID), "x"))
	errs := f.rec.errs("error")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], mlerr.ErrSynchronizationStopped)
	assert.Contains(t, errs[0].Error(), "classifier bug")
	var stack string
	require.True(t, mlerr.AsError(errs[0]).Detail("stack", &stack))
	assert.Contains(t, stack, "goroutine")
}

func TestSenderPanicsGiveUpTheBatch(t *testing.T) {
	f := newBare(t)
	p := testPolicy(f.clock)
	p.Classify = func(err error) mlerr.Decision { panic("always") }
	f.start(mlerr.WithRetryPolicy(p))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 3, fb.Status(503))
	f.logSteps("x", 0, 5)
	require.NoError(t, f.run.Wait(context.Background()))
	f.logSteps("x", 5, 7)
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, seq(5, 7), steps(f.b.Items(rep.RunID), "x"), "the run goes on after the lost batch")
	assert.Equal(t, int64(5), rep.Dropped.Rejected)
	errs := f.rec.errs("error")
	require.Len(t, errs, 3)
	assert.Len(t, mlerr.LostItems(errs[2]), 5)
	for _, e := range errs {
		assert.ErrorIs(t, e, mlerr.ErrSynchronizationStopped)
	}
}

func TestCallbackPanicIsRecovered(t *testing.T) {
	f := newBare(t)
	var buf syncBuffer
	var calls atomic.Int32
	f.start(mlerr.WithRules(mlerr.StrictSeriesRules), mlerr.WithLogger(newTextLogger(&buf)), mlerr.WithCallbacks(mlerr.Callbacks{
		OnWarning: func(err error, ts time.Time) {
			if calls.Add(1) == 1 {
				panic("callback bug")
			}
		},
	}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, int32(2), calls.Load(), "the next callback still runs")
	assert.Contains(t, buf.String(), "a callback panicked")
	assert.Contains(t, buf.String(), "callback bug")
	assert.Equal(t, int64(2), rep.CallbackEvents)
}

func TestEventThrottle(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules), mlerr.WithLimits(mlerr.Limits{EventBurst: 3, EventWindow: time.Minute}))
	for range 10 {
		require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	}
	for s := int64(0); s < 8; s++ {
		require.Error(t, f.run.LogMetrics(s, map[string]float64{"bad key!": 1}))
	}
	f.clock.Advance(time.Minute)
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1})) // a new window: the summary, then this one
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, int64(10), rep.Duplicates)

	warns := f.rec.errs("warning")
	require.Len(t, warns, 5, "3 + a summary of 6 + the one in the new window")
	for _, w := range warns {
		assert.ErrorIs(t, w, mlerr.ErrDuplicatePoint)
	}
	var n int
	require.True(t, mlerr.AsError(warns[3]).Detail("suppressed", &n))
	assert.Equal(t, 6, n)
	assert.Contains(t, warns[3].Error(), "and 6 more like it")

	errs := f.rec.errs("error")
	require.Len(t, errs, 4, "3 + a summary at close")
	assert.ErrorIs(t, errs[3], mlerr.ErrInvalidName)
	assert.Len(t, mlerr.LostItems(errs[3]), 5, "the summary carries the items of the events it stands for")
}

func TestEventQueueOverflow(t *testing.T) {
	f := newBare(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var got []error
	f.start(mlerr.WithRules(mlerr.StrictSeriesRules), mlerr.WithLimits(mlerr.Limits{EventQueue: 2}), mlerr.WithLimits(mlerr.Limits{EventBurst: -1}), mlerr.WithCallbacks(mlerr.Callbacks{
		OnWarning: func(err error, ts time.Time) {
			<-release
			mu.Lock()
			got = append(got, err)
			mu.Unlock()
		},
	}))
	start := time.Now()
	for range 20 {
		require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	}
	assert.Less(t, time.Since(start), safety, "a blocked callback never blocks logging")
	close(release)
	rep, err := f.close()
	require.NoError(t, err)
	assert.Positive(t, rep.CallbackEventsDropped)
	mu.Lock()
	defer mu.Unlock()
	var last error
	for _, e := range got {
		if errors.Is(e, mlerr.CodeResourceExhausted) {
			last = e
		}
	}
	require.NotNil(t, last, "the callback is told how many events it missed")
	assert.Contains(t, last.Error(), "events were dropped")
	var dropped int64
	require.True(t, mlerr.AsError(last).Detail("dropped_events", &dropped))
	assert.Equal(t, rep.CallbackEventsDropped, dropped)
	assert.Equal(t, 19, len(got)-1+int(dropped), "every event delivered or counted")
}

func TestEndRunFailure(t *testing.T) {
	f := newFixture(t)
	f.b.Inject(fb.End, -1, fb.Status(503))
	f.logSteps("x", 0, 2)
	rep, err := f.close()
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.ErrNetwork)
	assert.Equal(t, mlerr.RunFailed, rep.Status)
	errs := f.rec.errs("error")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], mlerr.ErrNetwork)
	assert.Equal(t, 503, mlerr.HTTPStatusOf(errs[0]))
}

func TestStartFailureStopsTheRun(t *testing.T) {
	f := newBare(t)
	f.b.Inject(fb.Start, 1, fb.RunGone())
	f.start(mlerr.WithRunID("missing"))
	err := f.run.Started(context.Background())
	require.ErrorIs(t, err, mlerr.ErrRunNotFound)
	lerr := f.run.LogMetrics(1, map[string]float64{"x": 1})
	assert.ErrorIs(t, lerr, mlerr.ErrClosed)
	assert.ErrorIs(t, lerr, mlerr.ErrRunNotFound)
	assert.Equal(t, "", f.run.ID())
	assert.False(t, f.run.Health().Healthy)
	require.NoError(t, f.run.Wait(context.Background()), "nothing pending: the queued items failed for good")
	rep, cerr := f.close()
	require.ErrorIs(t, cerr, mlerr.ErrRunNotFound)
	assert.Equal(t, mlerr.RunStatus(0), rep.Status)
	assert.Zero(t, f.b.Calls(fb.End))
}

func TestSpoolContentSentFirst(t *testing.T) {
	spool := &memSpool{items: []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "x", Step: 0, Value: 0, Time: time.Unix(1, 0)},
		{Kind: mlerr.ItemMetric, Key: "x", Step: 1, Value: 1, Time: time.Unix(2, 0)},
	}}
	f := newFixture(t, mlerr.WithFullPolicy(mlerr.Spill(spool)))
	f.logSteps("x", 2, 4)
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, seq(0, 4), steps(f.b.Items(rep.RunID), "x"))
	assert.Equal(t, int64(4), rep.Logged)
}

func TestWaitAfterTerminate(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Refused())
	f.logSteps("x", 0, 2)
	f.run.Terminate()
	err := f.run.Wait(context.Background())
	require.NoError(t, err, "terminated items are settled (lost)")
	h := f.run.Health()
	assert.True(t, h.Closed)
	assert.False(t, h.Healthy)
	assert.Equal(t, int64(2), h.Dropped.Unsent)
	_, cerr := f.close()
	assert.True(t, strings.Contains(cerr.Error(), "unsent"))
}

func TestWaitEndsTheOutagePause(t *testing.T) {
	// Real clock, one attempt per round and an hour between rounds: only
	// the flush Wait asks for can retry before the hour is up.
	f := newFixture(t, mlerr.WithClock(realClock{}),
		mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 1, MaxDelay: time.Hour, AttemptTimeout: mlerr.Off}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Refused())
	f.logSteps("x", 0, 3)
	f.run.Wait(canceledCtx())
	f.rec.waitFor(t, "network", mlerr.ErrNetwork)
	f.b.Heal(fb.Write)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	require.NoError(t, f.run.Wait(ctx))
	assert.Equal(t, seq(0, 3), steps(f.stored(), "x"))
	f.rec.waitFor(t, "warning", mlerr.ErrRecovered)
}

func TestFailEndsTheRunFailed(t *testing.T) {
	f := newFixture(t)
	f.logSteps("x", 0, 3)
	train := func() (err error) {
		defer func() { f.run.Fail(err) }()
		return errors.New("CUDA out of memory")
	}
	trainErr := train()
	f.run.Fail(errors.New("a second failure is ignored"))
	rep, err := f.close()
	require.Error(t, err)
	assert.ErrorIs(t, err, trainErr, "Close's error wraps the training's")
	assert.Contains(t, err.Error(), "the training failed")
	assert.Equal(t, mlerr.RunFailed, rep.Status)
	rec, _ := f.b.Run(rep.RunID)
	assert.Equal(t, mlerr.RunFailed, rec.Status)
	var tag string
	for _, it := range f.b.Items(rep.RunID) {
		if it.Kind == mlerr.ItemTag && it.Key == "mlerr.error" {
			tag = it.Text
		}
	}
	assert.Equal(t, "CUDA out of memory", tag, "the error is on the run")
	assert.Equal(t, seq(0, 3), steps(f.b.Items(rep.RunID), "x"), "nothing lost")
	assert.Zero(t, rep.Dropped.Total())
}

func TestFailNilAndAfterClose(t *testing.T) {
	f := newFixture(t)
	f.run.Fail(nil)
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, mlerr.RunFinished, rep.Status)
	f.run.Fail(errors.New("too late"))
	rep, err = f.close()
	require.NoError(t, err)
	assert.Equal(t, mlerr.RunFinished, rep.Status)
}

func TestFailThenTerminateIsKilled(t *testing.T) {
	f := newFixture(t)
	f.run.Fail(errors.New("boom"))
	f.run.Terminate()
	rep, _ := f.close()
	assert.Equal(t, mlerr.RunKilled, rep.Status)
}
