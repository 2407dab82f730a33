// Package mlflow talks to an MLflow tracking server over its REST API 2.0.
//
// It has two layers. Client is a thin typed client for the endpoints a
// training SDK needs (experiments, runs, log-batch, metric history) that SDK
// authors can use on its own: every non-2xx answer comes back as an
// *mlerr.Error decoded from MLflow's error body, so callers can test
// errors.Is(err, mlerr.CodeResourceDoesNotExist) and the like.
//
// Backend implements mlerr.Backend on top of a Client, for an mlerr.Run: it
// creates runs with the system tags MLflow's fluent client sets (TagUser,
// TagSourceName, TagSourceType, TagGitCommit, TagGitBranch; see
// WithoutSystemTags) or resumes them, splits batches to MLflow's limits, checks keys and
// values against those limits before anything is sent (rejected items come
// back in a *mlerr.BatchError[mlerr.Item]), keeps the points' original
// timestamps so a retried log-batch is de-duplicated by the server, and ends
// runs with FINISHED, FAILED or KILLED.
//
// A Run on MLflow (ExampleNewBackend runs it with the four callbacks):
//
//	backend, err := mlflow.NewBackendFromEnv(mlflow.WithExperiment("my-project"))
//	if err != nil {
//		log.Fatal(err) // ErrMissingConfig: MLFLOW_TRACKING_URI unset; ErrInvalidURL: a bad one
//	}
//	run, err := mlerr.NewRun(ctx, backend, mlerr.WithRunName("baseline"),
//		mlerr.WithCallbacks(mlerr.KeepTraining(nil)))
//	...
//	report, err := run.Close(ctx) // flushes, marks the run FINISHED (or FAILED), says what was lost
//
// # What the Backend does
//
//   - Experiments by name: get-by-name, else create; two processes racing to
//     create one both get the same id (the loser's RESOURCE_ALREADY_EXISTS is
//     answered by reading it again). Runs are created with their name, start
//     time and tags; mlerr.WithRunID resumes a run (set RUNNING again; a
//     missing or deleted run is mlerr.ErrRunNotFound); mlerr.WithFork records
//     the parent as mlflow.parentRunId (and TagForkStep), and a missing
//     parent only warns.
//   - A runs/create whose answer was lost is not repeated blindly: the run
//     carries an idempotency key tag (TagIdempotencyKey) and the retry finds
//     it, so there is one run whatever the network did.
//   - Batches are split to MLflow's limits (1000 metrics, 100 params, 100
//     tags, 1000 items per runs/log-batch) in the fewest requests: a
//     2500-metric, 250-param, 150-tag batch is 3 requests.
//   - Every item is checked before sending, as the server would: keys of at
//     most 250 characters of letters, digits, "_ - . space : /", a normalized
//     relative path; param values of at most 6000 and tag values of at most
//     8000 characters (MLflow 3.17 would silently truncate longer ones: they
//     are rejected, or the Run truncates them with an ErrValueTruncated
//     warning under mlerr.Rules.TruncateLongValues); metric times not before
//     1970. Rejected items come back in a *mlerr.BatchError[mlerr.Item]
//     indexed into the batch; the rest is stored.
//   - NaN and ±Inf are sent as protobuf JSON's "NaN", "Infinity" and
//     "-Infinity" (a bare NaN is silently stored as 0 by MLflow). NaN reads
//     back as NaN; MLflow stores ±Inf as ±1.7976931348623157e308.
//   - Retries are harmless: points keep their original timestamps, so MLflow
//     keeps a resent (key, value, timestamp, step) once; a param resent with
//     its value is a no-op; a param given twice in a batch is sent once.
//   - A param re-logged with another value makes MLflow refuse the whole
//     request: the Backend then sends the request's metrics and tags alone
//     and each param alone, so only the offending param is rejected
//     (mlerr.ErrParamChanged, code INVALID_PARAMETER_VALUE, the server's
//     error as cause), never a retry loop.
//   - Every non-2xx answer is decoded with mlerr.FromResponse: callbacks see
//     MLflow's own code and message, the HTTP status and any Retry-After. A
//     2xx answer that is not JSON (a proxy's login page) is not taken as
//     stored.
//
// # Options
//
// Options win over the environment (see below). WithToken (bearer) and
// WithBasicAuth (or http://user:pass@host) give credentials; WithInsecureTLS,
// WithServerCertPath (a CA file or directory) and WithClientCertPath (one PEM:
// certificate and key) the TLS settings; WithTimeout the time per request
// (default 120 s); WithExperiment the Backend's experiment. WithHTTPClient,
// WithHeader, WithUserAgent, WithPageSize and WithRetry(policy) shape the
// Client. A bad URI (file:, sqlite:, databricks, no host, a query) is an
// mlerr.ErrInvalidURL error; passwords never appear in errors.
//
// # The Client alone
//
// For SDK authors: GetExperimentByName, CreateExperiment,
// GetOrCreateExperiment, CreateRun, GetRun, UpdateRun, DeleteRun,
// SearchRuns, LogBatch and GetMetricHistory (every page). One request per
// call; WithRetry(policy) retries the idempotent ones (never runs/create nor
// experiments/create).
//
// # Tests
//
// The package is tested against a real MLflow 3.17.2 server (SQLite store)
// in CI. The integration tests read MLERR_TEST_MLFLOW_URI, never
// MLFLOW_TRACKING_URI, and skip when it is unset (fail under
// MLERR_TEST_REQUIRE_SERVERS=1):
//
//	export MLERR_TEST_MLFLOW_URI=$(scripts/mlflow-server.sh start | cut -d= -f2-)
//	go test ./mlflow/... ./cmd/... ./internal/...
//	scripts/mlflow-server.sh stop
//
// The second line takes about 15-25 s with the real server, about 4 s
// without it (the integration tests skip).
//
// # Environment
//
// These are all the environment variables the package reads; each is read
// as MLflow's Python client (3.17) reads it, except where said. The
// tracking variables are read by NewClientFromEnv and NewBackendFromEnv;
// the run variables by NewBackendFromEnv only; the user variables by every
// Backend that sets system tags (NewBackend too; see WithoutSystemTags):
//
//	MLFLOW_TRACKING_URI               the server, http:// or https://; user info
//	                                  (http://user:pass@host) is basic auth, see below
//	MLFLOW_TRACKING_USERNAME          basic auth, when both are non-empty; one
//	MLFLOW_TRACKING_PASSWORD          without the other is ignored. A non-empty
//	                                  username is also the runs' user (TagUser)
//	MLFLOW_TRACKING_TOKEN             "Authorization: Bearer <token>" when non-empty,
//	                                  unless basic auth is set (basic wins, as in MLflow)
//	MLFLOW_TRACKING_INSECURE_TLS      true, false, 1 or 0 in any case; any other value,
//	                                  the empty one too, is an error; true skips the
//	                                  verification of the server's certificate
//	MLFLOW_TRACKING_SERVER_CERT_PATH  a PEM file (or a directory of PEM files) of the CA
//	                                  certificates to trust, and only those; set together
//	                                  with INSECURE_TLS=true (even empty) is an error
//	MLFLOW_TRACKING_CLIENT_CERT_PATH  one PEM file with the client certificate and its
//	                                  unencrypted key, for a server that requires one;
//	                                  empty means none
//	MLFLOW_HTTP_REQUEST_TIMEOUT       seconds per request (default 120)
//
//	MLFLOW_EXPERIMENT_NAME            the Backend's default experiment (WithExperiment),
//	                                  created when missing
//	MLFLOW_EXPERIMENT_ID              the Backend's default experiment by id
//	                                  (WithExperimentID); with EXPERIMENT_NAME too, the
//	                                  named experiment must have this id, else StartRun
//	                                  fails (mlerr.ErrInvalidRunParameters)
//	MLFLOW_RUN_ID                     the run the Backend's first run resumes instead of
//	                                  creating one (WithResumeRun); a RunSpec.RunID
//	                                  (mlerr.WithRunID) wins. As start_run, the Backend
//	                                  uses it once; it does not unset the variable
//
//	LOGNAME, USER, LNAME, USERNAME    the first non-empty one is the runs' user
//	                                  (TagUser, user_id) when neither WithUser nor
//	                                  MLFLOW_TRACKING_USERNAME gives one, as Python's
//	                                  getpass.getuser() reads them; then the account
//	                                  database (os/user)
//
// An empty run variable counts as unset. NewClient and NewBackend read none
// of the tracking or run variables: their options say everything.
//
// Credentials are taken from the first of: an auth option (WithToken,
// WithBasicAuth); the URI's user info, when it has a password part, even an
// empty one (http://user@host sends none; MLflow's client, through
// requests, lets it win over the variables); the variables above. The basic
// header is "Basic " and the standard base64 of "username:password" in
// UTF-8, exactly as MLflow's client builds it for the variables. (For
// credentials in the URI, MLflow's client encodes them in Latin-1, which
// MLflow's server, decoding UTF-8, refuses for anything outside ASCII; the
// package sends UTF-8, which the server takes.)
//
// The TLS variables apply to https:// servers only, as in MLflow's client;
// certificate files are read by NewClient, and one that cannot be used is an
// error of kind mlerr.ErrMissingConfig naming it. Two differences from
// MLflow's client, both to refuse rather than weaken verification:
// MLFLOW_TRACKING_SERVER_CERT_PATH set but empty is an error (MLflow's client
// then verifies nothing), and without it the system's roots are trusted
// (Go's SSL_CERT_FILE and SSL_CERT_DIR apply), not the certifi bundle, and
// REQUESTS_CA_BUNDLE is not read. ~/.mlflow/credentials and ~/.netrc are not
// read either. The HTTP client of a Client built without WithHTTPClient
// honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY (net/http reads them, as
// requests does for MLflow's client).
//
// # An overloaded database
//
// MLflow's SQL store answers every SQLAlchemy error with BAD_REQUEST (HTTP
// 400), the ones that mean its database is overloaded too: the connection
// pool running dry under many clients ("QueuePool limit of size 5 overflow
// 10 reached", seen with 8 ranks logging through MLflow's async client to a
// 4-worker PostgreSQL-backed server), PostgreSQL refusing connections, a
// dropped connection or a locked SQLite file (SQLAlchemy's OperationalError).
// Such a request was not applied and succeeds later, so the package gives
// those answers the code TEMPORARILY_UNAVAILABLE, which is retried (the
// server's BAD_REQUEST is the cause; the status stays 400): a Run keeps the
// batch and sends it again instead of losing it as rejected. (MLflow's sync
// client raises on such an answer; its async client logs an ERROR line and
// drops the batch.)
//
// # Refused credentials and TLS failures
//
// A 401 or 403 answer is an error of kind mlerr.ErrUnauthorized whose code is
// the body's, else UNAUTHENTICATED (401) or PERMISSION_DENIED (403), as for
// MLflow's basic-auth app, which answers with a text body; the decoded
// mlerr.ErrRest error is its cause. Neither is retried. A TLS failure no
// retry can fix (a server certificate that is not trusted, expired, or for
// another host; a client certificate the server refuses) is an error of kind
// ErrTLS, never retried.
//
// An mlerr.Run reports a refusal once per batch it hits, to OnError, with
// exactly that batch's items in mlerr.LostItems; it does not hold the batch
// back to try it again later. When the credentials become valid again in
// the middle of a run (an admin resets the password, or grants the
// permission back), the Run goes on: the batches sent after that are
// stored, those refused in between stay lost and reported, and the run ends
// FAILED, since data was lost. That is the Run's rule for every refusal: a
// refusal is the server's answer to a request, not to the run, and the Run
// cannot know when the credentials change, so it neither retries refused
// batches (that would be retrying a 401 forever) nor stops the run at the
// first one (mlerr.CompleteDataOrStop does that, when asked). A refusal
// when the run starts ends the run: there is no run to write to.
//
// # Several batches in flight
//
// The Backend's calls are safe for concurrent use, and each WriteBatch
// holds no state across calls, so an mlerr.Run with Limits.InFlight > 1
// writes several batches at once. What MLflow's semantics depend on keeps
// its order:
//
//   - Metric points may be stored out of order: MLflow orders a metric's
//     history by step and time stamp, not by arrival, and a point is the
//     same point on a retry (its time stamp was fixed when it was logged).
//     But a metric key's first write in a run goes alone: MLflow's SQL
//     store creates the key's latest-value row without a lock, and two
//     first writes at once make one fail (a unique-key violation, 400).
//   - Tags are last-write-wins: the Run never has two batches writing one
//     tag key in flight together, so the value logged last is the value
//     stored last.
//   - Params are write-once (a second value is refused per item): two
//     batches writing one param key are not in flight together either.
//   - Artifacts are uploaded alone, after every batch logged before them
//     and before any logged after.
//
// A 429 (with or without Retry-After) or 503 answer halves the Run's
// window of batches in flight, for every Run sharing the retry policy's
// mlerr.Budget; acknowledged writes raise it again (see mlerr.Budget). So
// does the 400 BAD_REQUEST MLflow's SQL store answers when its database
// connection pool runs dry ("QueuePool limit ... connection timed out"),
// which mlerr.Classify retries.
//
// # Secrets
//
// The Client never puts credentials in a URL it prints (TrackingURI and
// messages show the URI without its user info), and it scrubs its token, its
// password and its Authorization header (and that header's base64 alone)
// from every error it returns and every panic it passes on, the server's
// answers included.
//
// # Artifacts
//
// Backend is an mlerr.ArtifactBackend: the files a Run logs
// (Run.LogArtifact, LogArtifacts, LogBytes, LogText, LogJSON) go through
// the tracking server's artifact proxy, which `mlflow server` runs by
// default (--serve-artifacts). What the package relies on, as MLflow 3.17
// answers it:
//
//	runs/get                               artifact_uri "mlflow-artifacts:/<exp>/<run>/artifacts";
//	                                       the proxy path is what follows the scheme
//	PUT  /api/2.0/mlflow-artifacts/artifacts/<proxy path>/<path>
//	                                       body: the file's bytes (Content-Length set);
//	                                       200 with an empty body; the server writes a
//	                                       temporary file and renames it, so a cut upload
//	                                       leaves nothing and a second PUT replaces the file
//	GET  /api/2.0/mlflow-artifacts/artifacts/<proxy path>/<path>
//	                                       200 with the bytes; a missing file: 404
//	                                       {"error_code":"RESOURCE_DOES_NOT_EXIST",
//	                                       "message":"No such artifact: '<path>'"}; a directory:
//	                                       400 {"detail":"Artifact path refers to a directory,
//	                                       not a file: ..."} (BAD_REQUEST)
//	GET  /api/2.0/mlflow-artifacts/artifacts?path=<proxy path>/<dir>
//	                                       200 {"files":[{"path":"<name>","is_dir":false,
//	                                       "file_size":6},{"path":"<name>","is_dir":true}]},
//	                                       one level, names only (file_size left out for
//	                                       an empty file); a missing directory or a file: {}
//	a path with "#", "..", or absolute     400 {"error_code":"INVALID_PARAMETER_VALUE",
//	                                       "message":"Invalid path"}
//	a path with a newline                  404 {"detail":"Not Found"} (no route)
//	PUT onto an existing directory         500 text/plain "Internal Server Error"
//
// A server started with --no-serve-artifacts gives its runs an artifact_uri
// that is a path of its own disk (or the store it was given), and answers
// the proxy's PUT and GET with 503 {"detail":"Artifact serving is disabled.
// Run `mlflow server` with `--serve-artifacts` to enable."} and the listing
// with 503 text/html "Endpoint: ... disabled due to the mlflow server
// running with `--no-serve-artifacts`". WriteArtifact reads the run's
// artifact_uri first (once per run) and fails at once, without sending the
// file, when it is not an mlflow-artifacts: URI; a 503 saying artifact
// serving is disabled fails at once too. Both errors are permanent, of kind
// mlerr.ErrNotImplemented (code NOT_IMPLEMENTED): a Run reports the file
// lost to OnError instead of retrying a 503 that no wait will change. An
// mlflow-artifacts: URI naming a host (mlflow-artifacts://host/...) is
// refused the same way: the package uploads to the tracking server only.
//
// Uploads stream the file (never read whole into memory). A retried upload
// starts from the first byte: the Run opens its staged copy anew for each
// attempt. A 400 answer (the server refusing the path) is permanent; other
// errors are decoded and judged as for log-batch. Client.DownloadArtifact
// and Client.ListArtifacts read artifacts back.
package mlflow
