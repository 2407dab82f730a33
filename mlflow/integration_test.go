package mlflow_test

// Integration tests against a real MLflow tracking server. They run when
// MLERR_TEST_MLFLOW_URI names one (never MLFLOW_TRACKING_URI, which may be a
// user's own server) and skip only when it is not set; .ci/run sets
// MLERR_TEST_REQUIRE_SERVERS=1, which turns the skip into a failure:
//
//	export MLERR_TEST_MLFLOW_URI=$(scripts/mlflow-server.sh start | cut -d= -f2-)
//	go test ./mlflow/... -run Integration -v
//	scripts/mlflow-server.sh stop

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realURI returns the tracking server's URI, skipping the test without one.
func realURI(t *testing.T) string {
	t.Helper()
	return testserver.MLflowURI(t)
}

// newRealEnv puts a fault proxy in front of the real server.
func newRealEnv(t *testing.T, opts ...mlflow.Option) *env {
	t.Helper()
	uri := realURI(t)
	p, err := fault.NewReverse(uri)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return newEnv(t, p, uri, opts...)
}

// unique returns an experiment name no earlier test run used on a kept
// server, recognisable as the suite's ("mlerr-test-..."); TestMain deletes
// the experiments so named at the end.
func unique(prefix string) string {
	return testserver.Experiment(prefix)
}

func TestIntegrationErrorBodies(t *testing.T) {
	checkErrorBodies(t, newRealEnv(t), realURI(t))
}

// checkErrorBodies checks how the server at serverURL answers the usual
// mistakes, and what the client and backend make of it. It runs against the
// real server and the in-memory one, which must agree.
func checkErrorBodies(t *testing.T, e *env, serverURL string) {
	ctx := context.Background()
	info, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: unique("errors"), StartTime: time.Now()})
	require.NoError(t, err)
	require.NoError(t, e.direct.LogBatch(ctx, info.RunID, nil, []mlflow.Param{{Key: "lr", Value: "0.1"}}, nil))
	deleted, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: unique("errors"), StartTime: time.Now()})
	require.NoError(t, err)
	require.NoError(t, e.direct.DeleteRun(ctx, deleted.RunID))

	rawPost := func(contentType string) error {
		req, _ := http.NewRequest(http.MethodPost, strings.TrimRight(serverURL, "/")+"/api/2.0/mlflow/runs/log-batch",
			strings.NewReader(`{"run_id":"`+info.RunID+`"}`))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return err
		}
		return mlerr.FromResponse(resp)
	}
	tests := []struct {
		name    string
		call    func() error
		status  int
		code    mlerr.Code
		message string // a substring of the server's message
	}{
		{"missing run", func() error { _, err := e.direct.GetRun(ctx, "0123456789abcdef0123456789abcdef"); return err },
			404, mlerr.CodeResourceDoesNotExist, "not found"},
		{"missing experiment", func() error { _, err := e.direct.GetExperimentByName(ctx, unique("nope")); return err },
			404, mlerr.CodeResourceDoesNotExist, "Could not find experiment with name"},
		{"experiment exists", func() error {
			name := unique("twice")
			_, err := e.direct.CreateExperiment(ctx, name, nil)
			require.NoError(t, err)
			_, err = e.direct.CreateExperiment(ctx, name, nil)
			return err
		}, 400, mlerr.CodeResourceAlreadyExists, "already exists"},
		{"param changed", func() error {
			return e.direct.LogBatch(ctx, info.RunID, nil, []mlflow.Param{{Key: "lr", Value: "0.2"}}, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "Changing param values is not allowed"},
		{"too-long key", func() error {
			return e.direct.LogBatch(ctx, info.RunID, []mlflow.Metric{{Key: strings.Repeat("k", 251), Value: 1, Timestamp: 1}}, nil, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "'Metric name' exceeds the maximum length of 250 characters"},
		{"bad key", func() error {
			return e.direct.LogBatch(ctx, info.RunID, []mlflow.Metric{{Key: "a*b", Value: 1, Timestamp: 1}}, nil, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "Names may only contain alphanumerics"},
		{"negative timestamp", func() error {
			return e.direct.LogBatch(ctx, info.RunID, []mlflow.Metric{{Key: "neg", Value: 1, Timestamp: -5}}, nil, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "Timestamp must be a nonnegative long"},
		{"duplicate param keys", func() error {
			return e.direct.LogBatch(ctx, info.RunID, nil, []mlflow.Param{{Key: "d", Value: "1"}, {Key: "d", Value: "1"}}, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "Duplicate parameter keys have been submitted"},
		{"run update of a missing run", func() error {
			_, err := e.direct.UpdateRun(ctx, mlflow.UpdateRunRequest{RunID: "0123456789abcdef0123456789abcdef", Status: mlflow.StatusFinished})
			return err
		}, 404, mlerr.CodeResourceDoesNotExist, "not found"},
		{"101 params", func() error {
			ps := make([]mlflow.Param, 101)
			for i := range ps {
				ps[i] = mlflow.Param{Key: fmt.Sprintf("p%d", i), Value: "v"}
			}
			return e.direct.LogBatch(ctx, info.RunID, nil, ps, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "at most 100 params"},
		{"deleted run", func() error {
			return e.direct.LogBatch(ctx, deleted.RunID, []mlflow.Metric{{Key: "m", Value: 1, Timestamp: 1}}, nil, nil)
		}, 400, mlerr.CodeInvalidParameterValue, "must be in the 'active' state"},
		{"bad content type", func() error { return rawPost("text/plain") }, 400, mlerr.CodeInvalidParameterValue, "Content-Type"},
		{"no content type", func() error { return rawPost("") }, 400, mlerr.CodeInvalidParameterValue, "Content-Type header is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			t.Logf("%d %v", mlerr.HTTPStatusOf(err), err)
			assert.ErrorIs(t, err, mlerr.ErrRest)
			assert.ErrorIs(t, err, tt.code)
			assert.Equal(t, tt.code, mlerr.CodeOf(err))
			assert.Equal(t, tt.status, mlerr.HTTPStatusOf(err))
			assert.Contains(t, mlerr.AsError(err).Message(), tt.message)
			var class string
			if mlerr.AsError(err).Detail("error_class", &class) {
				assert.NotEmpty(t, class, "MLflow 3's extra fields are kept as details")
			}
			assert.False(t, mlerr.Classify(err).Retry, "a caller's fault is never retried")
		})
	}

	// The same answers, through the Backend, get the kinds a Run routes on.
	_, err = e.backend.StartRun(ctx, mlerr.RunSpec{RunID: "0123456789abcdef0123456789abcdef"})
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)
	err = e.backend.WriteBatch(ctx, mlerr.Batch{RunID: deleted.RunID, Seq: 1, Items: points("m", 3, func(int) float64 { return 1 })})
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	assert.ErrorIs(t, err, mlerr.CodeInvalidParameterValue)
	_, err = e.backend.StartRun(ctx, mlerr.RunSpec{RunID: deleted.RunID})
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	err = e.backend.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 1, Items: []mlerr.Item{param("lr", "0.3"), param("ok", "1")}})
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failures, 1)
	assert.Equal(t, 0, be.Failures[0].Index)
	assert.ErrorIs(t, be.Failures[0].Cause, mlerr.ErrParamChanged)
	got, err := e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	v, _ := got.Data.Param("ok")
	assert.Equal(t, "1", v)
}

func TestIntegrationClientRoundTrip(t *testing.T) {
	e := newRealEnv(t, mlflow.WithPageSize(1000))
	ctx := context.Background()
	info, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: unique("roundtrip"), Name: "rt", StartTime: time.Now(),
		Tags: map[string]string{"suite": "integration"}})
	require.NoError(t, err)
	specials := map[int]float64{3: math.NaN(), 4: math.Inf(1), 5: math.Inf(-1), 6: math.Copysign(0, -1), 7: math.SmallestNonzeroFloat64, 8: math.MaxFloat64}
	items := points("loss", 2500, func(i int) float64 {
		if v, ok := specials[i]; ok {
			return v
		}
		return 1 / float64(i+1)
	})
	items = append(items, points("acc", 10, func(i int) float64 { return float64(i) })...)
	for i := 0; i < 120; i++ {
		items = append(items, param(fmt.Sprintf("p%03d", i), strings.Repeat("v", i)))
	}
	items = append(items, tag("note", "first"), tag("note", "second"))
	b := mlerr.Batch{RunID: info.RunID, Seq: 1, Items: items}
	require.NoError(t, e.backend.WriteBatch(ctx, b))
	require.NoError(t, e.backend.WriteBatch(ctx, b), "a batch written twice is stored once")
	assert.Equal(t, 2*3, e.proxy.Stats().ByPath["/api/2.0/mlflow/runs/log-batch"])

	requireHistory(t, e.direct, info.RunID, "loss", items)
	requireHistory(t, e.direct, info.RunID, "acc", items)
	hist, err := e.direct.GetMetricHistory(ctx, info.RunID, "loss")
	require.NoError(t, err)
	byStep := map[int64]float64{}
	for _, m := range hist {
		byStep[m.Step] = m.Value
	}
	assert.True(t, math.IsNaN(byStep[3]), "NaN preserved, got %v", byStep[3])
	t.Logf("+Inf stored as %v, -Inf as %v", byStep[4], byStep[5])
	assert.True(t, math.IsInf(byStep[4], 1) || byStep[4] == math.MaxFloat64)
	assert.True(t, math.IsInf(byStep[5], -1) || byStep[5] == -math.MaxFloat64)

	run, err := e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	assert.Len(t, run.Data.Params, 120)
	for i := 0; i < 120; i++ {
		v, ok := run.Data.Param(fmt.Sprintf("p%03d", i))
		assert.True(t, ok)
		assert.Equal(t, strings.Repeat("v", i), v)
	}
	v, _ := run.Data.Tag("note")
	assert.Equal(t, "second", v)
	v, _ = run.Data.Tag("suite")
	assert.Equal(t, "integration", v)
	latest := map[string]mlflow.Metric{}
	for _, m := range run.Data.Metrics {
		latest[m.Key] = m
	}
	assert.Equal(t, int64(2499), latest["loss"].Step)
	assert.Equal(t, int64(9), latest["acc"].Step)

	require.NoError(t, e.backend.EndRun(ctx, info.RunID, mlerr.RunFinished, time.UnixMilli(1700000000000)))
	run, err = e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	assert.Equal(t, mlflow.StatusFinished, run.Info.Status)
	assert.Equal(t, int64(1700000000000), run.Info.EndTime)

	again, err := e.backend.StartRun(ctx, mlerr.RunSpec{RunID: info.RunID})
	require.NoError(t, err)
	assert.True(t, again.Resumed)
	run, err = e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	assert.Equal(t, mlflow.StatusRunning, run.Info.Status)
}

func TestIntegrationExperimentCreateRace(t *testing.T) {
	e := newRealEnv(t)
	name := unique("race")
	const n = 6
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ids[i], errs[i] = e.client.GetOrCreateExperiment(context.Background(), name)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		require.NoError(t, errs[i])
		assert.Equal(t, ids[0], ids[i])
	}
	exp, err := e.direct.GetExperimentByName(context.Background(), name)
	require.NoError(t, err)
	assert.Equal(t, ids[0], exp.ExperimentID)
}

func TestIntegrationStartRunLostAnswer(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	expName := unique("lost-create")
	spec := mlerr.RunSpec{Experiment: expName, Name: "once", StartTime: time.Now()}
	e.proxy.Add(fault.Rule{Path: "runs/create", Times: 1, Fault: fault.DropResponse})
	_, err := e.backend.StartRun(ctx, spec)
	require.Error(t, err)
	info, err := e.backend.StartRun(ctx, spec)
	require.NoError(t, err)
	runs, err := e.direct.SearchRuns(ctx, []string{info.ExperimentID}, "", 10)
	require.NoError(t, err)
	require.Len(t, runs, 1, "the lost create was found again, not repeated")
	assert.Equal(t, info.RunID, runs[0].Info.RunID)
}

func TestIntegrationFork(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	parent, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: unique("fork"), StartTime: time.Now()})
	require.NoError(t, err)
	child, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: unique("fork-children"), ForkParent: parent.RunID, ForkStep: 9})
	require.NoError(t, err)
	assert.False(t, child.ForkParentMissing)
	run, err := e.direct.GetRun(ctx, child.RunID)
	require.NoError(t, err)
	v, _ := run.Data.Tag(mlflow.TagParentRunID)
	assert.Equal(t, parent.RunID, v)
	orphan, err := e.backend.StartRun(ctx, mlerr.RunSpec{ForkParent: "0123456789abcdef0123456789abcdef"})
	require.NoError(t, err)
	assert.True(t, orphan.ForkParentMissing)
}

// TestIntegrationRun logs through mlerr.Run and reads everything back.
func TestIntegrationRun(t *testing.T) {
	// One batch in flight, and 4: the tag "progress" written in several
	// batches still ends with its last value.
	for _, k := range []int{1, 4} {
		t.Run(fmt.Sprintf("InFlight=%d", k), func(t *testing.T) { integrationRun(t, k) })
	}
}

func integrationRun(t *testing.T, inFlight int) {
	e := newRealEnv(t)
	ctx := context.Background()
	rec := &recorder{}
	run, err := mlerr.NewRun(ctx, e.backend, mlerr.WithExperiment(unique("run")), mlerr.WithRunName("through-run"),
		mlerr.WithTags(map[string]string{"owner": "ci"}), mlerr.WithCallbacks(rec.callbacks()),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 700, BatchBytes: 1 << 20, BatchInterval: 50 * time.Millisecond, InFlight: inFlight}))
	require.NoError(t, err)
	const steps = 1500
	var want []mlerr.Item
	for step := int64(0); step < steps; step++ {
		ts := t0.Add(time.Duration(step) * time.Millisecond)
		m := map[string]float64{"train/loss": 1 / float64(step+1), "train/acc": float64(step) / steps}
		if step%250 == 17 {
			m["train/loss"] = math.NaN()
		}
		require.NoError(t, run.LogMetricsAt(step, ts, m))
		for k, v := range m {
			want = append(want, mlerr.Item{Kind: mlerr.ItemMetric, Key: k, Value: v, Step: step, Time: ts})
		}
		if step%500 == 0 {
			require.NoError(t, run.LogParams(map[string]string{fmt.Sprintf("phase%d", step/500): "on"}))
			require.NoError(t, run.SetTags(map[string]string{"progress": fmt.Sprint(step)}))
		}
	}
	require.NoError(t, run.LogParams(map[string]string{"lr": "3e-4", "optimizer": "adamw"}))
	report, err := run.Close(ctx)
	require.NoError(t, err)
	assert.Equal(t, mlerr.RunFinished, report.Status)
	assert.Zero(t, report.Dropped.Total())
	assert.Empty(t, rec.get("err"))
	assert.Empty(t, rec.get("net"))

	requireHistory(t, e.direct, report.RunID, "train/loss", want)
	requireHistory(t, e.direct, report.RunID, "train/acc", want)
	got, err := e.direct.GetRun(ctx, report.RunID)
	require.NoError(t, err)
	assert.Equal(t, mlflow.StatusFinished, got.Info.Status)
	assert.Equal(t, "through-run", got.Info.RunName)
	params := map[string]string{}
	for _, p := range got.Data.Params {
		_, dup := params[p.Key]
		assert.False(t, dup, "param %s listed twice", p.Key)
		params[p.Key] = p.Value
	}
	assert.Equal(t, map[string]string{"phase0": "on", "phase1": "on", "phase2": "on", "lr": "3e-4", "optimizer": "adamw"}, params)
	tags := map[string]string{}
	for _, tg := range got.Data.Tags {
		_, dup := tags[tg.Key]
		assert.False(t, dup, "tag %s listed twice", tg.Key)
		tags[tg.Key] = tg.Value
	}
	assert.Equal(t, "1000", tags["progress"])
	assert.Equal(t, "ci", tags["owner"])
}

// TestIntegrationRunFaults runs the fault table's real-server rows through a
// fault proxy in front of the real server.
func TestIntegrationRunFaults(t *testing.T) {
	realURI(t)
	for _, tc := range faultTable() {
		if !tc.real {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			e := newRealEnv(t)
			e.real = true
			runFaultCase(t, e, tc)
		})
	}
}
