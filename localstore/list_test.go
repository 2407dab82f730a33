package localstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a := startRun(t, s, mlerr.RunSpec{RunID: "a", Name: "first", Experiment: "e", StartTime: t0})
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: a, Seq: 1, Items: append(points("loss", 0, 7),
		mlerr.Item{Kind: mlerr.ItemParam, Key: "lr", Text: "1"},
		mlerr.Item{Kind: mlerr.ItemTag, Key: "t", Text: "x"},
		mlerr.Item{Kind: mlerr.ItemTag, Key: "u", Text: "y"})}))
	require.NoError(t, s.EndRun(ctx, a, mlerr.RunFinished, t0))
	b := startRun(t, s, mlerr.RunSpec{RunID: "b", StartTime: t0.Add(-1)})
	writeBatches(t, s, b, 3, 2)
	// A directory that is not a run, and a run whose creation did not finish.
	require.NoError(t, os.Mkdir(filepath.Join(s.Dir(), "not-a-run"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir(), "notes.txt"), nil, 0o644))

	runs, err := List(s.Dir())
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, "b", runs[0].ID, "oldest first")
	assert.Equal(t, StatusRunning, runs[0].Status)
	assert.Equal(t, 3, runs[0].Batches)
	assert.Equal(t, 6, runs[0].Metrics)
	assert.False(t, runs[0].Synced())

	r := runs[1]
	assert.Equal(t, "a", r.ID)
	assert.Equal(t, "first", r.Name)
	assert.Equal(t, "e", r.Experiment)
	assert.Equal(t, "FINISHED", r.Status)
	assert.Equal(t, 1, r.Batches)
	assert.Equal(t, 7, r.Metrics)
	assert.Equal(t, 1, r.Params)
	assert.Equal(t, 2, r.Tags)
	assert.Equal(t, 10, r.Items())
	assert.Equal(t, fileSize(t, logPath(s, a)), r.Bytes)
	assert.NoError(t, r.Err)
	assert.Equal(t, "a FINISHED 1 batches 7 points", r.String())

	// A damaged manifest shows up as the run's error, not List's.
	require.NoError(t, os.WriteFile(filepath.Join(s.RunDir(a), manifestFile), []byte("{"), 0o644))
	runs, err = List(s.Dir())
	require.NoError(t, err)
	require.Len(t, runs, 2)
	var bad RunSummary
	for _, r := range runs {
		if r.ID == "a" {
			bad = r
		}
	}
	assert.ErrorIs(t, bad.Err, ErrCorrupted)
}

func TestListBadDirectories(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		name, dir, msg string
	}{
		{"missing", filepath.Join(t.TempDir(), "missing"), "does not exist"},
		{"a file", file, "not a directory"},
		{"an unrelated directory", t.TempDir(), "holds no mlerr local store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := List(tt.dir)
			assert.ErrorIs(t, err, ErrNotStore)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
	// An empty store is fine.
	s := newStore(t)
	runs, err := List(s.Dir())
	require.NoError(t, err)
	assert.Empty(t, runs)
}

func TestScanStopsOnCallerError(t *testing.T) {
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	writeBatches(t, s, id, 3, 1)
	stop := mlerr.New(mlerr.CodeAborted, "enough")
	seen := 0
	err := Scan(s.RunDir(id), func(b mlerr.Batch) error {
		seen++
		assert.Equal(t, id, b.RunID)
		assert.Equal(t, uint64(seen), b.Seq)
		if seen == 2 {
			return stop
		}
		return nil
	})
	assert.Same(t, stop, err)
	assert.Equal(t, 2, seen)
	_, err = Items(filepath.Join(s.Dir(), "nope"))
	assert.ErrorIs(t, err, mlerr.ErrRunNotFound)
}
