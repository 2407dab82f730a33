// Command server is a tiny HTTP server that answers errors the way MLflow
// does, with mlerr.WriteError: MLflow JSON by default, RFC 9457
// problem+json when the client sends "Accept: application/problem+json".
//
//	go run ./examples/server &
//	curl -i 'http://127.0.0.1:8080/api/2.0/mlflow/runs/get?run_id=abc'
//	curl -i -H 'Accept: application/problem+json' 'http://127.0.0.1:8080/api/2.0/mlflow/runs/get'
//	curl -i 'http://127.0.0.1:8080/api/2.0/mlflow/runs/log-batch'
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
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
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/2.0/mlflow/runs/get", getRun)
	mux.HandleFunc("/api/2.0/mlflow/runs/log-batch", logBatch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mlerr.WriteError(w, r, mlerr.Errorf(mlerr.CodeEndpointNotFound, "No endpoint %s %s", r.Method, r.URL.Path))
	})

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}
