package mlflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricJSON(t *testing.T) {
	tests := []struct {
		m    mlflow.Metric
		want string
	}{
		{mlflow.Metric{Key: "a", Value: 1.5, Timestamp: 1700000000123, Step: 9007199254740993}, `{"key":"a","value":1.5,"timestamp":1700000000123,"step":9007199254740993}`},
		{mlflow.Metric{Key: "n", Value: math.NaN()}, `{"key":"n","value":"NaN","timestamp":0,"step":0}`},
		{mlflow.Metric{Key: "p", Value: math.Inf(1)}, `{"key":"p","value":"Infinity","timestamp":0,"step":0}`},
		{mlflow.Metric{Key: "m", Value: math.Inf(-1), Step: -1}, `{"key":"m","value":"-Infinity","timestamp":0,"step":-1}`},
		{mlflow.Metric{Key: "e", Value: 1e-300}, `{"key":"e","value":1e-300,"timestamp":0,"step":0}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.m)
		require.NoError(t, err)
		assert.JSONEq(t, tt.want, string(b))
		var back mlflow.Metric
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, tt.m.Key, back.Key)
		assert.True(t, sameValue(tt.m.Value, back.Value), "%v != %v", tt.m.Value, back.Value)
		assert.Equal(t, tt.m.Timestamp, back.Timestamp)
		assert.Equal(t, tt.m.Step, back.Step)
	}
}

func TestMetricDecodesProtobufJSONVariants(t *testing.T) {
	tests := []struct {
		in   string
		want mlflow.Metric
	}{
		{`{"key":"a","value":"2.5","timestamp":"1700000000123","step":"7"}`, mlflow.Metric{Key: "a", Value: 2.5, Timestamp: 1700000000123, Step: 7}},
		{`{"key":"a","value":3,"timestamp":1.7e12,"step":null}`, mlflow.Metric{Key: "a", Value: 3, Timestamp: 1700000000000}},
		{`{"key":"a","value":"-Infinity"}`, mlflow.Metric{Key: "a", Value: math.Inf(-1)}},
	}
	for _, tt := range tests {
		var m mlflow.Metric
		require.NoError(t, json.Unmarshal([]byte(tt.in), &m), tt.in)
		assert.Equal(t, tt.want, m)
	}
	for _, bad := range []string{`{"value":"x"}`, `{"step":1.5}`, `{"timestamp":"x"}`, `{"value":true}`} {
		var m mlflow.Metric
		assert.Error(t, json.Unmarshal([]byte(bad), &m), bad)
	}
}

func TestRunInfoAcceptsStringInt64(t *testing.T) {
	var r mlflow.Run
	require.NoError(t, json.Unmarshal([]byte(`{"info":{"run_id":"x","start_time":"12","end_time":34,"status":"FINISHED"},
		"data":{"params":[{"key":"lr","value":"0.1"}],"tags":[{"key":"t","value":"v"}]}}`), &r))
	assert.Equal(t, int64(12), r.Info.StartTime)
	assert.Equal(t, int64(34), r.Info.EndTime)
	v, ok := r.Data.Param("lr")
	assert.True(t, ok)
	assert.Equal(t, "0.1", v)
	v, ok = r.Data.Tag("t")
	assert.True(t, ok)
	assert.Equal(t, "v", v)
	_, ok = r.Data.Tag("missing")
	assert.False(t, ok)
	var e mlflow.Experiment
	require.NoError(t, json.Unmarshal([]byte(`{"experiment_id":"3","name":"n","creation_time":"99"}`), &e))
	assert.Equal(t, int64(99), e.CreationTime)
}

func TestNewClientRejectsBadURIs(t *testing.T) {
	for _, uri := range []string{"", "   ", "127.0.0.1:5000", "file:///tmp/mlruns", "sqlite:///mlflow.db", "databricks",
		"http://", "http://:5000", "http://host/?x=1", "http://host/#frag", "http://[::1", "ftp://host"} {
		c, err := mlflow.NewClient(uri)
		require.Error(t, err, uri)
		assert.Nil(t, c)
		assert.ErrorIs(t, err, mlerr.ErrInvalidURL, uri)
		assert.Equal(t, mlerr.CodeInvalidParameterValue, mlerr.CodeOf(err), uri)
		assert.False(t, mlerr.Classify(err).Retry, uri)
	}
	_, err := mlflow.NewBackend("file:///tmp")
	assert.ErrorIs(t, err, mlerr.ErrInvalidURL)
	_, err = mlflow.NewBackend("http://h", mlflow.WithExperiment(strings.Repeat("x", 501)))
	assert.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
}

func TestNewClientNeverPrintsThePassword(t *testing.T) {
	_, err := mlflow.NewClient("ftp://user:s3cret@host")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	c, err := mlflow.NewClient("HTTP://user:s3cret@Host:5000/prefix/")
	require.NoError(t, err)
	assert.Equal(t, "http://Host:5000/prefix", c.TrackingURI())
}

// authServer records the Authorization header and the path of each request.
func authServer(t *testing.T) (*httptest.Server, *[]string, *[]string) {
	var auths, paths []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"experiment":{"experiment_id":"1","name":"e"}}`))
	}))
	t.Cleanup(s.Close)
	return s, &auths, &paths
}

func TestPathPrefixAndHeaders(t *testing.T) {
	var got *http.Request
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = w.Write([]byte(`{}`))
	}))
	defer s.Close()
	c, err := mlflow.NewClient(s.URL+"/mlflow/", mlflow.WithHeader("X-Proxy", "1"), mlflow.WithUserAgent("sdk/2"))
	require.NoError(t, err)
	require.NoError(t, c.LogBatch(context.Background(), "r", nil, nil, nil))
	assert.Equal(t, "/mlflow/api/2.0/mlflow/runs/log-batch", got.URL.Path)
	assert.Equal(t, "1", got.Header.Get("X-Proxy"))
	assert.Equal(t, "sdk/2", got.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
}

func TestAuthErrorsFromServer(t *testing.T) {
	fake := fakemlflow.New(fakemlflow.WithToken("right"))
	s := httptest.NewServer(fake)
	defer s.Close()
	for _, tt := range []struct {
		opts   []mlflow.Option
		status int
		code   mlerr.Code
	}{
		{nil, 401, mlerr.CodeUnauthenticated},
		{[]mlflow.Option{mlflow.WithToken("wrong")}, 403, mlerr.CodePermissionDenied},
	} {
		c, err := mlflow.NewClient(s.URL, tt.opts...)
		require.NoError(t, err)
		_, err = c.GetRun(context.Background(), "x")
		require.Error(t, err)
		assert.ErrorIs(t, err, mlerr.ErrRest)
		assert.ErrorIs(t, err, mlerr.ErrUnauthorized)
		assert.ErrorIs(t, err, tt.code)
		assert.Equal(t, tt.code, mlerr.CodeOf(err))
		assert.Equal(t, tt.status, mlerr.HTTPStatusOf(err))
		assert.False(t, mlerr.Classify(err).Retry)
	}
	c, err := mlflow.NewClient(s.URL, mlflow.WithToken("right"))
	require.NoError(t, err)
	_, err = c.GetRun(context.Background(), "x")
	assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)
}

func TestClientErrorsAreDecoded(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	_, err := e.client.GetRun(ctx, "nope")
	assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)
	assert.ErrorIs(t, err, mlerr.ErrRest)
	assert.Equal(t, 404, mlerr.HTTPStatusOf(err))
	assert.Contains(t, err.Error(), "Run with id=nope not found")

	_, err = e.client.GetExperimentByName(ctx, "nope")
	assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)

	e.proxy.Add(fault.Rule{Times: 1, Fault: fault.HTML(502)})
	_, err = e.client.GetRun(ctx, "x")
	assert.ErrorIs(t, err, mlerr.ErrRest)
	assert.Equal(t, 502, mlerr.HTTPStatusOf(err))
	assert.True(t, mlerr.Classify(err).Retry)

	e.proxy.Add(fault.Rule{Times: 1, Fault: fault.RetryAfter(429, 7e9)})
	_, err = e.client.GetRun(ctx, "x")
	assert.Equal(t, int64(7e9), int64(mlerr.AsError(err).RetryAfter()))

	e.proxy.Add(fault.Rule{Times: 1, Fault: fault.Malformed()})
	_, err = e.client.GetRun(ctx, "x")
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.ErrRest)
	assert.Contains(t, err.Error(), "not the expected JSON")

	// (A GET on a reused connection would be retried by net/http itself.)
	e.proxy.Add(fault.Rule{Times: 1, Fault: fault.ResetConn})
	err = e.client.LogBatch(ctx, "x", nil, nil, nil)
	require.Error(t, err)
	assert.Nil(t, mlerr.AsError(err), "a transport failure is no server answer")
	assert.True(t, mlerr.Classify(err).Retry, "%v", err)
}

func TestGetOrCreateExperimentRace(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	// Another client creates the experiment between our get-by-name (404)
	// and our create, which then fails with RESOURCE_ALREADY_EXISTS.
	var otherID string
	e.proxy.Program(func(r *http.Request) (fault.Fault, bool) {
		if strings.HasSuffix(r.URL.Path, "experiments/create") && otherID == "" {
			id, err := e.direct.CreateExperiment(ctx, "raced", nil)
			require.NoError(t, err)
			otherID = id
		}
		return fault.Fault{}, false
	})
	id, err := e.client.GetOrCreateExperiment(ctx, "raced")
	require.NoError(t, err)
	assert.Equal(t, otherID, id)
	st := e.proxy.Stats()
	assert.Equal(t, 2, st.ByPath["/api/2.0/mlflow/experiments/get-by-name"])
	assert.Equal(t, 1, st.ByPath["/api/2.0/mlflow/experiments/create"])

	id2, err := e.client.GetOrCreateExperiment(ctx, "fresh")
	require.NoError(t, err)
	id3, err := e.client.GetOrCreateExperiment(ctx, "fresh")
	require.NoError(t, err)
	assert.Equal(t, id2, id3)
	assert.NotEqual(t, id, id2)
}

func TestGetOrCreateDeletedExperiment(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	id, err := e.client.CreateExperiment(ctx, "gone", nil)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodPost, e.proxy.URL()+"/api/2.0/mlflow/experiments/delete", strings.NewReader(`{"experiment_id":"`+id+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	_, err = e.client.GetOrCreateExperiment(ctx, "gone")
	assert.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
}

func TestClientRoundTripNaNAndPaging(t *testing.T) {
	e := newFakeEnv(t, mlflow.WithPageSize(7))
	ctx := context.Background()
	run, err := e.client.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: "0", RunName: "rt", StartTime: 1})
	require.NoError(t, err)
	var metrics []mlflow.Metric
	for i := 0; i < 30; i++ {
		v := float64(i) / 3
		switch i {
		case 5:
			v = math.NaN()
		case 6:
			v = math.Inf(1)
		case 7:
			v = math.Inf(-1)
		}
		metrics = append(metrics, mlflow.Metric{Key: "loss", Value: v, Timestamp: 1000 + int64(i), Step: int64(i)})
	}
	require.NoError(t, e.client.LogBatch(ctx, run.Info.RunID, metrics, []mlflow.Param{{Key: "lr", Value: "0.1"}}, []mlflow.RunTag{{Key: "t", Value: "x"}}))
	require.NoError(t, e.client.LogBatch(ctx, run.Info.RunID, metrics, []mlflow.Param{{Key: "lr", Value: "0.1"}}, nil), "a resent batch is harmless")
	hist, err := e.client.GetMetricHistory(ctx, run.Info.RunID, "loss")
	require.NoError(t, err)
	require.Len(t, hist, 30)
	for i, m := range hist {
		want := metrics[i].Value
		if math.IsInf(want, 0) {
			want = math.Copysign(math.MaxFloat64, want) // the SQL store's way
		}
		assert.True(t, sameValue(want, m.Value), "step %d: %v", i, m.Value)
		assert.Equal(t, metrics[i].Timestamp, m.Timestamp)
	}
	assert.Equal(t, 5, e.proxy.Stats().ByPath["/api/2.0/mlflow/metrics/get-history"], "30 points in pages of 7")
	got, err := e.client.GetRun(ctx, run.Info.RunID)
	require.NoError(t, err)
	v, _ := got.Data.Param("lr")
	assert.Equal(t, "0.1", v)
	info, err := e.client.UpdateRun(ctx, mlflow.UpdateRunRequest{RunID: run.Info.RunID, Status: mlflow.StatusFinished, EndTime: 99})
	require.NoError(t, err)
	assert.Equal(t, mlflow.StatusFinished, info.Status)
	assert.Equal(t, int64(99), info.EndTime)
	require.NoError(t, e.client.DeleteRun(ctx, run.Info.RunID))
	err = e.client.LogBatch(ctx, run.Info.RunID, metrics[:1], nil, nil)
	assert.ErrorIs(t, err, mlerr.CodeInvalidParameterValue)
	assert.False(t, errors.Is(err, mlerr.CodeResourceDoesNotExist))
}

func TestWithRetry(t *testing.T) {
	e := newFakeEnv(t, mlflow.WithRetry(mlerr.Policy{MaxAttempts: 3, InitialDelay: mlerr.Off, AttemptTimeout: mlerr.Off}))
	ctx := context.Background()
	run, err := e.client.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: "0"})
	require.NoError(t, err)

	e.proxy.Add(fault.Rule{Path: "runs/log-batch", Times: 2, Fault: fault.DropResponse})
	m := []mlflow.Metric{{Key: "k", Value: 1, Timestamp: 5, Step: 1}}
	require.NoError(t, e.client.LogBatch(ctx, run.Info.RunID, m, nil, nil))
	h, err := e.direct.GetMetricHistory(ctx, run.Info.RunID, "k")
	require.NoError(t, err)
	assert.Len(t, h, 1, "applied 3 times, stored once")

	e.proxy.Add(fault.Rule{Path: "runs/get", Times: 3, Fault: fault.Status(503)})
	_, err = e.client.GetRun(ctx, run.Info.RunID)
	var re *mlerr.RetryError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3, re.Attempts)
	assert.ErrorIs(t, err, mlerr.CodeTemporarilyUnavailable)

	e.proxy.Add(fault.Rule{Path: "runs/create", Times: 1, Fault: fault.Status(503)})
	_, err = e.client.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: "0"})
	assert.False(t, errors.As(err, &re), "runs/create is not retried")
	assert.Equal(t, 1, e.fake.RunCount())
}

func TestMetricTimeAndIdleConnections(t *testing.T) {
	m := mlflow.Metric{Timestamp: 1700000000123}
	assert.True(t, m.Time().Equal(time.UnixMilli(1700000000123)))
	e := newFakeEnv(t)
	_, err := e.client.GetOrCreateExperiment(context.Background(), "idle")
	require.NoError(t, err)
	e.client.CloseIdleConnections()
	_, err = e.client.GetOrCreateExperiment(context.Background(), "idle")
	require.NoError(t, err)
	assert.Equal(t, 2, e.proxy.Stats().Connections, "a new connection after closing the idle one")
}
