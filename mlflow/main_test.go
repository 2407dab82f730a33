package mlflow_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Run, proxy, server and connection a test opens is closed by its end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
