package localstore

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// damage edits a closed run log in place.
type damage func(t *testing.T, path string, recEnds []int64)

func appendBytes(b []byte) damage {
	return func(t *testing.T, path string, _ []int64) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.Write(b)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
}

// flipByte flips a byte at off bytes after the start of record i.
func flipByte(rec int, off int64) damage {
	return func(t *testing.T, path string, recEnds []int64) {
		start := int64(fileHeaderSize)
		if rec > 0 {
			start = recEnds[rec-1]
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		require.NoError(t, err)
		b := []byte{0}
		_, err = f.ReadAt(b, start+off)
		require.NoError(t, err)
		b[0] ^= 0x40
		_, err = f.WriteAt(b, start+off)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
}

func truncateTo(f func(recEnds []int64) int64) damage {
	return func(t *testing.T, path string, recEnds []int64) {
		require.NoError(t, os.Truncate(path, f(recEnds)))
	}
}

// tornRecord returns the first n bytes of a good record with other content.
func tornRecord(n int) []byte {
	buf := appendBatch(make([]byte, recordHeaderSize), 99, points("x", 0, 50), map[string]uint64{})
	return frame(buf)[:n]
}

func TestTornTailIsCut(t *testing.T) {
	const batches = 4
	tests := []struct {
		name    string
		damage  damage
		keep    int // batches that must survive
		wantCut bool
	}{
		{"clean log", func(*testing.T, string, []int64) {}, 4, false},
		{"partial header", appendBytes(tornRecord(7)), 4, true},
		{"header only", appendBytes(tornRecord(recordHeaderSize)), 4, true},
		{"partial payload", appendBytes(tornRecord(100)), 4, true},
		{"zeros (extended, never written)", appendBytes(make([]byte, 4096)), 4, true},
		{"garbage", appendBytes([]byte("this is not a record at all, just bytes")), 4, true},
		{"last record cut short", truncateTo(func(e []int64) int64 { return e[3] - 5 }), 3, true},
		{"last record's checksum wrong", flipByte(3, 20), 3, true},
		{"last record's length wrong", flipByte(3, 5), 3, true},
		{"every record cut", truncateTo(func([]int64) int64 { return fileHeaderSize + 3 }), 0, true},
		{"file header torn", truncateTo(func([]int64) int64 { return 9 }), 0, true},
		{"empty file (created, nothing written)", truncateTo(func([]int64) int64 { return 0 }), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			id := startRun(t, s, mlerr.RunSpec{})
			var ends []int64
			for i := range batches {
				require.NoError(t, s.WriteBatch(context.Background(), mlerr.Batch{RunID: id, Seq: uint64(i + 1), Items: points("loss", int64(i*10), 10)}))
				ends = append(ends, fileSize(t, logPath(s, id)))
			}
			require.NoError(t, s.Close())
			tt.damage(t, logPath(s, id), ends)

			// Readers stop before the tail without cutting it.
			sum := Summarize(s.RunDir(id))
			require.NoError(t, sum.Err)
			assert.Equal(t, tt.keep, sum.Batches)
			assert.Equal(t, tt.keep*10, sum.Metrics)
			assert.Equal(t, tt.wantCut, sum.TornTail)

			// Opening for writing cuts it, and the log goes on.
			l, cut, err := openRunLog(logPath(s, id), false, DefaultFileMode)
			require.NoError(t, err)
			assert.Equal(t, tt.wantCut, cut)
			want := int64(fileHeaderSize)
			if tt.keep > 0 {
				want = ends[tt.keep-1]
			}
			assert.Equal(t, want, fileSize(t, logPath(s, id)), "the file ends at the last good record")
			_, err = l.append(100, points("loss", 1000, 10))
			require.NoError(t, err)
			require.NoError(t, l.close())

			items := allItems(t, s.RunDir(id))
			require.Len(t, items, tt.keep*10+10)
			for i, it := range items[:tt.keep*10] {
				assert.Equal(t, int64(i), it.Step)
			}
			assert.Equal(t, int64(1000), items[tt.keep*10].Step)
			assert.False(t, Summarize(s.RunDir(id)).TornTail)
		})
	}
}

func TestCorruptionInTheMiddleIsAnError(t *testing.T) {
	tests := []struct {
		name   string
		damage damage
	}{
		{"payload byte of the first record", flipByte(0, 30)},
		{"checksum of the second record", flipByte(1, 9)},
		{"length of the second record", flipByte(1, 5)},
		{"magic of the third record", flipByte(2, 1)},
		{"file header", flipByte(0, -3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			id := startRun(t, s, mlerr.RunSpec{})
			var ends []int64
			for i := range 4 {
				require.NoError(t, s.WriteBatch(context.Background(), mlerr.Batch{RunID: id, Seq: uint64(i + 1), Items: points("loss", int64(i*10), 10)}))
				ends = append(ends, fileSize(t, logPath(s, id)))
			}
			require.NoError(t, s.Close())
			before := fileSize(t, logPath(s, id))
			tt.damage(t, logPath(s, id), ends)

			check := func(err error) {
				t.Helper()
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrCorrupted), "%v", err)
				assert.Equal(t, mlerr.CodeDataLoss, mlerr.CodeOf(err))
			}
			_, err := Items(s.RunDir(id))
			check(err)
			check(Summarize(s.RunDir(id)).Err)
			_, _, err = openRunLog(logPath(s, id), false, DefaultFileMode)
			check(err)
			s2, err := Open(s.Dir())
			require.NoError(t, err)
			defer s2.Close()
			_, err = s2.StartRun(context.Background(), mlerr.RunSpec{RunID: id})
			check(err)
			check(s2.WriteBatch(context.Background(), mlerr.Batch{RunID: id, Seq: 9, Items: points("x", 0, 1)}))
			assert.Equal(t, before, fileSize(t, logPath(s, id)), "nothing is cut from a corrupted log")
		})
	}
}

func TestUnknownFormatVersionIsAnError(t *testing.T) {
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{})
	require.NoError(t, s.Close())
	h := fileHeader(logName)
	h[8] = 2
	f, err := os.OpenFile(logPath(s, id), os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(h, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = Items(s.RunDir(id))
	assert.ErrorIs(t, err, ErrCorrupted)
	assert.ErrorContains(t, err, "version 2")
}

// FuzzRecovery appends arbitrary bytes to a good log: whatever they are,
// the good records are read back unchanged, and opening the log for writing
// either cuts the bytes or reports corruption (when they hold a good record
// of their own), never misreads them.
func FuzzRecovery(f *testing.F) {
	f.Add([]byte("garbage"))
	f.Add(tornRecord(40))
	f.Add(make([]byte, 100))
	good := frame(appendBatch(make([]byte, recordHeaderSize), 5, points("y", 0, 3), map[string]uint64{}))
	f.Add(append([]byte{1, 2, 3}, good...))
	dir := f.TempDir()
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	id := "fuzz"
	if _, err := s.StartRun(context.Background(), mlerr.RunSpec{RunID: id}); err != nil {
		f.Fatal(err)
	}
	for i := range 3 {
		if err := s.WriteBatch(context.Background(), mlerr.Batch{RunID: id, Seq: uint64(i + 1), Items: points("loss", int64(i*5), 5)}); err != nil {
			f.Fatal(err)
		}
	}
	s.Close()
	pristine, err := os.ReadFile(logPath(s, id))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tail []byte) {
		path := logPath(s, id)
		if err := os.WriteFile(path, append(append([]byte(nil), pristine...), tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		items, err := Items(s.RunDir(id))
		if err != nil {
			if !errors.Is(err, ErrCorrupted) {
				t.Fatalf("not a corruption error: %v", err)
			}
			return
		}
		if len(items) < 15 {
			t.Fatalf("lost good records: %d items", len(items))
		}
		for i, it := range items[:15] {
			if it.Step != int64(i) || it.Key != "loss" {
				t.Fatalf("item %d misread: %+v", i, it)
			}
		}
		if len(items) > 15 {
			return // the tail held good records of its own
		}
		l, cut, err := openRunLog(path, false, DefaultFileMode)
		if err != nil {
			t.Fatalf("a log that reads cleanly does not open: %v", err)
		}
		l.close()
		if cut != (len(tail) > 0) {
			t.Fatalf("cut = %v for a tail of %d bytes", cut, len(tail))
		}
		if st, _ := os.Stat(path); st.Size() != int64(len(pristine)) {
			t.Fatalf("log is %d bytes after recovery, want %d", st.Size(), len(pristine))
		}
	})
}
