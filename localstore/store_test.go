package localstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestStartRun(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, WithRunIDs(func() string { return "generated" }))
	parent := startRun(t, s, mlerr.RunSpec{RunID: "parent"})

	tests := []struct {
		name    string
		spec    mlerr.RunSpec
		want    mlerr.RunInfo
		wantErr *mlerr.Kind
	}{
		{"new run, generated id", mlerr.RunSpec{Name: "n", Experiment: "e"}, mlerr.RunInfo{RunID: "generated", ExperimentID: "e"}, nil},
		{"given id that exists: resumed", mlerr.RunSpec{RunID: "parent"}, mlerr.RunInfo{RunID: "parent", Resumed: true}, nil},
		{"given id that does not exist: created", mlerr.RunSpec{RunID: "abc_DEF-123"}, mlerr.RunInfo{RunID: "abc_DEF-123"}, nil},
		{"fork parent present", mlerr.RunSpec{RunID: "child", ForkParent: parent, ForkStep: 9}, mlerr.RunInfo{RunID: "child"}, nil},
		{"fork parent missing", mlerr.RunSpec{RunID: "orphan", ForkParent: "nope"}, mlerr.RunInfo{RunID: "orphan", ForkParentMissing: true}, nil},
		{"fork parent with a bad id", mlerr.RunSpec{RunID: "orphan2", ForkParent: "../x"}, mlerr.RunInfo{RunID: "orphan2", ForkParentMissing: true}, nil},
		{"path in the id", mlerr.RunSpec{RunID: "../escape"}, mlerr.RunInfo{}, mlerr.ErrInvalidRunParameters},
		{"leading dash", mlerr.RunSpec{RunID: "-x"}, mlerr.RunInfo{}, mlerr.ErrInvalidRunParameters},
		{"too long id", mlerr.RunSpec{RunID: strings.Repeat("a", 256)}, mlerr.RunInfo{}, mlerr.ErrInvalidRunParameters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := s.StartRun(ctx, tt.spec)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "file://", info.URL[:7])
			info.URL = ""
			assert.Equal(t, tt.want, info)
			m, err := readManifest(s.RunDir(info.RunID))
			require.NoError(t, err)
			assert.Equal(t, StatusRunning, m.Status)
		})
	}
	m, err := readManifest(s.RunDir("child"))
	require.NoError(t, err)
	assert.Equal(t, "parent", m.ForkParent)
	assert.Equal(t, int64(9), m.ForkStep)
	m, err = readManifest(s.RunDir("orphan"))
	require.NoError(t, err)
	assert.Empty(t, m.ForkParent)
	_, err = os.Stat(filepath.Join(s.Dir(), "escape"))
	assert.True(t, os.IsNotExist(err))
}

func TestStartRunKeepsSpec(t *testing.T) {
	s := newStore(t)
	start := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	id := startRun(t, s, mlerr.RunSpec{Name: "resnet", Experiment: "vision", Tags: map[string]string{"a": "b"}, StartTime: start})
	m, err := readManifest(s.RunDir(id))
	require.NoError(t, err)
	assert.Len(t, id, 32)
	assert.Equal(t, "resnet", m.Name)
	assert.Equal(t, "vision", m.Experiment)
	assert.Equal(t, map[string]string{"a": "b"}, m.Tags)
	assert.True(t, start.Equal(m.StartTime))
}

func TestWriteBatchIsIdempotentPerSeq(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	b1 := mlerr.Batch{RunID: id, Seq: 1, Items: points("loss", 0, 5)}
	b2 := mlerr.Batch{RunID: id, Seq: 2, Items: points("loss", 5, 5)}
	require.NoError(t, s.WriteBatch(ctx, b1))
	size := fileSize(t, logPath(s, id))
	require.NoError(t, s.WriteBatch(ctx, b1), "a retried batch is acknowledged")
	assert.Equal(t, size, fileSize(t, logPath(s, id)), "and not written again")
	require.NoError(t, s.WriteBatch(ctx, b2))

	// Same seq, other items: a resumed Run numbering from 1 again.
	b1b := mlerr.Batch{RunID: id, Seq: 1, Items: points("loss", 10, 5)}
	require.NoError(t, s.WriteBatch(ctx, b1b))
	require.NoError(t, s.WriteBatch(ctx, b1b))

	// After a restart, the log tells which batches it holds.
	require.NoError(t, s.Close())
	s2, err := Open(s.Dir())
	require.NoError(t, err)
	defer s2.Close()
	require.NoError(t, s2.WriteBatch(ctx, b2))
	require.NoError(t, s2.WriteBatch(ctx, b1))
	items := allItems(t, s.RunDir(id))
	require.Len(t, items, 15)
	for i, it := range items {
		assert.Equal(t, int64(i), it.Step)
	}
}

func TestWriteBatchErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		b    mlerr.Batch
		want error
	}{
		{"unknown run", ctx, mlerr.Batch{RunID: "nope", Seq: 1}, mlerr.ErrRunNotFound},
		{"bad run id", ctx, mlerr.Batch{RunID: "../x", Seq: 1}, mlerr.ErrRunNotFound},
		{"canceled context", canceled, mlerr.Batch{RunID: id, Seq: 1, Items: points("a", 0, 1)}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, s.WriteBatch(tt.ctx, tt.b), tt.want)
		})
	}
	assert.Empty(t, allItems(t, s.RunDir(id)))
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 1}), mlerr.ErrClosed)
	_, err := s.StartRun(ctx, mlerr.RunSpec{})
	assert.ErrorIs(t, err, mlerr.ErrClosed)
}

func TestFailedWriteIsUndone(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	writeBatches(t, s, id, 2, 10)

	// The next write dies half way (disk full, say).
	orig := writeAt
	t.Cleanup(func() { writeAt = orig })
	writeAt = func(f *os.File, p []byte, off int64) (int, error) {
		n, _ := f.WriteAt(p[:len(p)/2], off)
		return n, errors.New("no space left on device")
	}
	err := s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 3, Items: points("loss", 20, 10)})
	require.Error(t, err)
	assert.Equal(t, mlerr.CodeIOError, mlerr.CodeOf(err))
	writeAt = orig

	// The retry succeeds, and the log has no hole in the middle.
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 3, Items: points("loss", 20, 10)}))
	items := allItems(t, s.RunDir(id))
	require.Len(t, items, 30)
	sum := Summarize(s.RunDir(id))
	require.NoError(t, sum.Err)
	assert.False(t, sum.TornTail)
}

func TestEndRun(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	writeBatches(t, s, id, 1, 3)
	end := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.EndRun(ctx, id, mlerr.RunFailed, end))
	m, err := readManifest(s.RunDir(id))
	require.NoError(t, err)
	assert.Equal(t, "FAILED", m.Status)
	assert.True(t, end.Equal(m.EndTime))

	// A batch after the end reopens the log.
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 2, Items: points("loss", 3, 1)}))
	assert.Len(t, allItems(t, s.RunDir(id)), 4)

	// Resuming makes it running again.
	info, err := s.StartRun(ctx, mlerr.RunSpec{RunID: id})
	require.NoError(t, err)
	assert.True(t, info.Resumed)
	assert.Equal(t, uint64(2), info.LastSeq, "a resumed Run numbers its batches after the log's")
	m, err = readManifest(s.RunDir(id))
	require.NoError(t, err)
	assert.Equal(t, StatusRunning, m.Status)
	assert.True(t, m.EndTime.IsZero())
	assert.Equal(t, 1, m.Resumes)

	assert.ErrorIs(t, s.EndRun(ctx, "nope", mlerr.RunFinished, end), mlerr.ErrRunNotFound)
	assert.ErrorIs(t, s.EndRun(ctx, id, 0, end), mlerr.ErrInvalidRunParameters)
	require.NoError(t, s.EndRun(ctx, id, mlerr.RunFinished, time.Time{}))
	m, err = readManifest(s.RunDir(id))
	require.NoError(t, err)
	assert.False(t, m.EndTime.IsZero(), "a zero end time means now")
}

func TestRunIsLockedByItsWriter(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	other, err := Open(s.Dir())
	require.NoError(t, err)
	defer other.Close()
	_, err = other.StartRun(ctx, mlerr.RunSpec{RunID: id})
	assert.ErrorIs(t, err, ErrLocked)
	assert.Equal(t, mlerr.CodeResourceConflict, mlerr.CodeOf(err))
	assert.ErrorIs(t, other.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 1, Items: points("a", 0, 1)}), ErrLocked)

	// Once the writer ends the run, the other store may write it.
	require.NoError(t, s.EndRun(ctx, id, mlerr.RunFinished, t0))
	require.NoError(t, other.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 1, Items: points("a", 0, 1)}))
}

func TestOpenRejectsAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	_, err := Open(path)
	assert.ErrorIs(t, err, ErrNotStore)
}

func TestStoreIsSafeForConcurrentRuns(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	const runs, batches = 4, 20
	ids := make([]string, runs)
	for i := range ids {
		ids[i] = startRun(t, s, mlerr.RunSpec{})
	}
	errs := make(chan error, runs*2)
	for _, id := range ids {
		for w := range 2 { // two writers per run, as a shared backend may see
			go func() {
				for b := range batches {
					seq := uint64(w*batches + b + 1)
					if err := s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: seq, Items: points("k", int64(seq)*10, 10)}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
	}
	for range runs * 2 {
		require.NoError(t, <-errs)
	}
	for _, id := range ids {
		assert.Len(t, allItems(t, s.RunDir(id)), 2*batches*10)
	}
}

func TestWriteBatchRejectsUnknownKinds(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	items := []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "ok", Value: 1},
		{Kind: 0, Key: "zero"},
		{Kind: mlerr.ItemTag, Key: "t", Text: "v"},
		{Kind: 9, Key: "nine"},
	}
	err := s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 1, Items: items})
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failures, 2)
	assert.Equal(t, 1, be.Failures[0].Index)
	assert.Equal(t, 3, be.Failures[1].Index)
	assert.Equal(t, mlerr.CodeInvalidParameterValue, be.Failures[0].Code)
	got := allItems(t, s.RunDir(id))
	require.Len(t, got, 2, "the valid items are stored, the log stays readable")
	assert.Equal(t, "ok", got[0].Key)
	assert.Equal(t, "t", got[1].Key)
	// The retry is a duplicate, answered the same way.
	require.ErrorAs(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 1, Items: items}), &be)
	assert.Len(t, allItems(t, s.RunDir(id)), 2)
}
