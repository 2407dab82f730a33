package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ExperimentPrefix starts the name of every experiment the suite creates on
// a real server, so that a person looking at the server can tell the suite's
// experiments from their own: "mlerr-test-<session>-<name>-<n>".
const ExperimentPrefix = "mlerr-test-"

// session tells this test process's experiments from those of a test
// process running at the same time against the same server, so that
// DeleteExperiments deletes only its own.
var session = strconv.FormatInt(time.Now().UnixNano()/int64(time.Millisecond), 36) + strconv.Itoa(os.Getpid())

var seq atomic.Int64

// Experiment returns a unique experiment name for this test process:
// ExperimentPrefix, the process's session, name and a sequence number.
// DeleteExperiments deletes, at the end of the process, every experiment
// whose name Experiment returned.
func Experiment(name string) string {
	return fmt.Sprintf("%s%s-%s-%d", ExperimentPrefix, session, name, seq.Add(1))
}

// DeleteExperiments deletes (MLflow's experiments/delete, which moves an
// experiment to the trash; the server's `mlflow gc` removes it for good)
// every experiment this process named with Experiment on the servers of
// MLERR_TEST_MLFLOW_URI and MLERR_TEST_AUTH_URI (as its admin). It reports
// failures on stderr and never changes the exit code: exitCode is the tests'
// code, so the function fits goleak.Cleanup. Call it from TestMain after
// m.Run.
func DeleteExperiments(exitCode int) {
	_ = exitCode
	for _, s := range servers() {
		if err := s.deleteOwn(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "testserver: deleting this run's experiments on %s: %v\n", s.uri, err)
		}
	}
}

// Main runs the tests of m, deletes their experiments and returns the exit
// code: os.Exit(testserver.Main(m)) for a TestMain without goleak.
func Main(m interface{ Run() int }) int {
	code := m.Run()
	DeleteExperiments(code)
	return code
}

// server is a real server to clean up, with its admin for the auth server.
type server struct {
	uri, user, pass string
	hc              *http.Client
}

func servers() []*server {
	var out []*server
	if uri := trimmed(EnvMLflowURI); uri != "" {
		out = append(out, &server{uri: uri})
	}
	if uri := trimmed(EnvAuthURI); uri != "" {
		out = append(out, &server{uri: uri, user: os.Getenv(EnvAuthAdmin), pass: os.Getenv(EnvAuthAdminPass)})
	}
	return out
}

func trimmed(name string) string {
	return strings.TrimRight(strings.TrimSpace(os.Getenv(name)), "/")
}

func (s *server) deleteOwn(ctx context.Context) error {
	s.hc = newClient()
	defer s.hc.CloseIdleConnections()
	ids, err := s.ownExperiments(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.post(ctx, "experiments/delete", map[string]string{"experiment_id": id}, nil); err != nil {
			return err
		}
	}
	return nil
}

// ownExperiments lists the active experiments named by this process.
func (s *server) ownExperiments(ctx context.Context) ([]string, error) {
	var ids []string
	token := ""
	for {
		var page struct {
			Experiments []struct {
				ID string `json:"experiment_id"`
			} `json:"experiments"`
			Next string `json:"next_page_token"`
		}
		req := map[string]any{"filter": "name LIKE '" + ExperimentPrefix + session + "-%'", "max_results": 1000}
		if token != "" {
			req["page_token"] = token
		}
		if err := s.post(ctx, "experiments/search", req, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Experiments {
			ids = append(ids, e.ID)
		}
		if token = page.Next; token == "" {
			return ids, nil
		}
	}
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{}, Timeout: 2 * time.Minute}
}

// post calls MLflow's REST API with in as the JSON body (in nil: a GET)
// and decodes the answer into out (out nil: ignored).
func (s *server) post(ctx context.Context, path string, in, out any) error {
	method, body := http.MethodGet, []byte(nil)
	if in != nil {
		method = http.MethodPost
		body, _ = json.Marshal(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.uri+"/api/2.0/mlflow/"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
