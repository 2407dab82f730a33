package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/localstore"
	"github.com/mlerr/mlerr/mlflow"
)

// cmdSync uploads a store's runs to the MLflow server of the environment.
func cmdSync(args []string, e env) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	retries := fs.Int("retries", 5, "retries of a failed call to the server before giving up (0: none)")
	force := fs.Bool("force", false, "upload again, as new runs, the runs deleted on the server since they were synced")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, ok := storeArg(fs.Args())
	if !ok || *retries < 0 {
		fmt.Fprint(e.stderr, "mlerr: sync: want one directory or none (and -retries >= 0)\n"+usage)
		return 2
	}
	// The directory first: a bad one is the user's first mistake to fix.
	if _, err := localstore.List(dir); err != nil {
		return fail(e, "sync", "%s", reason(err))
	}
	// Each local run has a remote run of its own: MLFLOW_RUN_ID, which a
	// training program's Backend resumes, is not for sync. The runs carry
	// no system tags: the program that logged them is not sync, and the
	// store does not record it (mlerr.localRunId says where they come from).
	backend, err := mlflow.NewBackendFromEnv(mlflow.WithResumeRun(""), mlflow.WithoutSystemTags())
	if err != nil {
		return fail(e, "sync", "%s", reason(err))
	}
	uri := backend.Client().TrackingURI()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	policy := mlerr.DefaultPolicy()
	policy.MaxAttempts = *retries + 1
	policy.MaxElapsed = time.Minute
	bar := newProgress(e)
	opts := []localstore.ReplayOption{localstore.WithTarget(uri), localstore.WithRetry(policy), localstore.WithProgress(bar.update),
		localstore.WithBatchLimits(mlflowLimits)}
	if *force {
		opts = append(opts, localstore.WithForce())
	}
	report, err := localstore.Replay(ctx, dir, backend, opts...)
	bar.finish()
	printSummary(e, uri, report, err != nil)
	if bad := unreadable(report, err); bad > 0 {
		return fail(e, "sync", "%d of %d runs cannot be read and were not synced (see \"not synced\" above); the others were", bad, len(report.Runs))
	}
	if err != nil {
		return fail(e, "sync", "%s", serverReason(err, uri))
	}
	if gone := goneRuns(report); gone > 0 {
		return fail(e, "sync", "%d of %d runs were deleted on the server since they were synced (see above); mlerr sync --force uploads them again as new runs", gone, len(report.Runs))
	}
	return 0
}

// mlflowLimits are MLflow's limits for one runs/log-batch: sync joins the
// store's batches into requests that size.
var mlflowLimits = localstore.BatchLimits{
	Metrics: mlflow.MaxMetricsPerRequest, Params: mlflow.MaxParamsPerRequest,
	Tags: mlflow.MaxTagsPerRequest, Items: mlflow.MaxItemsPerRequest,
}

// goneRuns counts the runs whose remote run was deleted and not uploaded
// again.
func goneRuns(rep localstore.ReplayReport) int {
	n := 0
	for _, r := range rep.Runs {
		if r.GoneRunID != "" && !r.Created {
			n++
		}
	}
	return n
}

// goneLine tells about a run whose remote run was deleted on the server.
func goneLine(r localstore.RunReport) (string, bool) {
	switch {
	case r.GoneRunID == "":
		return "", false
	case r.Created:
		return fmt.Sprintf("%s  -> %s: uploaded again as a new run (%s, where it was synced, is deleted on the server): %d items in %d batches",
			r.LocalID, r.RemoteID, r.GoneRunID, r.Items, r.Batches), true
	}
	return fmt.Sprintf("%s  not synced: it was synced as %s, which is deleted on the server (--force uploads it again as a new run)", r.LocalID, r.GoneRunID), true
}

// unreadable returns the number of runs that could not be read when those
// are all that failed (Replay then joins their errors), else 0.
func unreadable(rep localstore.ReplayReport, err error) int {
	bad := 0
	for _, r := range rep.Runs {
		if r.Err != nil {
			bad++
		}
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok || bad == 0 || len(j.Unwrap()) != bad {
		return 0
	}
	return bad
}

// printSummary prints a line per run and a total. After a failure it only
// tells what was uploaded before it, if anything.
func printSummary(e env, uri string, rep localstore.ReplayReport, failed bool) {
	if failed && rep.Batches == 0 {
		return
	}
	for _, r := range rep.Runs {
		if line, ok := goneLine(r); ok {
			fmt.Fprintln(e.stdout, line)
			continue
		}
		switch {
		case r.Err != nil:
			fmt.Fprintf(e.stdout, "%s  not synced: %s\n", r.LocalID, reason(r.Err))
		case r.AlreadySynced:
			if !failed {
				fmt.Fprintf(e.stdout, "%s  already synced as %s\n", r.LocalID, r.RemoteID)
			}
		case r.Batches == 0 && r.Ended == "" && r.Artifacts == 0:
			// nothing sent for this run
		default:
			fmt.Fprintln(e.stdout, uploadLine(r))
		}
	}
	verb := "synced"
	if failed {
		verb = "before the failure, uploaded"
	}
	fmt.Fprintf(e.stdout, "%s %d items in %d batches to %s in %s", verb, rep.Items, rep.Batches, uri, rep.Elapsed.Round(time.Millisecond))
	if rep.Rejected > 0 {
		fmt.Fprintf(e.stdout, "; %d items rejected (listed in each run's sync/*.rejected.jsonl)", rep.Rejected)
	}
	fmt.Fprintln(e.stdout)
}

// uploadLine tells what sync uploaded of a run.
func uploadLine(r localstore.RunReport) string {
	line := fmt.Sprintf("%s  -> %s: %d items in %d batches", r.LocalID, r.RemoteID, r.Items, r.Batches)
	if r.SkippedBatches > 0 {
		line += fmt.Sprintf(" (%d batches sent before)", r.SkippedBatches)
	}
	if len(r.Rejected) > 0 {
		line += fmt.Sprintf(", %d rejected by the server (first: %s %q: %s)", len(r.Rejected),
			r.Rejected[0].Item.Kind, r.Rejected[0].Item.Key, r.Rejected[0].Reason)
	}
	line += artifactsSent(r)
	if r.Ended != "" {
		line += ", ended " + r.Ended
	}
	return line
}
