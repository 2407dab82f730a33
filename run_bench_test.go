package mlerr_test

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
)

// Benchmarks of the Run's hot path. Run six interleaved rounds (a noisy
// machine then hits baselines and candidates alike) and compare with
// benchstat:
//
//	go test -c -o /tmp/mlerr.test . && for i in 1 2 3 4 5 6; do /tmp/mlerr.test -test.run '^$' -test.bench '^Benchmark(Baseline.*|LogMetrics.*|Throughput|OutageMemory)$' -test.benchmem; done | tee run.txt
//	go run golang.org/x/perf/cmd/benchstat@latest run.txt
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

// latencyHist counts call durations in buckets 1/32 of a power of two
// wide (below 32 ns, 1 ns wide): with any number of calls and no
// allocation, it keeps the exact maximum and percentiles within 3%.
type latencyHist struct {
	counts [2048]int64
	n      int64
	sum    time.Duration
	max    time.Duration
}

func (h *latencyHist) add(d time.Duration) {
	d = max(d, 0)
	h.n++
	h.sum += d
	h.max = max(h.max, d)
	h.counts[latencyBucket(d)]++
}

// latencyBucket: v below 32 is its own bucket; above, the bucket is set by
// v's bit length and the 5 bits after its leading one.
func latencyBucket(d time.Duration) int {
	v := uint64(d)
	if v < 32 {
		return int(v)
	}
	shift := bits.Len64(v) - 6
	return shift*32 + int(v>>shift)
}

// quantile returns the middle of the bucket holding the q-quantile.
func (h *latencyHist) quantile(q float64) time.Duration {
	rank := int64(math.Ceil(q * float64(h.n)))
	seen := int64(0)
	for b, c := range h.counts {
		if seen += c; seen >= rank && c > 0 {
			if b < 32 {
				return time.Duration(b)
			}
			shift := b/32 - 1
			low := uint64(b%32+32) << shift
			return time.Duration(low + (uint64(1)<<shift)/2)
		}
	}
	return h.max
}

// report reports the slowest call and the 99.9th percentile, with the
// unit's prefix (max-ns, p99.9-ns; base-max-ns, ... for a baseline).
func (h *latencyHist) report(b *testing.B, prefix string) {
	b.ReportMetric(float64(h.max.Nanoseconds()), prefix+"max-ns")
	b.ReportMetric(float64(h.quantile(0.999).Nanoseconds()), prefix+"p99.9-ns")
}

// baselineOp is what the latency baselines time: lock, append an Item
// stamped with the clock read that starts the timing, unlock; no library
// code.
type baselineOp struct {
	mu  sync.Mutex
	buf []mlerr.Item
}

func newBaselineOp() *baselineOp { return &baselineOp{buf: make([]mlerr.Item, 0, 4096)} }

func (o *baselineOp) do(i int, now time.Time) {
	o.mu.Lock()
	if len(o.buf) == cap(o.buf) {
		o.buf = o.buf[:0]
	}
	o.buf = append(o.buf, mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: float64(i), Step: int64(i), Time: now})
	o.mu.Unlock()
}

// BenchmarkBaselineLatency times each mutex+append+clock read the way
// BenchmarkLogMetricsOutage times each call: its max-ns is what the machine
// alone (scheduling, other tenants) adds to any call.
func BenchmarkBaselineLatency(b *testing.B) {
	op := newBaselineOp()
	var lat latencyHist
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		op.do(i, t0)
		lat.add(time.Since(t0))
	}
	b.StopTimer()
	lat.report(b, "")
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

// BenchmarkLogMetric logs one metric per call with LogMetric: no map.
func BenchmarkLogMetric(b *testing.B) {
	run := benchRun(b, fb.NewDiscard())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := run.LogMetric("loss", float64(i), int64(i)); err != nil {
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

// BenchmarkLogMetrics1KeyLiteral builds the map in the call, as training
// code does: the map does not escape, so it costs no allocation either.
func BenchmarkLogMetrics1KeyLiteral(b *testing.B) {
	run := benchRun(b, fb.NewDiscard())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := run.LogMetrics(int64(i), map[string]float64{"loss": float64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	reportDrops(b, run)
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
// point. Each iteration times one LogMetrics call and, right after, one
// operation of BenchmarkBaselineLatency (no library code), so that both
// meet the same machine at the same moments: it reports the slowest call
// and the 99.9th percentile of each (max-ns, p99.9-ns; base-max-ns,
// base-p99.9-ns) and the mean LogMetrics call (call-ns). ns/op is the
// pair's.
func BenchmarkLogMetricsOutage(b *testing.B) {
	backend := fb.New()
	backend.Inject(fb.Write, -1, fb.Refused())
	run := benchRun(b, backend,
		mlerr.WithLimits(mlerr.Limits{QueueItems: 10_000, QueueBytes: 64 << 20}),
		mlerr.WithFullPolicy(mlerr.DropOldest()),
		mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 3, InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}))
	m := map[string]float64{"loss": 0}
	step := int64(0)
	for range 20_000 { // fill the queue
		step++
		run.LogMetrics(step, m)
	}
	op := newBaselineOp()
	var lat, base latencyHist
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		step++
		m["loss"] = float64(step)
		t0 := time.Now()
		run.LogMetrics(step, m)
		t1 := time.Now()
		op.do(i, t1)
		t2 := time.Now()
		lat.add(t1.Sub(t0))
		base.add(t2.Sub(t1))
	}
	b.StopTimer()
	if h := run.Health(); h.Dropped.QueueFull == 0 || !h.Outage {
		b.Fatalf("the backend was not down with the queue full: %+v", h)
	}
	lat.report(b, "")
	base.report(b, "base-")
	b.ReportMetric(float64(lat.sum.Nanoseconds())/float64(lat.n), "call-ns")
}

// BenchmarkLogMetricsOutageFill logs into a run whose backend is down from
// the first point until its queue (the default, 100,000 items) is full and
// a little beyond: the calls that make the queue grow are among those
// timed. Each iteration is one such run; each call is followed by a timed
// baseline operation, as in BenchmarkLogMetricsOutage, and the same
// metrics are reported.
func BenchmarkLogMetricsOutageFill(b *testing.B) {
	op := newBaselineOp()
	var lat, base latencyHist
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		backend := fb.New()
		backend.Inject(fb.Write, -1, fb.Refused())
		quiet := func(error, time.Time) {}
		run, err := mlerr.NewRun(context.Background(), backend,
			mlerr.WithCallbacks(mlerr.Callbacks{OnNetworkError: quiet, OnWarning: quiet, OnError: quiet, OnQueueFull: quiet}),
			mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 3, InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}))
		if err != nil {
			b.Fatal(err)
		}
		m := map[string]float64{"loss": 0}
		b.StartTimer()
		for i := range 100_000 + 20_000 {
			m["loss"] = float64(i)
			t0 := time.Now()
			run.LogMetrics(int64(i), m)
			t1 := time.Now()
			op.do(i, t1)
			t2 := time.Now()
			lat.add(t1.Sub(t0))
			base.add(t2.Sub(t1))
		}
		b.StopTimer()
		if h := run.Health(); h.Dropped.QueueFull == 0 {
			b.Fatalf("the queue did not fill: %+v", h)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		run.Close(ctx)
		cancel()
		b.StartTimer()
	}
	b.StopTimer()
	lat.report(b, "")
	base.report(b, "base-")
	b.ReportMetric(float64(lat.sum.Nanoseconds())/float64(lat.n), "call-ns")
}

// BenchmarkThroughput logs 10 points per call into a discarding backend and
// waits until the backend has them all; it reports points per second end to
// end (queue, batches, sender). The Block policy holds the logging loop to
// the sender's pace, so that nothing is dropped and the figure is what the
// backend receives.
func BenchmarkThroughput(b *testing.B) {
	backend := fb.NewDiscard()
	run := benchRun(b, backend, mlerr.WithFullPolicy(mlerr.Block(0)))
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
		run := benchRun(b, backend, mlerr.WithLimits(mlerr.Limits{QueueItems: 10_000, QueueBytes: 64 << 20}),
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

// TestLatencyHist: the benchmarks' histogram keeps the exact maximum and
// gives percentiles within 3% of the exact ones.
func TestLatencyHist(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 10, 1000, 100_000} {
		var h latencyHist
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(rng.ExpFloat64() * 1e4 * float64(1+rng.IntN(100))) // ns to ms, long tail
			h.add(ds[i])
		}
		slices.Sort(ds)
		if h.max != ds[n-1] {
			t.Errorf("n=%d: max %v, want %v", n, h.max, ds[n-1])
		}
		for _, q := range []float64{0.5, 0.99, 0.999} {
			exact := ds[int(math.Ceil(q*float64(n)))-1]
			got := h.quantile(q)
			if off := math.Abs(float64(got - exact)); off > 1 && off/float64(exact) > 0.035 {
				t.Errorf("n=%d: q%v = %v, exact %v (%.1f%% off)", n, q, got, exact, off/float64(exact)*100)
			}
		}
	}
}
