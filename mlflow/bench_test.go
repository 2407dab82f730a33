package mlflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
)

// sink is a tracking server that reads each request and answers {}: the
// benchmarks measure the client side.
func sink(b *testing.B) (*httptest.Server, *http.Client) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("{}"))
	}))
	tr := &http.Transport{}
	b.Cleanup(func() { tr.CloseIdleConnections(); s.Close() })
	return s, &http.Client{Transport: tr}
}

// BenchmarkWriteBatch1000 writes 1000 metric points with Backend.WriteBatch:
// validation, splitting, protobuf JSON, one request.
func BenchmarkWriteBatch1000(b *testing.B) {
	s, hc := sink(b)
	be, err := mlflow.NewBackend(s.URL, mlflow.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	batch := mlerr.Batch{RunID: "r", Seq: 1, Items: points("train/loss", 1000, func(i int) float64 { return 1 / float64(i+1) })}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := be.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawPost1000 is the baseline: the same 1000 points as a
// hand-written log-batch body (encoding/json, no checks) in one POST.
func BenchmarkRawPost1000(b *testing.B) {
	s, hc := sink(b)
	type metric struct {
		Key       string  `json:"key"`
		Value     float64 `json:"value"`
		Timestamp int64   `json:"timestamp"`
		Step      int64   `json:"step"`
	}
	items := points("train/loss", 1000, func(i int) float64 { return 1 / float64(i+1) })
	ms := make([]metric, len(items))
	for i, it := range items {
		ms[i] = metric{it.Key, it.Value, it.Time.UnixMilli(), it.Step}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, err := json.Marshal(struct {
			RunID   string   `json:"run_id"`
			Metrics []metric `json:"metrics"`
		}{"r", ms})
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/2.0/mlflow/runs/log-batch", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
