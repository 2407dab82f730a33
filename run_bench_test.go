package mlerr_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
)

// Benchmarks of the Run's hot path. Compare with benchstat:
//
//	go test -run '^$' -bench 'Baseline|LogMetrics|Throughput' -benchmem -count 6 . | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt
//
// BenchmarkBaselineMutexAppend is the floor the issue names (an uncontended
// mutex and an append of an Item); quote LogMetrics as a ratio of it.

// benchRun starts a run on a discarding fake backend.
func benchRun(b *testing.B, backend mlerr.Backend, opts ...mlerr.RunOption) *mlerr.Run {
	b.Helper()
	quiet := func(error, time.Time) {}
	opts = append([]mlerr.RunOption{mlerr.WithCallbacks(mlerr.Callbacks{
		OnNetworkError: quiet, OnWarning: quiet, OnError: quiet, OnQueueFull: quiet})}, opts...)
	run, err := mlerr.NewRun(context.Background(), backend, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := run.Started(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		run.Close(ctx)
	})
	return run
}

// BenchmarkBaselineMutexAppend: lock, append an Item to a reused slice,
// unlock; what LogMetrics cannot beat.
func BenchmarkBaselineMutexAppend(b *testing.B) {
	var mu sync.Mutex
	buf := make([]mlerr.Item, 0, 4096)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		mu.Lock()
		if len(buf) == cap(buf) {
			buf = buf[:0]
		}
		buf = append(buf, mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: float64(i), Step: int64(i), Time: now})
		mu.Unlock()
	}
}

// BenchmarkBaselineMutexAppendNow adds the clock read every call makes to
// stamp its points: on a VM whose clock is slow to read it dominates.
func BenchmarkBaselineMutexAppendNow(b *testing.B) {
	var mu sync.Mutex
	buf := make([]mlerr.Item, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now := time.Now()
		mu.Lock()
		if len(buf) == cap(buf) {
			buf = buf[:0]
		}
		buf = append(buf, mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: float64(i), Step: int64(i), Time: now})
		mu.Unlock()
	}
}

// latencies records the duration of each call of a loop, keeping the
// maximum of the calls it cannot store.
type latencies []time.Duration

func (l *latencies) add(i int, d time.Duration) {
	if len(*l) < cap(*l) {
		*l = append(*l, d)
		return
	}
	j := i % len(*l)
	(*l)[j] = max((*l)[j], d)
}

// report reports the slowest call (max-ns) and the 99.9th percentile.
func (l latencies) report(b *testing.B) {
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(float64(l[len(l)*999/1000].Nanoseconds()), "p99.9-ns")
}

// BenchmarkBaselineLatency times each mutex+append+clock read the way
// BenchmarkLogMetricsOutage times each call: its max-ns is what the machine
// alone (scheduling, other tenants) adds to any call.
func BenchmarkBaselineLatency(b *testing.B) {
	var mu sync.Mutex
	buf := make([]mlerr.Item, 0, 4096)
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		mu.Lock()
		if len(buf) == cap(buf) {
			buf = buf[:0]
		}
		buf = append(buf, mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: float64(i), Step: int64(i), Time: t0})
		mu.Unlock()
		lat.add(i, time.Since(t0))
	}
	b.StopTimer()
	lat.report(b)
}

func BenchmarkLogMetrics1Key(b *testing.B) {
	run := benchRun(b, fb.NewDiscard())
	m := map[string]float64{"loss": 0}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m["loss"] = float64(i)
		if err := run.LogMetrics(int64(i), m); err != nil {
			b.Fatal(err)
		}
	}
	reportDrops(b, run)
}

// reportDrops reports the share of points the full queue dropped: the
// sender not keeping up with a tight logging loop.
func reportDrops(b *testing.B, run *mlerr.Run) {
	h := run.Health()
	b.ReportMetric(float64(h.Dropped.QueueFull)/float64(max(1, h.Sent+h.Dropped.QueueFull+int64(h.Queued))), "dropped/point")
}

func BenchmarkLogMetrics10Keys(b *testing.B) {
	run := benchRun(b, fb.NewDiscard())
	m := map[string]float64{}
	for k := range 10 {
		m[fmt.Sprintf("train/metric_%d", k)] = 0
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := run.LogMetrics(int64(i), m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogMetricsParallel8 logs 1 key per call from 8 goroutines at
// once (each its own key); ns/op is per call, to compare with
// BenchmarkLogMetrics1Key.
func BenchmarkLogMetricsParallel8(b *testing.B) {
	run := benchRun(b, fb.NewDiscard())
	var id atomic.Int32
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		m := map[string]float64{fmt.Sprintf("worker_%d", id.Add(1)): 0}
		for step := int64(0); pb.Next(); step++ {
			if err := run.LogMetrics(step, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	reportDrops(b, run)
}

// BenchmarkLogMetricsOutage logs while the backend refuses every connection
// and the queue is full under DropOldest: every call drops the oldest
// point. It reports the slowest call (max-ns) and the 99.9th percentile.
func BenchmarkLogMetricsOutage(b *testing.B) {
	backend := fb.New()
	backend.Inject(fb.Write, -1, fb.Refused())
	run := benchRun(b, backend,
		mlerr.WithQueueLimits(10_000, 64<<20),
		mlerr.WithFullPolicy(mlerr.DropOldest()),
		mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 3, InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}))
	m := map[string]float64{"loss": 0}
	step := int64(0)
	for range 20_000 { // fill the queue
		step++
		run.LogMetrics(step, m)
	}
	lat := make(latencies, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		step++
		m["loss"] = float64(step)
		t0 := time.Now()
		run.LogMetrics(step, m)
		lat.add(i, time.Since(t0))
	}
	b.StopTimer()
	if h := run.Health(); h.Dropped.QueueFull == 0 || !h.Outage {
		b.Fatalf("the backend was not down with the queue full: %+v", h)
	}
	lat.report(b)
}

// BenchmarkThroughput logs 10 points per call into a discarding backend and
// waits until the backend has them all; it reports points per second end to
// end (queue, batches, sender).
func BenchmarkThroughput(b *testing.B) {
	backend := fb.NewDiscard()
	run := benchRun(b, backend, mlerr.WithQueueLimits(1_000_000, 256<<20))
	m := map[string]float64{}
	for k := range 10 {
		m[fmt.Sprintf("train/metric_%d", k)] = 0
	}
	b.ReportAllocs()
	start := time.Now()
	step := int64(0)
	for b.Loop() {
		step++
		if err := run.LogMetrics(step, m); err != nil {
			b.Fatal(err)
		}
	}
	if err := run.Wait(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if got, want := backend.Discarded(), step*10; got != want {
		b.Fatalf("backend got %d points, want %d", got, want)
	}
	b.ReportMetric(float64(step*10)/elapsed.Seconds(), "points/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(step*10), "ns/point")
}

// BenchmarkOutageMemory logs a million points into a run whose backend is
// down, with a queue of 10,000 items, and reports the heap in use at the end:
// memory is bounded by the queue limits, not by the outage's length.
func BenchmarkOutageMemory(b *testing.B) {
	for b.Loop() {
		backend := fb.New()
		backend.Inject(fb.Write, -1, fb.Refused())
		run := benchRun(b, backend, mlerr.WithQueueLimits(10_000, 64<<20),
			mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 2, InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := map[string]float64{"a": 0, "b": 0, "c": 0, "d": 0}
		for s := int64(0); s < 250_000; s++ {
			run.LogMetrics(s, m)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MiB")
		b.ReportMetric(float64(run.Health().Queued), "queued")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		run.Close(ctx)
		cancel()
	}
}
