package mlerrtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlerrtest"
	"github.com/mlerr/mlerr/mlflow"
)

// alerts is a program's own callback under test: it counts the points the
// Run lost and remembers the first failure's code.
type alerts struct {
	lost  int64
	first mlerr.Code
}

func (a *alerts) callbacks() mlerr.Callbacks {
	return mlerr.Callbacks{OnError: func(err error, _ time.Time) {
		if a.lost == 0 {
			a.first = mlerr.CodeOf(err)
		}
		a.lost += mlerr.LostCount(err)
	}}
}

// Testing one's own callbacks: the backend refuses the credentials for the
// first batch; the test checks what the callback made of it and what the
// backend stored.
func Example_callbacks() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	backend.FailNext(mlerrtest.WriteBatch, 1, mlerrtest.ServerError(401, mlerr.CodeUnauthenticated, "Invalid token"))
	a := &alerts{}
	run, _ := mlerr.NewRun(ctx, backend, mlerr.WithCallbacks(a.callbacks()))
	run.LogMetrics(0, map[string]float64{"loss": 0.9})
	run.Wait(ctx) // the first batch: refused
	run.LogMetrics(1, map[string]float64{"loss": 0.5})
	report, _ := run.Close(ctx) // the callbacks have run when Close returns

	fmt.Println("callback:", a.lost, "lost,", a.first)
	fmt.Println("stored:", backend.LastRun().Metric("loss"), report.Status)
	for _, c := range backend.Calls() {
		fmt.Println(c.Op, c.Err != nil)
	}
	// Output:
	// callback: 1 lost, UNAUTHENTICATED
	// stored: [0.5] FAILED
	// StartRun false
	// WriteBatch true
	// WriteBatch false
	// EndRun false
}

// Testing a retry strategy: the backend fails three writes with 503, the
// policy runs on the fake clock, which records the backoffs, and nothing
// sleeps for real. (A Run shortens backoffs while Wait or Close waits for
// the data, so a strategy's delays are checked on mlerr.Retry itself.)
func Example_retryStrategy() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	info, _ := backend.StartRun(ctx, mlerr.RunSpec{Name: "retries"})
	backend.FailNext(mlerrtest.WriteBatch, 3, mlerrtest.ServerError(503, mlerr.CodeTemporarilyUnavailable, "try later"))
	clock := mlerrtest.NewClock()
	policy := mlerr.Policy{MaxAttempts: 5, InitialDelay: time.Second, MaxDelay: 10 * time.Second, Multiplier: 2, NoJitter: true, Clock: clock}
	batch := mlerr.Batch{RunID: info.RunID, Seq: 1, Items: []mlerr.Item{{Kind: mlerr.ItemMetric, Key: "loss", Value: 0.9}}}
	err := mlerr.Retry(ctx, policy, func(ctx context.Context) error { return backend.WriteBatch(ctx, batch) })

	fmt.Println(err, "after", backend.Count(mlerrtest.WriteBatch), "writes")
	fmt.Println("backoffs:", clock.Sleeps(), "elapsed:", clock.Now().Sub(mlerrtest.Epoch))
	// Output:
	// <nil> after 4 writes
	// backoffs: [1s 2s 4s] elapsed: 7s
}

// Hang holds the backend's writes, as a server that does not answer: the
// test decides when the outage ends.
func ExampleBackend_Hang() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	hold := backend.Hang(mlerrtest.WriteBatch)
	run, _ := mlerr.NewRun(ctx, backend)
	run.LogMetrics(0, map[string]float64{"loss": 0.9})
	go run.Wait(ctx) // sends the batch
	<-hold.Entered() // the write is blocked now
	fmt.Println("stored while hanging:", len(backend.LastRun().Items))
	hold.Release()
	report, _ := run.Close(ctx)
	fmt.Println("stored after:", len(backend.LastRun().Items), report.Status)
	// Output:
	// stored while hanging: 0
	// stored after: 1 FINISHED
}

// Reject makes the backend refuse some items of a batch, as a server does
// with a value it cannot store; the Run reports exactly which were lost.
func ExampleBackend_Reject() {
	ctx := context.Background()
	backend := mlerrtest.NewBackend()
	backend.Reject(func(it mlerr.Item) string {
		if it.Kind == mlerr.ItemParam && len(it.Text) > 5 {
			return "value too long"
		}
		return ""
	})
	var lost []string
	run, _ := mlerr.NewRun(ctx, backend, mlerr.WithCallbacks(mlerr.Callbacks{OnError: func(err error, _ time.Time) {
		for _, it := range mlerr.LostItems(err) {
			lost = append(lost, it.Key)
		}
	}}))
	run.LogParams(map[string]string{"lr": "0.01", "notes": "a long note"})
	run.Close(ctx)
	fmt.Println("lost:", lost, "stored:", backend.LastRun().Params())
	// Output: lost: [notes] stored: map[lr:0.01]
}

// NewServer is an in-memory MLflow tracking server, for tests of code that
// uses package mlflow.
func ExampleNewServer() {
	ctx := context.Background()
	srv := mlerrtest.NewServer()
	defer srv.Close()
	backend, _ := mlflow.NewBackend(srv.URL, mlflow.WithExperiment("tests"))
	run, _ := mlerr.NewRun(ctx, backend)
	run.LogMetrics(0, map[string]float64{"loss": 0.5})
	report, err := run.Close(ctx)
	fmt.Println(report.Status, err)

	c, _ := mlflow.NewClient(srv.URL)
	defer c.CloseIdleConnections()
	_, err = c.GetExperimentByName(ctx, "nope")
	fmt.Println(errors.Is(err, mlerr.CodeResourceDoesNotExist))
	// Output:
	// FINISHED <nil>
	// true
}
