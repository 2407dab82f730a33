package localstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/mlerr/mlerr"
)

// flakyStore is a Store that answers 503 while down is set.
type flakyStore struct {
	*Store
	down   atomic.Bool
	refuse atomic.Int64
}

func (f *flakyStore) WriteBatch(ctx context.Context, b mlerr.Batch) error {
	if f.down.Load() {
		f.refuse.Add(1)
		return mlerr.New(mlerr.CodeTemporarilyUnavailable, "server down")
	}
	return f.Store.WriteBatch(ctx, b)
}

// TestSpillDuringAnOutage is the Run's spill policy with a Spool: during an
// outage the queue fills and the rest goes to the spool on disk; when the
// backend answers again everything arrives once, in order, and the spool is
// empty.
func TestSpillDuringAnOutage(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := newStore(t)
	backend := &flakyStore{Store: s}
	backend.down.Store(true)
	sp := openSpool(t, t.TempDir(), WithSegmentSize(4096))
	var queueFull atomic.Int64
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, backend,
		mlerr.WithLimits(mlerr.Limits{QueueItems: 100, QueueBytes: 1 << 20}), mlerr.WithFullPolicy(mlerr.Spill(sp)),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 50, BatchBytes: 1 << 20, BatchInterval: time.Millisecond}),
		mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 2, InitialDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}),
		mlerr.WithCallbacks(mlerr.Callbacks{OnQueueFull: func(error, time.Time) { queueFull.Add(1) }}),
		mlerr.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	const steps = 2000
	for step := range int64(steps) {
		require.NoError(t, run.LogMetrics(step, map[string]float64{"loss": float64(step)}))
	}
	assert.Greater(t, sp.Len(), steps/2, "most of the outage's points wait on disk")
	assert.Greater(t, backend.refuse.Load(), int64(0))

	backend.down.Store(false)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, run.Wait(wctx))
	rep, err := run.Close(wctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Dropped.Total(), "%+v", rep.Dropped)
	assert.Equal(t, 0, sp.Len())

	items := allItems(t, s.RunDir(run.ID()))
	require.Len(t, items, steps)
	seen := map[string]int{}
	for i, it := range items {
		assert.Equal(t, int64(i), it.Step, "in order")
		seen[fmt.Sprint(it.Step)]++
	}
	assert.Len(t, seen, steps)
}
