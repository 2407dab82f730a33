package mlerr_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/mlerr/mlerr/internal/fakeclock"
)

// FuzzRunLogMetrics logs a sequence of points decoded from the input and
// checks the Run's accounting: every entry is either stored once, rejected
// (and named in the error), or a duplicate; steps stored per key never go
// down.
func FuzzRunLogMetrics(f *testing.F) {
	f.Add([]byte{0, 1, 2, 0, 1, 2, 1, 0, 0})
	f.Add([]byte{3, 9, 9, 3, 9, 9, 3, 8, 1, 4, 0, 255})
	f.Add([]byte{5, 1, 1, 6, 2, 2, 7, 3, 3})
	keys := []string{"loss", "acc", "a/b", "bad key!", "", "x//y", "lösung", "lr"}
	values := []float64{0, 1, -1, 0.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e300}
	f.Fuzz(func(t *testing.T, data []byte) {
		clock := fakeclock.New()
		backend := fakebackend.New()
		run, err := mlerr.NewRun(context.Background(), backend, mlerr.WithClock(clock), mlerr.WithRules(mlerr.StrictSeriesRules),
			mlerr.WithLimits(mlerr.Limits{BatchItems: 3, BatchBytes: 1 << 20, BatchInterval: 1 << 40}), mlerr.WithLimits(mlerr.Limits{EventBurst: -1}),
			mlerr.WithCallbacks(mlerr.Callbacks{OnError: func(error, time.Time) {}, OnWarning: func(error, time.Time) {}}))
		if err != nil {
			t.Fatal(err)
		}
		var queued, rejected int64
		for i := 0; i+2 < len(data); i += 3 {
			key := keys[int(data[i])%len(keys)]
			step := int64(data[i+1] % 16)
			v := values[int(data[i+2])%len(values)]
			before := run.Health()
			err := run.LogMetrics(step, map[string]float64{key: v})
			after := run.Health()
			switch {
			case err != nil:
				rejected++
				var be *mlerr.BatchError[mlerr.Item]
				if !errors.As(err, &be) || len(be.Failed()) != 1 || be.Failed()[0].Key != key || !errors.Is(err, mlerr.ErrInvalidValue) {
					t.Fatalf("LogMetrics(%d, %q: %v) = %v: not a BatchError naming the key", step, key, v, err)
				}
			case after.Logged > before.Logged:
				queued++
			}
		}
		rep, err := run.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Logged != queued || rep.Sent != queued || rep.Invalid != rejected {
			t.Fatalf("report %+v, want %d queued and sent, %d rejected", rep, queued, rejected)
		}
		last := map[string]int64{}
		for _, it := range backend.Items(rep.RunID) {
			if s, ok := last[it.Key]; ok && it.Step < s {
				t.Fatalf("%q stored step %d after %d", it.Key, it.Step, s)
			}
			last[it.Key] = it.Step
		}
	})
}
