package mlflow_test

import (
	"os"
	"testing"

	"github.com/mlerr/mlerr/internal/testserver"
	"go.uber.org/goleak"
)

// No test reaches the user's own server through MLflow's variables, and every
// Run, proxy, server and connection a test opens is closed by its end. The
// experiments the suite created on the real servers are deleted at the end.
// With MLERR_TEST_RANK set, the binary is a rank of TestIntegrationManyRanks.
func TestMain(m *testing.M) {
	if os.Getenv(envRank) != "" {
		os.Exit(rankMain())
	}
	testserver.Isolate()
	goleak.VerifyTestMain(m, goleak.Cleanup(testserver.DeleteExperiments))
}
