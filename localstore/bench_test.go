package localstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
)

// Benchmarks. The baselines measure the bare cost the store cannot avoid in
// the same run, so that the figures are ratios:
//
//	go test ./localstore -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt

const benchBatch = 1000

// BenchmarkFsyncBaseline appends the bytes of one encoded batch of 1000
// points to a file and fdatasyncs it: the floor of WriteBatch.
func BenchmarkFsyncBaseline(b *testing.B) {
	rec := frame(appendBatch(make([]byte, recordHeaderSize), 1, points("loss", 0, benchBatch), map[string]uint64{}))
	f, err := os.Create(filepath.Join(b.TempDir(), "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(len(rec)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := datasync(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkWriteBatch is Store.WriteBatch of 1000 metric points, fsynced.
func BenchmarkWriteBatch(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	info, err := s.StartRun(ctx, mlerr.RunSpec{})
	if err != nil {
		b.Fatal(err)
	}
	items := points("loss", 0, benchBatch)
	seq := uint64(0)
	b.ResetTimer()
	for b.Loop() {
		seq++
		if err := s.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: seq, Items: items}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkEncodeBatch and BenchmarkDecodeBatch are the CPU part of a write
// and of a read of 1000 points.
func BenchmarkEncodeBatch(b *testing.B) {
	items := points("loss", 0, benchBatch)
	keys := map[string]uint64{}
	buf := make([]byte, 0, 64<<10)
	for b.Loop() {
		buf = appendBatch(buf[:0], 1, items, keys)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeBatch(b *testing.B) {
	p := appendBatch(nil, 1, points("loss", 0, benchBatch), map[string]uint64{})
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, _, err := decodeBatch(p); err != nil {
			b.Fatal(err)
		}
	}
}

// replayBatches is the size of the run the replay benchmarks upload.
const replayBatches = 20

func replayFixture(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	info, err := s.StartRun(ctx, mlerr.RunSpec{RunID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range replayBatches {
		if err := s.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: uint64(i + 1), Items: points("loss", int64(i*benchBatch), benchBatch)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.EndRun(ctx, info.RunID, mlerr.RunFinished, time.Time{}); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkScanBaseline reads and decodes the run Replay uploads: the floor
// of Replay with a backend that costs nothing.
func BenchmarkScanBaseline(b *testing.B) {
	dir := filepath.Join(replayFixture(b), "bench")
	b.ResetTimer()
	for b.Loop() {
		if err := Scan(dir, func(mlerr.Batch) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*replayBatches*benchBatch)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkReplay uploads 20 batches of 1000 points to a backend that
// discards them: the cost is reading the log and saving the cursor
// atomically (temp file, fsync, rename, directory fsync) after each batch.
func BenchmarkReplay(b *testing.B) {
	dir := replayFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(filepath.Join(dir, "bench", syncDirName)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := Replay(ctx, dir, discard{})
		if err != nil || rep.Batches != replayBatches {
			b.Fatal(err, rep.Batches)
		}
	}
	b.ReportMetric(float64(b.N*replayBatches*benchBatch)/b.Elapsed().Seconds(), "points/s")
}

// discard is a Backend that stores nothing.
type discard struct{}

func (discard) StartRun(context.Context, mlerr.RunSpec) (mlerr.RunInfo, error) {
	return mlerr.RunInfo{RunID: "r"}, nil
}
func (discard) WriteBatch(context.Context, mlerr.Batch) error { return nil }
func (discard) EndRun(context.Context, string, mlerr.RunStatus, time.Time) error {
	return nil
}

// BenchmarkSpoolPushPeekAck moves 1000 points through the spool: one
// fsynced push, a peek, and a durable ack.
func BenchmarkSpoolPushPeekAck(b *testing.B) {
	sp, err := OpenSpool(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	items := points("loss", 0, benchBatch)
	for b.Loop() {
		if err := sp.Push(items); err != nil {
			b.Fatal(err)
		}
		got, err := sp.Peek(benchBatch)
		if err != nil || len(got) != benchBatch {
			b.Fatal(err)
		}
		if err := sp.Ack(len(got)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "points/s")
}
