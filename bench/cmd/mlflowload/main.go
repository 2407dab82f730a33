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
// It is also the Go rank of bench/cmd/loadbench (bench/load.sh): -inflight
// sets the batches the Run keeps in flight, -ready makes many ranks start
// logging at one instant (it prints READY once its run exists, then waits for
// a line on stdin), -cpuprofile writes a pprof CPU profile of the
// logging (loop start to every point acknowledged), and the JSON has each
// LogMetrics call's latency percentiles and absolute (Unix) times so that a
// driver can line several ranks and a proxy up.
//
//	mlflowload -uri http://127.0.0.1:5000 -keys 100 -steps 1000
//	mlflowload -uri ... -inflight 4 -ready -cpuprofile rank0.pprof
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"runtime/pprof"
	"slices"
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
	SysS       float64 `json:"cpu_logging_sys_s"` // the kernel's part of CPUS
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

	InFlight  int     `json:"inflight"`
	StartUnix float64 `json:"start_unix"` // the logging loop's start, Unix seconds
	AckedUnix float64 `json:"acked_unix"` // every point acknowledged, Unix seconds
	CallP50   float64 `json:"call_p50_us"`
	CallP99   float64 `json:"call_p99_us"`
	CallMax   float64 `json:"call_max_us"`
	MaxRSSKiB int64   `json:"max_rss_kib"`
}

// config is what one invocation logs and how.
type config struct {
	uri, experiment, runName string
	keys, steps, inFlight    int
	timeout                  time.Duration
	ready                    bool // print READY and wait for a line on stdin before logging
	cpuProfile               string
}

func main() {
	uri := flag.String("uri", os.Getenv(mlflow.EnvTrackingURI), "MLflow tracking URI")
	experiment := flag.String("experiment", "mlflow-compare", "experiment name")
	runName := flag.String("run-name", "mlerr", "run name")
	keys := flag.Int("keys", 100, "metric keys per step")
	steps := flag.Int("steps", 1000, "steps")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	inFlight := flag.Int("inflight", 1, "batches in flight (Limits.InFlight)")
	ready := flag.Bool("ready", false, "once the run exists, print READY and wait for a line on stdin before logging")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the logging to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()
	if *uri == "" || *keys < 1 || *steps < 1 || *inFlight < 1 {
		fmt.Fprintln(os.Stderr, "mlflowload: need -uri (or MLFLOW_TRACKING_URI), -keys >= 1, -steps >= 1, -inflight >= 1")
		os.Exit(2)
	}
	cfg := config{uri: *uri, experiment: *experiment, runName: *runName, keys: *keys, steps: *steps,
		inFlight: *inFlight, timeout: *timeout, cpuProfile: *cpuProfile, ready: *ready}
	res, err := run(cfg)
	if err == nil && *memProfile != "" {
		err = writeHeapProfile(*memProfile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlflowload:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

// limits is the Run's limits for a workload of total points with inFlight
// batches in flight.
func limits(total, inFlight int) (mlerr.Limits, error) {
	// The whole workload fits in the queue, as it does in the Python
	// client's (unbounded) async queue: nothing is dropped for room.
	l := mlerr.Limits{QueueItems: max(total, 100_000), QueueBytes: 1 << 30}
	err := setInFlight(&l, inFlight)
	return l, err
}

// setInFlight sets l.InFlight, the batches the Run keeps in flight, when
// this build of mlerr has the field; without it (one batch in flight) only
// k = 1 is taken. Found by name, so that the tool builds and runs either way.
func setInFlight(l *mlerr.Limits, k int) error {
	f := reflect.ValueOf(l).Elem().FieldByName("InFlight")
	switch {
	case f.IsValid() && f.CanSet() && f.Kind() == reflect.Int:
		f.SetInt(int64(k))
	case k != 1:
		return fmt.Errorf("-inflight %d: this build of mlerr has no Limits.InFlight (one batch in flight)", k)
	}
	return nil
}

func run(cfg config) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	keys, steps := cfg.keys, cfg.steps
	lim, err := limits(keys*steps, cfg.inFlight)
	if err != nil {
		return nil, err
	}
	backend, err := mlflow.NewBackend(cfg.uri, mlflow.WithExperiment(cfg.experiment))
	if err != nil {
		return nil, err
	}
	res := &result{Client: "mlerr", Events: []event{}, InFlight: cfg.inFlight}
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
		mlerr.WithRunName(cfg.runName),
		mlerr.WithLimits(lim),
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

	if cfg.ready {
		fmt.Println("READY")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return nil, fmt.Errorf("waiting for the start: %w", err)
		}
	}
	stopProfile, err := startProfile(cfg.cpuProfile)
	if err != nil {
		return nil, err
	}
	cpu0, sys0 := cpuTime(), sysTime()
	mu.Lock()
	start = time.Now()
	mu.Unlock()
	calls := logLoop(run, keys, steps, res)
	res.Logged = total
	res.LoopS = time.Since(start).Seconds()
	if err := run.Wait(ctx); err != nil {
		res.WaitErr = err.Error()
	}
	acked := time.Now()
	res.AckedS = acked.Sub(start).Seconds()
	res.CPUS, res.SysS = cpuTime()-cpu0, sysTime()-sys0
	stopProfile()
	res.StartUnix = float64(start.UnixNano()) / 1e9
	res.AckedUnix = float64(acked.UnixNano()) / 1e9
	res.CallP50, res.CallP99, res.CallMax = percentiles(calls)
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
	res.MaxRSSKiB = maxRSS()
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}

// startProfile starts a CPU profile into path ("" for none) and returns
// the function that stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// writeHeapProfile writes the allocations since the start (pprof's allocs
// profile) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// percentiles returns the median, the 99th percentile and the maximum of
// d, in microseconds; d is sorted in place.
func percentiles(d []time.Duration) (p50, p99, maxUS float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	us := func(i int) float64 { return float64(d[i]) / 1e3 }
	return us(len(d) / 2), us(min(len(d)-1, len(d)*99/100)), us(len(d) - 1)
}

// sysTime is the process's system CPU time, in seconds.
func sysTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Stime.Nano()) / 1e9
}

// maxRSS is the process's peak resident set, in KiB.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss
}

// logLoop is the training loop: one LogMetrics call of keys metrics per
// step. It returns how long each call took and notes the errors in res.
func logLoop(run *mlerr.Run, keys, steps int, res *result) []time.Duration {
	names := make([]string, keys)
	for k := range names {
		names[k] = fmt.Sprintf("metric_%03d", k)
	}
	calls := make([]time.Duration, 0, steps)
	for s := range steps {
		m := make(map[string]float64, keys)
		for k, name := range names {
			m[name] = value(k, s)
		}
		t0 := time.Now()
		err := run.LogMetrics(int64(s), m)
		calls = append(calls, time.Since(t0))
		if err != nil {
			res.LogErrors++
			if res.FirstError == "" {
				res.FirstError = err.Error()
			}
			if errors.Is(err, mlerr.ErrClosed) {
				break
			}
		}
	}
	return calls
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
