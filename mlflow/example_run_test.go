package mlflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"path"
	"sync/atomic"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
)

// A Run logging to an MLflow tracking server, with the four callbacks: the
// README's first example. Pass your server's URL (or use NewBackendFromEnv,
// which reads MLFLOW_TRACKING_URI); here a few lines of net/http stand in
// for `mlflow server` so that the example runs anywhere.
func ExampleNewBackend() {
	uri, logged, stop := standInServer()
	defer stop()
	ctx := context.Background()

	backend, err := mlflow.NewBackend(uri, mlflow.WithExperiment("mnist")) // or mlflow.NewBackendFromEnv()
	if err != nil {
		log.Fatal(err) // ErrInvalidURL, ErrMissingConfig: typed, before any request
	}
	run, err := mlerr.NewRun(ctx, backend, mlerr.WithRunName("baseline"),
		mlerr.WithCallbacks(mlerr.Callbacks{
			OnNetworkError: func(err error, ts time.Time) { log.Print("server away, data kept queued: ", err) },
			OnWarning:      func(err error, ts time.Time) { log.Print(err) }, // ErrRecovered: it is back
			OnError:        func(err error, ts time.Time) { log.Printf("lost %d: %v", mlerr.LostCount(err), err) },
			OnQueueFull:    func(err error, ts time.Time) { log.Printf("dropped %d: %v", mlerr.LostCount(err), err) },
		}))
	if err != nil {
		log.Fatal(err) // only invalid options fail here
	}
	_ = run.LogParams(map[string]string{"lr": "3e-4"})
	for step := int64(0); step < 100; step++ {
		_ = run.LogMetrics(step, map[string]float64{"loss": 1 / float64(step+1)}) // never waits for the network
	}
	report, err := run.Close(ctx) // flush; FINISHED, or FAILED if data was lost
	fmt.Println(report.Status, report.Sent, err)

	fmt.Println("the server got", logged.Load(), "items")
	// Output:
	// FINISHED 101 <nil>
	// the server got 101 items
}

// standInServer answers the four REST calls a Run makes (experiments/get-by-name,
// runs/create, runs/log-batch, runs/update) as MLflow does, and counts the
// metrics and params it is sent. It is no MLflow: tests of this repository
// run against the real server.
func standInServer() (uri string, logged *atomic.Int64, stop func()) {
	logged = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch path.Base(r.URL.Path) {
		case "get-by-name":
			fmt.Fprint(w, `{"experiment":{"experiment_id":"1","name":"mnist","lifecycle_stage":"active"}}`)
		case "create":
			fmt.Fprint(w, `{"run":{"info":{"run_id":"0123456789abcdef","experiment_id":"1","status":"RUNNING"}}}`)
		case "log-batch":
			var b struct{ Metrics, Params []json.RawMessage }
			_ = json.NewDecoder(r.Body).Decode(&b)
			logged.Add(int64(len(b.Metrics) + len(b.Params)))
			fmt.Fprint(w, `{}`)
		default: // runs/update
			fmt.Fprint(w, `{}`)
		}
	}))
	return srv.URL, logged, srv.Close
}

// Credentials in a tracking URI are used, never shown: the Client prints
// its URI without them, and scrubs them from every error it returns.
func ExampleClient_TrackingURI() {
	c, err := mlflow.NewClient("https://trainer:s3cret@mlflow.example.com/tracking")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.TrackingURI())
	// Output: https://mlflow.example.com/tracking
}
