package mlflow_test

import (
	"testing"

	"github.com/mlerr/mlerr/internal/testserver"
	"go.uber.org/goleak"
)

// No test reaches the user's own server through MLflow's variables, and every
// Run, proxy, server and connection a test opens is closed by its end. The
// experiments the suite created on the real servers are deleted at the end.
func TestMain(m *testing.M) {
	testserver.Isolate()
	goleak.VerifyTestMain(m, goleak.Cleanup(testserver.DeleteExperiments))
}
