package mlerr_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldFixture is a run whose StartRun is held by a gate, so that nothing
// leaves the queue until release is called.
func heldFixture(t *testing.T, opts ...mlerr.RunOption) (*fixture, func()) {
	t.Helper()
	open := make(chan struct{})
	f := newBare(t)
	f.b.Inject(fb.Start, 1, fb.Gate(open))
	f.start(opts...)
	released := false
	release := func() {
		if !released {
			released = true
			close(open)
		}
	}
	t.Cleanup(release)
	return f, release
}

func totalDrops(errs []error) int64 {
	var n int64
	for _, err := range errs {
		n += mlerr.LostCount(err)
	}
	return n
}

func TestQueueDropOldest(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 10, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.DropOldest()))
	f.logSteps("x", 0, 25)
	h := f.run.Health()
	assert.Equal(t, 10, h.Queued, "the queue holds at most its limit")
	assert.Equal(t, int64(15), h.Dropped.QueueFull)
	release()
	rep, err := f.close()
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.CodeDataLoss)
	assert.Equal(t, seq(15, 25), steps(f.b.Items(rep.RunID), "x"), "the newest survive")
	assert.Equal(t, int64(15), rep.Dropped.QueueFull)
	assert.Equal(t, mlerr.RunFailed, rep.Status)
	full := f.rec.errs("full")
	require.NotEmpty(t, full)
	assert.Equal(t, int64(15), totalDrops(full), "OnQueueFull reports every drop")
	assert.Less(t, len(full), 15, "OnQueueFull is coalesced")
	for _, e := range full {
		assert.ErrorIs(t, e, mlerr.ErrQueueFull)
	}
}

func TestQueueDropNewest(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 10, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.DropNewest()))
	f.logSteps("x", 0, 25)
	release()
	rep, _ := f.close()
	assert.Equal(t, seq(0, 10), steps(f.b.Items(rep.RunID), "x"), "the oldest survive")
	assert.Equal(t, int64(15), rep.Dropped.QueueFull)
	assert.Equal(t, int64(15), totalDrops(f.rec.errs("full")))
}

func TestQueueByteLimit(t *testing.T) {
	// Each item weighs len(key) + 64 bytes: 65 here; 300 bytes hold 4.
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 1000, QueueBytes: 300}), mlerr.WithLimits(mlerr.Limits{BatchItems: 4, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.DropOldest()))
	f.logSteps("x", 0, 10)
	h := f.run.Health()
	assert.Equal(t, 4, h.Queued)
	assert.LessOrEqual(t, h.QueuedBytes, 300)
	release()
	rep, _ := f.close()
	assert.Equal(t, seq(6, 10), steps(f.b.Items(rep.RunID), "x"))
}

func TestQueueCoalescingByClock(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 2, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 1, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.DropNewest()))
	defer release()
	f.logSteps("x", 0, 5) // 3 drops: the first reported at once, 2 held
	f.clock.Advance(time.Second)
	f.logSteps("x", 5, 6) // a drop a second later: reported with the held ones
	f.rec.waitFor(t, "full", nil)
	require.Eventually(t, func() bool { return len(f.rec.errs("full")) == 2 }, safety, time.Millisecond)
	full := f.rec.errs("full")
	assert.Equal(t, int64(1), mlerr.LostCount(full[0]))
	assert.Equal(t, int64(3), mlerr.LostCount(full[1]))
}

func TestQueueBlock(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 4, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 4, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Block(0)))
	f.logSteps("x", 0, 4)

	// A call that cannot fit waits until its context ends, then drops its
	// entries with an ErrQueueFull error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := f.run.LogMetricsContext(ctx, 4, map[string]float64{"x": 4, "y": 4})
	require.ErrorIs(t, err, mlerr.ErrQueueFull)
	assert.Contains(t, err.Error(), "context")
	var dropped int
	require.True(t, mlerr.AsError(err).Detail("dropped", &dropped))
	assert.Equal(t, 2, dropped)

	// A call that waits goes through once the sender makes room.
	done := make(chan error, 1)
	go func() { done <- f.run.LogMetrics(5, map[string]float64{"x": 5}) }()
	release()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(safety):
		t.Fatal("a blocked call never resumed")
	}
	rep, cerr := f.close()
	require.Error(t, cerr, "the dropped call makes the run FAILED")
	assert.Equal(t, []int64{0, 1, 2, 3, 5}, steps(f.b.Items(rep.RunID), "x"))
	assert.Equal(t, int64(2), rep.Dropped.QueueFull)
	full := f.rec.errs("full")
	require.NotEmpty(t, full)
	var waited int64
	for _, e := range full {
		var ms int64
		mlerr.AsError(e).Detail("waited_ms", &ms)
		waited += ms
	}
	assert.GreaterOrEqual(t, waited, int64(0))
	assert.Equal(t, int64(2), totalDrops(full))
}

func TestQueueBlockMaxWait(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 2, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 2, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Block(time.Millisecond)))
	defer release()
	f.logSteps("x", 0, 2)
	err := f.run.LogParams(map[string]string{"p": "v"})
	require.ErrorIs(t, err, mlerr.ErrQueueFull)
	assert.Contains(t, err.Error(), "maximum")
}

func TestQueueBlockEndsOnClose(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 2, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 2, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Block(0)))
	f.logSteps("x", 0, 2)
	done := make(chan error, 1)
	go func() { done <- f.run.LogMetrics(2, map[string]float64{"x": 2}) }()
	f.run.Terminate()
	release()
	select {
	case err := <-done:
		// Either it got in before Terminate or it was refused as closed.
		if err != nil {
			assert.ErrorIs(t, err, mlerr.ErrClosed)
		}
	case <-time.After(safety):
		t.Fatal("a blocked call outlived Terminate")
	}
}

func TestQueueSpill(t *testing.T) {
	spool := &memSpool{}
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 5, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 3, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Spill(spool)))
	f.logSteps("x", 0, 20)
	require.NoError(t, f.run.LogParams(map[string]string{"p": "v"}))
	h := f.run.Health()
	assert.Equal(t, 5, h.Queued)
	assert.Equal(t, 16, h.Spooled, "what does not fit goes to the spool, and everything after it")
	release()
	require.NoError(t, f.run.Wait(context.Background()))
	rep, err := f.close()
	require.NoError(t, err)
	items := f.b.Items(rep.RunID)
	assert.Equal(t, seq(0, 20), steps(items, "x"), "order kept through the spool")
	assert.Equal(t, "p", items[len(items)-1].Key)
	assert.Zero(t, rep.Dropped.Total())
	assert.Zero(t, spool.Len())
	assert.True(t, spool.closed)
	assert.Empty(t, f.rec.errs("full"), "nothing was dropped")
}

func TestQueueSpillFailure(t *testing.T) {
	spool := &memSpool{failErr: errors.New("disk full")}
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 2, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 2, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Spill(spool)))
	f.logSteps("x", 0, 5)
	release()
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, int64(3), rep.Dropped.SpillFailed)
	assert.Equal(t, seq(0, 2), steps(f.b.Items(rep.RunID), "x"))
	errs := f.rec.errs("error")
	require.Len(t, errs, 3, "one per call that spilled")
	for _, e := range errs {
		assert.Len(t, mlerr.LostItems(e), 1)
		assert.Contains(t, e.Error(), "disk full")
	}
}

func TestQueueSpoolLeftOnClose(t *testing.T) {
	spool := &memSpool{}
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 2, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 2, BatchBytes: 1 << 20, BatchInterval: time.Hour}),
		mlerr.WithFullPolicy(mlerr.Spill(spool)), mlerr.WithLimits(mlerr.Limits{CloseTimeout: time.Millisecond}))
	f.logSteps("x", 0, 6)
	rep, err := f.close()
	release()
	require.Error(t, err)
	assert.Equal(t, 4, rep.Spooled, "spooled items stay in the spool")
	assert.Equal(t, 4, spool.Len())
	assert.Equal(t, int64(2), rep.Dropped.Unsent)
}

func TestQueueMemoryBoundedInOutage(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 100, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 10, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	f.b.Inject(fb.Write, -1, fb.Refused())
	for s := int64(0); s < 5000; s++ {
		require.NoError(t, f.run.LogMetrics(s, map[string]float64{"x": 1}))
		if s%500 == 0 {
			f.run.Wait(canceledCtx())
		}
		h := f.run.Health()
		require.LessOrEqual(t, h.Queued, 100)
		require.LessOrEqual(t, h.InFlight, 10)
	}
	f.b.Heal(fb.Write)
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, rep.Logged, rep.Sent+rep.Dropped.QueueFull)
}

func canceledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
