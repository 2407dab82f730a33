package localstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/localstore"
)

// Training with no server: a Run logs to a local store, every batch fsynced.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "mlruns")
	defer os.RemoveAll(dir)

	store, err := localstore.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, store, mlerr.WithRunName("offline"))
	if err != nil {
		log.Fatal(err)
	}
	_ = run.LogParams(map[string]string{"lr": "0.001"})
	for step := range int64(100) {
		_ = run.LogMetrics(step, map[string]float64{"loss": 1 / float64(step+1)})
	}
	if _, err := run.Close(ctx); err != nil {
		log.Fatal(err)
	}

	runs, _ := localstore.List(dir)
	for _, r := range runs {
		fmt.Println(r.Name, r.Status, r.Metrics, "points", r.Params, "param", "synced:", r.Synced())
	}
	// Output:
	// offline FINISHED 100 points 1 param synced: false
}

// Uploading an offline run later: Replay sends every batch exactly once to
// any mlerr.Backend (here a second store standing in for a server; `mlerr
// sync` does this with an MLflow server) and remembers what it sent.
func ExampleReplay() {
	dir, _ := os.MkdirTemp("", "mlruns")
	defer os.RemoveAll(dir)
	serverDir, _ := os.MkdirTemp("", "server")
	defer os.RemoveAll(serverDir)

	ctx := context.Background()
	store, _ := localstore.Open(dir)
	info, _ := store.StartRun(ctx, mlerr.RunSpec{Name: "offline"})
	for seq := uint64(1); seq <= 3; seq++ {
		items := []mlerr.Item{{Kind: mlerr.ItemMetric, Key: "loss", Value: 0.5, Step: int64(seq), Time: time.Unix(int64(seq), 0)}}
		_ = store.WriteBatch(ctx, mlerr.Batch{RunID: info.RunID, Seq: seq, Items: items})
	}
	_ = store.EndRun(ctx, info.RunID, mlerr.RunFinished, time.Time{})
	store.Close()

	server, _ := localstore.Open(serverDir)
	defer server.Close()
	report, err := localstore.Replay(ctx, dir, server, localstore.WithTarget("my-server"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("uploaded", report.Items, "items in", report.Batches, "batches; run ended", report.Runs[0].Ended)

	report, _ = localstore.Replay(ctx, dir, server, localstore.WithTarget("my-server"))
	fmt.Println("again:", report.Items, "items; already synced:", report.Runs[0].AlreadySynced)
	// Output:
	// uploaded 3 items in 3 batches; run ended FINISHED
	// again: 0 items; already synced: true
}

// A spool keeps items on disk, in order, until they are acknowledged: the
// overflow of a Run's queue with mlerr.Spill.
func ExampleOpenSpool() {
	dir, _ := os.MkdirTemp("", "spool")
	defer os.RemoveAll(dir)

	spool, err := localstore.OpenSpool(dir)
	if err != nil {
		log.Fatal(err)
	}
	_ = spool.Push([]mlerr.Item{{Kind: mlerr.ItemMetric, Key: "loss", Value: 1, Step: 1}, {Kind: mlerr.ItemMetric, Key: "loss", Value: 2, Step: 2}})
	items, _ := spool.Peek(10)
	fmt.Println(len(items), "items, first step", items[0].Step)
	_ = spool.Ack(1)
	spool.Close()

	spool, _ = localstore.OpenSpool(dir) // after a restart
	defer spool.Close()
	items, _ = spool.Peek(10)
	fmt.Println(spool.Len(), "item left, step", items[0].Step)
	// Output:
	// 2 items, first step 1
	// 1 item left, step 2
}
