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
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *retries < 0 {
		fmt.Fprint(e.stderr, "mlerr: sync: want one directory (and -retries >= 0)\n"+usage)
		return 2
	}
	dir := fs.Arg(0)
	// The directory first: a bad one is the user's first mistake to fix.
	if _, err := localstore.List(dir); err != nil {
		return fail(e, "sync", "%s", reason(err))
	}
	backend, err := mlflow.NewBackendFromEnv()
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
	report, err := localstore.Replay(ctx, dir, backend,
		localstore.WithTarget(uri), localstore.WithRetry(policy), localstore.WithProgress(bar.update))
	bar.finish()
	printSummary(e, uri, report, err != nil)
	if bad := unreadable(report, err); bad > 0 {
		return fail(e, "sync", "%d of %d runs cannot be read and were not synced (see \"not synced\" above); the others were", bad, len(report.Runs))
	}
	if err != nil {
		return fail(e, "sync", "%s", serverReason(err, uri))
	}
	return 0
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
			fmt.Fprintln(e.stdout, line)
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
