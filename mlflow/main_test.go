package mlflow_test

import (
	"testing"

	"github.com/mlerr/mlerr/internal/testserver"
	"go.uber.org/goleak"
)

// No test reaches the user's own server through MLflow's variables, and every
// Run, proxy, server and connection a test opens is closed by its end.
func TestMain(m *testing.M) {
	testserver.Isolate()
	goleak.VerifyTestMain(m)
}
