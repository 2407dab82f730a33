package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/localstore"
)

// Files, directories, bytes and JSON logged to a run: copied at the call,
// uploaded in the background with the run's other data. Here the run goes
// to the local store (offline; `mlerr sync` uploads its artifacts later);
// with the MLflow backend they go through the server's artifact proxy.
func ExampleRun_LogArtifacts() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "mlerr-example-")
	defer os.RemoveAll(tmp)
	eval := filepath.Join(tmp, "eval")
	_ = os.MkdirAll(eval, 0o755)
	_ = os.WriteFile(filepath.Join(eval, "confusion.csv"), []byte("tp,fp\n90,10\n"), 0o644)
	_ = os.WriteFile(filepath.Join(eval, "report.txt"), []byte("accuracy 0.9\n"), 0o644)

	store, _ := localstore.Open(filepath.Join(tmp, "runs"))
	defer store.Close()
	run, _ := mlerr.NewRun(ctx, store, mlerr.WithRunName("artifacts"))
	fmt.Println(run.LogArtifacts(eval, "eval"))                                    // a tree, paths kept
	fmt.Println(run.LogJSON(map[string][]float64{"w": {0.5, -1}}, "weights.json")) // a Go value
	fmt.Println(run.LogText("done\n", "notes/status.txt"))                         // text
	err := run.LogArtifact(filepath.Join(tmp, "missing.bin"), "ckpt")              // refused at the call
	var be *mlerr.BatchError[mlerr.Item]
	if errors.As(err, &be) {
		fmt.Println(be.Failures[0].Item.Key, be.Failures[0].Reason, be.Failures[0].Code)
	}

	report, _ := run.Close(ctx) // waits for the uploads
	sum := localstore.Summarize(store.RunDir(report.RunID))
	fmt.Println(report.Status, sum.Artifacts, "artifacts,", sum.ArtifactBytes, "bytes")
	// Output:
	// <nil>
	// <nil>
	// <nil>
	// ckpt/missing.bin file not found RESOURCE_DOES_NOT_EXIST
	// FINISHED 4 artifacts, 63 bytes
}
