package localstore

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// offlineRun writes a run of n batches of size points and ends it.
func offlineRun(t *testing.T, s *Store, spec mlerr.RunSpec, n, size int, end bool) string {
	t.Helper()
	id := startRun(t, s, spec)
	writeBatches(t, s, id, n, size)
	if end {
		require.NoError(t, s.EndRun(context.Background(), id, mlerr.RunFinished, t0.Add(time.Hour)))
	}
	return id
}

// checkExactlyOnce asserts the remote run holds steps 0..n-1 of "loss" once.
func checkExactlyOnce(t *testing.T, r *fakeRun, n int) {
	t.Helper()
	require.NotNil(t, r)
	assert.Empty(t, r.duplicates())
	items := r.items()
	require.Len(t, items, n)
	for i, it := range items {
		assert.Equal(t, int64(i), it.Step)
		assert.Equal(t, float64(i)/10, it.Value)
	}
}

func TestReplayUploadsARun(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := offlineRun(t, s, mlerr.RunSpec{Name: "offline", Experiment: "exp", Tags: map[string]string{"t": "1"}}, 5, 10, true)
	fb := newFake()
	var progress []Progress
	rep, err := Replay(ctx, s.Dir(), fb, WithProgress(func(p Progress) { progress = append(progress, p) }))
	require.NoError(t, err)
	require.Len(t, rep.Runs, 1)
	rr := rep.Runs[0]
	assert.Equal(t, id, rr.LocalID)
	assert.True(t, rr.Created)
	assert.Equal(t, 5, rr.Batches)
	assert.Equal(t, 50, rr.Items)
	assert.Equal(t, "FINISHED", rr.Ended)
	assert.Equal(t, 5, rep.Batches)
	assert.Equal(t, 50, rep.Items)

	r := fb.run(rr.RemoteID)
	checkExactlyOnce(t, r, 50)
	assert.Equal(t, []uint64{5}, r.seqs, "one request of 50 points; its seq is the log position of its last batch")
	assert.Equal(t, 1, rr.Requests)
	assert.Equal(t, 1, rep.Requests)
	assert.Equal(t, "offline", r.spec.Name)
	assert.Equal(t, "exp", r.spec.Experiment)
	assert.Equal(t, map[string]string{"t": "1", TagLocalRunID: id}, r.spec.Tags, "the run's tags and where it came from")
	assert.Equal(t, mlerr.RunFinished, r.status)
	assert.True(t, t0.Add(time.Hour).Equal(r.end))

	require.Len(t, progress, 3) // start, 1 request, done
	last := progress[len(progress)-1]
	assert.Equal(t, Progress{Run: id, RunIndex: 1, Runs: 1, Batches: 5, TotalBatches: 5, Items: 50, TotalItems: 50, Done: true}, last)

	// A second replay has nothing to do.
	rep, err = Replay(ctx, s.Dir(), fb)
	require.NoError(t, err)
	assert.True(t, rep.Runs[0].AlreadySynced)
	assert.Equal(t, 0, rep.Batches)
	assert.Equal(t, 1, r.ends)
	checkExactlyOnce(t, r, 50)

	runs, err := List(s.Dir())
	require.NoError(t, err)
	assert.True(t, runs[0].Synced())
}

func TestReplayResumesAfterInterruption(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		set  func(f *fakeBackend)
	}{
		{"backend fails before storing batch 3", func(f *fakeBackend) { f.failCall = 3 }},
		{"backend stores batch 3, response lost", func(f *fakeBackend) { f.applyThenFailCall = 3 }},
		{"backend fails on the first batch", func(f *fakeBackend) { f.failCall = 1 }},
		{"backend fails on the last batch", func(f *fakeBackend) { f.failCall = 6 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			offlineRun(t, s, mlerr.RunSpec{}, 6, 10, true)
			fb := newFake()
			tt.set(fb)
			rep, err := Replay(ctx, s.Dir(), fb, WithRetry(noRetry), oneEach)
			require.ErrorIs(t, err, errInjected)
			remote := rep.Runs[0].RemoteID
			require.NotEmpty(t, remote)
			assert.Empty(t, fb.run(remote).ends, "an interrupted run is not ended")

			fb.failCall, fb.applyThenFailCall = 0, 0
			rep, err = Replay(ctx, s.Dir(), fb)
			require.NoError(t, err)
			rr := rep.Runs[0]
			assert.Equal(t, remote, rr.RemoteID, "the same remote run is resumed")
			assert.False(t, rr.Created)
			assert.Equal(t, 6, rr.SkippedBatches+rr.Batches)
			assert.Len(t, fb.runs, 1, "no second remote run")
			assert.Equal(t, remote, fb.starts[1].RunID)
			checkExactlyOnce(t, fb.run(remote), 60)
			assert.Equal(t, 1, fb.run(remote).ends)
		})
	}
}

// noRetry makes one attempt per call.
var noRetry = mlerr.Policy{MaxAttempts: 1}

// oneEach sends every stored batch of the tests' runs in a request of its
// own, as a replay did before it joined them.
var oneEach = WithBatchLimits(BatchLimits{Metrics: 1, Params: 1, Tags: 1, Items: 1})

func TestReplayRetriesTransientFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		set  func(f *fakeBackend)
	}{
		{"failure before storing", func(f *fakeBackend) { f.failCall = 2 }},
		{"response lost after storing", func(f *fakeBackend) { f.applyThenFailCall = 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			offlineRun(t, s, mlerr.RunSpec{}, 3, 10, true)
			fb := newFake()
			tt.set(fb)
			var retries []mlerr.RetryEvent
			p := mlerr.Policy{InitialDelay: mlerr.Off, OnRetry: func(e mlerr.RetryEvent) { retries = append(retries, e) }}
			rep, err := Replay(ctx, s.Dir(), fb, WithRetry(p), oneEach)
			require.NoError(t, err)
			assert.Len(t, retries, 1)
			assert.Equal(t, 4, fb.calls)
			assert.Equal(t, 3, rep.Batches)
			checkExactlyOnce(t, fb.run(rep.Runs[0].RemoteID), 30)
		})
	}
}

func TestReplayUploadsWhatWasWrittenSince(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := offlineRun(t, s, mlerr.RunSpec{}, 2, 10, false)
	fb := newFake()
	rep, err := Replay(ctx, s.Dir(), fb)
	require.NoError(t, err)
	assert.Empty(t, rep.Runs[0].Ended, "a running run is not ended")
	runs, err := List(s.Dir())
	require.NoError(t, err)
	assert.True(t, runs[0].Synced(), "a running run is synced when every batch is")

	// Training goes on (the run is written while it is replayed), then ends.
	for i := 2; i < 4; i++ {
		require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: uint64(i + 1), Items: points("loss", int64(i*10), 10)}))
	}
	runs, err = List(s.Dir())
	require.NoError(t, err)
	assert.False(t, runs[0].Synced())
	require.NoError(t, s.EndRun(ctx, id, mlerr.RunKilled, t0))
	rep, err = Replay(ctx, s.Dir(), fb)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Runs[0].SkippedBatches)
	assert.Equal(t, 2, rep.Runs[0].Batches)
	assert.Equal(t, "KILLED", rep.Runs[0].Ended)
	r := fb.run(rep.Runs[0].RemoteID)
	checkExactlyOnce(t, r, 40)
	assert.Equal(t, mlerr.RunKilled, r.status)
}

func TestReplayRecordsRejections(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	items := []mlerr.Item{
		{Kind: mlerr.ItemParam, Key: "lr", Text: "0.1"},
		{Kind: mlerr.ItemMetric, Key: "bad", Value: math.NaN(), Step: 1, Time: t0},
		{Kind: mlerr.ItemMetric, Key: "good", Value: 1, Step: 1, Time: t0},
	}
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 1, Items: items}))
	writeBatches(t, s, id, 1, 5) // seq 1 again with other items: appended
	fb := newFake()
	fb.reject = func(it mlerr.Item) string {
		if it.Key == "bad" || it.Kind == mlerr.ItemParam {
			return "rejected by server"
		}
		return ""
	}
	rep, err := Replay(ctx, s.Dir(), fb, WithReplayClock(func() time.Time { return t0 }), oneEach)
	require.NoError(t, err)
	rr := rep.Runs[0]
	require.Len(t, rr.Rejected, 2)
	assert.Equal(t, "lr", rr.Rejected[0].Item.Key)
	assert.Equal(t, "bad", rr.Rejected[1].Item.Key)
	assert.Equal(t, uint64(1), rr.Rejected[1].Seq)
	assert.Equal(t, "rejected by server", rr.Rejected[1].Reason)
	assert.Equal(t, mlerr.CodeInvalidParameterValue, rr.Rejected[1].Code)
	assert.Equal(t, 2, rep.Rejected)
	assert.Equal(t, 6, rep.Items)
	assert.Equal(t, 2, fb.calls, "rejected items are not retried")

	// The rejection file keeps them, NaN included.
	f, err := os.Open(filepath.Join(s.RunDir(id), syncDirName, DefaultTarget+".rejected.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	assert.Equal(t, "NaN", lines[1]["value"])
	assert.Equal(t, "INVALID_PARAMETER_VALUE", lines[1]["error_code"])

	runs, err := List(s.Dir())
	require.NoError(t, err)
	require.Len(t, runs[0].Sync, 1)
	assert.Equal(t, 2, runs[0].Sync[0].Rejected)
	assert.Equal(t, 6, runs[0].Sync[0].Items)
}

func TestReplayTargetsAreIndependent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	offlineRun(t, s, mlerr.RunSpec{}, 3, 4, true)
	a, b := newFake(), newFake()
	_, err := Replay(ctx, s.Dir(), a, WithTarget("http://a.example:5000"))
	require.NoError(t, err)
	rep, err := Replay(ctx, s.Dir(), b, WithTarget("http://b.example:5000"))
	require.NoError(t, err)
	assert.True(t, rep.Runs[0].Created)
	checkExactlyOnce(t, a.run("remote-1"), 12)
	checkExactlyOnce(t, b.run("remote-1"), 12)
	runs, err := List(s.Dir())
	require.NoError(t, err)
	require.Len(t, runs[0].Sync, 2)
	assert.Equal(t, "http://a.example:5000", runs[0].Sync[0].Target)
}

func TestReplayOneRunDirAndFork(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	parent := offlineRun(t, s, mlerr.RunSpec{RunID: "parent"}, 1, 3, true)
	child := offlineRun(t, s, mlerr.RunSpec{RunID: "child", ForkParent: parent, ForkStep: 2}, 1, 3, true)
	fb := newFake()

	// The child alone: its parent is not in the target yet.
	rep, err := Replay(ctx, s.RunDir(child), fb)
	require.NoError(t, err)
	require.Len(t, rep.Runs, 1)
	assert.True(t, rep.Runs[0].ForkParentUnsynced)
	assert.Empty(t, fb.starts[0].ForkParent)

	// With the parent uploaded, a new target gets the mapping.
	fb2 := newFake()
	rep, err = Replay(ctx, s.Dir(), fb2, WithTarget("two"))
	require.NoError(t, err)
	require.Len(t, rep.Runs, 2)
	assert.Equal(t, parent, rep.Runs[0].LocalID, "oldest first")
	assert.Equal(t, rep.Runs[0].RemoteID, fb2.starts[1].ForkParent)
	assert.Equal(t, int64(2), fb2.starts[1].ForkStep)

	rep, err = Replay(ctx, s.Dir(), newFake(), WithTarget("three"), WithRuns(parent))
	require.NoError(t, err)
	require.Len(t, rep.Runs, 1)
}

func TestReplaySkipsACorruptedRun(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	bad := offlineRun(t, s, mlerr.RunSpec{RunID: "a-bad"}, 3, 5, true)
	good := offlineRun(t, s, mlerr.RunSpec{RunID: "b-good"}, 3, 5, true)
	require.NoError(t, s.Close())
	var ends []int64
	flipByte(0, 25)(t, logPath(s, bad), ends)

	fb := newFake()
	rep, err := Replay(ctx, s.Dir(), fb)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrCorrupted)
	require.Len(t, rep.Runs, 2)
	assert.ErrorIs(t, rep.Runs[0].Err, ErrCorrupted)
	assert.Equal(t, good, rep.Runs[1].LocalID)
	assert.NoError(t, rep.Runs[1].Err)
	assert.Len(t, fb.runs, 1, "nothing of the corrupted run is uploaded")
	checkExactlyOnce(t, fb.run(rep.Runs[1].RemoteID), 15)
}

func TestReplayStopsOnBackendErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	offlineRun(t, s, mlerr.RunSpec{}, 1, 1, true)
	offlineRun(t, s, mlerr.RunSpec{}, 1, 1, true)
	fb := newFake()
	fb.startErr = mlerr.ErrUnauthorized.New("bad token")
	rep, err := Replay(ctx, s.Dir(), fb)
	assert.ErrorIs(t, err, mlerr.ErrUnauthorized)
	assert.Len(t, rep.Runs, 1, "the second run is not tried")
	runs, err := List(s.Dir())
	require.NoError(t, err)
	assert.Empty(t, runs[0].Sync)
}

func TestReplayRemoteRunGone(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	offlineRun(t, s, mlerr.RunSpec{}, 2, 1, true)
	fb := newFake()
	fb.failCall = 2
	_, err := Replay(ctx, s.Dir(), fb, WithRetry(noRetry), oneEach)
	require.Error(t, err)
	// The remote run is deleted meanwhile: resuming fails, nothing is
	// uploaded to a new run behind the user's back.
	fb2 := newFake()
	_, err = Replay(ctx, s.Dir(), fb2)
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
	assert.Empty(t, fb2.runs)
}

func TestReplayBadDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), file, t.TempDir()} {
		_, err := Replay(context.Background(), dir, newFake())
		assert.ErrorIs(t, err, ErrNotStore, dir)
	}
}

func TestReplayCursorMismatchIsCorruption(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := offlineRun(t, s, mlerr.RunSpec{}, 3, 2, false)
	fb := newFake()
	_, err := Replay(ctx, s.Dir(), fb)
	require.NoError(t, err)
	c, ok, err := readCursor(s.RunDir(id), DefaultTarget)
	require.NoError(t, err)
	require.True(t, ok)
	c.Offset -= 3
	c.Batches = 2
	require.NoError(t, writeCursor(s.RunDir(id), c, DefaultFileMode))
	rep, err := Replay(ctx, s.Dir(), fb)
	assert.ErrorIs(t, err, ErrCorrupted)
	assert.ErrorIs(t, rep.Runs[0].Err, ErrCorrupted)
}
