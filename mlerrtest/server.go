package mlerrtest

import (
	"net/http/httptest"

	"github.com/mlerr/mlerr/internal/fakemlflow"
)

// NewServer starts an in-memory MLflow tracking server on a loopback port:
// the REST endpoints package mlflow uses (experiments get-by-name, create
// and delete; runs create, get, update, delete, search, log-batch; metric
// history), with the real server's error bodies and statuses, write-once
// params, log-batch limits and deleted runs refusing writes. It stores no
// artifacts. Pass its URL to mlflow.NewBackend or mlflow.NewClient; the
// caller closes it. It is for fast tests; nothing replaces a test against a
// real server.
func NewServer() *httptest.Server {
	return httptest.NewServer(fakemlflow.New())
}
