// Package mlflow talks to an MLflow tracking server over its REST API 2.0.
//
// It has two layers. Client is a thin typed client for the endpoints a
// training SDK needs (experiments, runs, log-batch, metric history) that SDK
// authors can use on its own: every non-2xx answer comes back as an
// *mlerr.Error decoded from MLflow's error body, so callers can test
// errors.Is(err, mlerr.CodeResourceDoesNotExist) and the like.
//
// Backend implements mlerr.Backend on top of a Client, for an mlerr.Run: it
// creates or resumes runs, splits batches to MLflow's limits, checks keys and
// values against those limits before anything is sent (rejected items come
// back in a *mlerr.BatchError[mlerr.Item]), keeps the points' original
// timestamps so a retried log-batch is de-duplicated by the server, and ends
// runs with FINISHED, FAILED or KILLED.
//
// # Environment
//
// NewClientFromEnv and NewBackendFromEnv read these variables, and the
// package reads no other; each is read as MLflow's Python client (3.17)
// reads it, except where said:
//
//	MLFLOW_TRACKING_URI               the server, http:// or https://; user info
//	                                  (http://user:pass@host) is basic auth, see below
//	MLFLOW_TRACKING_USERNAME          basic auth, when both are non-empty; one
//	MLFLOW_TRACKING_PASSWORD          without the other is ignored
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
//	MLFLOW_EXPERIMENT_NAME            the Backend's default experiment
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
package mlflow
