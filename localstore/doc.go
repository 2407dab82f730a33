// Package localstore is mlerr's embedded default backend: a durable,
// append-only, checksummed log per run on local disk. It needs no server, so
// training can log offline and upload later with Replay (or the `mlerr sync`
// command).
//
// # Layout
//
// A store is a directory. Each run is a sub-directory named by its id:
//
//	<root>/MLERR_STORE             marker written by Open
//	<root>/<run-id>/manifest.json  spec, status and times, replaced atomically
//	<root>/<run-id>/log            the run's batches, append-only
//	<root>/<run-id>/sync/          one replay cursor per upload target (and the list of
//	                               artifacts uploaded to it, <target>.artifacts.jsonl)
//	<root>/<run-id>/artifacts/     the run's artifacts (Store.WriteArtifact), by path
//	<root>/<run-id>/artifacts.jsonl one line per artifact stored: path, size, CRC-32C
//
// # Durability
//
// The log is a file header followed by records framed as
//
//	[magic u32][length u32][crc32c u32][payload]
//
// where the checksum (Castagnoli) covers the length and the payload, and the
// payload is one batch: its sequence number and items in a compact binary
// encoding that keeps every float64 bit for bit (NaN payloads, ±Inf, -0).
// WriteBatch returns only after the record is written and fsynced, so a batch
// it acknowledged survives a crash of the process or the machine.
//
// A crash while writing leaves a torn tail: a partial record, or bytes whose
// checksum does not match, after the last good record. Opening the run for
// writing cuts such a tail; readers stop before it. Damage followed by a good
// record is not a torn tail but corruption in the middle of the log: it is
// reported as an error of kind ErrCorrupted (code DATA_LOSS), never skipped.
//
// An artifact is written to a temporary file in the run's directory
// (.partial-*), fsynced, renamed to its place, and only then recorded in
// artifacts.jsonl (appended, fsynced): a crash mid-copy leaves at most a
// temporary file, which nothing reads. Replay uploads the recorded files
// after the run's batches, checking each file's size and checksum first
// (a mismatch is an ErrCorrupted error naming it), and appends each one
// uploaded to the target's list before the next, so an interrupted replay
// uploads none twice.
//
// The manifest and the replay cursors are replaced atomically (write a
// temporary file, fsync, rename, fsync the directory), so a reader sees the
// old version or the new one, never a mix.
//
// # Several batches in flight
//
// WriteBatch is safe for concurrent use (one lock per run's log): an
// mlerr.Run with Limits.InFlight > 1 appends several batches at once, and
// the log holds them in the order they were fsynced, which may differ from
// their Seq order. A retry of a batch already in the log (same Seq, same
// items) is recognised wherever it is. What a later Replay depends on keeps
// its order, because the Run never has two batches writing one tag or param
// key in flight together: the writes of one tag key are in the log in the
// order they were logged, so Replay, which sends the log in order, leaves
// the tag's last value on the server. Metric points may be in the log out
// of step order; MLflow orders a metric's history by step and time stamp.
// Further guarantees: a failed write is cut back before its error is
// returned, so no partial record is ever left in the middle of the log; a
// retried batch (the same Seq, the same items) is acknowledged without
// being written twice, and a resumed run gets RunInfo.LastSeq so the Run
// numbers its batches after the log's; a run open for writing is locked
// (flock), a second writer gets ErrLocked, and the lock dies with the
// process.
//
// # Training offline
//
//	store, err := localstore.Open("mlruns-offline")
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer store.Close()
//	run, err := mlerr.NewRun(ctx, store, mlerr.WithRunName("resnet"), mlerr.WithExperiment("vision"))
//	...
//	run.Close(ctx) // flushes, marks the run FINISHED
//
// Then, from any machine that reaches the server, `mlerr sync
// mlruns-offline` (see the mlerr command) or Replay uploads it.
//
// # Replay: exactly once, resumable
//
// Replay(ctx, dir, backend, opts...) uploads one run (dir is a run
// directory) or every run of a store (dir is the store), oldest first, to
// any mlerr.Backend. Batches are sent in log order with Seq = their position
// in the log; after each acknowledged batch a per-target cursor (which
// remote run, how many batches) is saved atomically in the run's sync/
// directory. An interrupted replay resumes the same remote run
// (RunSpec.RunID) from the first unacknowledged batch; a batch whose answer
// was lost is sent again with the same Seq, which the backend stores once.
// Items the server rejects (a *mlerr.BatchError) are reported, written to
// sync/<target>.rejected.jsonl, and not retried. Each call to the backend
// goes through mlerr.Retry (WithRetry). A run still running can be synced
// again later: only the new batches go. WithTarget keeps separate cursors
// per server; `mlerr sync` uses the tracking URI.
//
// # Spilling a full queue to disk
//
// OpenSpool(dir) is a durable FIFO (an mlerr.Spool) for the Run's spill
// policy: during a long outage the queue overflows to disk instead of
// dropping points, and drains in order when the server is back:
//
//	spool, err := localstore.OpenSpool("spool")
//	...
//	run, err := mlerr.NewRun(ctx, backend, mlerr.WithFullPolicy(mlerr.Spill(spool)))
//
// # Permissions
//
// Files are created with DefaultFileMode (0600) and directories with 0700,
// less the process's umask: a run's params, tags and metrics may be
// private, so they are the owner's alone unless WithFileMode (a Store) or
// WithSpoolFileMode (a Spool) asks for more. Replay creates its files (a
// run's sync/ directory) with the permission of the run's log.
//
// # Hostile stores
//
// A store may come from elsewhere (copied from a training machine): every
// reader (List, Summarize, Scan, Items, Replay, a Store resuming a run)
// treats its content as untrusted. Inside the directory it is given, it
// follows no symbolic link and opens nothing but regular files (a link, a
// FIFO or a device where a file or directory of the store should be is an
// ErrCorrupted error naming it), so it reads and writes nothing outside;
// a manifest's run id must be its directory's name and a fork parent a run
// id, so no field names a path; a manifest may hold at most 4 MiB and a
// cursor 64 KiB; a record at most 64 MiB and 1,048,576 items, and a header
// claiming more is corruption. Reading a record takes memory bounded by
// those limits, whatever the file says. List reports a run that cannot be
// read in its RunSummary.Err and goes on with the others; Replay skips it.
package localstore
