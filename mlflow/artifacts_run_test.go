package mlflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// putCounter counts the artifact uploads a fault proxy forwards, by path,
// and applies a fault to some.
type putCounter struct {
	mu        sync.Mutex
	forwarded map[string]int
	puts      int
	fault     func(n int, path string) (fault.Fault, bool) // nil: none
}

func (c *putCounter) program(r *http.Request) (fault.Fault, bool) {
	if r.Method != http.MethodPut {
		return fault.Fault{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.fault != nil {
		if f, ok := c.fault(c.puts, r.URL.Path); ok {
			return f, true
		}
	}
	if c.forwarded == nil {
		c.forwarded = map[string]int{}
	}
	c.forwarded[r.URL.Path[strings.Index(r.URL.Path, "/artifacts/")+len("/artifacts/"):]]++
	return fault.Fault{}, false
}

// counts returns the uploads forwarded, by path under the run's artifact
// root ("<exp>/<run>/artifacts/" stripped).
func (c *putCounter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for p, n := range c.forwarded {
		_, rel, _ := strings.Cut(p, "/artifacts/")
		out[rel] += n
	}
	return out
}

// writeTree writes n files under dir, in a few sub-directories, and
// returns their contents by artifact path under prefix.
func writeTree(t *testing.T, dir, prefix string, n int) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for i := range n {
		rel := fmt.Sprintf("d%d/f%02d.bin", i%5, i)
		data := bytes.Repeat([]byte(fmt.Sprintf("file %d;", i)), 1+i*97)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
		want[prefix+"/"+rel] = data
	}
	return want
}

// requireArtifacts checks that the run holds exactly want, byte for byte,
// reading it back through the server.
func requireArtifacts(t *testing.T, c *mlflow.Client, runID string, want map[string][]byte) {
	t.Helper()
	sizes := map[string]int64{}
	for p, d := range want {
		sizes[p] = int64(len(d))
	}
	assert.Equal(t, sizes, listAll(t, c, runID, "", nil))
	for p, d := range want {
		assert.True(t, bytes.Equal(d, download(t, c, runID, p)), "content of %s", p)
	}
}

// unreadable makes a file of the tree that cannot be read at the call: a
// link to nothing (root reads a file of mode 0).
func unreadable(t *testing.T, dir, name string) {
	t.Helper()
	require.NoError(t, os.Symlink(filepath.Join(dir, "no-such-file"), filepath.Join(dir, name)))
}

// TestIntegrationRunArtifacts logs a file, a tree of 50 files (one that
// cannot be read, one whose upload the connection always drops), bytes,
// text and JSON to the real server; reads everything back; checks the
// failures; and uploads again only the failed file with RetryFailed.
func TestIntegrationRunArtifacts(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	const dropped = "tree/d2/f07.bin"
	pc := &putCounter{fault: func(_ int, path string) (fault.Fault, bool) {
		return fault.ResetConn, strings.HasSuffix(path, "/artifacts/"+dropped)
	}}
	e.proxy.Program(pc.program)
	rec := &recorder{}
	run, err := mlerr.NewRun(ctx, e.backend, mlerr.WithExperiment(unique("artifacts")), mlerr.WithCallbacks(rec.callbacks()),
		mlerr.WithRetryPolicy(testPolicy(0, nil)))
	require.NoError(t, err)

	dir := t.TempDir()
	want := writeTree(t, filepath.Join(dir, "tree"), "tree", 50)
	unreadable(t, filepath.Join(dir, "tree"), "d1/broken.bin")
	single := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(single, []byte("lr: 0.1\n"), 0o644))

	require.NoError(t, run.LogArtifact(single, "configs"))
	refused := run.LogArtifacts(filepath.Join(dir, "tree"), "tree")
	require.NoError(t, run.LogBytes([]byte{0, 1, 2, 255}, "weights.bin"))
	require.NoError(t, run.LogText("done\n", "notes/status.txt"))
	require.NoError(t, run.LogJSON(map[string]float64{"acc": 0.5}, "eval.json"))
	want["configs/config.yaml"] = []byte("lr: 0.1\n")
	want["weights.bin"] = []byte{0, 1, 2, 255}
	want["notes/status.txt"] = []byte("done\n")
	want["eval.json"] = []byte("{\n  \"acc\": 0.5\n}\n")

	// The file that cannot be read is refused at the call, the others logged.
	checkFailure(t, refused, "tree/d1/broken.bin", filepath.Join(dir, "tree", "d1", "broken.bin"), "file not readable")

	require.NoError(t, run.Wait(ctx))
	// Events reach the callbacks on their own goroutine, soon after.
	require.Eventually(t, func() bool { return len(rec.get("err")) >= 2 }, 10*time.Second, 5*time.Millisecond)
	lost := rec.get("err")
	require.Len(t, lost, 2, "the refusal at the call, then one event for the batch's failed files")
	checkFailure(t, lost[0], "tree/d1/broken.bin", filepath.Join(dir, "tree", "d1", "broken.bin"), "file not readable")
	lost = lost[1:]
	checkFailure(t, lost[0], dropped, filepath.Join(dir, "tree", "d2", "f07.bin"), "connection lost for good")
	assert.True(t, errors.Is(lost[0], mlerr.ErrNetwork), "%v", lost[0])

	delete(want, dropped)
	requireArtifacts(t, e.direct, run.ID(), want)

	// The connection is back: RetryFailed uploads the failed file alone.
	e.proxy.Program(nil)
	before := pc.counts()
	pc = &putCounter{}
	e.proxy.Program(pc.program)
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, lost[0], &be)
	again, err := mlerr.RetryFailed(ctx, be, func(ctx context.Context, items []mlerr.Item) error {
		if err := run.LogItems(ctx, items); err != nil {
			return err
		}
		return run.Wait(ctx)
	})
	require.NoError(t, err)
	assert.Len(t, again, 1)
	assert.Equal(t, map[string]int{dropped: 1}, pc.counts(), "only the failed file is uploaded again")
	for p, n := range before {
		assert.Equal(t, 1, n, "%s uploaded once", p)
	}
	want[dropped] = mustRead(t, filepath.Join(dir, "tree", "d2", "f07.bin"))
	// The run lost the file once (reported): it ends FAILED, all stored.
	_, err = run.Close(ctx)
	assert.ErrorIs(t, err, mlerr.CodeDataLoss)
	requireArtifacts(t, e.direct, run.ID(), want)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

// checkFailure checks that err carries exactly one failed file, as the
// library reports failures: item, reason, code, time, cause.
func checkFailure(t *testing.T, err error, artifactPath, local, reason string) {
	t.Helper()
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be, "%v", err)
	require.Len(t, be.Failures, 1, "%v", err)
	f := be.Failures[0]
	assert.Equal(t, mlerr.ItemArtifact, f.Item.Kind)
	assert.Equal(t, artifactPath, f.Item.Key)
	assert.Equal(t, local, f.Item.Text)
	assert.Equal(t, reason, f.Reason, "cause: %v", f.Cause)
	assert.NotZero(t, f.Code)
	assert.False(t, f.Time.IsZero())
	assert.Error(t, f.Cause)
	assert.Equal(t, []mlerr.Item{f.Item}, mlerr.LostItems(err))
}

// TestIntegrationArtifactsOutage takes the connection down in the middle of
// a directory's upload: once it is back, every file is on the server, and
// none was forwarded twice.
func TestIntegrationArtifactsOutage(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	var outage sync.WaitGroup
	t.Cleanup(outage.Wait)
	pc := &putCounter{fault: func(n int, _ string) (fault.Fault, bool) {
		if n != 10 {
			return fault.Fault{}, false
		}
		outage.Add(1)
		go func() {
			defer outage.Done()
			_ = e.proxy.Down()
			time.Sleep(300 * time.Millisecond)
			_ = e.proxy.Up()
		}()
		return fault.ResetConn, true
	}}
	e.proxy.Program(pc.program)
	rec := &recorder{}
	run, err := mlerr.NewRun(ctx, e.backend, mlerr.WithExperiment(unique("artifacts-outage")), mlerr.WithCallbacks(rec.callbacks()),
		mlerr.WithRetryPolicy(testPolicy(0, nil)))
	require.NoError(t, err)
	dir := t.TempDir()
	want := writeTree(t, dir, "out", 30)
	require.NoError(t, run.LogArtifacts(dir, "out"))
	rep, err := run.Close(ctx)
	require.NoError(t, err)
	assert.Equal(t, mlerr.RunFinished, rep.Status)
	assert.Empty(t, rec.get("err"))
	assert.NotEmpty(t, rec.get("net"), "the outage was reported")
	requireArtifacts(t, e.direct, rep.RunID, want)
	counts := pc.counts()
	assert.Len(t, counts, len(want))
	for p, n := range counts {
		assert.Equal(t, 1, n, "%s forwarded once", p)
	}
}
