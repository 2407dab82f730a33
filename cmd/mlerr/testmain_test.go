package main

import (
	"os"
	"testing"

	"github.com/mlerr/mlerr/internal/testserver"
)

// No test reaches the user's own server through MLflow's variables: tests
// that sync set MLFLOW_TRACKING_URI themselves, to a fake or to the suite's
// server (MLERR_TEST_MLFLOW_URI), into experiments named by
// testserver.Experiment, which are deleted at the end.
func TestMain(m *testing.M) {
	testserver.Isolate()
	os.Exit(testserver.Main(m))
}
