package mlflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// download reads an artifact back through the server.
func download(t *testing.T, c *mlflow.Client, runID, path string) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.DownloadArtifact(context.Background(), runID, path, &buf)
	require.NoError(t, err, "download %s", path)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

// listAll lists a run's artifacts recursively: path -> size.
func listAll(t *testing.T, c *mlflow.Client, runID, dir string, out map[string]int64) map[string]int64 {
	t.Helper()
	if out == nil {
		out = map[string]int64{}
	}
	files, err := c.ListArtifacts(context.Background(), runID, dir)
	require.NoError(t, err)
	for _, f := range files {
		if f.IsDir {
			listAll(t, c, runID, f.Path, out)
			continue
		}
		out[f.Path] = f.Size
	}
	return out
}

// TestIntegrationWriteArtifact checks the artifact proxy's answers, as the
// package doc describes them, on the real server.
func TestIntegrationWriteArtifact(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	info := startRun(t, e.backend)
	put := func(path, content string) error {
		return e.backend.WriteArtifact(ctx, info.RunID, path, strings.NewReader(content), int64(len(content)))
	}
	require.NoError(t, put("a/b.txt", "first"))
	require.NoError(t, put("a/b.txt", "second")) // replaced
	require.NoError(t, put("empty", ""))
	require.NoError(t, put("été/x y.txt", "utf8"))
	assert.Equal(t, "second", string(download(t, e.direct, info.RunID, "a/b.txt")))
	assert.Equal(t, "utf8", string(download(t, e.direct, info.RunID, "été/x y.txt")))
	assert.Equal(t, map[string]int64{"a/b.txt": 6, "empty": 0, "été/x y.txt": 4}, listAll(t, e.direct, info.RunID, "", nil))

	missing, err := e.direct.ListArtifacts(ctx, info.RunID, "nope")
	require.NoError(t, err)
	assert.Empty(t, missing)

	tests := []struct {
		name      string
		err       error
		code      mlerr.Code
		status    int
		permanent bool
	}{
		{"path with #", put("x#y", "z"), mlerr.CodeInvalidParameterValue, 400, true},
		{"missing file", downloadErr(e.direct, info.RunID, "nope.txt"), mlerr.CodeResourceDoesNotExist, 404, true},
		{"directory", downloadErr(e.direct, info.RunID, "a"), mlerr.CodeBadRequest, 400, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			assert.True(t, errors.Is(tc.err, tc.code), "%v", tc.err)
			assert.Equal(t, tc.status, mlerr.HTTPStatusOf(tc.err))
			assert.Equal(t, tc.permanent, !mlerr.Classify(tc.err).Retry, "%v", tc.err)
		})
	}
}

func downloadErr(c *mlflow.Client, runID, path string) error {
	_, err := c.DownloadArtifact(context.Background(), runID, path, &bytes.Buffer{})
	return err
}

// TestIntegrationArtifactUploadRetried cuts uploads on the way: the retried
// upload, from the start, stores the artifact once and whole.
func TestIntegrationArtifactUploadRetried(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	info := startRun(t, e.backend)
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	for _, f := range []fault.Fault{fault.ResetConn, fault.DropResponse, fault.Status(http.StatusServiceUnavailable)} {
		e.proxy.Add(fault.Rule{Method: http.MethodPut, Times: 1, Fault: f})
	}
	err := mlerr.Retry(ctx, testPolicy(0, nil), func(ctx context.Context) error {
		return e.backend.WriteArtifact(ctx, info.RunID, "big.bin", bytes.NewReader(data), int64(len(data)))
	})
	require.NoError(t, err)
	assert.Zero(t, e.proxy.Pending())
	assert.Equal(t, data, download(t, e.direct, info.RunID, "big.bin"))
}

// noServeServer answers as `mlflow server --no-serve-artifacts` (3.17)
// does: runs whose artifact_uri is a path of the server's disk, and 503 on
// the artifact proxy. putMLflowArtifacts gives the runs mlflow-artifacts:
// URIs, as a server whose artifact root is the proxy's but that serves none.
func noServeServer(t *testing.T, proxyURIs bool) (string, *atomic.Int32) {
	var puts atomic.Int32
	mux := http.NewServeMux()
	uri := "/srv/mlruns/1/r1/artifacts"
	if proxyURIs {
		uri = "mlflow-artifacts:/1/r1/artifacts"
	}
	mux.HandleFunc("GET /api/2.0/mlflow/runs/get", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"run": {"info": {"run_id": "r1", "experiment_id": "1", "status": "RUNNING", "artifact_uri": "` + uri + `", "lifecycle_stage": "active"}}}`))
	})
	for _, p := range []string{"POST /api/2.0/mlflow/runs/create", "POST /api/2.0/mlflow/runs/update"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"run": {"info": {"run_id": "r1", "experiment_id": "0", "status": "RUNNING", "lifecycle_stage": "active"}}}`))
		})
	}
	mux.HandleFunc("PUT /api/2.0/mlflow-artifacts/artifacts/", func(w http.ResponseWriter, _ *http.Request) {
		puts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"detail":"Artifact serving is disabled. Run ` + "`mlflow server`" + ` with ` + "`--serve-artifacts`" + ` to enable."}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, &puts
}

// TestArtifactsWithoutArtifactServing: a server that serves no artifacts
// fails the upload at once, with a typed error, no retry. Against the
// server MLERR_TEST_NOSERVE_URI names when set (one started with
// --no-serve-artifacts), else against one answering as it does.
func TestArtifactsWithoutArtifactServing(t *testing.T) {
	for _, proxyURIs := range []bool{false, true} {
		t.Run(fmt.Sprintf("proxy URIs %v", proxyURIs), func(t *testing.T) {
			uri, puts := noServeServer(t, proxyURIs)
			if real := os.Getenv("MLERR_TEST_NOSERVE_URI"); real != "" && !proxyURIs {
				uri = real
			}
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			b, err := mlflow.NewBackend(uri, mlflow.WithHTTPClient(&http.Client{Transport: tr}))
			require.NoError(t, err)
			var retries atomic.Int32
			info := mlerr.RunInfo{RunID: "r1"}
			if os.Getenv("MLERR_TEST_NOSERVE_URI") != "" && !proxyURIs {
				info = startRun(t, b)
			}
			p := testPolicy(0, func(mlerr.RetryEvent) { retries.Add(1) })
			err = mlerr.Retry(context.Background(), p, func(ctx context.Context) error {
				return b.WriteArtifact(ctx, info.RunID, "a.txt", strings.NewReader("x"), 1)
			})
			require.Error(t, err)
			assert.ErrorIs(t, err, mlerr.ErrNotImplemented)
			assert.ErrorIs(t, err, mlerr.CodeNotImplemented)
			assert.Zero(t, retries.Load(), "no retry: %v", err)
			assert.Contains(t, err.Error(), "serve")
			if proxyURIs {
				assert.Equal(t, int32(1), puts.Load())
			} else {
				assert.Zero(t, puts.Load(), "nothing sent for a run whose artifacts are not proxied")
			}
		})
	}
}

// TestRunArtifactsWithoutArtifactServing: through a Run, the file is lost
// at once, in one OnError event of kind ErrNotImplemented naming it.
func TestRunArtifactsWithoutArtifactServing(t *testing.T) {
	uri, puts := noServeServer(t, false)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	b, err := mlflow.NewBackend(uri, mlflow.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	rec := &recorder{}
	var retries atomic.Int32
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, b, mlerr.WithCallbacks(rec.callbacks()),
		mlerr.WithRetryPolicy(testPolicy(0, func(mlerr.RetryEvent) { retries.Add(1) })))
	require.NoError(t, err)
	require.NoError(t, run.LogText("x", "notes.txt"))
	require.NoError(t, run.Wait(ctx))
	require.Eventually(t, func() bool { return len(rec.get("err")) == 1 }, 10*time.Second, 5*time.Millisecond)
	ev := rec.get("err")[0]
	assert.ErrorIs(t, ev, mlerr.ErrNotImplemented)
	require.Len(t, mlerr.LostItems(ev), 1)
	assert.Equal(t, "notes.txt", mlerr.LostItems(ev)[0].Key)
	assert.Zero(t, retries.Load())
	assert.Zero(t, puts.Load())
	assert.Empty(t, rec.get("net"), "no outage")
	_, err = run.Close(ctx)
	assert.ErrorIs(t, err, mlerr.CodeDataLoss)
}
