package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/localstore"
	"github.com/mlerr/mlerr/mlflow"
)

// Sync's throughput against the real server (MLERR_TEST_MLFLOW_URI):
//
//	go test ./cmd/mlerr -run '^$' -bench SyncSmallBatches -benchtime 2x -count 6
//
// The store is written as a training loop with a Wait after every step
// writes it: one stored batch of 10 points per step. Each iteration syncs a
// fresh copy of it with `mlerr sync`, and sends the same points straight to
// the server with the mlflow Backend in full batches of 1000 (the
// baseline), in alternating order; "ratio" is sync's points/s over the
// baseline's (1 is as fast as full batches).
func BenchmarkSyncSmallBatches(b *testing.B) {
	uri := testserver.MLflowURI(b)
	b.Setenv(mlflow.EnvTrackingURI, uri)
	b.Setenv(mlflow.EnvExperimentName, fmt.Sprintf("bench-sync-%d", time.Now().UnixNano()))
	const steps, perStep = 2000, 10
	src := waitedStore(b, steps, perStep)
	items, err := localstore.Items(src.runDir)
	if err != nil {
		b.Fatal(err)
	}
	backend, err := mlflow.NewBackendFromEnv()
	if err != nil {
		b.Fatal(err)
	}
	var syncT, fullT time.Duration
	for i := 0; b.Loop(); i++ {
		dir := copyStore(b, src.root)
		d := []time.Duration{}
		for k := range 2 {
			if (i+k)%2 == 0 {
				d = append(d, timeSync(b, dir))
			} else {
				d = append(d, timeFull(b, backend, items))
			}
		}
		if i%2 == 0 {
			syncT, fullT = syncT+d[0], fullT+d[1]
		} else {
			syncT, fullT = syncT+d[1], fullT+d[0]
		}
	}
	points := float64(b.N * steps * perStep)
	b.ReportMetric(points/syncT.Seconds(), "sync-points/s")
	b.ReportMetric(points/fullT.Seconds(), "full-points/s")
	b.ReportMetric(fullT.Seconds()/syncT.Seconds(), "ratio")
}

type benchStore struct{ root, runDir string }

// waitedStore writes a run of steps steps of perStep metrics through an
// mlerr.Run on a Store, waiting after every step.
func waitedStore(b *testing.B, steps, perStep int) benchStore {
	b.Helper()
	root := filepath.Join(b.TempDir(), "store")
	s, err := localstore.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, s, mlerr.WithRunName("bench"))
	if err != nil {
		b.Fatal(err)
	}
	vals := make(map[string]float64, perStep)
	for step := range steps {
		for k := range perStep {
			vals["m"+strconv.Itoa(k)] = float64(step*k) / 7
		}
		if err := run.LogMetrics(int64(step), vals); err != nil {
			b.Fatal(err)
		}
		if err := run.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := run.Close(ctx); err != nil {
		b.Fatal(err)
	}
	runs, err := localstore.List(root)
	if err != nil || len(runs) != 1 || runs[0].Batches != steps {
		b.Fatalf("store: %v, %d runs, want 1 of %d batches", err, len(runs), steps)
	}
	return benchStore{root, runs[0].Dir}
}

func timeSync(b *testing.B, dir string) time.Duration {
	var stderr strings.Builder
	start := time.Now()
	code := run([]string{"sync", dir}, env{stdout: io.Discard, stderr: &stderr})
	d := time.Since(start)
	if code != 0 {
		b.Fatalf("sync exited %d: %s", code, stderr.String())
	}
	return d
}

// timeFull sends items to a new run in batches of 1000, as a program
// logging full batches would, and ends the run.
func timeFull(b *testing.B, backend *mlflow.Backend, items []mlerr.Item) time.Duration {
	ctx := context.Background()
	start := time.Now()
	info, err := backend.StartRun(ctx, mlerr.RunSpec{Name: "bench-full"})
	if err != nil {
		b.Fatal(err)
	}
	for seq, i := uint64(1), 0; i < len(items); seq, i = seq+1, i+mlflow.MaxMetricsPerRequest {
		batch := mlerr.Batch{RunID: info.RunID, Seq: seq, Items: items[i:min(i+mlflow.MaxMetricsPerRequest, len(items))]}
		if err := backend.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := backend.EndRun(ctx, info.RunID, mlerr.RunFinished, time.Now()); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// copyStore copies a store (a flat tree of small files) to a new directory.
func copyStore(b *testing.B, src string) string {
	b.Helper()
	dst := filepath.Join(b.TempDir(), "store")
	err := filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, fi.Mode().Perm())
	})
	if err != nil {
		b.Fatal(err)
	}
	return dst
}
