// Command quickstart trains a small model and logs it through an mlerr.Run,
// offline, to the embedded local store: no server needed. Halfway through it
// cuts the backend off for a while and logs a NaN, so you can watch the
// callbacks fire and see that nothing was lost; at the end it logs the
// model's final weights as a JSON artifact.
//
//	go run ./examples/quickstart              # logs to ./mlerr-runs
//	go run ./examples/quickstart -dir /tmp/x  # somewhere else
//
// With MLFLOW_TRACKING_URI set it logs to that MLflow server instead.
// Afterwards, `go run ./cmd/mlerr ls DIR` lists the offline runs and
// `go run ./cmd/mlerr sync DIR` uploads them to MLFLOW_TRACKING_URI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/localstore"
	"github.com/mlerr/mlerr/mlflow"
)

func main() {
	dir := flag.String("dir", "mlerr-runs", "directory of the local store")
	steps := flag.Int("steps", 120, "training steps")
	stepTime := flag.Duration("step-time", 15*time.Millisecond, "time one training step takes")
	flag.Parse()
	if err := run(*dir, *steps, *stepTime); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(dir string, steps int, stepTime time.Duration) error {
	ctx := context.Background()

	// The backend: MLflow when MLFLOW_TRACKING_URI is set, else the local store.
	var backend mlerr.Backend
	where := ""
	if os.Getenv("MLFLOW_TRACKING_URI") != "" {
		b, err := mlflow.NewBackendFromEnv()
		if err != nil {
			return err
		}
		backend, where = b, "MLflow at "+os.Getenv("MLFLOW_TRACKING_URI")
	} else {
		store, err := localstore.Open(dir)
		if err != nil {
			return err
		}
		defer store.Close()
		backend, where = store, "the local store in "+store.Dir()
	}
	// An outage we can switch on and off, in front of the real backend.
	flaky := &outage{Backend: backend}

	policy := mlerr.DefaultPolicy()
	policy.InitialDelay = 20 * time.Millisecond // a short policy, so the demo is quick
	policy.MaxDelay = 100 * time.Millisecond
	policy.MaxAttempts = 4

	r, err := mlerr.NewRun(ctx, flaky,
		mlerr.WithExperiment("quickstart"),
		mlerr.WithRunName("logistic-regression"),
		mlerr.WithRetryPolicy(policy),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 200, BatchBytes: 1 << 20, BatchInterval: 50 * time.Millisecond}),
		mlerr.WithCallbacks(mlerr.Callbacks{
			OnNetworkError: show("OnNetworkError"),
			OnWarning:      show("OnWarning"),
			OnError:        show("OnError"),
			OnQueueFull:    show("OnQueueFull"),
		}),
	)
	if err != nil {
		return err
	}
	fmt.Printf("logging to %s\n", where)

	model := newModel()
	_ = r.LogParams(map[string]string{"model": "logistic-regression", "lr": "0.5", "features": "2"})
	_ = r.SetTags(map[string]string{"example": "quickstart"})
	for step := range steps {
		switch step {
		case steps / 3:
			fmt.Printf("step %d: the backend goes away\n", step)
			flaky.down.Store(true)
		case steps * 2 / 3:
			fmt.Printf("step %d: the backend is back\n", step)
			flaky.down.Store(false)
		}
		loss, acc := model.step()
		m := map[string]float64{"train/loss": loss, "train/accuracy": acc}
		if step == steps/2 {
			m["train/grad_norm"] = math.NaN() // a bad value: rejected at once, the rest logged
		}
		if err := r.LogMetrics(int64(step), m); err != nil {
			fmt.Printf("step %d: LogMetrics returned: %v\n", step, err)
		}
		time.Sleep(stepTime)
	}

	// The final weights, as a JSON artifact of the run (copied now, uploaded
	// in the background like the metrics).
	if err := r.LogJSON(map[string]any{"w": model.w, "b": model.b}, "model/weights.json"); err != nil {
		fmt.Printf("LogJSON returned: %v\n", err)
	}

	report, err := r.Close(ctx)
	fmt.Printf("\nrun %s %s: stored %s, %s, %s (%d retries, %d outage(s)); %d rejected when logged, %d lost later\n",
		report.RunID, report.Status, count(flaky.stored(mlerr.ItemMetric), "point"), count(flaky.stored(mlerr.ItemParam), "param"),
		count(flaky.stored(mlerr.ItemTag), "tag"), report.Retries, report.Outages, report.Invalid, report.Dropped.Total())
	if err != nil {
		fmt.Printf("close: %v\n", err)
	}
	if os.Getenv("MLFLOW_TRACKING_URI") == "" {
		fmt.Printf("\nthe data is in %s\n", dir)
		fmt.Printf("list it:   go run ./cmd/mlerr ls %s\n", dir)
		fmt.Printf("upload it: MLFLOW_TRACKING_URI=http://127.0.0.1:5000 go run ./cmd/mlerr sync %s\n", dir)
	}
	return nil
}

// show returns a callback that prints what it is told; a recovered
// connection is good news, printed as such (the event still carries a code
// for programs).
func show(name string) mlerr.Callback {
	return func(err error, ts time.Time) {
		if e := mlerr.AsError(err); errors.Is(err, mlerr.ErrRecovered) && e != nil {
			fmt.Printf("  %s good news: %s\n", ts.Format("15:04:05.000"), e.Message())
			return
		}
		var kind string
		if e := mlerr.AsError(err); e != nil && e.Kind() != nil {
			kind = e.Kind().Name()
		}
		fmt.Printf("  %s %s [%s] %v\n", ts.Format("15:04:05.000"), name, kind, err)
		if lost := mlerr.LostItems(err); len(lost) > 0 {
			fmt.Printf("  %s lost %d item(s), the first: %s\n", pad(name), len(lost), lost[0].Key)
		}
	}
}

func pad(s string) string { return fmt.Sprintf("%*s", len(s)+13, "") }

// count is "1 tag", "3 params".
func count(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// outage is a Backend that refuses connections while down is set, as a
// server that went away does.
type outage struct {
	mlerr.Backend
	down atomic.Bool

	mu   sync.Mutex
	kept map[uint64]bool          // batches stored, by Seq
	kind map[mlerr.ItemKind]int64 // items stored, by kind
}

// stored returns how many items of kind the backend stored.
func (o *outage) stored(kind mlerr.ItemKind) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.kind[kind]
}

// count counts the items of a batch the backend stored, once per Seq.
func (o *outage) count(b mlerr.Batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.kept == nil {
		o.kept, o.kind = map[uint64]bool{}, map[mlerr.ItemKind]int64{}
	}
	if o.kept[b.Seq] {
		return
	}
	o.kept[b.Seq] = true
	for _, it := range b.Items {
		o.kind[it.Kind]++
	}
}

func (o *outage) refused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

func (o *outage) StartRun(ctx context.Context, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	if o.down.Load() {
		return mlerr.RunInfo{}, o.refused()
	}
	return o.Backend.StartRun(ctx, spec)
}

func (o *outage) WriteBatch(ctx context.Context, b mlerr.Batch) error {
	if o.down.Load() {
		return o.refused()
	}
	err := o.Backend.WriteBatch(ctx, b)
	if err == nil {
		o.count(b)
	}
	return err
}

// WriteArtifact uploads an artifact, refused while down as the other calls.
func (o *outage) WriteArtifact(ctx context.Context, runID, path string, content io.Reader, size int64) error {
	if o.down.Load() {
		return o.refused()
	}
	ab, ok := o.Backend.(mlerr.ArtifactBackend)
	if !ok {
		return mlerr.ErrNotImplemented.New("the backend stores no artifacts")
	}
	return ab.WriteArtifact(ctx, runID, path, content, size)
}

// model is a logistic regression on two synthetic, noisy clusters.
type model struct {
	w    [2]float64
	b    float64
	x    [][2]float64
	y    []float64
	rand *rand.Rand
}

func newModel() *model {
	m := &model{rand: rand.New(rand.NewPCG(1, 2))}
	for i := range 256 {
		label := float64(i % 2)
		cx := 2*label - 1
		m.x = append(m.x, [2]float64{cx + m.rand.NormFloat64(), cx + m.rand.NormFloat64()})
		m.y = append(m.y, label)
	}
	return m
}

// step runs one epoch of gradient descent and returns the loss and accuracy.
func (m *model) step() (loss, acc float64) {
	const lr = 0.5
	var gw [2]float64
	var gb float64
	n := float64(len(m.x))
	for i, x := range m.x {
		p := 1 / (1 + math.Exp(-(m.w[0]*x[0] + m.w[1]*x[1] + m.b)))
		loss -= m.y[i]*math.Log(p+1e-12) + (1-m.y[i])*math.Log(1-p+1e-12)
		if (p >= 0.5) == (m.y[i] == 1) {
			acc++
		}
		d := p - m.y[i]
		gw[0] += d * x[0]
		gw[1] += d * x[1]
		gb += d
	}
	m.w[0] -= lr * gw[0] / n
	m.w[1] -= lr * gw[1] / n
	m.b -= lr * gb / n
	return loss / n, acc / n
}
