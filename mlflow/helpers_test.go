package mlflow_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/require"
)

// env is a backend under test, talking to a server through a fault proxy.
type env struct {
	fake    *fakemlflow.Server // nil against the real server
	proxy   *fault.Proxy
	backend *mlflow.Backend
	client  *mlflow.Client // through the proxy
	direct  *mlflow.Client // straight to the server, for reading back
	real    bool           // the server is a real MLflow server
}

// newFakeEnv starts a fake server behind a fault proxy.
func newFakeEnv(t *testing.T, opts ...mlflow.Option) *env {
	t.Helper()
	fake := fakemlflow.New()
	p, err := fault.New(fake)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	direct := httptest.NewServer(fake)
	t.Cleanup(direct.Close)
	e := newEnv(t, p, direct.URL, opts...)
	e.fake = fake
	return e
}

// newEnv builds the clients of an env whose proxy fronts the server at
// serverURL (the proxy's own URL when the server is in memory).
func newEnv(t *testing.T, p *fault.Proxy, serverURL string, opts ...mlflow.Option) *env {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	opts = append([]mlflow.Option{mlflow.WithHTTPClient(&http.Client{Transport: tr})}, opts...)
	b, err := mlflow.NewBackend(p.URL(), opts...)
	require.NoError(t, err)
	dtr := &http.Transport{}
	t.Cleanup(dtr.CloseIdleConnections)
	direct, err := mlflow.NewClient(serverURL, mlflow.WithHTTPClient(&http.Client{Transport: dtr}))
	require.NoError(t, err)
	return &env{proxy: p, backend: b, client: b.Client(), direct: direct}
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// points makes n metric items for key, steps 0..n-1, one millisecond apart.
func points(key string, n int, value func(i int) float64) []mlerr.Item {
	out := make([]mlerr.Item, n)
	for i := range out {
		out[i] = mlerr.Item{Kind: mlerr.ItemMetric, Key: key, Value: value(i), Step: int64(i), Time: t0.Add(time.Duration(i) * time.Millisecond)}
	}
	return out
}

func param(k, v string) mlerr.Item { return mlerr.Item{Kind: mlerr.ItemParam, Key: k, Text: v} }
func tag(k, v string) mlerr.Item   { return mlerr.Item{Kind: mlerr.ItemTag, Key: k, Text: v} }

// sameValue compares metric values, NaN equal to NaN.
func sameValue(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// requireHistory checks that the server holds exactly the metric items of
// want for key (each once), comparing value, step and millisecond timestamp.
func requireHistory(t *testing.T, c *mlflow.Client, runID, key string, want []mlerr.Item) {
	t.Helper()
	got, err := c.GetMetricHistory(context.Background(), runID, key)
	require.NoError(t, err)
	var exp []mlerr.Item
	for _, it := range want {
		if it.Kind == mlerr.ItemMetric && it.Key == key {
			exp = append(exp, it)
		}
	}
	require.Len(t, got, len(exp), "points of %s", key)
	type pt struct {
		step, ts int64
	}
	seen := map[pt]int{}
	for _, m := range got {
		require.Equal(t, key, m.Key)
		seen[pt{m.Step, m.Timestamp}]++
	}
	for _, it := range exp {
		k := pt{it.Step, it.Time.UnixMilli()}
		require.Equal(t, 1, seen[k], "point %s step %d ts %d held %d times", key, it.Step, k.ts, seen[k])
		i := slices.IndexFunc(got, func(m mlflow.Metric) bool { return m.Step == it.Step && m.Timestamp == k.ts })
		require.True(t, sameValue(it.Value, got[i].Value) || (math.IsInf(it.Value, 0) && math.Abs(got[i].Value) == math.MaxFloat64),
			"%s step %d: sent %v, stored %v", key, it.Step, it.Value, got[i].Value)
	}
}

// startRun starts a run in a fresh experiment named after the test.
func startRun(t *testing.T, b *mlflow.Backend) mlerr.RunInfo {
	t.Helper()
	info, err := b.StartRun(context.Background(), mlerr.RunSpec{Experiment: "exp-" + t.Name(), Name: "r", StartTime: time.Now()})
	require.NoError(t, err)
	require.NotEmpty(t, info.RunID)
	return info
}
