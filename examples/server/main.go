// Command server is a tiny HTTP server that answers errors the way MLflow
// does, with mlerr.WriteError: MLflow JSON by default, RFC 9457
// problem+json when the client sends "Accept: application/problem+json".
//
//	go run ./examples/server              # on 127.0.0.1:8080
//	go run ./examples/server -addr :0     # on a free port
//
// It prints the curl commands to try, with the port it listens on.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mlerr/mlerr"
)

// runs is the server's only data: run id -> run name.
var runs = map[string]string{"r1": "baseline"}

func getRun(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("run_id")
	if id == "" {
		mlerr.WriteError(w, r, mlerr.InvalidParameterValue("Missing value for required parameter 'run_id'."))
		return
	}
	name, ok := runs[id]
	if !ok {
		mlerr.WriteError(w, r, mlerr.Errorf(mlerr.CodeResourceDoesNotExist, "Run with id=%s not found", id).
			WithDetail("run_id", id))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"run": map[string]any{"info": map[string]string{"run_id": id, "run_name": name}}})
}

// logBatch always throttles, to show Retry-After.
func logBatch(w http.ResponseWriter, r *http.Request) {
	mlerr.WriteError(w, r, mlerr.New(mlerr.CodeRequestLimitExceeded, "Too many requests, slow down").
		WithRetryAfter(2*time.Second))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (:0 for a free port)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	printTries(os.Stdout, "http://"+ln.Addr().String())
	srv := &http.Server{Handler: newMux(), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/2.0/mlflow/runs/get", getRun)
	mux.HandleFunc("/api/2.0/mlflow/runs/log-batch", logBatch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mlerr.WriteError(w, r, mlerr.Errorf(mlerr.CodeEndpointNotFound, "No endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// printTries prints the commands to try against the server at base.
func printTries(w io.Writer, base string) {
	fmt.Fprintf(w, "listening on %s; try, in another terminal:\n\n", base)
	tries := []struct{ what, cmd string }{
		{"a run that exists (200)", "curl -i '" + base + "/api/2.0/mlflow/runs/get?run_id=r1'"},
		{"a missing run: MLflow's JSON error, 404 RESOURCE_DOES_NOT_EXIST", "curl -i '" + base + "/api/2.0/mlflow/runs/get?run_id=abc'"},
		{"a missing parameter as RFC 9457 problem+json, 400 INVALID_PARAMETER_VALUE", "curl -i -H 'Accept: application/problem+json' '" + base + "/api/2.0/mlflow/runs/get'"},
		{"throttled: 429 with Retry-After", "curl -i -X POST '" + base + "/api/2.0/mlflow/runs/log-batch'"},
		{"no such endpoint: 404 ENDPOINT_NOT_FOUND", "curl -i '" + base + "/api/2.0/mlflow/nothing'"},
	}
	for _, t := range tries {
		fmt.Fprintf(w, "  # %s\n  %s\n\n", t.what, t.cmd)
	}
	fmt.Fprintln(w, "Ctrl-C stops the server.")
}
