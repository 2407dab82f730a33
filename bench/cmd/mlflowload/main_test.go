package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/mlflow"
)

// TestRunDeliversTheWorkload logs a small workload to the in-memory MLflow
// server and reads it back: every point stored once with the workload's
// value, no callback, a finished run.
func TestRunDeliversTheWorkload(t *testing.T) {
	srv := httptest.NewServer(fakemlflow.New())
	defer srv.Close()
	const keys, steps = 3, 25
	res, err := run(config{uri: srv.URL, experiment: "load-test", runName: "mlerr", keys: keys, steps: steps,
		inFlight: 1, timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.RunID == "" || res.Logged != keys*steps || res.Sent != keys*steps || res.Dropped != 0 {
		t.Fatalf("run %q logged %d, sent %d, dropped %d; want an id, %d, %d, 0",
			res.RunID, res.Logged, res.Sent, res.Dropped, keys*steps, keys*steps)
	}
	if len(res.Events) != 0 || res.WaitErr != "" || res.CloseErr != "" || res.Status != "FINISHED" {
		t.Fatalf("events %v, wait %q, close %q, status %s", res.Events, res.WaitErr, res.CloseErr, res.Status)
	}
	c, err := mlflow.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"metric_000", "metric_002"} {
		hist, err := c.GetMetricHistory(context.Background(), res.RunID, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != steps {
			t.Fatalf("%s: %d points, want %d", key, len(hist), steps)
		}
		k := int(key[len(key)-1] - '0')
		for _, m := range hist {
			if want := value(k, int(m.Step)); m.Value != want {
				t.Fatalf("%s step %d: %v, want %v", key, m.Step, m.Value, want)
			}
		}
	}
}
