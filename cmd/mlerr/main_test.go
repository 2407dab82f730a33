package main

import (
	"bytes"
	"context"
	"math"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/localstore"
	"github.com/mlerr/mlerr/mlflow"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// result is what a command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, tty bool, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, env{stdout: &out, stderr: &errb, tty: tty})
	return result{code, out.String(), errb.String()}
}

// offlineStore writes runs of batches×size points of "loss" (NaN at step 0)
// to a new store and returns its directory.
func offlineStore(t *testing.T, runs, batches, size int) string {
	t.Helper()
	dir := t.TempDir()
	s, err := localstore.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	for r := range runs {
		info, err := s.StartRun(ctx, mlerr.RunSpec{Name: "offline", StartTime: t0.Add(time.Duration(r) * time.Second)})
		require.NoError(t, err)
		require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 1, Items: []mlerr.Item{{Kind: mlerr.ItemParam, Key: "lr", Text: "0.1"}}}))
		for b := range batches {
			items := make([]mlerr.Item, size)
			for i := range items {
				step := int64(b*size + i)
				v := float64(step) / 4
				if step == 0 {
					v = math.NaN()
				}
				items[i] = mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: v, Step: step, Time: t0.Add(time.Duration(step) * time.Millisecond)}
			}
			require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: uint64(b + 2), Items: items}))
		}
		require.NoError(t, s.EndRun(ctx, info.RunID, mlerr.RunFinished, t0.Add(time.Hour)))
	}
	return dir
}

// checkServer reads every synced run back from the server: steps
// 0..n-1 of "loss" exactly once, NaN at step 0, the param, FINISHED.
func checkServer(t *testing.T, uri, dir string, n int) {
	t.Helper()
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	for _, r := range runs {
		require.True(t, r.Synced(), r.ID)
		var remote string
		for _, s := range r.Sync {
			if s.Target == c.TrackingURI() {
				remote = s.RemoteRunID
			}
		}
		require.NotEmpty(t, remote)
		hist, err := c.GetMetricHistory(context.Background(), remote, "loss")
		require.NoError(t, err)
		require.Len(t, hist, n, "every point exactly once")
		seen := map[int64]int{}
		for _, m := range hist {
			seen[m.Step]++
			if m.Step == 0 {
				assert.True(t, math.IsNaN(m.Value), "NaN kept")
			} else {
				assert.Equal(t, float64(m.Step)/4, m.Value)
			}
		}
		assert.Len(t, seen, n)
		run, err := c.GetRun(context.Background(), remote)
		require.NoError(t, err)
		assert.Equal(t, "FINISHED", run.Info.Status)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"ls", "a", "b"}, 2, "want one directory"},
		{[]string{"sync", "a", "b"}, 2, "want one directory"},
		{[]string{"sync", "-retries", "-1", "x"}, 2, "want one directory"},
		{[]string{"sync", "-nope", "x"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		r := runCLI(t, false, tt.args...)
		assert.Equal(t, tt.code, r.code, tt.args)
		assert.Contains(t, r.stderr, tt.want, tt.args)
	}
	r := runCLI(t, false, "help")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "mlerr sync")
}

func TestBadDirectory(t *testing.T) {
	t.Setenv(mlflow.EnvTrackingURI, "http://127.0.0.1:1")
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		name, dir, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "missing"), "does not exist"},
		{"a file", file, "is not a directory"},
		{"not a store", t.TempDir(), "holds no mlerr local store"},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"ls", "sync"} {
			t.Run(cmd+" "+tt.name, func(t *testing.T) {
				r := runCLI(t, false, cmd, tt.dir)
				assert.Equal(t, 1, r.code)
				assert.Equal(t, "mlerr: "+cmd+": "+tt.dir+" "+tt.want+"\n", r.stderr, "one line")
				assert.Empty(t, r.stdout)
			})
		}
	}
}

func TestLs(t *testing.T) {
	dir := offlineStore(t, 2, 3, 10)
	r := runCLI(t, false, "ls", dir)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	assert.Regexp(t, `^RUN\s+NAME\s+STATUS\s+STARTED\s+POINTS\s+PARAMS\s+TAGS\s+BATCHES\s+ARTIFACTS\s+REMOTE\s+SYNCED$`, lines[0])
	assert.Regexp(t, `^[0-9a-f]{32}\s+offline\s+FINISHED\s+\S+ \S+\s+30\s+1\s+0\s+4\s+-\s+-\s+no$`, lines[1])

	empty := t.TempDir()
	_, err := localstore.Open(empty)
	require.NoError(t, err)
	r = runCLI(t, false, "ls", empty)
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "no runs in")
}

func TestLsCorruptedRun(t *testing.T) {
	dir := offlineStore(t, 1, 2, 5)
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	log := filepath.Join(runs[0].Dir, "log")
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	data[40] ^= 0xff
	require.NoError(t, os.WriteFile(log, data, 0o644))
	r := runCLI(t, false, "ls", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "ERROR")
	assert.Contains(t, r.stdout, "DATA_LOSS")
	assert.Equal(t, "mlerr: ls: 1 of 1 runs cannot be read (see ERROR above)\n", r.stderr)
}

// fakeServer starts an in-memory MLflow server and points the environment
// at it.
func fakeServer(t *testing.T, opts ...fakemlflow.Option) (*fakemlflow.Server, string) {
	t.Helper()
	fs := fakemlflow.New(opts...)
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	t.Setenv(mlflow.EnvTrackingURI, srv.URL)
	t.Setenv(mlflow.EnvTrackingToken, "")
	t.Setenv(mlflow.EnvTrackingUsername, "")
	t.Setenv(mlflow.EnvTrackingPassword, "")
	return fs, srv.URL
}

func TestSync(t *testing.T) {
	fs, uri := fakeServer(t)
	dir := offlineStore(t, 2, 3, 400)
	r := runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "synced 2402 items in 8 batches to "+uri)
	assert.Contains(t, r.stdout, "ended FINISHED")
	assert.Contains(t, r.stderr, "run 1/2")
	assert.Contains(t, r.stderr, "4/4 batches uploaded")
	assert.NotContains(t, r.stderr, "\r", "no bar without a terminal")
	checkServer(t, uri, dir, 1200)
	assert.Equal(t, 2, fs.RunCount())

	// Again: nothing to do.
	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "already synced")
	assert.Contains(t, r.stdout, "synced 0 items in 0 batches")
	assert.Equal(t, 2, fs.RunCount())

	r = runCLI(t, false, "ls", dir)
	assert.Regexp(t, `\s+yes\n`, r.stdout)
}

func TestSyncProgressBarOnATerminal(t *testing.T) {
	_, _ = fakeServer(t)
	dir := offlineStore(t, 1, 2, 10)
	r := runCLI(t, true, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "\r[")
	assert.Contains(t, r.stderr, "100%  21/21 items")
	assert.True(t, strings.HasSuffix(r.stderr, "\n"))
}

func TestSyncUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	uri := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	t.Setenv(mlflow.EnvTrackingURI, uri)
	dir := offlineStore(t, 1, 1, 5)
	r := runCLI(t, false, "sync", "-retries", "0", dir)
	assert.Equal(t, 1, r.code)
	last := lastLine(r.stderr)
	assert.Equal(t, "mlerr: sync: cannot reach the MLflow server at "+uri+" (connect: connection refused); run sync again once it is up: it resumes where it stopped", last)
	assert.Empty(t, r.stdout, "nothing was uploaded: no summary")
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	assert.False(t, runs[0].Synced())
}

func TestSyncRejectedCredentials(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		status string
	}{
		{"no token", "", "401"},
		{"wrong token", "guess", "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, uri := fakeServer(t, fakemlflow.WithToken("s3cret"))
			t.Setenv(mlflow.EnvTrackingToken, tt.token)
			dir := offlineStore(t, 1, 1, 5)
			r := runCLI(t, false, "sync", dir)
			assert.Equal(t, 1, r.code)
			assert.Equal(t, "mlerr: sync: the MLflow server at "+uri+" refused the credentials (HTTP "+tt.status+
				"): check MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD", lastLine(r.stderr))
			assert.Equal(t, 0, fs.RunCount())
		})
	}
	// With the right token it goes through.
	_, uri := fakeServer(t, fakemlflow.WithToken("s3cret"))
	t.Setenv(mlflow.EnvTrackingToken, "s3cret")
	dir := offlineStore(t, 1, 1, 5)
	r := runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	_ = uri
}

func TestSyncMissingTrackingURI(t *testing.T) {
	t.Setenv(mlflow.EnvTrackingURI, "")
	dir := offlineStore(t, 1, 1, 1)
	r := runCLI(t, false, "sync", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "mlerr: sync: MLFLOW_TRACKING_URI is not set")
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"))
}

// TestSyncResumesAfterAnInterruption drops the server's answer to a
// log-batch after the server applied it, with no retry: sync fails; the next
// sync resumes the same run and the server holds every point once.
func TestSyncResumesAfterAnInterruption(t *testing.T) {
	fs := fakemlflow.New()
	proxy, err := fault.New(fs)
	require.NoError(t, err)
	defer proxy.Close()
	proxy.Add(fault.Rule{Path: "/runs/log-batch", Skip: 2, Times: 1, Fault: fault.DropResponse})
	t.Setenv(mlflow.EnvTrackingURI, proxy.URL())
	// 26 stored batches (a param, then 25 of 100 points) go in 3 requests
	// of at most 1000 items: batches 1-10, 11-20, 21-26.
	dir := offlineStore(t, 1, 25, 100)
	r := runCLI(t, false, "sync", "-retries", "0", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, lastLine(r.stderr), "run sync again")
	assert.Contains(t, r.stdout, "before the failure, uploaded 1901 items in 20 batches")
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	require.Len(t, runs[0].Sync, 1)
	assert.Equal(t, 20, runs[0].Sync[0].Batches, "the cursor stops before the request whose answer was lost")
	r = runCLI(t, false, "ls", dir)
	assert.Contains(t, r.stdout, "partly (20/26 batches)")

	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "(20 batches sent before)")
	assert.Equal(t, 1, fs.RunCount(), "the same remote run is resumed")
	checkServer(t, proxy.URL(), dir, 2500)
}

// TestSyncRealServer uploads to the MLflow server of MLERR_TEST_MLFLOW_URI
// (started by .ci/run) and reads the runs back.
func TestSyncRealServer(t *testing.T) {
	uri := testserver.MLflowURI(t)
	t.Setenv(mlflow.EnvTrackingURI, uri)
	t.Setenv(mlflow.EnvExperimentName, testserver.Experiment("sync"))
	dir := offlineStore(t, 2, 3, 300)
	r := runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	checkServer(t, c.TrackingURI(), dir, 900)
	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "already synced")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestSyncRealServerResumes puts a fault proxy in front of the real server
// that drops the answer to a log-batch after the server applied it: the
// resumed sync resends that batch, and the server still holds every point
// once.
func TestSyncRealServerResumes(t *testing.T) {
	uri := testserver.MLflowURI(t)
	proxy, err := fault.NewReverse(uri)
	require.NoError(t, err)
	defer proxy.Close()
	proxy.Add(fault.Rule{Path: "/runs/log-batch", Skip: 2, Times: 1, Fault: fault.DropResponse})
	t.Setenv(mlflow.EnvTrackingURI, proxy.URL())
	t.Setenv(mlflow.EnvExperimentName, testserver.Experiment("sync-resumes"))
	dir := offlineStore(t, 1, 12, 250) // requests of batches 1-4, 5-8, 9-12, 13
	r := runCLI(t, false, "sync", "-retries", "0", dir)
	require.Equal(t, 1, r.code)
	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "(8 batches sent before)")
	checkServer(t, proxy.URL(), dir, 3000)
}

// TestLsAndSyncDefaultStore: without a directory, ls and sync read
// ./mlerr-runs; TAGS counts the run's own tags (WithTags) and the logged
// ones; REMOTE shows the remote run, which names the local run in a tag.
func TestLsAndSyncDefaultStore(t *testing.T) {
	_, uri := fakeServer(t)
	t.Chdir(t.TempDir())
	r := runCLI(t, false, "ls")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "mlerr: ls: mlerr-runs does not exist\n", r.stderr)

	s, err := localstore.Open("mlerr-runs")
	require.NoError(t, err)
	ctx := context.Background()
	info, err := s.StartRun(ctx, mlerr.RunSpec{Name: "tagged", StartTime: t0, Tags: map[string]string{"team": "a", "stage": "b"}})
	require.NoError(t, err)
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: 1, Items: []mlerr.Item{{Kind: mlerr.ItemTag, Key: "logged", Text: "x"}}}))
	require.NoError(t, s.Close())
	r = runCLI(t, false, "ls")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `tagged\s+RUNNING\s+\S+ \S+\s+0\s+0\s+3\s+1\s+-\s+-\s+no\n`, r.stdout)

	r = runCLI(t, false, "sync")
	require.Equal(t, 0, r.code, r.stderr)
	runs, err := localstore.List("mlerr-runs")
	require.NoError(t, err)
	remote := runs[0].Sync[0].RemoteRunID
	r = runCLI(t, false, "ls")
	assert.Regexp(t, `\s+3\s+1\s+-\s+`+remote+`\s+yes\n`, r.stdout)
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	run, err := c.GetRun(ctx, remote)
	require.NoError(t, err)
	local, _ := run.Data.Tag(localstore.TagLocalRunID)
	assert.Equal(t, info.RunID, local)
}

// TestSyncDeletedRun: a run deleted on the server after it was synced is
// reported (exit 1), not "already synced"; -force uploads it again as a
// new run.
func TestSyncDeletedRun(t *testing.T) {
	fs, uri := fakeServer(t)
	dir := offlineStore(t, 1, 2, 10)
	r := runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	first := runs[0].Sync[0].RemoteRunID
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	require.NoError(t, c.DeleteRun(context.Background(), first))

	r = runCLI(t, false, "sync", dir)
	assert.Equal(t, 1, r.code)
	assert.NotContains(t, r.stdout, "already synced")
	assert.Contains(t, r.stdout, "it was synced as "+first+", which is deleted on the server (--force uploads it again as a new run)")
	assert.Equal(t, "mlerr: sync: 1 of 1 runs were deleted on the server since they were synced (see above); mlerr sync --force uploads them again as new runs\n", r.stderr)

	r = runCLI(t, false, "sync", "--force", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "uploaded again as a new run ("+first+", where it was synced, is deleted on the server): 21 items in 3 batches")
	assert.Equal(t, 2, fs.RunCount())
	runs, err = localstore.List(dir)
	require.NoError(t, err)
	second := runs[0].Sync[0].RemoteRunID
	assert.NotEqual(t, first, second)
	checkServer(t, uri, dir, 20)
	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "already synced as "+second)
}

// TestSyncIgnoresMLflowRunID: MLFLOW_RUN_ID, which a training program
// resumes, does not make sync write a local run into that run; synced runs
// carry no system tags of sync's own.
func TestSyncIgnoresMLflowRunID(t *testing.T) {
	fs, uri := fakeServer(t)
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	other, err := c.CreateRun(context.Background(), mlflow.CreateRunRequest{ExperimentID: "0", RunName: "someone else's"})
	require.NoError(t, err)
	t.Setenv(mlflow.EnvRunID, other.Info.RunID)
	dir := offlineStore(t, 1, 1, 5)
	r := runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 2, fs.RunCount())
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	remote := runs[0].Sync[0].RemoteRunID
	assert.NotEqual(t, other.Info.RunID, remote)
	run, err := c.GetRun(context.Background(), remote)
	require.NoError(t, err)
	_, has := run.Data.Tag(mlflow.TagSourceName)
	assert.False(t, has, "no source tag naming sync")
}
