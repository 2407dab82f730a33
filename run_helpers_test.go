package mlerr_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/mlerr/mlerr/internal/fakeclock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// safety bounds a wait for something the test made happen; it is a guard
// against a hang, never a timing assertion.
const safety = 20 * time.Second

// event is one callback call seen by a recorder.
type event struct {
	err error
	ts  time.Time
}

// recorder records the callbacks' calls.
type recorder struct {
	mu     sync.Mutex
	events map[string][]event
	order  []string
	seen   chan struct{} // receives after each event (non-blocking)
	hook   func(name string, err error)
}

func newRecorder() *recorder {
	return &recorder{events: map[string][]event{}, seen: make(chan struct{}, 1)}
}

func (rec *recorder) cb(name string) mlerr.Callback {
	return func(err error, ts time.Time) {
		rec.mu.Lock()
		rec.events[name] = append(rec.events[name], event{err, ts})
		rec.order = append(rec.order, name)
		hook := rec.hook
		rec.mu.Unlock()
		if hook != nil {
			hook(name, err)
		}
		select {
		case rec.seen <- struct{}{}:
		default:
		}
	}
}

func (rec *recorder) callbacks() mlerr.Callbacks {
	return mlerr.Callbacks{
		OnNetworkError: rec.cb("network"),
		OnWarning:      rec.cb("warning"),
		OnError:        rec.cb("error"),
		OnQueueFull:    rec.cb("full"),
	}
}

// errs returns the errors a callback received.
func (rec *recorder) errs(name string) []error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []error
	for _, e := range rec.events[name] {
		out = append(out, e.err)
	}
	return out
}

// count returns how many events of a callback matched target (nil: all).
func (rec *recorder) count(name string, target error) int {
	n := 0
	for _, err := range rec.errs(name) {
		if target == nil || errors.Is(err, target) {
			n++
		}
	}
	return n
}

// waitFor waits until a callback received an event matching target.
func (rec *recorder) waitFor(t *testing.T, name string, target error) error {
	t.Helper()
	deadline := time.After(safety)
	for {
		for _, err := range rec.errs(name) {
			if target == nil || errors.Is(err, target) {
				return err
			}
		}
		select {
		case <-rec.seen:
		case <-deadline:
			t.Fatalf("no %s event matching %v; got %v", name, target, rec.all())
			return nil
		}
	}
}

func (rec *recorder) all() map[string][]error {
	out := map[string][]error{}
	for _, n := range []string{"network", "warning", "error", "full"} {
		out[n] = rec.errs(n)
	}
	return out
}

// testPolicy retries fast on a fake clock: 3 attempts, 1 ms doubling to at
// most 8 ms, no jitter, no attempt timeout.
func testPolicy(clock mlerr.Clock) mlerr.Policy {
	return mlerr.Policy{
		MaxAttempts:    3,
		InitialDelay:   time.Millisecond,
		MaxDelay:       8 * time.Millisecond,
		NoJitter:       true,
		AttemptTimeout: mlerr.Off,
		MaxElapsed:     mlerr.Off,
		Clock:          clock,
	}
}

// fixture is a run on a fake backend with a fake clock and a recorder.
type fixture struct {
	t     *testing.T
	b     *fakebackend.Backend
	clock *fakeclock.Clock
	rec   *recorder
	run   *mlerr.Run
}

// newFixture starts a run; it checks for leaked goroutines at the end of
// the test. Batches leave only on Wait and Close (the interval is an hour),
// so that tests control them.
func newFixture(t *testing.T, opts ...mlerr.RunOption) *fixture {
	t.Helper()
	return newBare(t).start(opts...)
}

// newBare returns a fixture whose run is not started yet.
func newBare(t *testing.T) *fixture {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	return &fixture{t: t, b: fakebackend.New(), clock: fakeclock.New(), rec: newRecorder()}
}

func (f *fixture) start(opts ...mlerr.RunOption) *fixture {
	f.t.Helper()
	base := []mlerr.RunOption{
		mlerr.WithClock(f.clock),
		mlerr.WithRetryPolicy(testPolicy(f.clock)),
		mlerr.WithCallbacks(f.rec.callbacks()),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 1000, BatchBytes: 1 << 20, BatchInterval: time.Hour}),
		mlerr.WithLimits(mlerr.Limits{CloseTimeout: safety}),
	}
	run, err := mlerr.NewRun(context.Background(), f.b, append(base, opts...)...)
	require.NoError(f.t, err)
	f.run = run
	f.t.Cleanup(func() { run.Close(context.Background()) })
	return f
}

// close closes the run and returns its report.
func (f *fixture) close() (mlerr.Report, error) {
	f.t.Helper()
	return f.run.Close(context.Background())
}

// stored returns the items the fake stored for the run.
func (f *fixture) stored() []mlerr.Item {
	require.NoError(f.t, f.run.Started(context.Background()))
	return f.b.Items(f.run.ID())
}

// logSteps logs key at steps from..to-1, value = step.
func (f *fixture) logSteps(key string, from, to int64) {
	f.t.Helper()
	for s := from; s < to; s++ {
		require.NoError(f.t, f.run.LogMetrics(s, map[string]float64{key: float64(s)}))
	}
}

// steps returns the steps stored for a metric, in stored order.
func steps(items []mlerr.Item, key string) []int64 {
	var out []int64
	for _, it := range items {
		if it.Kind == mlerr.ItemMetric && it.Key == key {
			out = append(out, it.Step)
		}
	}
	return out
}

// seq returns from, from+1, ..., to-1.
func seq(from, to int64) []int64 {
	var out []int64
	for s := from; s < to; s++ {
		out = append(out, s)
	}
	return out
}

// keysOf returns the sorted keys of items.
func keysOf(items []mlerr.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	slices.Sort(out)
	return out
}

// memSpool is an in-memory Spool.
type memSpool struct {
	mu      sync.Mutex
	items   []mlerr.Item
	pushes  int
	failErr error // Push fails with it when set
	closed  bool
}

func (s *memSpool) Push(items []mlerr.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil {
		return s.failErr
	}
	s.pushes++
	s.items = append(s.items, items...)
	return nil
}

func (s *memSpool) Peek(max int) ([]mlerr.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items[:min(max, len(s.items))]), nil
}

func (s *memSpool) Ack(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = s.items[n:]
	return nil
}

func (s *memSpool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

func (s *memSpool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTextLogger logs as text without the time attribute.
func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

// realClock is the system's clock, for tests that need real time.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
