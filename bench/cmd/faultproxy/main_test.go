package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCountPoints checks what the proxy counts: the metrics of log-batch
// requests the server accepted, nothing else, and that the outage is
// triggered once, when the count reaches -after.
func TestCountPoints(t *testing.T) {
	var seen []string
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // the body reaches the server intact
		seen = append(seen, string(b))
		if strings.Contains(string(b), `"reject"`) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "{}")
	})
	triggered := make(chan struct{}, 2)
	c := &counter{s: summary{After: 3}, trigger: func() { triggered <- struct{}{} }}
	h := c.countPoints(upstream)
	send := func(path, body string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		return rec.Code
	}
	steps := []struct {
		path, body string
		status     int
		points     int64
		fired      bool
	}{
		{"/api/2.0/mlflow/runs/log-batch", `{"run_id":"r","metrics":[{"key":"a"},{"key":"b"}]}`, 200, 2, false},
		{"/api/2.0/mlflow/runs/get", `{"metrics":[{"key":"a"}]}`, 200, 2, false},
		{"/api/2.0/mlflow/runs/log-batch", `{"metrics":[{"key":"reject"}]}`, 503, 2, false},
		{"/api/2.0/mlflow/runs/log-batch", `{"params":[{"key":"p"}]}`, 200, 2, false},
		{"/api/2.0/mlflow/runs/log-batch", `{"metrics":[{"key":"c"}]}`, 200, 3, true},
		{"/api/2.0/mlflow/runs/log-batch", `{"metrics":[{"key":"d"}]}`, 200, 4, true},
	}
	for i, s := range steps {
		if got := send(s.path, s.body); got != s.status {
			t.Fatalf("step %d: status %d, want %d", i, got, s.status)
		}
		c.mu.Lock()
		points, fired := c.s.Points, c.fired
		c.mu.Unlock()
		if points != s.points || fired != s.fired {
			t.Fatalf("step %d: %d points, outage started %v; want %d, %v", i, points, fired, s.points, s.fired)
		}
		if seen[len(seen)-1] != s.body {
			t.Fatalf("step %d: server got %q, want %q", i, seen[len(seen)-1], s.body)
		}
	}
	if c.s.LogBatchOK != 4 || c.s.LogBatchFailed != 1 {
		t.Errorf("log-batch ok %d, failed %d; want 4, 1", c.s.LogBatchOK, c.s.LogBatchFailed)
	}
	<-triggered // the trigger ran (in its goroutine), and only once:
	select {
	case <-triggered:
		t.Error("the outage was triggered twice")
	default:
	}
}
