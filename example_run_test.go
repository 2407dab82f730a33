package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlerrtest"
)

// The backend here is the in-memory one of package mlerrtest; a real
// program passes the MLflow backend (package mlflow) or the local store
// (package localstore).
func ExampleNewRun() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	run, err := mlerr.NewRun(ctx, backend,
		mlerr.WithExperiment("mnist"),
		mlerr.WithRunName("baseline"),
	)
	if err != nil { // only invalid options fail here
		fmt.Println(err)
		return
	}
	if err := run.LogParams(map[string]string{"lr": "0.01", "epochs": "3"}); err != nil {
		fmt.Println(err)
	}
	for step := int64(0); step < 100; step++ {
		// Never blocks on the network; invalid entries come back at once.
		if err := run.LogMetrics(step, map[string]float64{"loss": 1 / float64(step+1)}); err != nil {
			fmt.Println(err)
		}
	}
	report, err := run.Close(ctx) // flush, end the run, stop the goroutines
	fmt.Println(report.Status, report.Sent, err)
	// Output: FINISHED 102 <nil>
}

// A log call rejects invalid entries with an error naming each one, logs
// the rest, and sends the same error to OnError. Here the run checks
// entries with strict rules (MLflow's would store NaN and a lower step).
func ExampleRun_LogMetrics() {
	ctx := context.Background()
	var lost []string // callbacks run on the run's own goroutine, one at a time
	run, _ := mlerr.NewRun(ctx, mlerrtest.NewBackend(), mlerr.WithRules(mlerr.StrictSeriesRules), mlerr.WithCallbacks(mlerr.Callbacks{
		OnError: func(err error, ts time.Time) { lost = append(lost, mlerr.LostItems(err)[0].Key) },
	}))
	run.LogMetrics(1, map[string]float64{"loss": 0.5})
	err := run.LogMetrics(2, map[string]float64{"loss": math.NaN(), "acc": 0.9})
	fmt.Println(err)
	fmt.Println(errors.Is(err, mlerr.ErrNonFiniteValue))

	err = run.LogMetrics(1, map[string]float64{"loss": 0.4, "acc": 0.8})
	var be *mlerr.BatchError[mlerr.Item]
	if errors.As(err, &be) {
		fmt.Println(errors.Is(err, mlerr.ErrStepNotIncreasing), be.Failed()[0].Key, be.Failed()[0].Step)
	}
	report, _ := run.Close(ctx) // the callbacks have run when Close returns
	fmt.Println("OnError saw:", lost)
	fmt.Println(report.Sent, report.Invalid)
	// Output:
	// INVALID_PARAMETER_VALUE: metric "loss": value NaN is not finite (the rules reject NaN and ±Inf): 1 of 2 items failed: 1 x non-finite value
	// true
	// true acc 1
	// OnError saw: [loss acc]
	// 3 2
}

// By default a Run checks entries with its backend's rules, MLflow's when
// the backend declares none: NaN and ±Inf are logged, in any step order;
// WithRules changes a rule, or makes them all strict.
func ExampleWithRules() {
	ctx := context.Background()
	run, _ := mlerr.NewRun(ctx, mlerrtest.NewBackend())
	fmt.Println(run.LogMetrics(10, map[string]float64{"loss": math.NaN()}))
	fmt.Println(run.LogMetrics(5, map[string]float64{"loss": 0.7})) // resumed from a checkpoint
	run.Close(ctx)

	strict, _ := mlerr.NewRun(ctx, mlerrtest.NewBackend(), mlerr.WithRules(mlerr.StrictSeriesRules, func(r *mlerr.Rules) {
		r.RejectNonFinite = false // all strict but this
	}), mlerr.WithCallbacks(mlerr.Callbacks{OnError: func(error, time.Time) {}}))
	fmt.Println(strict.LogMetrics(10, map[string]float64{"loss": math.NaN()}))
	fmt.Println(errors.Is(strict.LogMetrics(5, map[string]float64{"loss": 0.7}), mlerr.ErrStepNotIncreasing))
	strict.Close(ctx)
	// Output:
	// <nil>
	// <nil>
	// <nil>
	// true
}

// KeepTraining logs every event and never stops the training: here the
// server refuses the credentials for the first batch, whose points are lost
// and logged, and training goes on.
func ExampleKeepTraining() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	backend.FailNext(mlerrtest.WriteBatch, 1, mlerrtest.ServerError(401, mlerr.CodeUnauthenticated, "Invalid token"))
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTimes}))
	run, _ := mlerr.NewRun(ctx, backend, mlerr.WithCallbacks(mlerr.KeepTraining(logger)))
	for step := int64(0); step < 3; step++ {
		run.LogMetrics(step, map[string]float64{"loss": 1})
	}
	run.Wait(ctx) // the first batch: refused
	run.LogMetrics(3, map[string]float64{"loss": 1})
	report, _ := run.Close(ctx)
	fmt.Println(report.Status, "sent", report.Sent, "lost", report.Dropped.Rejected)
	// Output:
	// level=ERROR msg="mlerr: OnError" err="UNAUTHENTICATED: the backend refused the credentials: the 3 items of batch 1 are lost: 3 of 3 items failed: 3 x Invalid token" kind=Unauthorized items_lost=3
	// FAILED sent 1 lost 3
}

// CompleteDataOrStop terminates the run on the first loss of data; the
// training loop sees ErrClosed and stops. WithCallbacksFor hands the
// callbacks the run they belong to.
func ExampleCompleteDataOrStop() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	backend.FailNext(mlerrtest.WriteBatch, 1, mlerrtest.ServerError(404, mlerr.CodeResourceDoesNotExist, "Run with id=abc not found"))
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTimes, Level: slog.LevelError + 1}))
	run, _ := mlerr.NewRun(ctx, backend, mlerr.WithCallbacksFor(func(r *mlerr.Run) mlerr.Callbacks {
		return mlerr.CompleteDataOrStop(logger, r.Terminate)
	}))
	for step := int64(0); ; step++ {
		err := run.LogMetrics(step, map[string]float64{"loss": 1})
		if errors.Is(err, mlerr.ErrClosed) {
			fmt.Println("training stopped:", err)
			break
		}
		if step == 2 {
			run.Wait(ctx) // the first batch: the run is gone
		}
	}
	report, err := run.Close(ctx)
	fmt.Println(report.Status, errors.Is(err, mlerr.ErrClosed) || errors.Is(err, mlerr.CodeDataLoss))
	// Output:
	// training stopped: INVALID_STATE: the run was terminated: entries are no longer logged
	// KILLED true
}

// withoutTimes drops the time attributes from slog output, for examples.
func withoutTimes(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey || a.Key == "event_time" {
		return slog.Attr{}
	}
	return a
}

// Fail ends the run FAILED when the training fails: in Go's idiom, with
// the function's error in a deferred call. The error's message is the
// run's "mlerr.error" tag; Close's error wraps it. (RunStatus lists the
// three endings.)
func ExampleRun_Fail() {
	backend := mlerrtest.NewBackend()
	train := func() (err error) {
		run, err := mlerr.NewRun(context.Background(), backend)
		if err != nil {
			return err
		}
		defer func() {
			run.Fail(err) // nil: no effect, the run ends FINISHED
			report, closeErr := run.Close(context.Background())
			fmt.Println(report.Status, errors.Is(closeErr, err))
			stored, _ := backend.Run(run.ID())
			fmt.Println(stored.Items[1].Key, "=", stored.Items[1].Text)
		}()
		if err := run.LogMetric("loss", math.NaN(), 1); err != nil {
			return err
		}
		return errors.New("loss is NaN at step 1")
	}
	fmt.Println(train())
	// Output:
	// FAILED true
	// mlerr.error = loss is NaN at step 1
	// loss is NaN at step 1
}
