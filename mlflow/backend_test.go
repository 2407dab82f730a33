package mlflow_test

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const logBatchPath = "/api/2.0/mlflow/runs/log-batch"

func TestStartRunCreatesExperimentAndRun(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	start := time.UnixMilli(1700000000123)
	info, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: "exp", Name: "first", StartTime: start, Tags: map[string]string{"team": "a"}})
	require.NoError(t, err)
	assert.False(t, info.Resumed)
	assert.NotEqual(t, "0", info.ExperimentID)
	assert.Contains(t, info.URL, "/#/experiments/"+info.ExperimentID+"/runs/"+info.RunID)
	run, err := e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	assert.Equal(t, "first", run.Info.RunName)
	assert.Equal(t, int64(1700000000123), run.Info.StartTime)
	assert.Equal(t, mlflow.StatusRunning, run.Info.Status)
	v, _ := run.Data.Tag("team")
	assert.Equal(t, "a", v)
	_, ok := run.Data.Tag(mlflow.TagIdempotencyKey)
	assert.True(t, ok)

	// The experiment id is cached: a second run makes no experiment request.
	before := e.proxy.Stats().ByPath["/api/2.0/mlflow/experiments/get-by-name"]
	info2, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: "exp", StartTime: start.Add(time.Second)})
	require.NoError(t, err)
	assert.Equal(t, info.ExperimentID, info2.ExperimentID)
	assert.NotEqual(t, info.RunID, info2.RunID)
	assert.Equal(t, before, e.proxy.Stats().ByPath["/api/2.0/mlflow/experiments/get-by-name"])
}

func TestStartRunDefaultExperiments(t *testing.T) {
	e := newFakeEnv(t)
	info, err := e.backend.StartRun(context.Background(), mlerr.RunSpec{})
	require.NoError(t, err)
	assert.Equal(t, "0", info.ExperimentID)

	b, err := mlflow.NewBackend(e.proxy.URL(), mlflow.WithExperiment("team-default"))
	require.NoError(t, err)
	info, err = b.StartRun(context.Background(), mlerr.RunSpec{})
	require.NoError(t, err)
	exp, err := e.direct.GetExperimentByName(context.Background(), "team-default")
	require.NoError(t, err)
	assert.Equal(t, exp.ExperimentID, info.ExperimentID)
}

func TestStartRunRejectsBadSpecs(t *testing.T) {
	e := newFakeEnv(t)
	for _, spec := range []mlerr.RunSpec{
		{Tags: map[string]string{"bad//key": "v"}},
		{Tags: map[string]string{"k": strings.Repeat("v", mlflow.MaxTagValueLength+1)}},
		{Experiment: strings.Repeat("e", mlflow.MaxExperimentNameLength+1)},
	} {
		_, err := e.backend.StartRun(context.Background(), spec)
		assert.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
		assert.False(t, mlerr.Classify(err).Retry)
	}
	assert.Zero(t, e.fake.RunCount())
	assert.Zero(t, e.proxy.Stats().ByPath["/api/2.0/mlflow/runs/create"])
}

func TestResume(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	info := startRun(t, e.backend)
	require.NoError(t, e.backend.EndRun(ctx, info.RunID, mlerr.RunFailed, time.UnixMilli(5000)))

	again, err := e.backend.StartRun(ctx, mlerr.RunSpec{RunID: info.RunID, Tags: map[string]string{"resumed": "yes"}})
	require.NoError(t, err)
	assert.True(t, again.Resumed)
	assert.Equal(t, info.RunID, again.RunID)
	assert.Equal(t, info.ExperimentID, again.ExperimentID)
	run, err := e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	assert.Equal(t, mlflow.StatusRunning, run.Info.Status)
	v, _ := run.Data.Tag("resumed")
	assert.Equal(t, "yes", v)

	_, err = e.backend.StartRun(ctx, mlerr.RunSpec{RunID: "0123456789abcdef"})
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)
	assert.ErrorIs(t, err, mlerr.ErrRest, "the server's error is the cause")
	assert.False(t, mlerr.Classify(err).Retry)

	require.NoError(t, e.direct.DeleteRun(ctx, info.RunID))
	_, err = e.backend.StartRun(ctx, mlerr.RunSpec{RunID: info.RunID})
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
}

func TestFork(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	parent := startRun(t, e.backend)
	child, err := e.backend.StartRun(ctx, mlerr.RunSpec{ForkParent: parent.RunID, ForkStep: 41, StartTime: time.Now()})
	require.NoError(t, err)
	assert.False(t, child.ForkParentMissing)
	run, err := e.direct.GetRun(ctx, child.RunID)
	require.NoError(t, err)
	v, _ := run.Data.Tag(mlflow.TagParentRunID)
	assert.Equal(t, parent.RunID, v)
	v, _ = run.Data.Tag(mlflow.TagForkStep)
	assert.Equal(t, "41", v)

	orphan, err := e.backend.StartRun(ctx, mlerr.RunSpec{ForkParent: "ffffffffffffffff", ForkStep: 3})
	require.NoError(t, err)
	assert.True(t, orphan.ForkParentMissing)
	run, err = e.direct.GetRun(ctx, orphan.RunID)
	require.NoError(t, err)
	_, ok := run.Data.Tag(mlflow.TagParentRunID)
	assert.False(t, ok)

	e.proxy.Add(fault.Rule{Path: "runs/get", Times: 1, Fault: fault.Status(503)})
	_, err = e.backend.StartRun(ctx, mlerr.RunSpec{ForkParent: parent.RunID})
	assert.True(t, mlerr.Classify(err).Retry, "an unreachable parent is an outage, not a missing parent: %v", err)
}

func TestStartRunLostAnswerCreatesOneRun(t *testing.T) {
	for _, f := range []fault.Fault{fault.DropResponse, fault.Status(503), fault.ResetConn} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			e := newFakeEnv(t)
			ctx := context.Background()
			spec := mlerr.RunSpec{Experiment: "x", Name: "once", StartTime: time.UnixMilli(1234)}
			e.proxy.Add(fault.Rule{Path: "runs/create", Times: 1, Fault: f})
			_, err := e.backend.StartRun(ctx, spec)
			require.Error(t, err)
			assert.True(t, mlerr.Classify(err).Retry, "%v", err)
			info, err := e.backend.StartRun(ctx, spec)
			require.NoError(t, err)
			assert.Equal(t, 1, e.fake.RunCount(), "one run, whether or not the first create was applied")
			run, err := e.direct.GetRun(ctx, info.RunID)
			require.NoError(t, err)
			assert.Equal(t, "once", run.Info.RunName)
		})
	}
}

func TestEndRun(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	for _, st := range []mlerr.RunStatus{mlerr.RunFinished, mlerr.RunFailed, mlerr.RunKilled} {
		info := startRun(t, e.backend)
		end := time.UnixMilli(1700000009999)
		require.NoError(t, e.backend.EndRun(ctx, info.RunID, st, end))
		require.NoError(t, e.backend.EndRun(ctx, info.RunID, st, end), "ending twice is harmless")
		run, err := e.direct.GetRun(ctx, info.RunID)
		require.NoError(t, err)
		assert.Equal(t, st.String(), run.Info.Status)
		assert.Equal(t, end.UnixMilli(), run.Info.EndTime)
	}
	err := e.backend.EndRun(ctx, "0123456789abcdef", mlerr.RunFinished, time.Now())
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	err = e.backend.EndRun(ctx, "0123456789abcdef", mlerr.RunStatus(0), time.Now())
	assert.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
}

func TestWriteBatchSplitsToLimits(t *testing.T) {
	e := newFakeEnv(t)
	info := startRun(t, e.backend)
	var items []mlerr.Item
	items = append(items, points("loss", 2500, func(i int) float64 { return float64(i) })...)
	for i := 0; i < 250; i++ {
		items = append(items, param("p"+pad(i), "v"+pad(i)))
	}
	for i := 0; i < 150; i++ {
		items = append(items, tag("t"+pad(i), "w"))
	}
	require.NoError(t, e.backend.WriteBatch(context.Background(), mlerr.Batch{RunID: info.RunID, Seq: 1, Items: items}))
	// 2900 items, 250 params: 3 requests at least, and 3 it is
	// (100p+100t+800m, 100p+50t+850m, 50p+850m).
	assert.Equal(t, 3, e.proxy.Stats().ByPath[logBatchPath])
	requireHistory(t, e.direct, info.RunID, "loss", items)
	run, err := e.direct.GetRun(context.Background(), info.RunID)
	require.NoError(t, err)
	assert.Len(t, run.Data.Params, 250)
	own := 0
	for _, tg := range run.Data.Tags {
		if strings.HasPrefix(tg.Key, "t") {
			own++
		}
	}
	assert.Equal(t, 150, own, "the batch's tags, besides the system tags")
}

func pad(i int) string { return strings.Repeat("0", 3-len(itoa(i))) + itoa(i) }
func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

func TestWriteBatchRejectsBeforeSending(t *testing.T) {
	e := newFakeEnv(t)
	info := startRun(t, e.backend)
	items := []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "ok", Value: 1, Step: 1, Time: t0},
		{Kind: mlerr.ItemMetric, Key: strings.Repeat("k", 251), Value: 1, Time: t0}, // 1: too long
		{Kind: mlerr.ItemMetric, Key: "bad$char", Value: 1, Time: t0},               // 2
		{Kind: mlerr.ItemMetric, Key: "a//b", Value: 1, Time: t0},                   // 3
		{Kind: mlerr.ItemMetric, Key: "/abs", Value: 1, Time: t0},                   // 4
		{Kind: mlerr.ItemMetric, Key: "", Value: 1, Time: t0},                       // 5
		param("lr", "0.1"),                      // 6
		param("lr", "0.1"),                      // 7: same value, a no-op
		param("lr", "0.2"),                      // 8: changed in the batch
		param("big", strings.Repeat("x", 6001)), // 9
		tag("note", "first"),                    // 10: overwritten by 12
		tag("long", strings.Repeat("y", 8001)),  // 11
		tag("note", "second"),                   // 12
		{Kind: mlerr.ItemMetric, Key: "ünïcode/ok: x-y_z.1", Value: math.NaN(), Step: 2, Time: t0}, // 13
		{Kind: mlerr.ItemKind(9), Key: "what"},                                                     // 14
		param("bytes", "\xff"),                                                                     // 15
		{Kind: mlerr.ItemMetric, Key: "old", Value: 1, Time: time.Unix(-10, 0)},                    // 16: before 1970
	}
	err := e.backend.WriteBatch(context.Background(), mlerr.Batch{RunID: info.RunID, Seq: 1, Items: items})
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	assert.Equal(t, len(items), be.Total)
	var idx []int
	for _, f := range be.Failures {
		idx = append(idx, f.Index)
		assert.Equal(t, items[f.Index], f.Item)
		assert.Equal(t, mlerr.CodeInvalidParameterValue, f.Code)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 8, 9, 11, 14, 15, 16}, idx)
	assert.ErrorIs(t, be.Failures[0].Cause, mlerr.ErrInvalidName)
	assert.ErrorIs(t, be.Failures[5].Cause, mlerr.ErrParamChanged)
	assert.ErrorIs(t, be.Failures[6].Cause, mlerr.ErrValueTooLarge)
	assert.Len(t, be.ByReason()["invalid key"], 5)
	assert.Equal(t, 1, e.proxy.Stats().ByPath[logBatchPath], "the valid rest went in one request")

	run, err := e.direct.GetRun(context.Background(), info.RunID)
	require.NoError(t, err)
	v, _ := run.Data.Param("lr")
	assert.Equal(t, "0.1", v)
	v, _ = run.Data.Tag("note")
	assert.Equal(t, "second", v)
	requireHistory(t, e.direct, info.RunID, "ok", items)
	requireHistory(t, e.direct, info.RunID, "ünïcode/ok: x-y_z.1", items)
}

func TestWriteBatchParamChangedOnServer(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	info := startRun(t, e.backend)
	require.NoError(t, e.backend.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 1, Items: []mlerr.Item{param("lr", "0.1"), param("bs", "32")}}))

	items := append(points("acc", 5, func(i int) float64 { return float64(i) }),
		param("lr", "0.5"), // changed: rejected
		param("bs", "32"),  // same: no-op
		param("new", "x"),  // new: stored
		tag("t", "v"))
	err := e.backend.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 2, Items: items})
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failures, 1)
	f := be.Failures[0]
	assert.Equal(t, 5, f.Index)
	assert.Equal(t, "param value changed", f.Reason)
	assert.Equal(t, mlerr.CodeInvalidParameterValue, f.Code)
	assert.ErrorIs(t, f.Cause, mlerr.ErrParamChanged)
	assert.ErrorIs(t, f.Cause, mlerr.ErrRest, "the server's answer is kept as the cause")
	assert.Equal(t, 400, mlerr.HTTPStatusOf(f.Cause))
	assert.False(t, f.Retryable())

	requireHistory(t, e.direct, info.RunID, "acc", items)
	run, err := e.direct.GetRun(ctx, info.RunID)
	require.NoError(t, err)
	for k, want := range map[string]string{"lr": "0.1", "bs": "32", "new": "x"} {
		v, _ := run.Data.Param(k)
		assert.Equal(t, want, v, k)
	}
	v, _ := run.Data.Tag("t")
	assert.Equal(t, "v", v)
	// 1 refused + metrics/tags alone + one per param.
	assert.Equal(t, 1+1+1+3, e.proxy.Stats().ByPath[logBatchPath])

	// Writing the batch again gives the same answer, and nothing twice.
	err = e.backend.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 2, Items: items})
	require.ErrorAs(t, err, &be)
	assert.Len(t, be.Failures, 1)
	requireHistory(t, e.direct, info.RunID, "acc", items)
}

func TestWriteBatchIdempotentAcrossRetries(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	info := startRun(t, e.backend)
	items := append(points("loss", 1500, func(i int) float64 {
		if i%100 == 7 {
			return math.NaN()
		}
		return 1 / float64(i+1)
	}), param("p", "1"), tag("t", "x"))
	b := mlerr.Batch{RunID: info.RunID, Seq: 1, Items: items}
	// The second request's answer is lost after the server applied it.
	e.proxy.Add(fault.Rule{Path: "runs/log-batch", Skip: 1, Times: 1, Fault: fault.DropResponse})
	err := e.backend.WriteBatch(ctx, b)
	require.Error(t, err)
	assert.True(t, mlerr.Classify(err).Retry, "%v", err)
	require.NoError(t, e.backend.WriteBatch(ctx, b))
	require.NoError(t, e.backend.WriteBatch(ctx, b))
	requireHistory(t, e.direct, info.RunID, "loss", items)
}

func TestWriteBatchRunGone(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	err := e.backend.WriteBatch(ctx, mlerr.Batch{RunID: "0123456789abcdef", Seq: 1, Items: points("x", 1, func(int) float64 { return 1 })})
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)
	assert.Equal(t, 404, mlerr.HTTPStatusOf(err))

	info := startRun(t, e.backend)
	require.NoError(t, e.direct.DeleteRun(ctx, info.RunID))
	for _, items := range [][]mlerr.Item{
		points("x", 3, func(int) float64 { return 1 }),
		{param("a", "1"), param("b", "2")},
	} {
		n := e.proxy.Stats().ByPath[logBatchPath]
		err = e.backend.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 2, Items: items})
		assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
		assert.ErrorIs(t, err, mlerr.CodeInvalidParameterValue, "MLflow's own code is kept")
		var be *mlerr.BatchError[mlerr.Item]
		assert.False(t, errors.As(err, &be), "a deleted run is no per-item rejection")
		assert.Equal(t, 1, e.proxy.Stats().ByPath[logBatchPath]-n, "no param-by-param probing of a deleted run")
	}

	err = e.backend.WriteBatch(ctx, mlerr.Batch{Seq: 1, Items: points("x", 1, func(int) float64 { return 1 })})
	assert.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
	assert.NoError(t, e.backend.WriteBatch(ctx, mlerr.Batch{RunID: "r", Seq: 1}))
}

func TestZeroTimeIsSentAsZero(t *testing.T) {
	e := newFakeEnv(t)
	info := startRun(t, e.backend)
	require.NoError(t, e.backend.WriteBatch(context.Background(), mlerr.Batch{RunID: info.RunID, Seq: 1,
		Items: []mlerr.Item{{Kind: mlerr.ItemMetric, Key: "z", Value: 2, Step: 3}}}))
	h, err := e.direct.GetMetricHistory(context.Background(), info.RunID, "z")
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, int64(0), h[0].Timestamp)
}

func TestValidateItemKeys(t *testing.T) {
	metric := func(k string) mlerr.Item { return mlerr.Item{Kind: mlerr.ItemMetric, Key: k} }
	for _, k := range []string{"a", "a/b", "a.b", "a-b_c d:e", "x1/..y", "日本語", strings.Repeat("k", 250)} {
		assert.NoError(t, mlflow.ValidateItem(metric(k)), k)
	}
	for _, k := range []string{"", ".", "..", "../a", "/a", "a/", "a//b", "a/./b", "a/../b", "a\\b", "a\nb", "a$", strings.Repeat("k", 251), "\xff"} {
		err := mlflow.ValidateItem(metric(k))
		assert.ErrorIs(t, err, mlerr.ErrInvalidName, "%q", k)
		assert.ErrorIs(t, err, mlerr.ErrInvalidValue, "%q", k)
	}
}

// The in-memory server answers the usual mistakes as the real one does
// (testdata/mlflow/real_errors.md).
func TestErrorBodiesFake(t *testing.T) {
	e := newFakeEnv(t)
	checkErrorBodies(t, e, e.proxy.URL())
}

// TestStartRunSystemTags: a new run gets the tags MLflow's fluent client
// sets, and the user as user_id; WithUser, the caller's own tags and
// WithoutSystemTags change them.
func TestStartRunSystemTags(t *testing.T) {
	t.Setenv("LOGNAME", "")
	t.Setenv("USER", "os-user")
	commit := ""
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	tests := []struct {
		name     string
		opts     []mlflow.Option
		tags     map[string]string
		wantUser string // "" means no system tags at all
	}{
		{"default: the OS user", nil, nil, "os-user"},
		{"WithUser", []mlflow.Option{mlflow.WithUser("alice")}, nil, "alice"},
		{"the caller's tag wins", []mlflow.Option{mlflow.WithUser("alice")}, map[string]string{mlflow.TagUser: "bob"}, "bob"},
		{"WithoutSystemTags", []mlflow.Option{mlflow.WithoutSystemTags()}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFakeEnv(t, tt.opts...)
			info, err := e.backend.StartRun(context.Background(), mlerr.RunSpec{Tags: tt.tags})
			require.NoError(t, err)
			run, err := e.direct.GetRun(context.Background(), info.RunID)
			require.NoError(t, err)
			assert.Equal(t, tt.wantUser, run.Info.UserID)
			user, _ := run.Data.Tag(mlflow.TagUser)
			assert.Equal(t, tt.wantUser, user)
			typ, _ := run.Data.Tag(mlflow.TagSourceType)
			name, _ := run.Data.Tag(mlflow.TagSourceName)
			got, _ := run.Data.Tag(mlflow.TagGitCommit)
			if tt.wantUser == "" {
				assert.Len(t, run.Data.Tags, 1, "only mlflow.runName: %v", run.Data.Tags)
				return
			}
			assert.Equal(t, "LOCAL", typ)
			assert.Equal(t, os.Args[0], name)
			assert.Equal(t, commit, got, "the commit of the checkout the test runs in")
		})
	}
}
