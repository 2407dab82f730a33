// Package mlflow talks to an MLflow tracking server over its REST API 2.0.
//
// It has two layers. Client is a thin typed client for the endpoints a
// training SDK needs (experiments, runs, log-batch, metric history) that SDK
// authors can use on its own: every non-2xx answer comes back as an
// *mlerr.Error decoded from MLflow's JSON error body, so callers can test
// errors.Is(err, mlerr.CodeResourceDoesNotExist) and the like.
//
// Backend implements mlerr.Backend on top of a Client, for an mlerr.Run: it
// creates or resumes runs, splits batches to MLflow's limits, checks keys and
// values against those limits before anything is sent (rejected items come
// back in a *mlerr.BatchError[mlerr.Item]), keeps the points' original
// timestamps so a retried log-batch is de-duplicated by the server, and ends
// runs with FINISHED, FAILED or KILLED.
//
// Both are configured by Options or from the environment variables MLflow's
// own client reads (NewClientFromEnv, NewBackendFromEnv):
// MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN (bearer token),
// MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (basic auth).
package mlflow
