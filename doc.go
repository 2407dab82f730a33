// Package mlerr logs a training run to MLflow without letting the network
// crash the job or lose data silently, and gives ML code and the SDKs around
// it one structured error taxonomy, MLflow's.
//
// # The data path
//
// A Run takes metrics, params, tags and artifacts from the training loop,
// checks each entry at the call (an invalid one comes back at once, the rest
// is logged), queues them in memory and sends them in the background, in
// batches, to a Backend, through a retry policy. Nothing the loop calls
// waits on the network. Every event that loses or delays data reaches the
// Callbacks (OnNetworkError, OnWarning, OnError, OnQueueFull) and says
// exactly which items it concerns; Close flushes, ends the run and returns
// a Report of what was logged, sent, retried and lost:
//
//	LogMetrics ─▶ checks ─▶ queue ─▶ batches ─▶ Retry ─▶ Backend (MLflow, local store)
//	                │                   │          │
//	                ▼                   ▼          ▼
//	         error at the call    OnQueueFull   OnNetworkError, OnError
//
// # A Run on MLflow
//
// With MLFLOW_TRACKING_URI (and MLflow's other variables) set:
//
//	backend, err := mlflow.NewBackendFromEnv()
//	if err != nil {
//		log.Fatal(err) // a bad URI, certificate file or variable
//	}
//	run, err := mlerr.NewRun(ctx, backend,
//		mlerr.WithExperiment("mnist"),
//		mlerr.WithRunName("baseline"),
//		mlerr.WithCallbacks(mlerr.KeepTraining(slog.Default())), // log every event, never stop
//	)
//	if err != nil {
//		log.Fatal(err) // only invalid options fail here
//	}
//	run.LogParams(map[string]string{"lr": "0.01"})
//	for step := int64(0); step < steps; step++ {
//		run.LogMetrics(step, map[string]float64{"loss": train()})
//	}
//	report, err := run.Close(ctx) // flush, end the run FINISHED or FAILED
//
// CompleteDataOrStop instead stops the training on the first loss of data;
// WithCallbacks takes a program's own functions.
//
// # Where things are
//
//   - The taxonomy: Code (every MLflow error code, with its HTTP status,
//     gRPC code and retry class), *Error (code, message, details, cause),
//     and Kind for the families of errors and a Run's events (kinds.go:
//     ErrRunNotFound, ErrUnauthorized, ...). errors.Is and errors.As
//     understand all of it: errors.Is(err, mlerr.CodeResourceDoesNotExist).
//   - On the wire: FromResponse and Decoder read MLflow JSON and RFC 9457
//     problem+json error bodies; WriteError writes them.
//   - Retry: Retry and Do with a Policy, Classify deciding what is retried,
//     Budget bounding retries across callers.
//   - Partial failures: BatchError (which items failed, and why),
//     RetryFailed to retry only those.
//   - The Run: NewRun and its options (RunOption), Callbacks, Report,
//     Health; the Backend and ArtifactBackend interfaces it writes to.
//   - Backends: package github.com/mlerr/mlerr/mlflow (an MLflow tracking
//     server, and a typed REST client for SDK authors), package
//     github.com/mlerr/mlerr/localstore (an on-disk store for offline runs,
//     and the spill target of a full queue), package
//     github.com/mlerr/mlerr/mlerrtest (an in-memory recording backend with
//     scripted faults, a fake clock and an in-memory MLflow server, for a
//     program's own tests).
//   - gRPC: the module github.com/mlerr/mlerr/grpcerr converts errors to and
//     from gRPC statuses (the root package imports only the standard
//     library).
//   - The CLI: go install github.com/mlerr/mlerr/cmd/mlerr@latest; `mlerr ls
//     DIR` lists a local store's runs, `mlerr sync DIR` uploads them to
//     MLFLOW_TRACKING_URI, resuming where an earlier sync stopped.
//
// docs/DESIGN.md in the repository describes the engine.
package mlerr
