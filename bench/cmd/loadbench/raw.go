package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlerr/mlerr/mlflow"
)

// rawLevel is one concurrency level of the raw sweep (row 1).
type rawLevel struct {
	Keys        int     `json:"keys"` // keys per request (1000/Keys steps each)
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Failed      int64   `json:"failed"`
	Points      int64   `json:"points"`
	Seconds     float64 `json:"seconds"`
	PointsPerS  float64 `json:"points_per_s"`
}

// rawBody is a log-batch request of 1000 metrics for run: keys keys (a
// divisor of 1000) at 1000/keys steps from step on, with fixed timestamps,
// as bytes ready to send. The shape matters to the server: MLflow also
// updates a run's latest value of each key a request carries.
func rawBody(run string, step, keys int) []byte {
	b := make([]byte, 0, 80_000)
	b = append(b, `{"run_id":"`...)
	b = append(b, run...)
	b = append(b, `","metrics":[`...)
	for s := step; s < step+1000/keys; s++ {
		for k := range keys {
			if len(b) > 0 && b[len(b)-1] == '}' {
				b = append(b, ',')
			}
			b = append(b, `{"key":"metric_`...)
			b = append(b, fmt.Sprintf("%03d", k)...)
			b = append(b, `","value":`...)
			b = strconv.AppendFloat(b, float64(k)+1/float64(s+1), 'g', -1, 64)
			b = append(b, `,"timestamp":1767225600000,"step":`...)
			b = strconv.AppendInt(b, int64(s), 10)
			b = append(b, '}')
		}
	}
	return append(b, "]}"...)
}

// rawSweep POSTs prepared 1000-metric log-batch requests with each
// concurrency level of levels for d, one run per worker, and returns the
// points per second the server acknowledged at each.
func rawSweep(ctx context.Context, uri, experiment string, keys int, levels []int, d time.Duration) ([]rawLevel, error) {
	c, err := mlflow.NewClient(uri)
	if err != nil {
		return nil, err
	}
	exp, err := c.GetOrCreateExperiment(ctx, experiment)
	if err != nil {
		return nil, err
	}
	var out []rawLevel
	for _, n := range levels {
		runs := make([]string, n)
		for i := range runs {
			r, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp, RunName: fmt.Sprintf("raw-k%d-c%d-%d", keys, n, i)})
			if err != nil {
				return nil, err
			}
			runs[i] = r.Info.RunID
		}
		lv := rawRun(ctx, uri, runs, keys, d)
		logf("row 1: %d keys x %d steps per request, concurrency %d: %.0f points/s (%d requests, %d failed)",
			keys, 1000/keys, n, lv.PointsPerS, lv.Requests, lv.Failed)
		out = append(out, lv)
	}
	return out, nil
}

// rawRun is one level: a worker per run, each POSTing bodies prepared
// ahead by its own producer, until d has passed; requests under way then
// finish and count.
func rawRun(ctx context.Context, uri string, runs []string, keys int, d time.Duration) rawLevel {
	tr := &http.Transport{MaxIdleConnsPerHost: len(runs) + 1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	url := uri + "/api/2.0/mlflow/runs/log-batch"
	var reqs, failed, points atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for _, run := range runs {
		bodies := make(chan []byte, 4)
		go func() { // the producer: bodies ready before the worker needs them
			defer close(bodies)
			for step := 0; ; step += 1000 / keys {
				select {
				case bodies <- rawBody(run, step, keys):
				case <-stop:
					return
				}
			}
		}()
		wg.Go(func() {
			for body := range bodies {
				select {
				case <-stop:
					return
				default:
				}
				reqs.Add(1)
				if post(ctx, hc, url, body) {
					points.Add(1000)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	time.Sleep(d)
	close(stop)
	wg.Wait()
	secs := time.Since(start).Seconds()
	return rawLevel{Keys: keys, Concurrency: len(runs), Requests: reqs.Load(), Failed: failed.Load(), Points: points.Load(),
		Seconds: secs, PointsPerS: float64(points.Load()) / secs}
}

// post sends one log-batch body and reports whether the server answered 2xx.
func post(ctx context.Context, hc *http.Client, url string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode/100 == 2
}
