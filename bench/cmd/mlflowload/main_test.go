package main

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
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

func TestPercentiles(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Microsecond)
		}
		return d
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Microsecond // unsorted
	}
	cases := []struct {
		name          string
		d             []time.Duration
		p50, p99, max float64
	}{
		{"none", nil, 0, 0, 0},
		{"one", ms(7), 7, 7, 7},
		{"three, unsorted", ms(3, 1, 2), 2, 3, 3},
		{"1..100", hundred, 51, 100, 100},
	}
	for _, tc := range cases {
		p50, p99, mx := percentiles(tc.d)
		if p50 != tc.p50 || p99 != tc.p99 || mx != tc.max {
			t.Errorf("%s: %v %v %v, want %v %v %v", tc.name, p50, p99, mx, tc.p50, tc.p99, tc.max)
		}
	}
}

// The whole workload fits in the queue; -inflight reaches Limits.InFlight
// when the field exists, and only 1 is taken when it does not.
func TestLimitsInFlight(t *testing.T) {
	field := reflect.ValueOf(mlerr.Limits{}).FieldByName("InFlight")
	for _, k := range []int{1, 2, 8} {
		l, err := limits(10, k)
		if field.IsValid() {
			if err != nil || reflect.ValueOf(l).FieldByName("InFlight").Int() != int64(k) {
				t.Errorf("k=%d: %v, InFlight %v", k, err, reflect.ValueOf(l).FieldByName("InFlight"))
			}
		} else if (err == nil) != (k == 1) {
			t.Errorf("k=%d without Limits.InFlight: error %v", k, err)
		}
		if l.QueueItems != 100_000 {
			t.Errorf("k=%d: queue of %d items, want 100,000", k, l.QueueItems)
		}
	}
}
