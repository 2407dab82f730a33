package main

import (
	"bytes"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The test binary doubles as the command conncount runs: with
// CONNCOUNT_HELPER set, TestMain acts as the child instead of running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("CONNCOUNT_HELPER") {
	case "":
		os.Exit(m.Run())
	case "dial":
		dial(2)
	case "fail":
		os.Exit(3)
	}
	if os.Getenv("MLERR_TEST_MLFLOW_URI") != "" || os.Getenv("MLFLOW_RUN_ID") != "" {
		os.Exit(4) // the project's and the user's other variables are removed
	}
	os.Exit(0)
}

// dial makes n requests to the server of MLFLOW_TRACKING_URI on n
// connections.
func dial(n int) {
	for i := 0; i < n; i++ {
		tr := &http.Transport{}
		resp, err := (&http.Client{Transport: tr}).Get(os.Getenv("MLFLOW_TRACKING_URI") + "/api/2.0/mlflow/experiments/get-by-name")
		if err == nil {
			_ = resp.Body.Close()
		}
		tr.CloseIdleConnections()
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		helper   string
		wantCode int
		wantOut  []string
	}{
		{helper: "none", wantCode: 0, wantOut: []string{"conncount: 0 connections"}},
		{helper: "dial", wantCode: 1, wantOut: []string{"conncount: 2 connections", "GET /api/2.0/mlflow/experiments/get-by-name", "FAIL"}},
		{helper: "fail", wantCode: 1, wantOut: []string{"conncount: 0 connections", "the command failed: exit status 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.helper, func(t *testing.T) {
			t.Setenv("CONNCOUNT_HELPER", tt.helper)
			t.Setenv("MLERR_TEST_MLFLOW_URI", "http://the-projects-server")
			t.Setenv("MLFLOW_RUN_ID", "a-users-run")
			var out bytes.Buffer
			code := run([]string{os.Args[0], "-test.run=^$"}, &out, &out)
			assert.Equal(t, tt.wantCode, code, out.String())
			for _, w := range tt.wantOut {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestRunNoCommand(t *testing.T) {
	assert.Equal(t, 2, run(nil, &bytes.Buffer{}, &bytes.Buffer{}))
}

func TestChildEnv(t *testing.T) {
	got := childEnv([]string{"PATH=/bin", "MLERR_TEST_AUTH_URI=x", "MLFLOW_TRACKING_URI=http://users", "HOME=/h"}, "http://127.0.0.1:1")
	assert.Equal(t, append([]string{"PATH=/bin", "HOME=/h"}, userVars("http://127.0.0.1:1")...), got)
}
