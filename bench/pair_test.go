package bench

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// pairTarget is how long one batch of one side should take: long enough to
// dwarf the cost of reading the clock, short enough that the two sides of a
// ratio alternate many times within a scheduler time slice's worth of noise.
const pairTarget = 200 * time.Microsecond

// compare runs b.N calls of ours and b.N calls of peer in alternating
// batches (ours first in even batches, peer first in odd ones) and reports:
//
//   - mlerr/peer: the median of the per-batch time ratios (below 1: mlerr
//     is faster). On a shared, noisy machine the two sides of each ratio
//     see the same noise, which separate benchmarks seconds apart do not.
//   - mlerr-ns/op, peer-ns/op: each side's mean time per call, for context.
//   - mlerr-allocs/op, peer-allocs/op, mlerr-B/op, peer-B/op: measured once
//     per benchmark name, outside the timed loop.
//
// The benchmark's own ns/op is the two sides together and means nothing on
// its own.
func compare(b *testing.B, ours, peer func()) {
	b.Helper()
	ours() // warm both up: lazily built tables, first-use allocations
	peer()
	a := allocsOf(b.Name(), ours, peer)
	n := batchSize(ours, peer)
	var ratios []float64
	var sumOurs, sumPeer time.Duration
	run := func(f func(), n int) time.Duration {
		start := time.Now()
		for range n {
			f()
		}
		return time.Since(start)
	}
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; i++ {
		k := min(n, b.N-done)
		var to, tp time.Duration
		if i%2 == 0 {
			to, tp = run(ours, k), run(peer, k)
		} else {
			tp, to = run(peer, k), run(ours, k)
		}
		sumOurs += to
		sumPeer += tp
		if tp > 0 {
			ratios = append(ratios, float64(to)/float64(tp))
		}
		done += k
	}
	b.StopTimer()
	if len(ratios) == 0 {
		b.Fatal("no batch was timed")
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "mlerr/peer")
	b.ReportMetric(float64(sumOurs.Nanoseconds())/float64(b.N), "mlerr-ns/op")
	b.ReportMetric(float64(sumPeer.Nanoseconds())/float64(b.N), "peer-ns/op")
	b.ReportMetric(a.oursAllocs, "mlerr-allocs/op")
	b.ReportMetric(a.peerAllocs, "peer-allocs/op")
	b.ReportMetric(a.oursBytes, "mlerr-B/op")
	b.ReportMetric(a.peerBytes, "peer-B/op")
}

// batchSize is how many calls of each side make one batch: the number of
// calls of the slower side that take about pairTarget (at least 1).
func batchSize(ours, peer func()) int {
	slower := max(timeOne(ours), timeOne(peer))
	if slower <= 0 {
		slower = 1
	}
	return max(1, int(pairTarget/slower))
}

// timeOne estimates the time of one call of f from a run of at least 50 µs.
func timeOne(f func()) time.Duration {
	for n := 1; ; n *= 4 {
		start := time.Now()
		for range n {
			f()
		}
		if d := time.Since(start); d >= 50*time.Microsecond || n >= 1<<20 {
			return d / time.Duration(n)
		}
	}
}

type allocCounts struct{ oursAllocs, peerAllocs, oursBytes, peerBytes float64 }

var (
	allocsMu    sync.Mutex
	allocsCache = map[string]allocCounts{}
)

// allocsOf returns the allocations per call of each side, measured the first
// time a benchmark name asks (b.Run calls a benchmark several times as it
// grows b.N; -count repeats it).
func allocsOf(name string, ours, peer func()) allocCounts {
	allocsMu.Lock()
	defer allocsMu.Unlock()
	if a, ok := allocsCache[name]; ok {
		return a
	}
	var a allocCounts
	a.oursAllocs, a.oursBytes = allocsPerCall(ours)
	a.peerAllocs, a.peerBytes = allocsPerCall(peer)
	allocsCache[name] = a
	return a
}

// allocsPerCall measures f's mean allocations and bytes per call over a run
// of up to 1000 calls or about 20 ms, whichever comes first.
func allocsPerCall(f func()) (allocs, bytes float64) {
	n := max(1, min(1000, int(20*time.Millisecond/max(timeOne(f), 1))))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(n),
		float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}
