// Package mlerrtest provides what a program's own tests need to check how
// they handle a Run's events, in the spirit of net/http/httptest:
//
//   - Backend, an in-memory mlerr.ArtifactBackend that records what was
//     written, in order, and whose calls can be scripted to fail: the next N
//     calls with an error (FailNext), every call until released (Hang),
//     per-item rejections (Reject), a panic (PanicNext).
//   - Clock, an mlerr.Clock whose time stands still until a Sleep or
//     Advance moves it, so that retries and backoffs take no real time
//     (mlerr.WithClock, mlerr.Policy.Clock).
//   - NewServer, an in-memory MLflow tracking server on a loopback port, for
//     tests of code that uses package mlflow.
//   - ServerError, the error the mlflow backend returns for an MLflow error
//     response, to script realistic faults.
//
// A test passes a Backend to mlerr.NewRun, scripts its faults, logs, closes
// the Run and then inspects Calls (every call, with its outcome) and Run
// (what was stored). Everything here is safe for concurrent use.
package mlerrtest
