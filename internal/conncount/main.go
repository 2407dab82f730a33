// Command conncount proves that a command (the test suite) never connects to
// the MLflow server a user's environment names. It listens on a loopback
// port, points MLFLOW_TRACKING_URI (and the token, username and password
// variables) at it, removes the project's own MLERR_TEST_* variables, runs
// the command and counts the connections the listener accepted. It fails
// when the command fails or when any connection arrived:
//
//	go run ./internal/conncount -- go test -count=1 ./...
//
// .ci/run runs it on the whole module. Every connection is answered with
// HTTP 503 and its request line is listed in the report.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: conncount -- command [args...]")
	}
	flag.Parse()
	os.Exit(run(flag.Args(), os.Stdout, os.Stderr))
}

// run runs args with the user's MLflow variables pointing at a counting
// listener and returns the exit code: 0 when the command succeeded and made
// no connection.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		flag.Usage()
		return 2
	}
	c, err := listen()
	if err != nil {
		fmt.Fprintln(stderr, "conncount:", err)
		return 1
	}
	defer c.close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = childEnv(os.Environ(), c.uri)
	runErr := cmd.Run()
	return c.report(stderr, runErr)
}

// userVars point a process at the user's MLflow server and give it
// credentials; the counting listener stands in for that server.
func userVars(uri string) []string {
	return []string{
		"MLFLOW_TRACKING_URI=" + uri,
		"MLFLOW_TRACKING_TOKEN=conncount-token",
		"MLFLOW_TRACKING_USERNAME=conncount-user",
		"MLFLOW_TRACKING_PASSWORD=conncount-password",
	}
}

// childEnv is env without the project's MLERR_TEST_* variables (so the
// integration suite skips instead of reaching the project's servers) and
// without MLflow's client variables, then with userVars added.
func childEnv(env []string, uri string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "MLERR_TEST_") || strings.HasPrefix(name, "MLFLOW_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, userVars(uri)...)
}

// counter is the listener standing in for the user's server.
type counter struct {
	uri  string
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	n    int
	reqs []string
}

func listen() (*counter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &counter{uri: "http://" + ln.Addr().String(), ln: ln}
	c.srv = &http.Server{Handler: http.HandlerFunc(c.serve), ConnState: c.state, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *counter) state(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

func (c *counter) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	http.Error(w, "conncount: a test reached MLFLOW_TRACKING_URI, the user's server", http.StatusServiceUnavailable)
}

func (c *counter) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
}

// counts returns the connections accepted and the distinct request lines.
func (c *counter) counts() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var reqs []string
	for _, r := range c.reqs {
		if !seen[r] {
			seen[r] = true
			reqs = append(reqs, r)
		}
	}
	sort.Strings(reqs)
	return c.n, reqs
}

func (c *counter) report(w io.Writer, runErr error) int {
	n, reqs := c.counts()
	fmt.Fprintf(w, "conncount: %d connections to MLFLOW_TRACKING_URI=%s\n", n, c.uri)
	for _, r := range reqs {
		fmt.Fprintln(w, "conncount:   ", r)
	}
	switch {
	case runErr != nil:
		fmt.Fprintln(w, "conncount: the command failed:", runErr)
		return 1
	case n > 0:
		fmt.Fprintln(w, "conncount: FAIL: the command connected to the server of the user's environment")
		return 1
	}
	return 0
}
