package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mlerr/mlerr/localstore"
)

// cmdLs lists the runs of a store.
func cmdLs(args []string, e env) int {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, ok := storeArg(fs.Args())
	if !ok {
		fmt.Fprint(e.stderr, "mlerr: ls: want one directory (or none: "+defaultStore+")\n"+usage)
		return 2
	}
	runs, err := localstore.List(dir)
	if err != nil {
		return fail(e, "ls", "%s", reason(err))
	}
	if len(runs) == 0 {
		fmt.Fprintf(e.stdout, "no runs in %s\n", dir)
		return 0
	}
	printRuns(e.stdout, runs)
	bad := 0
	for _, r := range runs {
		if r.Err != nil {
			bad++
		}
	}
	if bad > 0 {
		return fail(e, "ls", "%d of %d runs cannot be read (see ERROR above)", bad, len(runs))
	}
	return 0
}

func printRuns(w io.Writer, runs []localstore.RunSummary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tNAME\tSTATUS\tSTARTED\tPOINTS\tPARAMS\tTAGS\tBATCHES\tARTIFACTS\tREMOTE\tSYNCED")
	for _, r := range runs {
		started := "-"
		if !r.StartTime.IsZero() {
			started = r.StartTime.Local().Format("2006-01-02 15:04")
		}
		name := r.Name
		if name == "" {
			name = "-"
		}
		status := r.Status
		if r.Err != nil {
			status = "ERROR"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", r.ID, name, status, started, r.Metrics, r.Params, r.Tags+r.RunTags, r.Batches, artifactsColumn(r), remoteID(r), syncState(r))
	}
	tw.Flush()
	for _, r := range runs {
		if r.Err != nil {
			fmt.Fprintf(w, "ERROR %s: %s\n", r.ID, reason(r.Err))
		} else if r.TornTail {
			fmt.Fprintf(w, "note: %s ends with a torn tail (a crash while writing); it is cut when the run is resumed\n", r.ID)
		}
	}
}

// syncState says whether a run is uploaded: "yes", "no", or how far.
func syncState(r localstore.RunSummary) string {
	if r.Synced() {
		return "yes"
	}
	best := -1
	for _, s := range r.Sync {
		best = max(best, s.Batches)
	}
	switch {
	case best < 0:
		return "no"
	case best >= r.Batches:
		return "end not sent"
	}
	return fmt.Sprintf("partly (%d/%d batches)", best, r.Batches)
}

// defaultStore is the store ls and sync read without a directory: the
// quickstart's (localstore's examples write there too).
const defaultStore = "mlerr-runs"

// storeArg returns the one directory argument, defaultStore without one.
func storeArg(args []string) (string, bool) {
	switch len(args) {
	case 0:
		return defaultStore, true
	case 1:
		return args[0], true
	}
	return "", false
}

// remoteID returns the run's id in the target it went furthest in, "-"
// when it was never synced; "+N" counts the other targets.
func remoteID(r localstore.RunSummary) string {
	best := -1
	for i, s := range r.Sync {
		if best < 0 || s.Batches > r.Sync[best].Batches {
			best = i
		}
	}
	switch {
	case best < 0:
		return "-"
	case len(r.Sync) > 1:
		return fmt.Sprintf("%s (+%d)", r.Sync[best].RemoteRunID, len(r.Sync)-1)
	}
	return r.Sync[best].RemoteRunID
}
