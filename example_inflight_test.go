package mlerr_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/localstore"
)

// Four batches in flight: metric points may be stored out of order (a
// metric's history is ordered by step and time stamp), while the writes of
// one tag key are never in flight together, so its last value wins. The
// Runs sharing the policy's Budget share one window, which a 429 or 503
// halves and healthy writes raise again.
func ExampleLimits_inFlight() {
	dir, _ := os.MkdirTemp("", "inflight")
	defer os.RemoveAll(dir)
	store, err := localstore.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	policy := mlerr.DefaultPolicy()
	policy.Budget = mlerr.NewBudget(0.1, 100) // share it between the runs of a process
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, store, mlerr.WithRetryPolicy(policy),
		mlerr.WithLimits(mlerr.Limits{InFlight: 4, BatchItems: 100, BatchBytes: 1 << 20}))
	if err != nil {
		fmt.Println(err)
		return
	}
	for step := int64(0); step < 1000; step++ {
		run.LogMetrics(step, map[string]float64{"loss": 1 / float64(step+1)})
		if step%250 == 0 {
			run.SetTags(map[string]string{"phase": fmt.Sprint(step / 250)})
		}
	}
	fmt.Println("window:", run.Health().InFlightWindow)
	report, err := run.Close(ctx)
	fmt.Println(report.Status, report.Sent, err)

	_, err = mlerr.NewRun(ctx, store, mlerr.WithLimits(mlerr.Limits{InFlight: 100}))
	fmt.Println(err)
	// Output:
	// window: 4
	// FINISHED 1004 <nil>
	// INVALID_PARAMETER_VALUE: WithLimits: InFlight must be at most 64, got 100
}
