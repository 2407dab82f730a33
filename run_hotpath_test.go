package mlerr_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakebackend"
)

// TestRunOneEntryMaps: a call with a one-entry map looks up the key it saw
// last in that map instead of ranging over it. Whatever happens to the map
// between calls (its key replaced, a new map at the same place, maps of
// other goroutines, more maps than the run remembers), every point is
// logged under its own key, and a bad point is rejected with its key named.
func TestRunOneEntryMaps(t *testing.T) {
	type point struct {
		key  string
		step int64
	}
	tests := []struct {
		name string
		log  func(t *testing.T, run *mlerr.Run) // logs; asserts what each call returns
		want []point                            // stored, in order, per key
	}{
		{"one map reused", func(t *testing.T, run *mlerr.Run) {
			m := map[string]float64{"loss": 0}
			for s := int64(0); s < 5; s++ {
				m["loss"] = float64(s)
				require.NoError(t, run.LogMetrics(s, m))
			}
		}, []point{{"loss", 0}, {"loss", 1}, {"loss", 2}, {"loss", 3}, {"loss", 4}}},
		{"the map's key replaced", func(t *testing.T, run *mlerr.Run) {
			m := map[string]float64{"a": 0}
			require.NoError(t, run.LogMetrics(0, m))
			require.NoError(t, run.LogMetrics(1, m))
			delete(m, "a")
			m["b"] = 1
			require.NoError(t, run.LogMetrics(1, m))
			require.NoError(t, run.LogMetrics(2, m))
			delete(m, "b")
			m["a"] = 9
			require.NoError(t, run.LogMetrics(3, m))
		}, []point{{"a", 0}, {"a", 1}, {"a", 3}, {"b", 1}, {"b", 2}}},
		{"a literal per call, keys alternating", func(t *testing.T, run *mlerr.Run) {
			for s := int64(0); s < 6; s++ {
				key := "even"
				if s%2 == 1 {
					key = "odd"
				}
				require.NoError(t, run.LogMetrics(s, map[string]float64{key: float64(s)}))
			}
		}, []point{{"even", 0}, {"even", 2}, {"even", 4}, {"odd", 1}, {"odd", 3}, {"odd", 5}}},
		{"the map grows and shrinks", func(t *testing.T, run *mlerr.Run) {
			m := map[string]float64{"a": 0}
			require.NoError(t, run.LogMetrics(0, m))
			m["b"] = 0
			require.NoError(t, run.LogMetrics(1, m))
			delete(m, "a")
			require.NoError(t, run.LogMetrics(2, m))
			require.NoError(t, run.LogMetrics(3, m))
		}, []point{{"a", 0}, {"a", 1}, {"b", 1}, {"b", 2}, {"b", 3}}},
		{"more maps than the run remembers", func(t *testing.T, run *mlerr.Run) {
			maps := make([]map[string]float64, 20)
			for i := range maps {
				maps[i] = map[string]float64{fmt.Sprintf("k%02d", i): 0}
			}
			for s := int64(0); s < 3; s++ {
				for _, m := range maps {
					require.NoError(t, run.LogMetrics(s, m))
				}
			}
		}, func() []point {
			var out []point
			for i := range 20 {
				for s := int64(0); s < 3; s++ {
					out = append(out, point{fmt.Sprintf("k%02d", i), s})
				}
			}
			return out
		}()},
		{"rejections name the key", func(t *testing.T, run *mlerr.Run) {
			m := map[string]float64{"loss": 0}
			require.NoError(t, run.LogMetrics(5, m))
			m["loss"] = math.NaN()
			err := run.LogMetrics(6, m)
			require.ErrorIs(t, err, mlerr.ErrNonFiniteValue)
			assert.Contains(t, err.Error(), `metric "loss"`)
			var be *mlerr.BatchError[mlerr.Item]
			require.ErrorAs(t, err, &be)
			require.Len(t, be.Failures, 1)
			assert.Equal(t, 0, be.Failures[0].Index)
			assert.Equal(t, "loss", be.Failures[0].Item.Key)
			m["loss"] = 1
			require.ErrorIs(t, run.LogMetrics(4, m), mlerr.ErrStepNotIncreasing)
			require.NoError(t, run.LogMetrics(7, m))
			require.NoError(t, run.LogMetrics(7, m), "a duplicate point is no error")
			m["bad key!"] = 1
			delete(m, "loss")
			require.ErrorIs(t, run.LogMetrics(8, m), mlerr.ErrInvalidName)
		}, []point{{"loss", 5}, {"loss", 7}}},
		{"goroutines with a map each", func(t *testing.T, run *mlerr.Run) {
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := map[string]float64{fmt.Sprintf("w%d", w): 0}
					for s := int64(0); s < 200; s++ {
						assert.NoError(t, run.LogMetrics(s, m))
					}
				}()
			}
			wg.Wait()
		}, func() []point {
			var out []point
			for w := range 4 {
				for s := int64(0); s < 200; s++ {
					out = append(out, point{fmt.Sprintf("w%d", w), s})
				}
			}
			return out
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules))
			tt.log(t, f.run)
			require.NoError(t, f.run.Wait(context.Background()))
			want := map[string][]int64{}
			for _, p := range tt.want {
				want[p.key] = append(want[p.key], p.step)
			}
			got := map[string][]int64{}
			for _, it := range f.stored() {
				got[it.Key] = append(got[it.Key], it.Step)
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestRunWakesTheSenderForEveryFullBatch: a log call wakes the sender once
// per full batch (not once per call); each batch that fills after the
// sender took the last one wakes it again, so full batches leave without
// waiting for the batching interval (an hour here) or a flush.
func TestRunWakesTheSenderForEveryFullBatch(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{BatchItems: 10, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	require.NoError(t, f.run.Started(context.Background()))
	m := map[string]float64{"loss": 0}
	step := int64(0)
	for round := 1; round <= 5; round++ {
		for range 10 {
			m["loss"] = float64(step)
			require.NoError(t, f.run.LogMetrics(step, m))
			step++
		}
		waitSent(t, f.run, int64(10*round))
	}
	// A partial batch waits for the interval (or Wait, Close).
	for range 5 {
		require.NoError(t, f.run.LogMetrics(step, m))
		step++
	}
	h := f.run.Health()
	assert.Equal(t, int64(50), h.Sent)
	assert.Equal(t, 5, h.Queued+h.InFlight)
	rec, _ := f.b.Run(f.run.ID())
	assert.Len(t, rec.Seqs, 5, "five full batches, each sent whole")
}

// waitSent waits until the run's backend acknowledged n items: a guard
// against a hang (safety), not a timing assertion.
func waitSent(t *testing.T, run *mlerr.Run, n int64) {
	t.Helper()
	deadline := time.Now().Add(safety)
	for run.Health().Sent < n {
		if time.Now().After(deadline) {
			t.Fatalf("the backend has %d items, want %d: the sender was not woken", run.Health().Sent, n)
		}
		runtime.Gosched()
	}
}

func TestRunLogMetric(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules))
	for s := int64(0); s < 3; s++ {
		require.NoError(t, f.run.LogMetric("loss", float64(s), s))
		require.NoError(t, f.run.LogMetric("acc", float64(s)/10, s))
	}
	err := f.run.LogMetric("loss", 1, 1)
	require.ErrorIs(t, err, mlerr.ErrStepNotIncreasing)
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "loss", be.Failures[0].Item.Key)
	assert.ErrorIs(t, f.run.LogMetric("bad key!", 1, 1), mlerr.ErrInvalidName)
	rep, cerr := f.close()
	require.NoError(t, cerr)
	assert.Equal(t, seq(0, 3), steps(f.b.Items(rep.RunID), "loss"))
	assert.Equal(t, seq(0, 3), steps(f.b.Items(rep.RunID), "acc"))
	assert.Equal(t, int64(2), rep.Invalid)
}

// TestRunFullQueueAllocatesNothing: with the queue full (as in an
// outage), a log call drops the oldest point and queues the new one without
// allocating (a dropped point passed to a func value once escaped to the
// heap: 80 bytes a call through a whole outage). Each call of the first
// measured is a drop.
func TestRunFullQueueAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	// The backend refuses every write and the fake clock never ends the
	// sender's backoff: the first batch stays pending, the queue fills.
	f := newBare(t)
	f.b.Inject(fakebackend.Write, -1, fakebackend.Refused())
	f.start(mlerr.WithLimits(mlerr.Limits{QueueItems: 100, QueueBytes: 1 << 20, BatchItems: 50}),
		mlerr.WithFullPolicy(mlerr.DropOldest()))
	run := f.run
	one := map[string]float64{"loss": 0}
	ten := map[string]float64{}
	for k := range 10 {
		ten[fmt.Sprintf("m%d", k)] = 0
	}
	step := int64(0)
	for range 2000 { // fill the queue; the loss record reaches its bound
		step++
		require.NoError(t, run.LogMetrics(step, one))
	}
	for name, m := range map[string]map[string]float64{"one key": one, "ten keys": ten} {
		allocs := testing.AllocsPerRun(500, func() {
			step++
			_ = run.LogMetrics(step, m)
		})
		assert.Zero(t, allocs, name)
	}
	assert.Positive(t, run.Health().Dropped.QueueFull)
	run.Terminate() // the backend never takes a write: no point in Close's wait
}
