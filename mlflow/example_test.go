package mlflow_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlerrtest"
	"github.com/mlerr/mlerr/mlflow"
)

// The Client alone, as an SDK author would use it. (The example talks to an
// in-memory stand-in for a tracking server; pass your server's URL, or use
// NewClientFromEnv.)
func ExampleClient() {
	srv := mlerrtest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := mlflow.NewClient(srv.URL, mlflow.WithToken("my-token"))
	if err != nil {
		panic(err)
	}
	expID, err := c.GetOrCreateExperiment(ctx, "sdk-example")
	if err != nil {
		panic(err)
	}
	run, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expID, RunName: "demo", StartTime: 1700000000000})
	if err != nil {
		panic(err)
	}
	metrics := []mlflow.Metric{
		{Key: "loss", Value: 0.5, Timestamp: 1700000000001, Step: 0},
		{Key: "loss", Value: math.NaN(), Timestamp: 1700000000002, Step: 1}, // sent as "NaN"
	}
	err = c.LogBatch(ctx, run.Info.RunID, metrics, []mlflow.Param{{Key: "lr", Value: "0.01"}}, nil)
	if err != nil {
		panic(err)
	}
	history, err := c.GetMetricHistory(ctx, run.Info.RunID, "loss")
	if err != nil {
		panic(err)
	}
	for _, m := range history {
		fmt.Println(m.Step, m.Value)
	}

	// Server errors are *mlerr.Error values with MLflow's codes.
	err = c.LogBatch(ctx, run.Info.RunID, nil, []mlflow.Param{{Key: "lr", Value: "0.02"}}, nil)
	fmt.Println(errors.Is(err, mlerr.CodeInvalidParameterValue), mlerr.HTTPStatusOf(err))
	_, err = c.GetRun(ctx, "no-such-run")
	fmt.Println(errors.Is(err, mlerr.CodeResourceDoesNotExist), mlerr.Classify(err).Retry)
	// Output:
	// 0 0.5
	// 1 NaN
	// true 400
	// true false
}

// A bad tracking URI is a typed error, never a request.
func ExampleNewClient_badURI() {
	_, err := mlflow.NewClient("sqlite:///mlflow.db")
	fmt.Println(errors.Is(err, mlerr.ErrInvalidURL))
	fmt.Println(err)
	// Output:
	// true
	// INVALID_PARAMETER_VALUE: tracking URI "sqlite:///mlflow.db": scheme "sqlite" is not supported: only http and https tracking servers are (not file, sqlite or databricks stores)
}

// WriteBatch reports items MLflow would refuse, before sending, and stores
// the rest.
func ExampleBackend_WriteBatch() {
	srv := mlerrtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	b, err := mlflow.NewBackend(srv.URL)
	if err != nil {
		panic(err)
	}
	info, err := b.StartRun(ctx, mlerr.RunSpec{Experiment: "batches", StartTime: time.Now()})
	if err != nil {
		panic(err)
	}
	now := time.Now()
	err = b.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 1, Items: []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "loss", Value: 0.3, Step: 1, Time: now},
		{Kind: mlerr.ItemMetric, Key: "bad//key", Value: 1, Step: 1, Time: now},
		{Kind: mlerr.ItemParam, Key: "lr", Text: "0.1"},
		{Kind: mlerr.ItemParam, Key: "lr", Text: "0.2"},
	}})
	var be *mlerr.BatchError[mlerr.Item]
	if errors.As(err, &be) {
		for _, f := range be.Failures {
			fmt.Println(f.Index, f.Item.Key, f.Reason)
		}
	}
	// Output:
	// 1 bad//key invalid key
	// 3 lr param value changed
}

// A Run logging to the MLflow server named by MLFLOW_TRACKING_URI. The Run
// batches and retries in the background; callbacks hear about outages and
// lost data.
func ExampleBackend() {
	backend, err := mlflow.NewBackendFromEnv(mlflow.WithExperiment("demo"))
	if err != nil {
		fmt.Println("no tracking server:", err)
		return
	}
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, backend, mlerr.WithRunName("train"),
		mlerr.WithCallbacks(mlerr.KeepTraining(nil)))
	if err != nil {
		panic(err)
	}
	_ = run.LogParams(map[string]string{"lr": "3e-4"})
	for step := int64(0); step < 100; step++ {
		_ = run.LogMetrics(step, map[string]float64{"loss": 1 / float64(step+1)})
	}
	report, err := run.Close(ctx)
	fmt.Println(report.RunID, report.Sent, err)
}
