package mlflow_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingProxy answers runs/get with an mlflow-artifacts: URI and reads
// every upload to the end, counting its bytes, as the artifact proxy does.
func countingProxy(t *testing.T) (string, *atomic.Int64) {
	var got atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/2.0/mlflow/runs/get", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"run": {"info": {"run_id": "r1", "experiment_id": "1", "status": "RUNNING", "artifact_uri": "mlflow-artifacts:/1/r1/artifacts", "lifecycle_stage": "active"}}}`))
	})
	for _, p := range []string{"POST /api/2.0/mlflow/runs/create", "POST /api/2.0/mlflow/runs/update"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"run": {"info": {"run_id": "r1", "experiment_id": "0", "status": "RUNNING", "lifecycle_stage": "active"}}}`))
		})
	}
	mux.HandleFunc("PUT /api/2.0/mlflow-artifacts/artifacts/", func(_ http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Add(n)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, &got
}

// peakHeap samples the heap until stop is closed, then sends its peak.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var m runtime.MemStats
		var peak uint64
		for {
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	return out
}

// TestLargeArtifactHeapStaysFlat logs a 400 MiB (sparse) file through a
// Run to the mlflow Backend: staged, then streamed to the server in small
// buffers, the heap grows by a few MiB, never by the file's size.
func TestLargeArtifactHeapStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("stages a 400 MiB file")
	}
	const size = 400 << 20
	p := filepath.Join(t.TempDir(), "ckpt.bin")
	f, err := os.Create(p)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(size)) // sparse: no disk used
	require.NoError(t, f.Close())
	uri, got := countingProxy(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	b, err := mlflow.NewBackend(uri, mlflow.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	run, err := mlerr.NewRun(context.Background(), b)
	require.NoError(t, err)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	peak := peakHeap(stop)
	require.NoError(t, run.LogArtifact(p, "ckpt"))
	_, err = run.Close(context.Background())
	close(stop)
	require.NoError(t, err)
	assert.Equal(t, int64(size), got.Load(), "the whole file reached the server")
	grew := int64(<-peak) - int64(before.HeapAlloc)
	t.Logf("heap: %d MiB before, peak %+d MiB for a %d MiB file", before.HeapAlloc>>20, grew>>20, size>>20)
	assert.Less(t, grew, int64(16<<20), "the heap grew by %d MiB", grew>>20)
}
