package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

// The bucket lets rate requests through at once, then one per 1/rate.
func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := &bucket{rate: 2, tokens: 2}
	steps := []struct {
		after time.Duration
		want  bool
	}{
		{0, true}, {0, true}, {0, false}, // the burst: one second's worth
		{100 * time.Millisecond, false}, {500 * time.Millisecond, true}, {500 * time.Millisecond, false},
		{10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, false}, // never more than rate in store
	}
	for i, s := range steps {
		if got := b.take(t0.Add(s.after)); got != s.want {
			t.Fatalf("step %d (+%v): took %v, want %v", i, s.after, got, s.want)
		}
	}
}

// In -rate mode, log-batch requests above the rate are answered 429 with
// Retry-After and counted; other requests are never limited.
func TestLimit(t *testing.T) {
	c := &counter{}
	program := c.limit(&bucket{rate: 1, tokens: 1}, 2*time.Second)
	cases := []struct {
		path    string
		limited bool
	}{
		{"/api/2.0/mlflow/runs/log-batch", false},
		{"/api/2.0/mlflow/runs/log-batch", true},
		{"/api/2.0/mlflow/runs/get", false},
		{"/api/2.0/mlflow/runs/log-batch", true},
	}
	for i, tc := range cases {
		f, ok := program(httptest.NewRequest(http.MethodPost, tc.path, nil))
		if ok != tc.limited {
			t.Fatalf("request %d (%s): limited %v, want %v", i, tc.path, ok, tc.limited)
		}
		if ok && (f.Status != http.StatusTooManyRequests || f.Header.Get("Retry-After") != "2") {
			t.Fatalf("request %d: status %d, Retry-After %q; want 429, 2", i, f.Status, f.Header.Get("Retry-After"))
		}
	}
	if c.s.Limited != 2 || sumOf(c.s.LimitedPerSec) != 2 {
		t.Errorf("counted %d limited (%v per second), want 2", c.s.Limited, c.s.LimitedPerSec)
	}
}

func sumOf(v []int64) (n int64) {
	for _, x := range v {
		n += x
	}
	return n
}
