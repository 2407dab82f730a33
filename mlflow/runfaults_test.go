package mlflow_test

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder collects a Run's callback events.
type recorder struct {
	mu     sync.Mutex
	events map[string][]error
}

func (r *recorder) callback(name string) mlerr.Callback {
	return func(err error, _ time.Time) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.events == nil {
			r.events = map[string][]error{}
		}
		r.events[name] = append(r.events[name], err)
	}
}

func (r *recorder) callbacks() mlerr.Callbacks {
	return mlerr.Callbacks{
		OnNetworkError: r.callback("net"),
		OnWarning:      r.callback("warn"),
		OnError:        r.callback("err"),
		OnQueueFull:    r.callback("full"),
	}
}

func (r *recorder) get(name string) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.events[name]...)
}

// faultCase is one row of the HTTP fault table: a fault on the way to the
// server while a Run logs, and what the Run must make of it.
type faultCase struct {
	name string
	// arrange injects the fault once the run has started; onRetry, when it
	// returns a function, is called on every retry of a backend call.
	arrange func(t *testing.T, e *env, runID string) (onRetry func(n int64))
	// Callbacks expected: how many times each fires.
	net, warn, err int
	// errKind, warnKind: the kind of the OnError / OnWarning events.
	errKind, warnKind *mlerr.Kind
	// lost is how many of the logged items the Run reports lost.
	lost int
	// minRetries is the fewest backend calls the Run must have repeated.
	minRetries int64
	// real marks the rows also run against the real server.
	real bool
	// attempt overrides the policy's attempt timeout.
	attempt time.Duration
	// wait, when set, is the wait every retry must have chosen.
	wait time.Duration
}

// The workload: 10 steps of two metrics (a NaN at step 3), 2 params, 1 tag.
const workloadItems = 10*2 + 2 + 1

func logWorkload(t *testing.T, r *mlerr.Run) {
	t.Helper()
	for step := int64(0); step < 10; step++ {
		loss := 1 / float64(step+1)
		if step == 3 {
			loss = math.NaN()
		}
		require.NoError(t, r.LogMetricsAt(step, t0.Add(time.Duration(step)*time.Second), map[string]float64{"loss": loss, "acc": float64(step) / 10}))
	}
	require.NoError(t, r.LogParams(map[string]string{"lr": "0.1", "bs": "32"}))
	require.NoError(t, r.SetTags(map[string]string{"phase": "train"}))
}

// workloadItems as the server must hold them.
func workloadPoints() []mlerr.Item {
	var out []mlerr.Item
	for step := int64(0); step < 10; step++ {
		loss := 1 / float64(step+1)
		if step == 3 {
			loss = math.NaN()
		}
		ts := t0.Add(time.Duration(step) * time.Second)
		out = append(out,
			mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: loss, Step: step, Time: ts},
			mlerr.Item{Kind: mlerr.ItemMetric, Key: "acc", Value: float64(step) / 10, Step: step, Time: ts})
	}
	return out
}

func onLogBatch(f fault.Fault, times int) func(*testing.T, *env, string) func(int64) {
	return func(_ *testing.T, e *env, _ string) func(int64) {
		e.proxy.Add(fault.Rule{Path: "runs/log-batch", Times: times, Fault: f})
		return nil
	}
}

// testPolicy retries 4 times with millisecond backoff: fast and
// deterministic; attempt bounds each attempt (hangs).
func testPolicy(attempt time.Duration, onRetry func(mlerr.RetryEvent)) mlerr.Policy {
	return mlerr.Policy{
		MaxAttempts:    4,
		InitialDelay:   time.Millisecond,
		MaxDelay:       5 * time.Millisecond,
		NoJitter:       true,
		MaxElapsed:     mlerr.Off,
		AttemptTimeout: attempt,
		MaxRetryAfter:  10 * time.Millisecond,
		OnRetry:        onRetry,
	}
}

func faultTable() []faultCase {
	refusedFor := func(retries int64) func(*testing.T, *env, string) func(int64) {
		return func(t *testing.T, e *env, _ string) func(int64) {
			require.NoError(t, e.proxy.Down())
			return func(n int64) {
				if n == retries {
					require.NoError(t, e.proxy.Up())
				}
			}
		}
	}
	return []faultCase{
		{name: "no fault", arrange: func(*testing.T, *env, string) func(int64) { return nil }, real: true},
		{name: "refused, back within the retries", arrange: refusedFor(2), minRetries: 2},
		{name: "refused past the retries", arrange: refusedFor(6), net: 1, warn: 1, warnKind: mlerr.ErrRecovered, minRetries: 6, real: true},
		{name: "3 resets", arrange: onLogBatch(fault.ResetConn, 3), minRetries: 3, real: true},
		{name: "6 resets: an outage", arrange: onLogBatch(fault.ResetConn, 6), net: 1, warn: 1, warnKind: mlerr.ErrRecovered, minRetries: 6, real: true},
		{name: "closed connections", arrange: onLogBatch(fault.CloseConn, 3), minRetries: 3},
		{name: "2 hangs past the attempt timeout", arrange: onLogBatch(fault.StallFor(time.Minute), 2), minRetries: 2},
		{name: "30 s stall, 1 s attempt timeout", arrange: onLogBatch(fault.StallFor(30*time.Second), 2), minRetries: 2, real: true, attempt: time.Second},
		// Retry-After: 1 s is honoured, clamped by the policy's MaxRetryAfter (10 ms here).
		{name: "429 with Retry-After", arrange: onLogBatch(fault.RetryAfter(429, time.Second), 3), minRetries: 3, real: true, wait: 10 * time.Millisecond},
		{name: "500 x3", arrange: onLogBatch(fault.Status(500), 3), minRetries: 3},
		{name: "502 HTML x3", arrange: onLogBatch(fault.HTML(502), 3), minRetries: 3, real: true},
		{name: "503 x3", arrange: onLogBatch(fault.Status(503), 3), minRetries: 3, real: true},
		{name: "503 x8: an outage", arrange: onLogBatch(fault.Status(503), 8), net: 1, warn: 1, warnKind: mlerr.ErrRecovered, minRetries: 8, real: true},
		{name: "504 x3", arrange: onLogBatch(fault.Status(504), 3), minRetries: 3},
		{name: "401", arrange: onLogBatch(fault.Status(401), 0), err: 1, errKind: mlerr.ErrUnauthorized, lost: workloadItems},
		{name: "403", arrange: onLogBatch(fault.Status(403), 0), err: 1, errKind: mlerr.ErrUnauthorized, lost: workloadItems},
		{name: "404 run gone", arrange: onLogBatch(fault.Status(404), 0), err: 1, errKind: mlerr.ErrRunNotFound, lost: workloadItems},
		{name: "run deleted", arrange: func(t *testing.T, e *env, runID string) func(int64) {
			require.NoError(t, e.direct.DeleteRun(context.Background(), runID))
			return nil
		}, err: 2, errKind: mlerr.ErrRunNotFound, lost: workloadItems, real: true}, // the batch, then ending the run
		{name: "malformed 200 body", arrange: onLogBatch(fault.Malformed(), 1), minRetries: 1},
		{name: "truncated 200 body", arrange: onLogBatch(fault.TruncateBody, 1), minRetries: 1, real: true},
		{name: "HTML 200 page (a proxy's login page)", arrange: onLogBatch(fault.Fault{Kind: fault.Respond, Status: 200,
			Header: map[string][]string{"Content-Type": {"text/html"}}, Body: "<html>Sign in</html>"}, 2), minRetries: 2},
		{name: "param changed: per-item rejection", arrange: func(t *testing.T, e *env, runID string) func(int64) {
			require.NoError(t, e.direct.LogBatch(context.Background(), runID, nil, []mlflow.Param{{Key: "lr", Value: "0.9"}}, nil))
			return nil
		}, err: 1, errKind: mlerr.ErrInvalidValue, lost: 1, real: true},
		{name: "response lost after apply x2", arrange: onLogBatch(fault.DropResponse, 2), minRetries: 2, real: true},
	}
}

// runFaultCase logs the workload through a Run over e's proxy with the
// case's fault and checks callbacks, report and what the server holds.
func runFaultCase(t *testing.T, e *env, tc faultCase) {
	ctx := context.Background()
	var retries atomic.Int64
	var hook atomic.Pointer[func(int64)]
	var waitsMu sync.Mutex
	var waits []time.Duration
	// Short attempt timeouts for the in-memory server; the real one may take
	// a second on a loaded machine, except under a stall, where 2 s will do.
	attempt := 300 * time.Millisecond
	if e.real {
		attempt = 10 * time.Second
	}
	if tc.attempt > 0 {
		attempt = tc.attempt
		if e.real {
			attempt = max(attempt, 2*time.Second)
		}
	}
	policy := testPolicy(attempt, func(ev mlerr.RetryEvent) {
		waitsMu.Lock()
		waits = append(waits, ev.Wait)
		waitsMu.Unlock()
		n := retries.Add(1)
		if h := hook.Load(); h != nil {
			(*h)(n)
		}
	})
	rec := &recorder{}
	run, err := mlerr.NewRun(ctx, e.backend,
		mlerr.WithExperiment(unique("faults")), mlerr.WithRunName(tc.name),
		mlerr.WithCallbacks(rec.callbacks()), mlerr.WithRetryPolicy(policy),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 1000, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	require.NoError(t, err)
	require.NoError(t, run.Started(ctx))
	runID := run.ID()
	if h := tc.arrange(t, e, runID); h != nil {
		hook.Store(&h)
	}
	logWorkload(t, run)
	start := time.Now()
	report, closeErr := run.Close(ctx)
	t.Logf("%s: Close took %v, %d retries, report sent=%d lost=%d, proxy %+v", tc.name, time.Since(start).Round(time.Millisecond),
		report.Retries, report.Sent, report.Dropped.Total(), e.proxy.Stats().Injected)
	_ = e.proxy.Up()
	e.proxy.Clear()

	net, warn, errs := rec.get("net"), rec.get("warn"), rec.get("err")
	assert.Len(t, net, tc.net, "OnNetworkError: %v", net)
	assert.Len(t, warn, tc.warn, "OnWarning: %v", warn)
	assert.Len(t, errs, tc.err, "OnError: %v", errs)
	assert.Empty(t, rec.get("full"))
	for _, err := range net {
		assert.ErrorIs(t, err, mlerr.ErrNetwork)
	}
	if tc.warnKind != nil {
		for _, err := range warn {
			assert.ErrorIs(t, err, tc.warnKind)
		}
	}
	if tc.errKind != nil {
		for _, err := range errs {
			assert.ErrorIs(t, err, tc.errKind)
		}
	}
	lost := 0
	for _, err := range errs {
		lost += len(mlerr.LostItems(err))
	}
	assert.Equal(t, tc.lost, lost, "items the callbacks say were lost")
	assert.Equal(t, int64(tc.lost), report.Dropped.Total(), "items the report says were lost")
	assert.Equal(t, int64(workloadItems-tc.lost), report.Sent)
	assert.GreaterOrEqual(t, report.Retries, tc.minRetries)
	if tc.wait > 0 {
		waitsMu.Lock()
		assert.GreaterOrEqual(t, len(waits), int(tc.minRetries))
		for _, w := range waits {
			assert.Equal(t, tc.wait, w, "wait chosen for a retry")
		}
		waitsMu.Unlock()
	}
	if tc.lost == 0 {
		assert.NoError(t, closeErr)
		assert.Equal(t, mlerr.RunFinished, report.Status)
	} else {
		assert.Error(t, closeErr)
	}

	if tc.lost == workloadItems {
		return // the run is gone or the server refused everything
	}
	want := workloadPoints()
	requireHistory(t, e.direct, runID, "loss", want)
	requireHistory(t, e.direct, runID, "acc", want)
	got, err := e.direct.GetRun(ctx, runID)
	require.NoError(t, err)
	wantLR := "0.1"
	if tc.lost == 1 {
		wantLR = "0.9" // the server's value stays
	}
	for k, v := range map[string]string{"lr": wantLR, "bs": "32"} {
		p, ok := got.Data.Param(k)
		assert.True(t, ok, k)
		assert.Equal(t, v, p, k)
	}
	v, _ := got.Data.Tag("phase")
	assert.Equal(t, "train", v)
	wantStatus := mlflow.StatusFinished
	if tc.lost > 0 {
		wantStatus = mlflow.StatusFailed
	}
	assert.Equal(t, wantStatus, got.Info.Status)
}

func TestRunFaultTableFake(t *testing.T) {
	for _, tc := range faultTable() {
		if tc.attempt >= time.Second && testing.Short() {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			runFaultCase(t, newFakeEnv(t), tc)
		})
	}
}
