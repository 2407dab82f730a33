package bench

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkRatio measures mlerr against each peer in interleaved batches:
// a batch of mlerr calls, a batch of the peer's (in alternating order), and
// so on, and reports the median of the per-batch time ratios as
// "mlerr/peer". On a shared, noisy machine the two sides of every ratio see
// the same noise, which separate sub-benchmarks seconds apart do not.
func BenchmarkRatio(b *testing.B) {
	rs := runners()
	byName := map[string]runner{}
	for _, r := range rs {
		byName[r.name] = r
	}
	ok := func() error { return nil }
	for _, scenario := range []struct {
		name  string
		fails int
	}{{"Success", 0}, {"ThreeFailures", 3}} {
		for _, peer := range rs {
			if peer.name == "mlerr" || (scenario.fails > 0 && peer.name == "direct") {
				continue
			}
			b.Run(scenario.name+"/"+peer.name, func(b *testing.B) {
				opA, opB := ok, ok
				if scenario.fails > 0 {
					opA, _ = failThenSucceed(scenario.fails)
					opB, _ = failThenSucceed(scenario.fails)
				}
				b.ReportMetric(interleaved(b, byName["mlerr"], opA, peer, opB), "mlerr/peer")
			})
		}
	}
}

// interleaved runs b.N calls of each runner in alternating batches and
// returns the median ratio of a's batch time to b's.
func interleaved(b *testing.B, ra runner, opA func() error, rb runner, opB func() error) float64 {
	const batch = 2000
	var ratios []float64
	run := func(r runner, op func() error, n int) time.Duration {
		start := time.Now()
		for range n {
			if err := r.run(op); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; i++ {
		n := min(batch, b.N-done)
		var ta, tb time.Duration
		if i%2 == 0 {
			ta, tb = run(ra, opA, n), run(rb, opB, n)
		} else {
			tb, ta = run(rb, opB, n), run(ra, opA, n)
		}
		ratios = append(ratios, float64(ta)/float64(tb))
		done += n
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2]
}
