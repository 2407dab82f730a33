// Package testserver names the real servers an integration test may write to.
//
// A test never reads MLFLOW_TRACKING_URI: an ML engineer usually has it
// exported, pointing at a server of their own, and `go test ./...` must not
// write experiments into it. The integration suites read the project's own
// variables instead, which only .ci/run (or a developer who started a
// throw-away server with scripts/mlflow-server.sh) sets:
//
//	MLERR_TEST_MLFLOW_URI           a real MLflow server, free to write to
//	MLERR_TEST_AUTH_URI             a real MLflow server running the basic-auth app
//	MLERR_TEST_AUTH_ADMIN_USERNAME  its admin
//	MLERR_TEST_AUTH_ADMIN_PASSWORD  the admin's password
//	MLERR_TEST_MLFLOW_PYTHON        a python with the server's mlflow installed (the venv's)
//	MLERR_TEST_REQUIRE_SERVERS=1    a missing variable fails the test instead of skipping it
//
// .ci/run sets MLERR_TEST_REQUIRE_SERVERS=1, so no integration test skips
// where CI is meant to run it.
package testserver

import (
	"os"
	"strings"
	"testing"
)

// The variables this package reads.
const (
	EnvMLflowURI     = "MLERR_TEST_MLFLOW_URI"
	EnvAuthURI       = "MLERR_TEST_AUTH_URI"
	EnvAuthAdmin     = "MLERR_TEST_AUTH_ADMIN_USERNAME"
	EnvAuthAdminPass = "MLERR_TEST_AUTH_ADMIN_PASSWORD"
	EnvRequire       = "MLERR_TEST_REQUIRE_SERVERS"
	EnvMLflowPython  = "MLERR_TEST_MLFLOW_PYTHON"
)

// userVars are the variables of MLflow's client that point a process at a
// user's server or give it credentials; Isolate removes them.
var userVars = []string{
	"MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME",
	"MLFLOW_TRACKING_PASSWORD", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID",
	"MLFLOW_EXPERIMENT_NAME",
}

// Isolate unsets MLflow's client variables in this process, so that no code
// under test that reads them (NewClientFromEnv, the CLI) can reach the
// user's server. Call it from TestMain before m.Run; tests that need one of
// the variables set it with t.Setenv.
func Isolate() {
	for _, v := range userVars {
		_ = os.Unsetenv(v)
	}
}

// MLflowURI returns the URI of the real MLflow server of the integration
// suite (MLERR_TEST_MLFLOW_URI, without a trailing slash). Without it the
// test is skipped, or failed when MLERR_TEST_REQUIRE_SERVERS=1.
func MLflowURI(t testing.TB) string {
	t.Helper()
	return need(t, EnvMLflowURI, "start one with: export "+EnvMLflowURI+"=$(scripts/mlflow-server.sh start | cut -d= -f2-)")
}

// Auth returns the basic-auth server of the auth suite and its admin's
// credentials, skipping (or failing, see MLflowURI) without them.
func Auth(t testing.TB) (uri, admin, password string) {
	t.Helper()
	hint := "start one with MLFLOW_AUTH=1 scripts/mlflow-server.sh start (see .ci/run)"
	uri = need(t, EnvAuthURI, hint)
	admin = need(t, EnvAuthAdmin, "it goes with "+EnvAuthURI)
	password = need(t, EnvAuthAdminPass, "it goes with "+EnvAuthURI)
	return uri, admin, password
}

// Required reports whether missing servers fail tests instead of skipping
// them (MLERR_TEST_REQUIRE_SERVERS=1).
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// MLflowPython returns the python interpreter that has MLflow's client
// installed, the one of the server's venv (MLERR_TEST_MLFLOW_PYTHON),
// skipping (or failing, see MLflowURI) without it.
func MLflowPython(t testing.TB) string {
	t.Helper()
	return need(t, EnvMLflowPython, "set it to the server's venv python, as .ci/run does: .venv-mlflow/bin/python")
}

func need(t testing.TB, name, hint string) string {
	t.Helper()
	v := strings.TrimRight(strings.TrimSpace(os.Getenv(name)), "/")
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set and %s=1: %s", name, EnvRequire, hint)
		return ""
	}
	t.Skipf("%s is not set: %s", name, hint)
	return ""
}
