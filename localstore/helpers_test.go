package localstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// t0 is the fixed time the tests log at.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// points returns n metric points of key at steps from..from+n-1.
func points(key string, from int64, n int) []mlerr.Item {
	items := make([]mlerr.Item, n)
	for i := range items {
		s := from + int64(i)
		items[i] = mlerr.Item{Kind: mlerr.ItemMetric, Key: key, Value: float64(s) / 10, Step: s, Time: t0.Add(time.Duration(s) * time.Millisecond)}
	}
	return items
}

// fixedClock returns a clock that starts at t0 and moves one second a call.
func fixedClock() func() time.Time {
	now := t0
	return func() time.Time { now = now.Add(time.Second); return now }
}

// newStore opens a store in a fresh temporary directory.
func newStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), append([]Option{WithClock(fixedClock())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// startRun starts a run and returns its id.
func startRun(t *testing.T, s *Store, spec mlerr.RunSpec) string {
	t.Helper()
	info, err := s.StartRun(context.Background(), spec)
	require.NoError(t, err)
	return info.RunID
}

// writeBatches writes n batches of size points of key "loss" to run id,
// seqs 1..n, steps 0..n*size-1.
func writeBatches(t *testing.T, s *Store, id string, n, size int) {
	t.Helper()
	for i := range n {
		require.NoError(t, s.WriteBatch(context.Background(), mlerr.Batch{RunID: id, Seq: uint64(i + 1), Items: points("loss", int64(i*size), size)}))
	}
}

// logPath returns the path of a run's log.
func logPath(s *Store, id string) string { return filepath.Join(s.RunDir(id), logFile) }

// fileSize returns the size of a file.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Size()
}

// allItems reads every item of a run.
func allItems(t *testing.T, dir string) []mlerr.Item {
	t.Helper()
	items, err := Items(dir)
	require.NoError(t, err)
	return items
}
