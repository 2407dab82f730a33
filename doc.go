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
//	backend, err := mlflow.NewBackendFromEnv(mlflow.WithExperiment("mnist")) // MLFLOW_TRACKING_URI, ...
//	if err != nil {
//		log.Fatal(err) // ErrMissingConfig, ErrInvalidURL: before any request
//	}
//	run, err := mlerr.NewRun(ctx, backend, mlerr.WithRunName("baseline"),
//		mlerr.WithCallbacks(mlerr.KeepTraining(nil)))
//	if err != nil {
//		log.Fatal(err) // only invalid options fail here
//	}
//	_ = run.LogParams(map[string]string{"lr": "3e-4"})
//	for step := int64(0); step < steps; step++ {
//		_ = run.LogMetrics(step, map[string]float64{"loss": loss}) // never waits for the network
//	}
//	report, err := run.Close(ctx) // flush; FINISHED, or FAILED if data was lost
//
// mlflow's ExampleNewBackend runs this with the four callbacks spelled out.
//
// # Where things are
//
//   - This package (standard library only): the taxonomy (Code, every MLflow
//     error code with its HTTP status, gRPC code and retry class; Kind, the
//     families of errors and a Run's events, such as ErrRunNotFound; *Error),
//     the wire (FromResponse, Decoder, WriteError, MarshalProblem: MLflow
//     JSON and RFC 9457 problem+json), Retry and Do with a Policy,
//     BatchError and RetryFailed for partial failures, and the Run with its
//     Callbacks, the Backend and ArtifactBackend interfaces it writes to.
//     errors.Is and errors.As understand all of it:
//     errors.Is(err, mlerr.CodeResourceDoesNotExist).
//   - Package github.com/mlerr/mlerr/mlflow: the Backend that logs a Run to
//     an MLflow tracking server, and a typed Client for SDK authors. It reads
//     MLflow's own environment variables (its doc lists each one).
//   - Package github.com/mlerr/mlerr/localstore: the embedded default
//     backend, a durable log per run on local disk, replayed later to MLflow
//     exactly once (Replay), and a durable Spool for a full queue.
//   - Package github.com/mlerr/mlerr/mlerrtest: for a program's own tests, a
//     recording Backend with scripted faults, a fake Clock and an in-memory
//     MLflow server.
//   - Command github.com/mlerr/mlerr/cmd/mlerr: mlerr ls and mlerr sync, the
//     local store from the shell.
//   - Module github.com/mlerr/mlerr/grpcerr: the same errors as gRPC statuses
//     with rich details, and interceptors.
//
// # Logging
//
// LogMetrics, LogMetric, LogMetricsAt, LogMetricsContext, LogParams, SetTags
// and, for SDKs, LogItems are safe from any number of goroutines and never
// wait for the network. Entries are checked before they are queued with the
// backend's rules (see Rules, WithRules, StrictSeriesRules). A call returns
// one *Error naming every bad key, of their kind (errors.Is(err,
// ErrStepNotIncreasing)), caused by a *BatchError[Item] of exactly the
// rejected entries; the same error goes to OnError and the valid rest is
// logged. A point repeating its metric's latest is not sent again
// (Report.Duplicates; under strict rules OnWarning gets ErrDuplicatePoint)
// and the call returns nil. Logging after Close or Terminate returns an
// ErrClosed error.
//
// # Endings
//
// Close(ctx) flushes, ends the run FINISHED (FAILED when queued items were
// lost, or when Fail was called), stops every goroutine and returns a
// Report. Fail(err) records that the training failed: Close then ends the
// run FAILED, sets the tag mlerr.error to the error's message and returns an
// error wrapping it; with a named error result,
//
//	defer func() { run.Fail(err); run.Close(ctx) }()
//
// gives the right ending. Terminate() stops at once and ends the run KILLED;
// it is safe from a callback (CompleteDataOrStop calls it). Closing twice is
// safe.
//
// Close is bounded by Limits.CloseTimeout (default 30 s), so a dead server
// never hangs the program's exit: items still queued then are not stored
// (Report.Dropped.Unsent), and the items of a write waiting for its answer
// are unacknowledged: they may be stored (Report.Unacknowledged). The Report
// adds up in every policy and every ending:
//
//	Logged = Sent + Dropped.Total() + Unacknowledged + Spooled
//
// where Logged counts every valid entry (those the full policy dropped
// included); entries rejected at the call are counted apart (Invalid).
//
// Started(ctx) waits for the backend to start the run (it starts in the
// background; ID() is "" until then). Wait(ctx) returns when everything
// logged so far is acknowledged, or failed for good. Health() reports queue
// depth and bytes, spooled, in flight, sent, retries, dropped by reason, the
// last error and when, consecutive failures, the outage's start, sender
// restarts, and whether the run is healthy.
//
// # Queue and batches
//
// Sizes and times are WithLimits(Limits{...}), a zero field keeping its
// default. The queue is bounded by Limits.QueueItems and QueueBytes (default
// 100,000 items and 64 MiB; an item weighs its key and text plus 64 bytes),
// so memory stays under the limits plus one batch however long an outage
// lasts. When it is full, WithFullPolicy decides: DropOldest (the default),
// DropNewest, Block(maxWait) (the call waits for room up to maxWait or its
// context's end, then drops its entries with an ErrQueueFull error), or
// Spill(spool) (the overflow goes to a durable Spool, such as
// localstore.OpenSpool, and comes back in order).
//
// Batches are cut at Limits.BatchItems, BatchBytes or BatchInterval (default
// 1000 items, 1 MiB, 1 s). Each batch carries a per-run Seq; a retried batch
// keeps its Seq and its points' timestamps, so a write the server applied
// before its answer was lost is stored once. Order per key is kept.
//
// Sends go through WithRetryPolicy's Policy (default DefaultPolicy). When
// the policy gives up on a network error, the run reports the outage once
// (OnNetworkError) and keeps probing: every wait between two attempts is
// then at most the probe interval (the policy's MaxDelay, at most 5 s,
// jittered between half and all of it), and at most 1 s while a Wait or
// Close waits; Wait and Close cut the current wait short and try at once,
// so Close ends within a second of the server's return. A permanent error
// loses the batch, reported to OnError.
//
// A panic in the sender or the backend is recovered and reported as
// ErrSynchronizationStopped (nothing lost); the sender restarts with the
// batch it was sending and sends it again. Only a batch that makes it panic
// three times is given up, its items in LostItems. docs/DESIGN.md in the
// repository describes the engine inside: its four parts, who owns what,
// the life of a point and of a loss.
//
// # Callbacks
//
// See Callbacks for which event goes where. Callbacks run on the run's own
// goroutine, one at a time, in order; a slow callback delays only the
// callbacks (the event queue is bounded, Limits.EventQueue; an overflow is
// counted and the next callback is told how many it missed); a panicking
// callback is recovered and logged. Repeats of one kind are throttled
// (Limits.EventBurst and EventWindow, default 10 per 10 s): the others come
// as one event of the same kind, "and 37 more like it", carrying all their
// lost items. Nil callbacks log through slog (WithLogger). KeepTraining logs
// everything and never stops; CompleteDataOrStop logs and calls stop
// (typically the run's Terminate, bound with WithCallbacksFor) at the first
// event that loses data (any OnError, an OnQueueFull that dropped items);
// outages and warnings are only logged.
//
// # Errors
//
// Every MLflow ErrorCode is a Code with its protobuf number, MLflow's HTTP
// status both ways (Code.HTTPStatus, CodeForHTTPStatus), a gRPC code
// (Code.GRPC, CodeForGRPC) and a retry class (Code.Retryable), all from one table
// checked against MLflow's own. An *Error carries a code, a message, MLflow's
// extra JSON fields (details), a cause, the HTTP status and Retry-After
// observed on the wire, and a kind.
//
// Constructors: New(code, msg); Errorf(code, format, args...), with %w, the
// same text and cause as fmt.Errorf; Wrap(err, code, msg), nil for a nil
// err; InvalidParameterValue(format, args...); a kind's New, Errorf and Wrap;
// and copies with WithDetail, WithKind, WithCause, WithHTTPStatus and
// WithRetryAfter. CodeOf, HTTPStatusOf, AsError and Classify walk an error's
// chain or errors.Join tree the same way, never allocate, and look at
// 10,000 errors at most, so a cyclic chain cannot hang them and they agree
// on what an error holds. CodeOf(ctx.Err()) is CANCELLED or
// DEADLINE_EXCEEDED.
//
// # On the wire
//
// FromResponse turns any non-2xx HTTP response into an *Error of kind
// ErrRest (Decoder.DecodeError lists what it reads: MLflow JSON,
// problem+json, numeric codes, unknown names, HTML pages, Retry-After);
// WriteError writes one as MLflow JSON, or as RFC 9457 problem+json when the
// request asks for it. MarshalJSON writes {"error_code":NAME,"message":...,
// details...} byte for byte as encoding/json would (HTML-safe escapes,
// invalid UTF-8 as \ufffd) with one allocation; MarshalProblem and
// UnmarshalProblem do the same for problem+json. Decoder's fields change the
// limits (MaxBodyBytes, MaxExcerptBytes) and the clock (Now).
//
// # Retry
//
// Retry(ctx, policy, op) and Do(ctx, policy, op) repeat a call that failed
// for a passing reason and stop at once for anything else; every network
// call of a Run and of the mlflow backend goes through them.
//
//   - Classification. Classify reads the most specific signal in the chain:
//     a Permanent mark (never); an explicit delay (the server's Retry-After,
//     or RetryAfter(err, d) from the operation); a timeout; the caller's
//     context (never); the code's retry class or, for an error decoded from
//     HTTP whose code only reflects the status, the status (408, 429 and 5xx
//     but 501 are retried); then network errors: connection refused, reset
//     or aborted, timeouts, temporary DNS failures and unexpected EOFs are
//     retried; DNS "not found", TLS and certificate errors and malformed URLs
//     never. Decision.Reason names the signal. Policy.Classify replaces it
//     (fall back to Classify for the cases you do not care about); whichever
//     decides, an error holding a *RetryError (a nested loop that gave up)
//     is not retried again, so nested loops do not multiply attempts.
//   - Backoff. Exponential and capped, with full jitter by default (equal
//     jitter or none on request), so thousands of training ranks that failed
//     together do not retry in lock step.
//   - Retry-After, in seconds or as an HTTP date, is honoured exactly,
//     clamped by MaxRetryAfter: never a multi-day sleep.
//   - Limits. Attempts; elapsed time, counted from the first failure (Retry
//     stops rather than sleep past it or past the caller's deadline); a
//     per-attempt timeout. A wait never outlives the caller's context.
//     A negative duration (Off) turns a limit off (for InitialDelay: no wait,
//     and no timer armed); a negative MaxAttempts means unbounded.
//   - Outcome. Giving up returns a *RetryError (attempts, elapsed, Reason:
//     exhausted, elapsed, budget, canceled, permanent; Last) whose Unwrap is
//     the last error, so errors.Is(err, CodeTemporarilyUnavailable) and
//     CodeOf still work. A non-retryable first failure is a *RetryError too
//     (Reason "permanent"), so callers can always errors.As it.
//   - Timeouts. A *TimeoutError{Kind, Timeout} says which deadline fired:
//     the caller's context, the per-attempt timeout, connect (dial, TLS
//     handshake) or read (read deadline, http.Client.Timeout). Attempt,
//     connect and read timeouts are retried; errors.Is(err,
//     context.DeadlineExceeded) holds for all.
//   - Budget. NewBudget(ratio, capacity) is a token bucket shared by every
//     caller of one client: each call deposits ratio of a token, each retry
//     takes one, so when most calls fail retries fall to one per 1/ratio
//     calls instead of multiplying the load on a sick server. A first
//     attempt is never refused. NewBudget(0.1, 10) caps retry load at +10%.
//   - Hooks and tests. OnRetry sees the attempt, the error, the wait and the
//     reason; the clock (Policy.Clock) and the randomness (Policy.Rand) are
//     injectable, so tests never sleep.
//
// DefaultPolicy lists the defaults and why; when the operation bounds itself
// (an http.Client with a Timeout), set AttemptTimeout to Off.
//
// # Partial failures
//
// An operation that partly succeeds returns its partial result and a
// *BatchError[T]; the caller keeps what succeeded, decides whether the
// failure rate is acceptable, and retries only what failed.
//
//   - Failure[T]{Item, Index, Reason, Code, Time, Cause} is one failed item;
//     Index is its position in the original batch.
//   - NewBatchError(total, failures) builds the error (nil when nothing
//     failed; Err returns it as an error, nil-safe), fills a missing Code
//     from the cause (CodeOf), a missing Reason from the cause's message, a
//     missing Time with now, and sorts by Index.
//   - Error() is a summary: "3 of 100 items failed: 2 x asset not found, 1 x
//     invalid format", the most frequent reason first, at most five listed.
//   - Failed, ByReason, FailureRate (0 for a nil *BatchError), Retryable and
//     Where select; errors.Is and errors.As reach every item's cause, and
//     errors.Is(err, code) is true when any item has that code.
//   - CodeOf(err) and BatchError.Code give the overall code: the items' code
//     when they agree, else the most frequent; on a tie a non-retryable code
//     wins (a batch is never retried whole because of a tie), then the first.
//   - RetryFailed(ctx, be, op) calls op with the failed items only and
//     returns what now succeeded and a new *BatchError of what still failed,
//     with the original indexes (nil when all succeeded); op returns nil, a
//     *BatchError indexed into the slice it got, or any other error (all of
//     them failed). RetryFailedWhere retries the failures a filter selects
//     (Failure[T].Retryable, say); the others stay in the new error.
//   - NewCollector[T](n) gathers Succeed(i, item) and Fail(i, item, reason,
//     cause) from concurrent workers; Result returns the successes in order
//     and the *BatchError; the last report of an index wins.
//   - json.Marshal gives MLflow JSON ({"error_code", "message", "details":
//     {"total", "failures": [{"index", "error_code", "reason", "time",
//     "item"}]}}); MarshalProblem gives RFC 9457 problem+json of type
//     urn:mlerr:problem:partial-failure with the members error_code, total
//     and errors. UnmarshalJSON reads either (by the type member). Index,
//     code, reason and time always survive; items survive when they are JSON
//     (decode into BatchError[json.RawMessage] when their type is unknown);
//     each decoded cause is an *Error with its code. Anything else is an
//     INVALID_PARAMETER_VALUE error.
package mlerr
