package mlflow_test

import (
	"context"

	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunInFlightBackpressureFromTheProxy(t *testing.T) {
	// 4 batches in flight against the in-memory server. The proxy answers
	// the first 3 log-batch requests 429 with a Retry-After (fewer than a
	// batch's 4 attempts: no outage): the window
	// falls below 4, and every point still reaches the server once; 40
	// acknowledged batches later it is back at 4.
	for _, tc := range []struct {
		name  string
		fault fault.Fault
	}{
		{"429 Retry-After", fault.RetryAfter(429, 5*time.Millisecond)},
		{"503", fault.Status(503)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEnv(t)
			ctx := context.Background()
			rec := &recorder{}
			run, err := mlerr.NewRun(ctx, e.backend,
				mlerr.WithExperiment(unique("inflight")), mlerr.WithCallbacks(rec.callbacks()),
				mlerr.WithRetryPolicy(testPolicy(time.Second, nil)),
				mlerr.WithLimits(mlerr.Limits{BatchItems: 10, BatchBytes: 1 << 20, BatchInterval: time.Hour, InFlight: 4}))
			require.NoError(t, err)
			require.NoError(t, run.Started(ctx))
			require.Equal(t, 4, run.Health().InFlightWindow)
			e.proxy.Add(fault.Rule{Path: "runs/log-batch", Times: 3, Fault: tc.fault})
			logPoints(t, run, 0, 100) // 10 batches
			require.NoError(t, run.Wait(ctx))
			w := run.Health().InFlightWindow
			assert.Less(t, w, 4, "the backpressure lowered the window")
			assert.GreaterOrEqual(t, w, 1)
			assert.Equal(t, 3, e.proxy.Stats().Injected[tc.fault.Kind], "the proxy refused 3 requests")
			for i := range 4 {
				logPoints(t, run, 100+i*100, 100+(i+1)*100)
				require.NoError(t, run.Wait(ctx))
			}
			assert.Equal(t, 4, run.Health().InFlightWindow, "back up while the server is healthy")
			rep, err := run.Close(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(500), rep.Sent)
			assert.Empty(t, rec.get("net"), "backpressure ridden out by the retries is not an outage")
			requireHistory(t, e.direct, run.ID(), "x", pointsAt(0, 500))
		})
	}
}

// logPoints logs x at steps [from, to), one millisecond apart from t0.
func logPoints(t *testing.T, run *mlerr.Run, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		require.NoError(t, run.LogMetricsAt(int64(s), t0.Add(time.Duration(s)*time.Millisecond), map[string]float64{"x": float64(s)}))
	}
}

// pointsAt are the items logPoints logs.
func pointsAt(from, to int) []mlerr.Item {
	var out []mlerr.Item
	for s := from; s < to; s++ {
		out = append(out, mlerr.Item{Kind: mlerr.ItemMetric, Key: "x", Value: float64(s), Step: int64(s), Time: t0.Add(time.Duration(s) * time.Millisecond)})
	}
	return out
}
