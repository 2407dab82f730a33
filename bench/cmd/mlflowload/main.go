// Command mlflowload logs a fixed metric workload to an MLflow tracking
// server through mlerr.Run and its mlflow backend, and prints what happened
// as one JSON object on stdout: the run id, how long the logging loop and
// the delivery took, its own CPU time, the Run's report and every callback
// event with its time. The callbacks also log to stderr (KeepTraining), as a
// training script would show them to its user.
//
// It is one of the three clients of bench/mlflow-compare/run.sh, which
// measures its CPU time and peak memory from outside; the workload is the
// same for all three: keys metric_000.. with one value per step.
//
//	mlflowload -uri http://127.0.0.1:5000 -keys 100 -steps 1000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
)

// event is one callback the Run made.
type event struct {
	At       float64 `json:"at_s"` // seconds since the logging loop started
	Callback string  `json:"callback"`
	Err      string  `json:"err"`
}

// result is the JSON line printed at the end.
type result struct {
	Client     string  `json:"client"`
	RunID      string  `json:"run_id"`
	Logged     int     `json:"logged"`
	LoopS      float64 `json:"loop_s"`  // the logging loop: how long training was held up
	AckedS     float64 `json:"acked_s"` // loop start to Run.Wait returning: every point acknowledged
	CloseS     float64 `json:"close_s"` // loop start to Run.Close returning
	CPUS       float64 `json:"cpu_logging_s"`
	Sent       int64   `json:"sent"`
	Retries    int64   `json:"retries"`
	Outages    int64   `json:"outages"`
	Dropped    int64   `json:"dropped"`
	Status     string  `json:"status"`
	WaitErr    string  `json:"wait_err,omitempty"`
	CloseErr   string  `json:"close_err,omitempty"`
	LogErrors  int     `json:"log_errors"`
	FirstError string  `json:"first_log_error,omitempty"`
	Events     []event `json:"events"`
}

func main() {
	uri := flag.String("uri", os.Getenv(mlflow.EnvTrackingURI), "MLflow tracking URI")
	experiment := flag.String("experiment", "mlflow-compare", "experiment name")
	runName := flag.String("run-name", "mlerr", "run name")
	keys := flag.Int("keys", 100, "metric keys per step")
	steps := flag.Int("steps", 1000, "steps")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	if *uri == "" || *keys < 1 || *steps < 1 {
		fmt.Fprintln(os.Stderr, "mlflowload: need -uri (or MLFLOW_TRACKING_URI), -keys >= 1, -steps >= 1")
		os.Exit(2)
	}
	res, err := run(*uri, *experiment, *runName, *keys, *steps, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlflowload:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(uri, experiment, runName string, keys, steps int, timeout time.Duration) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	backend, err := mlflow.NewBackend(uri, mlflow.WithExperiment(experiment))
	if err != nil {
		return nil, err
	}
	res := &result{Client: "mlerr", Events: []event{}}
	var (
		mu    sync.Mutex
		start time.Time
	)
	shown := mlerr.KeepTraining(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	record := func(name string, show mlerr.Callback) mlerr.Callback {
		return func(err error, ts time.Time) {
			mu.Lock()
			res.Events = append(res.Events, event{At: ts.Sub(start).Seconds(), Callback: name, Err: err.Error()})
			mu.Unlock()
			show(err, ts)
		}
	}
	total := keys * steps
	run, err := mlerr.NewRun(ctx, backend,
		mlerr.WithRunName(runName),
		// The whole workload fits in the queue, as it does in the Python
		// client's (unbounded) async queue: nothing is dropped for room.
		mlerr.WithLimits(mlerr.Limits{QueueItems: max(total, 100_000), QueueBytes: 1 << 30}),
		mlerr.WithCallbacks(mlerr.Callbacks{
			OnNetworkError: record("OnNetworkError", shown.OnNetworkError),
			OnWarning:      record("OnWarning", shown.OnWarning),
			OnError:        record("OnError", shown.OnError),
			OnQueueFull:    record("OnQueueFull", shown.OnQueueFull),
		}))
	if err != nil {
		return nil, err
	}
	if err := run.Started(ctx); err != nil {
		return nil, fmt.Errorf("starting the run: %w", err)
	}
	res.RunID = run.ID()

	names := make([]string, keys)
	for k := range names {
		names[k] = fmt.Sprintf("metric_%03d", k)
	}
	cpu0 := cpuTime()
	mu.Lock()
	start = time.Now()
	mu.Unlock()
	for s := range steps {
		m := make(map[string]float64, keys)
		for k, name := range names {
			m[name] = value(k, s)
		}
		if err := run.LogMetrics(int64(s), m); err != nil {
			res.LogErrors++
			if res.FirstError == "" {
				res.FirstError = err.Error()
			}
			if errors.Is(err, mlerr.ErrClosed) {
				break
			}
		}
	}
	res.Logged = total
	res.LoopS = time.Since(start).Seconds()
	if err := run.Wait(ctx); err != nil {
		res.WaitErr = err.Error()
	}
	res.AckedS = time.Since(start).Seconds()
	res.CPUS = cpuTime() - cpu0
	report, err := run.Close(ctx)
	res.CloseS = time.Since(start).Seconds()
	if err != nil {
		res.CloseErr = err.Error()
	}
	res.Sent = report.Sent
	res.Retries = report.Retries
	res.Outages = report.Outages
	res.Dropped = report.Dropped.Total()
	res.Status = fmt.Sprint(report.Status)
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}

// value is the workload's value of key k at step s, the same in every
// client.
func value(k, s int) float64 { return float64(k) + 1/float64(s+1) }

// cpuTime is the process's user plus system CPU time, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
