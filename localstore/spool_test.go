package localstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func openSpool(t *testing.T, dir string, opts ...SpoolOption) *Spool {
	t.Helper()
	sp, err := OpenSpool(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { sp.Close() })
	return sp
}

// steps returns the steps of items.
func steps(items []mlerr.Item) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = it.Step
	}
	return out
}

func stepRange(from, to int64) []int64 {
	var out []int64
	for s := from; s < to; s++ {
		out = append(out, s)
	}
	return out
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.NoError(t, err)
	return m
}

func TestSpoolFIFO(t *testing.T) {
	sp := openSpool(t, t.TempDir())
	require.NoError(t, sp.Push(points("a", 0, 3)))
	require.NoError(t, sp.Push(points("a", 3, 4)))
	require.NoError(t, sp.Push(nil))
	assert.Equal(t, 7, sp.Len())

	tests := []struct {
		peek     int
		want     []int64
		ack      int
		wantLen  int
		wantFail bool
	}{
		{peek: 2, want: []int64{0, 1}, ack: 2, wantLen: 5},
		{peek: 10, want: []int64{2, 3, 4, 5, 6}, ack: 1, wantLen: 4}, // across records
		{peek: 2, want: []int64{3, 4}, ack: 0, wantLen: 4},
		{peek: 0, want: nil, ack: 5, wantLen: 4, wantFail: true},
		{peek: 4, want: []int64{3, 4, 5, 6}, ack: 4, wantLen: 0},
		{peek: 3, want: nil, ack: 0, wantLen: 0},
	}
	for i, tt := range tests {
		got, err := sp.Peek(tt.peek)
		require.NoError(t, err)
		if tt.want == nil {
			assert.Empty(t, got, i)
		} else {
			assert.Equal(t, tt.want, steps(got), i)
		}
		err = sp.Ack(tt.ack)
		if tt.wantFail {
			assert.Error(t, err, i)
		} else {
			assert.NoError(t, err, i)
		}
		assert.Equal(t, tt.wantLen, sp.Len(), i)
	}
	assert.Error(t, sp.Ack(-1))
}

func TestSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	sp, err := OpenSpool(dir, WithSegmentSize(512))
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, sp.Push(points("k", int64(i*10), 10)))
	}
	require.NoError(t, sp.Ack(35)) // three whole records and half a record
	require.NoError(t, sp.Close())
	assert.ErrorIs(t, sp.Push(points("k", 0, 1)), mlerr.ErrClosed)

	sp = openSpool(t, dir, WithSegmentSize(512))
	assert.Equal(t, 165, sp.Len())
	got, err := sp.Peek(1000)
	require.NoError(t, err)
	assert.Equal(t, stepRange(35, 200), steps(got))

	// Pushing after the restart goes on in order.
	require.NoError(t, sp.Push(points("k", 200, 5)))
	got, err = sp.Peek(1000)
	require.NoError(t, err)
	assert.Equal(t, stepRange(35, 205), steps(got))
}

func TestSpoolDeletesAcknowledgedSegments(t *testing.T) {
	dir := t.TempDir()
	sp := openSpool(t, dir, WithSegmentSize(300))
	for i := range 30 {
		require.NoError(t, sp.Push(points("k", int64(i*5), 5)))
	}
	many := len(segFiles(t, dir))
	require.Greater(t, many, 3)
	require.NoError(t, sp.Ack(75))
	fewer := len(segFiles(t, dir))
	assert.Less(t, fewer, many)
	got, err := sp.Peek(1)
	require.NoError(t, err)
	assert.Equal(t, []int64{75}, steps(got))
	require.NoError(t, sp.Ack(sp.Len()))
	assert.Len(t, segFiles(t, dir), 1, "only the active segment stays")
	require.NoError(t, sp.Close())

	sp = openSpool(t, dir, WithSegmentSize(300))
	assert.Equal(t, 0, sp.Len())
	require.NoError(t, sp.Push(points("k", 500, 2)))
	got, err = sp.Peek(10)
	require.NoError(t, err)
	assert.Equal(t, []int64{500, 501}, steps(got))
}

func TestSpoolCutsTornTail(t *testing.T) {
	dir := t.TempDir()
	sp, err := OpenSpool(dir)
	require.NoError(t, err)
	require.NoError(t, sp.Push(points("k", 0, 4)))
	require.NoError(t, sp.Close())
	segs := segFiles(t, dir)
	require.Len(t, segs, 1)
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(tornRecord(30))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	sp = openSpool(t, dir)
	assert.Equal(t, 4, sp.Len())
	require.NoError(t, sp.Push(points("k", 4, 1)))
	got, err := sp.Peek(10)
	require.NoError(t, err)
	assert.Equal(t, stepRange(0, 5), steps(got))
}

func TestSpoolCorruption(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string, segs []string)
	}{
		{"middle of the last segment", func(t *testing.T, dir string, segs []string) {
			flipAt(t, segs[len(segs)-1], fileHeaderSize+20)
		}},
		{"torn tail of an older segment", func(t *testing.T, dir string, segs []string) {
			st, err := os.Stat(segs[0])
			require.NoError(t, err)
			require.NoError(t, os.Truncate(segs[0], st.Size()-3))
		}},
		{"cursor", func(t *testing.T, dir string, segs []string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, spoolCursorFile), []byte("nope"), 0o644))
		}},
		{"cursor pointing inside a record", func(t *testing.T, dir string, segs []string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, spoolCursorFile), []byte(`{"segment":2,"offset":17,"skip":0}`), 0o644))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sp, err := OpenSpool(dir, WithSegmentSize(200))
			require.NoError(t, err)
			for i := range 10 {
				require.NoError(t, sp.Push(points("k", int64(i*5), 5)))
			}
			require.NoError(t, sp.Ack(5)) // writes a cursor
			require.NoError(t, sp.Close())
			segs := segFiles(t, dir)
			require.Greater(t, len(segs), 2)
			tt.damage(t, dir, segs)
			var sizes []int64
			for _, p := range segs {
				sizes = append(sizes, fileSize(t, p))
			}
			_, err = OpenSpool(dir, WithSegmentSize(200))
			assert.ErrorIs(t, err, ErrCorrupted)
			assert.Equal(t, segs, segFiles(t, dir), "a spool that does not open loses no file")
			for i, p := range segs {
				assert.Equal(t, sizes[i], fileSize(t, p), "and changes none")
			}
		})
	}
}

func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	b := []byte{0}
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 1
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

func TestSpoolIsLocked(t *testing.T) {
	dir := t.TempDir()
	openSpool(t, dir)
	_, err := OpenSpool(dir)
	assert.ErrorIs(t, err, ErrLocked)
}

func TestSpoolSplitsLargePushes(t *testing.T) {
	sp := openSpool(t, t.TempDir())
	require.NoError(t, sp.Push(points("k", 0, maxPushRecord*2+3)))
	assert.Len(t, sp.recs, 3)
	got, err := sp.Peek(maxPushRecord + 10)
	require.NoError(t, err)
	assert.Equal(t, stepRange(0, maxPushRecord+10), steps(got))
}

func TestSpoolConcurrentPushAndDrain(t *testing.T) {
	sp := openSpool(t, t.TempDir(), WithSegmentSize(1024))
	const total = 400
	done := make(chan error)
	go func() {
		for i := 0; i < total; i += 4 {
			if err := sp.Push(points("k", int64(i), 4)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var drained []int64
	for len(drained) < total {
		got, err := sp.Peek(7)
		require.NoError(t, err)
		require.NoError(t, sp.Ack(len(got)))
		drained = append(drained, steps(got)...)
	}
	require.NoError(t, <-done)
	assert.Equal(t, stepRange(0, total), drained)
}

func TestSpoolRejectsUnknownKinds(t *testing.T) {
	sp := openSpool(t, t.TempDir())
	err := sp.Push([]mlerr.Item{{Kind: mlerr.ItemMetric, Key: "a"}, {Kind: 7, Key: "b"}})
	assert.ErrorIs(t, err, mlerr.CodeInvalidParameterValue)
	assert.Equal(t, 0, sp.Len(), "nothing pushed")
}
