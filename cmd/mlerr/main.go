// Command mlerr works with mlerr's local store (package localstore): the
// runs a training job logged offline, or while its tracking server was away.
//
//	mlerr ls [DIR]                          list the runs in DIR, with point counts and sync state
//	mlerr sync [-retries N] [-force] [DIR]  upload them to $MLFLOW_TRACKING_URI
//
// DIR is ./mlerr-runs when not given, the store the quickstart writes.
// ls shows, for each run, its points, params, tags (those given when it
// started and those logged), batches, the id of its remote run (REMOTE)
// and whether it is synced.
//
// sync reads the tracking server, credentials and TLS settings from the
// variables MLflow's own client reads, as package mlflow documents them:
// MLFLOW_TRACKING_URI (credentials in it, http://user:pass@host, are used and
// never printed), MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and
// MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_INSECURE_TLS,
// MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_TRACKING_CLIENT_CERT_PATH. It
// uploads every batch exactly once: run it again after an interruption and
// it resumes where it stopped. It sends requests as large as MLflow takes
// (1000 metric points), however small the store's batches are, and tags
// every remote run with the local run's id (mlerr.localRunId). A run
// deleted on the server since it was synced is reported, and not synced;
// -force uploads it again as a new run.
//
// Both commands take the store as untrusted: they follow no symbolic link
// inside it and read nothing outside it; a run that cannot be read is
// listed (ls) or skipped (sync) with an ERROR naming the file.
//
// Exit status: 0 on success, 1 on a failure (one line on standard error
// says why: a bad directory, an unreachable server, rejected credentials,
// a corrupted run...), 2 on a usage error.
//
// A sync prints a line per run as it goes (a progress bar on a terminal),
// then one line per run and a total:
//
//	$ export MLFLOW_TRACKING_URI=http://127.0.0.1:5000   # and MLFLOW_TRACKING_TOKEN, or _USERNAME/_PASSWORD
//	$ mlerr sync mlruns-offline
//	run 1/2 4eaddd08b232920f37d345acce56c098: uploading from batch 1 of 11
//	run 1/2 4eaddd08b232920f37d345acce56c098: 11/11 batches uploaded
//	...
//	4eaddd08b232920f37d345acce56c098  -> d7ea5c395e9e482982ce2c794b416bcb: 10002 items in 11 batches, ended FINISHED
//	dd96e36d09d740d604408ffcf4732353  -> 6518ab6c68d1493abc33be0cb875ebad: 10002 items in 11 batches, ended FINISHED
//	synced 20004 items in 22 batches to http://127.0.0.1:5000 in 8.01s
//
// Failures are one line on standard error:
//
//	$ mlerr sync /data/nope
//	mlerr: sync: /data/nope does not exist
//	$ mlerr sync mlruns-offline          # server down
//	mlerr: sync: cannot reach the MLflow server at http://127.0.0.1:5000 (connect: connection refused); run sync again once it is up: it resumes where it stopped
//	$ mlerr sync mlruns-offline          # bad token
//	mlerr: sync: the MLflow server at http://127.0.0.1:5000 refused the credentials (HTTP 403): check MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, tty: isTerminal(os.Stderr)}))
}

// env is what a command writes to. Tests run commands in-process with
// buffers.
type env struct {
	stdout, stderr io.Writer
	// tty says that stderr is a terminal: sync then draws a progress bar
	// instead of printing lines.
	tty bool
}

const usage = `usage:
  mlerr ls [DIR]                           list the runs of a local store (default ./mlerr-runs)
  mlerr sync [-retries N] [-force] [DIR]   upload them to $MLFLOW_TRACKING_URI
`

// run runs the command line args and returns the exit status.
func run(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	switch args[0] {
	case "ls":
		return cmdLs(args[1:], e)
	case "sync":
		return cmdSync(args[1:], e)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return 0
	}
	fmt.Fprintf(e.stderr, "mlerr: unknown command %q\n%s", args[0], usage)
	return 2
}

// fail prints "mlerr: <cmd>: <reason>" and returns exit status 1.
func fail(e env, cmd, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "mlerr: %s: %s\n", cmd, fmt.Sprintf(format, args...))
	return 1
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
