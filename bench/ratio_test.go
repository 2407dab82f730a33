package bench

import "testing"

// BenchmarkRatio measures mlerr's retry loop against each peer's with
// compare: interleaved batches, the median per-batch ratio as "mlerr/peer".
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
				ra, rb := byName["mlerr"], peer
				compare(b, func() {
					if err := ra.run(opA); err != nil {
						b.Fatal(err)
					}
				}, func() {
					if err := rb.run(opB); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}
