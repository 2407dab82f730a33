package mlerr

import "time"

// maxReportItems bounds the failed items a Report lists; the others are
// counted in Dropped.
const maxReportItems = 10000

// Drops counts items lost, by reason.
type Drops struct {
	// Invalid entries were rejected by a log call's validation.
	Invalid int64
	// QueueFull items were dropped by the full policy (DropOldest,
	// DropNewest, or a Block wait that ran out).
	QueueFull int64
	// Rejected items were refused by the backend: per-item rejections and
	// permanent errors (unauthorized, run not found, ...).
	Rejected int64
	// Unsent items were still queued when the run stopped: Close ran out of
	// time, Terminate was called, or the run could not be started.
	Unsent int64
	// SpillFailed items could not be written to the spool.
	SpillFailed int64
}

// Total returns the number of items lost for any reason.
func (d Drops) Total() int64 {
	return d.Invalid + d.QueueFull + d.Rejected + d.Unsent + d.SpillFailed
}

// Report is what a Run did, returned by Close.
type Report struct {
	// RunID is the backend's id of the run, "" if it never started.
	RunID string
	// Status is the status the run was ended with: RunFinished when every
	// logged item reached the backend, RunFailed when some were lost or it
	// could not be ended cleanly, RunKilled after Terminate. It is 0 when the
	// run never started.
	Status RunStatus
	// Logged is the number of items queued (valid entries accepted by the log
	// calls, duplicates excluded).
	Logged int64
	// Sent is the number of items the backend acknowledged.
	Sent int64
	// Batches is the number of batches the backend acknowledged.
	Batches int64
	// Retries is the number of backend calls repeated after a failure.
	Retries int64
	// Duplicates is the number of points not sent because they equalled
	// their metric's latest point.
	Duplicates int64
	// Outages is the number of times the backend became unreachable for
	// longer than the retry policy.
	Outages int64
	// Dropped counts the items lost, by reason.
	Dropped Drops
	// Failed lists the items the backend refused or that were left unsent
	// (at most 10000; Dropped has the counts).
	Failed []Item
	// Spooled is the number of items left in the spool (Spill), kept for a
	// later replay.
	Spooled int
	// CallbackEvents is the number of events delivered to the callbacks,
	// CallbackEventsDropped the number lost because the event queue was full.
	CallbackEvents, CallbackEventsDropped int64
	// Duration is the time from NewRun to the end of Close.
	Duration time.Duration
}
