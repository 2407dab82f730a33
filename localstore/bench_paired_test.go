package localstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
)

// The paired benchmarks time the store and its baseline in the same
// iteration, alternately, so that the reported ratio holds on a machine whose
// fsync latency drifts by a factor of several during a run (a shared VM).

// BenchmarkPairedWriteBatch: one Store.WriteBatch of 1000 points, then the
// same bytes written and fdatasynced to a bare file. "ratio" is the store's
// time over the bare time.
func BenchmarkPairedWriteBatch(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	info, err := s.StartRun(ctx, mlerr.RunSpec{})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.Create(filepath.Join(dir, "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	items := points("loss", 0, benchBatch)
	rec := frame(appendBatch(make([]byte, recordHeaderSize), 1, items, map[string]uint64{}))
	var store, bare time.Duration
	seq := uint64(0)
	for b.Loop() {
		seq++
		t := time.Now()
		if err := s.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: seq, Items: items}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := raw.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := datasync(raw); err != nil {
			b.Fatal(err)
		}
		store += t2.Sub(t)
		bare += time.Since(t2)
	}
	b.ReportMetric(store.Seconds()/bare.Seconds(), "ratio")
	b.ReportMetric(float64(b.N*benchBatch)/store.Seconds(), "store-points/s")
	b.ReportMetric(float64(b.N*benchBatch)/bare.Seconds(), "bare-points/s")
}

// BenchmarkPairedReplay: Replay of 20 batches of 1000 points to a backend
// that discards them, then the floor of a durable cursor per batch: 20
// atomic file replacements (write a temporary file, fsync, rename, fsync the
// directory). "ratio" is Replay's time over the floor's.
func BenchmarkPairedReplay(b *testing.B) {
	dir := replayFixture(b)
	ctx := context.Background()
	floorDir := b.TempDir()
	cur := []byte(`{"version":1,"target":"default","remote_run_id":"r","batches":20,"offset":123456,"items":20000}`)
	var replay, floor time.Duration
	for b.Loop() {
		if err := os.RemoveAll(filepath.Join(dir, "bench", syncDirName)); err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		rep, err := Replay(ctx, dir, discard{})
		if err != nil || rep.Batches != replayBatches {
			b.Fatal(err, rep.Batches)
		}
		t2 := time.Now()
		for range replayBatches {
			if err := writeFileAtomic(filepath.Join(floorDir, "cursor.json"), cur, DefaultFileMode); err != nil {
				b.Fatal(err)
			}
		}
		replay += t2.Sub(t)
		floor += time.Since(t2)
	}
	b.ReportMetric(replay.Seconds()/floor.Seconds(), "ratio")
	b.ReportMetric(float64(b.N*replayBatches*benchBatch)/replay.Seconds(), "replay-points/s")
}
