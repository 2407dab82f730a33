package mlflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// comparePoint is one metric point both clients log.
type comparePoint struct {
	key   string
	value float64
	at    time.Time
	step  int64
}

// compareRun is the run both clients log: NaN and ±Inf, a step lower than
// the latest, the latest value again at a new time, params and tags, and a
// run that ends FAILED.
func compareRun() (points []comparePoint, params, tags map[string]string) {
	at := time.UnixMilli(1_700_000_000_000)
	sec := func(n int) time.Time { return at.Add(time.Duration(n) * time.Second) }
	points = []comparePoint{
		{"loss", math.NaN(), sec(0), 0},
		{"loss", math.Inf(1), sec(1), 1},
		{"loss", 0.5, sec(2), 5},
		{"loss", 0.7, sec(3), 3}, // a lower step: resuming from a checkpoint
		{"loss", 0.7, sec(4), 3}, // the same point at a new time
		{"acc", math.Inf(-1), sec(5), 0},
		{"acc", 0.25, sec(6), 1},
	}
	return points, map[string]string{"lr": "0.001", "layers": "4"}, map[string]string{"team": "vision"}
}

// tagsNotCompared are the tags whose difference docs/readme/tracking.md
// documents: the program (a Go binary, a Python script), the origin's URL
// (MLflow's client reads it from git; the Backend does not), the Backend's
// runs/create idempotency key and Fail's message (Python's client records
// no error).
var tagsNotCompared = []string{mlflow.TagSourceName, "mlflow.source.git.repoURL", mlflow.TagIdempotencyKey, "mlerr.error"}

// TestIntegrationGoMatchesPython logs the same run with mlerr.Run and the
// mlflow Backend, default options, and with MLflow's Python client, to the
// real server, and compares what the server stores field by field.
func TestIntegrationGoMatchesPython(t *testing.T) {
	uri := realURI(t)
	python := testserver.MLflowPython(t)
	exp := unique("go-vs-python")
	points, params, tags := compareRun()

	goID := logFromGo(t, uri, exp, points, params, tags)
	pyID := logFromPython(t, python, uri, exp, points, params, tags)

	c, err := mlflow.NewClient(uri, mlflow.WithHTTPClient(closingClient(t)))
	require.NoError(t, err)
	ctx := context.Background()
	goRun, err := c.GetRun(ctx, goID)
	require.NoError(t, err)
	pyRun, err := c.GetRun(ctx, pyID)
	require.NoError(t, err)

	assert.Equal(t, mlflow.StatusFailed, goRun.Info.Status)
	assert.Equal(t, pyRun.Info.Status, goRun.Info.Status)
	assert.Equal(t, pyRun.Info.UserID, goRun.Info.UserID)
	assert.NotEmpty(t, goRun.Info.UserID)
	assert.Equal(t, pyRun.Info.RunName, goRun.Info.RunName)
	assert.Equal(t, pyRun.Info.ExperimentID, goRun.Info.ExperimentID)
	assert.ElementsMatch(t, pyRun.Data.Params, goRun.Data.Params)
	assert.Equal(t, comparableTags(pyRun.Data.Tags), comparableTags(goRun.Data.Tags))
	for _, key := range []string{"loss", "acc"} {
		goH, err := c.GetMetricHistory(ctx, goID, key)
		require.NoError(t, err)
		pyH, err := c.GetMetricHistory(ctx, pyID, key)
		require.NoError(t, err)
		assert.Equal(t, history(pyH), history(goH), key)
	}
	// What the differences are, as documented.
	msg, _ := goRun.Data.Tag("mlerr.error")
	assert.Equal(t, "training diverged", msg)
	goSrc, _ := goRun.Data.Tag(mlflow.TagSourceName)
	pySrc, _ := pyRun.Data.Tag(mlflow.TagSourceName)
	assert.True(t, strings.HasSuffix(pySrc, "compare_run.py"), pySrc)
	assert.NotEmpty(t, goSrc)
}

// logFromGo logs the run with an mlerr.Run on the Backend, ending it with
// Fail then Close, and returns its id.
func logFromGo(t *testing.T, uri, exp string, points []comparePoint, params, tags map[string]string) string {
	t.Helper()
	b, err := mlflow.NewBackend(uri, mlflow.WithHTTPClient(closingClient(t)))
	require.NoError(t, err)
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, b, mlerr.WithRunName("compare"), mlerr.WithExperiment(exp), mlerr.WithTags(tags))
	require.NoError(t, err)
	items := make([]mlerr.Item, 0, len(points))
	for _, p := range points {
		items = append(items, mlerr.Item{Kind: mlerr.ItemMetric, Key: p.key, Value: p.value, Time: p.at, Step: p.step})
	}
	require.NoError(t, run.LogItems(ctx, items))
	require.NoError(t, run.LogParams(params))
	training := errors.New("training diverged")
	run.Fail(training)
	_, err = run.Close(ctx)
	require.ErrorIs(t, err, training)
	return run.ID()
}

// logFromPython runs testdata/compare_run.py with the venv's python.
func logFromPython(t *testing.T, python, uri, exp string, points []comparePoint, params, tags map[string]string) string {
	t.Helper()
	metrics := make([][]any, 0, len(points))
	for _, p := range points {
		metrics = append(metrics, []any{p.key, pyFloat(p.value), p.at.UnixMilli(), p.step})
	}
	spec, err := json.Marshal(map[string]any{
		"uri": uri, "experiment": exp, "name": "compare", "metrics": metrics,
		"params": params, "tags": tags, "status": mlflow.StatusFailed, "end_time": time.Now().UnixMilli(),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "testdata/compare_run.py")
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python: %s", stderr.String())
	lines := strings.Fields(string(out))
	require.NotEmpty(t, lines, "python printed no run id: %s", stderr.String())
	return lines[len(lines)-1]
}

// pyFloat writes a float as Python's float() reads it.
func pyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// comparableTags returns the tags but those whose difference is
// documented, as "key=value" sorted.
func comparableTags(tags []mlflow.RunTag) []string {
	var out []string
	for _, tg := range tags {
		if !slices.Contains(tagsNotCompared, tg.Key) {
			out = append(out, tg.Key+"="+tg.Value)
		}
	}
	slices.Sort(out)
	return out
}

// history returns the points as "step@timestamp=value", sorted (NaN
// compares as text).
func history(ms []mlflow.Metric) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%d@%d=%v", m.Step, m.Timestamp, m.Value))
	}
	slices.Sort(out)
	return out
}

// closingClient is an HTTP client whose idle connections are closed when
// the test ends (goleak).
func closingClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
