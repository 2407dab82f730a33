package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestLogArtifactCopiesAtTheCall(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	p := writeFile(t, dir, "config.yaml", "lr: 0.1\n")
	require.NoError(t, f.run.LogArtifact(p, "configs"))
	require.NoError(t, os.WriteFile(p, []byte("lr: 9\n"), 0o644), "changed after the call")
	require.NoError(t, f.run.LogText("hello", "notes/hello.txt"))
	require.NoError(t, f.run.LogBytes([]byte{0, 1, 2}, "weights.bin"))
	require.NoError(t, f.run.LogJSON(map[string]any{"acc": 0.9}, "eval/report.json"))
	rep, err := f.close()
	require.NoError(t, err)
	rec, _ := f.b.Run(rep.RunID)
	assert.Equal(t, "lr: 0.1\n", string(rec.Artifacts["configs/config.yaml"]), "what the file held at the call")
	assert.Equal(t, "hello", string(rec.Artifacts["notes/hello.txt"]))
	assert.Equal(t, []byte{0, 1, 2}, rec.Artifacts["weights.bin"])
	assert.JSONEq(t, `{"acc": 0.9}`, string(rec.Artifacts["eval/report.json"]))
	assert.Equal(t, int64(4), rep.Sent)
	requireIdentity(t, rep)
}

func TestArtifactsKeepTheirOrderWithOtherData(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{BatchItems: 2, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	f.logSteps("x", 0, 3)
	require.NoError(t, f.run.LogText("a", "a.txt"))
	f.logSteps("x", 3, 4)
	require.NoError(t, f.run.LogText("b", "b.txt"))
	rep, err := f.close()
	require.NoError(t, err)
	rec, _ := f.b.Run(rep.RunID)
	assert.Equal(t, []string{"batch 1", "batch 2", "artifact a.txt", "batch 3", "artifact b.txt"}, rec.Writes)
}

func TestLogArtifactsPartialFailure(t *testing.T) {
	// 50 files; one dangling link (unreadable at the call), two refused by
	// the server: the 47 others are stored, and the failures are reported
	// exactly, the refused ones in one event.
	f := newFixture(t)
	dir := t.TempDir()
	for i := range 48 {
		writeFile(t, dir, fmt.Sprintf("d%d/f%02d.txt", i%3, i), fmt.Sprintf("content %d", i))
	}
	writeFile(t, dir, "bad/refused.txt", "no")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.txt")))
	f.b.Inject(fb.Artifact, -1, fb.Reject(func(it mlerr.Item) string {
		if strings.HasPrefix(it.Key, "ckpt/bad/") || it.Key == "ckpt/d0/f00.txt" {
			return "the server refuses this name"
		}
		return ""
	}))
	err := f.run.LogArtifacts(dir, "ckpt")
	require.Error(t, err, "the dangling link is refused at the call")
	assert.Equal(t, []string{"ckpt/dangling.txt"}, artifactKeys(mlerr.LostItems(err)))
	rep, cerr := f.close()
	require.Error(t, cerr)
	rec, _ := f.b.Run(rep.RunID)
	assert.Len(t, rec.Artifacts, 47)
	assert.Equal(t, "content 5", string(rec.Artifacts["ckpt/d2/f05.txt"]))
	var uploadErr error
	for _, e := range f.rec.errs("error") {
		if !errors.Is(e, err) && len(mlerr.LostItems(e)) == 2 {
			uploadErr = e
		}
	}
	require.NotNil(t, uploadErr, "the refused uploads come in one event: %v", f.rec.errs("error"))
	assert.ElementsMatch(t, []string{"ckpt/bad/refused.txt", "ckpt/d0/f00.txt"}, artifactKeys(mlerr.LostItems(uploadErr)))
	for _, it := range mlerr.LostItems(uploadErr) {
		assert.Equal(t, mlerr.ItemArtifact, it.Kind)
		assert.True(t, strings.HasPrefix(it.Text, dir), "the item names the local file: %q", it.Text)
	}
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, uploadErr, &be)
	for _, fl := range be.Failures {
		assert.Contains(t, fl.Reason, "refused by the backend")
		assert.Equal(t, mlerr.CodeInvalidParameterValue, fl.Code)
		assert.False(t, fl.Time.IsZero())
		assert.Error(t, fl.Cause)
	}
	assert.Equal(t, int64(2), rep.Dropped.Rejected)
	assert.Equal(t, int64(1), rep.Invalid)
	requireIdentity(t, rep)
}

func artifactKeys(items []mlerr.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	return out
}

func TestRetryFailedUploadsOnlyTheFailedArtifacts(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	for i := range 5 {
		writeFile(t, dir, fmt.Sprintf("f%d.txt", i), fmt.Sprint(i))
	}
	f.b.Inject(fb.Artifact, -1, fb.Reject(func(it mlerr.Item) string {
		if it.Key == "out/f1.txt" || it.Key == "out/f3.txt" {
			return "busy"
		}
		return ""
	}))
	require.NoError(t, f.run.LogArtifacts(dir, "out"))
	require.NoError(t, f.run.Wait(context.Background()))
	failed := f.rec.waitFor(t, "error", mlerr.ErrInvalidValue)
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, failed, &be)
	f.b.Heal(fb.Artifact)
	var calls atomic.Int32
	f.b.OnCall(func(op fb.Op, _ int) {
		if op == fb.Artifact {
			calls.Add(1)
		}
	})
	again, err := mlerr.RetryFailed(context.Background(), be, func(ctx context.Context, items []mlerr.Item) error {
		if err := f.run.LogItems(ctx, items); err != nil {
			return err
		}
		return f.run.Wait(ctx)
	})
	require.NoError(t, err)
	assert.Len(t, again, 2)
	assert.Equal(t, int32(2), calls.Load(), "only the failed files are uploaded again")
	rep, _ := f.close()
	rec, _ := f.b.Run(rep.RunID)
	assert.Len(t, rec.Artifacts, 5)
}

func TestArtifactsThroughAnOutage(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	dir := t.TempDir()
	for i := range 20 {
		writeFile(t, dir, fmt.Sprintf("f%02d.txt", i), fmt.Sprint(i))
	}
	var writes atomic.Int32
	f.b.OnCall(func(op fb.Op, n int) {
		if op == fb.Artifact && n == 8 {
			f.b.Inject(fb.Artifact, 6, fb.Refused()) // the connection goes for a while, mid-directory
		}
		if op == fb.Artifact {
			writes.Add(1)
		}
	})
	require.NoError(t, f.run.LogArtifacts(dir, ""))
	rep, err := f.close()
	require.NoError(t, err)
	rec, _ := f.b.Run(rep.RunID)
	assert.Len(t, rec.Artifacts, 20, "everything arrives once the server is back")
	uploads := 0
	for _, w := range rec.Writes {
		if strings.HasPrefix(w, "artifact ") {
			uploads++
		}
	}
	assert.Equal(t, 20, uploads, "nothing twice")
	assert.Equal(t, 1, f.rec.count("network", mlerr.ErrNetwork))
	assert.Equal(t, 1, f.rec.count("warning", mlerr.ErrRecovered))
}

func TestArtifactValidation(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "a.txt", "a")
	for _, tc := range []struct {
		name string
		log  func() error
		kind *mlerr.Kind
	}{
		{"missing file", func() error { return f.run.LogArtifact(filepath.Join(dir, "nope"), "") }, mlerr.ErrInvalidValue},
		{"a directory to LogArtifact", func() error { return f.run.LogArtifact(dir, "") }, mlerr.ErrInvalidValue},
		{"a file to LogArtifacts", func() error { return f.run.LogArtifacts(file, "") }, mlerr.ErrInvalidValue},
		{"..", func() error { return f.run.LogArtifact(file, "../escape") }, mlerr.ErrInvalidName},
		{"absolute", func() error { return f.run.LogArtifact(file, "/etc") }, mlerr.ErrInvalidName},
		{"inner ..", func() error { return f.run.LogText("x", "a/../b.txt") }, mlerr.ErrInvalidName},
		{"empty name", func() error { return f.run.LogText("x", "") }, mlerr.ErrInvalidName},
		{"ends with /", func() error { return f.run.LogText("x", "dir/") }, mlerr.ErrInvalidName},
		{"backslash", func() error { return f.run.LogText("x", `a\b.txt`) }, mlerr.ErrInvalidName},
		{"not JSON", func() error { return f.run.LogJSON(make(chan int), "x.json") }, mlerr.ErrInvalidValue},
	} {
		err := tc.log()
		require.Error(t, err, tc.name)
		assert.ErrorIs(t, err, tc.kind, tc.name)
	}
	rep, err := f.close()
	require.NoError(t, err, "refused at the call: the run is not failed")
	assert.Zero(t, rep.Sent)
}

func TestArtifactsNeedAnArtifactBackend(t *testing.T) {
	run, err := mlerr.NewRun(context.Background(), metricsOnly{fb.New()})
	require.NoError(t, err)
	dir := t.TempDir()
	file := writeFile(t, dir, "a.txt", "a")
	for _, tc := range []struct {
		name string
		log  func() error
	}{
		{"LogArtifact", func() error { return run.LogArtifact(file, "") }},
		{"LogArtifacts", func() error { return run.LogArtifacts(dir, "d") }},
		{"LogBytes", func() error { return run.LogBytes([]byte{1}, "b.bin") }},
		{"LogText", func() error { return run.LogText("x", "x.txt") }},
		{"LogJSON", func() error { return run.LogJSON(1, "x.json") }},
		{"LogItems", func() error {
			return run.LogItems(context.Background(), []mlerr.Item{{Kind: mlerr.ItemArtifact, Key: "x.txt", Text: file}})
		}},
	} {
		err := tc.log()
		assert.ErrorIs(t, err, mlerr.ErrNotImplemented, tc.name)
		assert.ErrorIs(t, err, mlerr.CodeNotImplemented, tc.name)
	}
	require.NoError(t, run.LogMetrics(0, map[string]float64{"x": 1}), "the other entries are logged")
	rep, err := run.Close(context.Background())
	require.NoError(t, err, "refused at the call: nothing is lost later")
	assert.Equal(t, int64(1), rep.Sent)
	assert.Zero(t, rep.Dropped.Total())
}

// metricsOnly hides the fake's WriteArtifact.
type metricsOnly struct{ b *fb.Backend }

func (m metricsOnly) StartRun(ctx context.Context, s mlerr.RunSpec) (mlerr.RunInfo, error) {
	return m.b.StartRun(ctx, s)
}
func (m metricsOnly) WriteBatch(ctx context.Context, b mlerr.Batch) error {
	return m.b.WriteBatch(ctx, b)
}
func (m metricsOnly) EndRun(ctx context.Context, id string, s mlerr.RunStatus, end time.Time) error {
	return m.b.EndRun(ctx, id, s, end)
}

func TestArtifactsLeftWhenCloseTimesOut(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{CloseTimeout: 20 * time.Millisecond}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Artifact, -1, fb.Refused())
	require.NoError(t, f.run.LogText("a", "a.txt"))
	require.NoError(t, f.run.LogText("b", "b.txt"))
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, int64(2), rep.Dropped.Unsent)
	assert.Equal(t, []string{"a.txt", "b.txt"}, artifactKeys(lostOf(f.rec.errs("error"))))
	requireIdentity(t, rep)
}

func lostOf(errs []error) []mlerr.Item {
	var out []mlerr.Item
	for _, e := range errs {
		out = append(out, mlerr.LostItems(e)...)
	}
	return out
}

func TestStagedCopiesAreRemoved(t *testing.T) {
	base := t.TempDir()
	t.Setenv("TMPDIR", base)
	f := newFixture(t)
	require.NoError(t, f.run.LogText("a", "a.txt"))
	require.NoError(t, f.run.Wait(context.Background()))
	_, err := f.close()
	require.NoError(t, err)
	left, _ := os.ReadDir(base)
	assert.Empty(t, left, "the staging directory is gone after Close")
}

func TestLargeArtifactStreams(t *testing.T) {
	// A 256 MiB file goes through staging and upload with the heap flat:
	// it is copied and read in small buffers, never whole.
	if testing.Short() {
		t.Skip("writes 512 MiB to disk")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "big.bin")
	fh, err := os.Create(p)
	require.NoError(t, err)
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for range 256 {
		_, err := fh.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, fh.Close())
	chunk = nil
	backend := fb.NewDiscard()
	run, err := mlerr.NewRun(context.Background(), backend)
	require.NoError(t, err)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	require.NoError(t, run.LogArtifact(p, "ckpt"))
	_, err = run.Close(context.Background())
	close(stop)
	<-sampled
	require.NoError(t, err)
	assert.Equal(t, int64(1), backend.Discarded(), "uploaded, size checked")
	grew := int64(peak.Load()) - int64(before.HeapAlloc)
	assert.Less(t, grew, int64(32<<20), "the heap grew by %d MiB for a 256 MiB file", grew>>20)
}
