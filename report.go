package mlerr

import "time"

// maxReportItems bounds the failed items a Report lists; the others are
// counted in Dropped.
const maxReportItems = 10000

// Drops counts items lost after a log call accepted them, by reason.
type Drops struct {
	// QueueFull items were dropped by the full policy (DropOldest,
	// DropNewest, or a Block wait that ran out).
	QueueFull int64
	// Rejected items were refused by the backend: per-item rejections,
	// permanent errors (unauthorized, run not found, ...), and batches given
	// up after making the sender panic three times.
	Rejected int64
	// Unsent items were still queued, never sent, when the run stopped:
	// Close ran out of time, Terminate was called, or the run could not be
	// started; and the items of a spool that could not be read.
	Unsent int64
	// SpillFailed items could not be written to the spool.
	SpillFailed int64
}

// Total returns the number of items lost for any reason.
func (d Drops) Total() int64 {
	return d.QueueFull + d.Rejected + d.Unsent + d.SpillFailed
}

// Report is what a Run did, returned by Close. Its counts add up, whatever
// the full policy and however the run ended:
//
//	Logged = Sent + Dropped.Total() + Unacknowledged + Spooled
//
// Entries a log call rejected (Invalid) and points not logged because they
// repeated their metric's latest point (Duplicates) are on lines of their
// own: they were never logged.
type Report struct {
	// RunID is the backend's id of the run, "" if it never started.
	RunID string
	// Status is the status the run was ended with: RunFinished when every
	// logged item reached the backend, RunFailed when some were lost or it
	// could not be ended cleanly, RunKilled after Terminate. It is 0 when the
	// run never started.
	Status RunStatus
	// Logged is the number of items the log calls accepted: every valid
	// entry, those the full policy then dropped included, and the items a
	// spool held at the start.
	Logged int64
	// Sent is the number of items the backend acknowledged.
	Sent int64
	// Unacknowledged is the number of items of a write that was waiting for
	// its answer when the run stopped (Close ran out of time, Terminate):
	// they may be stored or not; they are not counted as lost in Dropped.
	Unacknowledged int64
	// Dropped counts the items lost after they were logged, by reason.
	Dropped Drops
	// Spooled is the number of items left in the spool (Spill), kept for a
	// later replay.
	Spooled int
	// Invalid is the number of entries log calls rejected (the call
	// returned an error naming them, and OnError was told).
	Invalid int64
	// Duplicates is the number of points not logged because they repeated
	// their metric's latest point: identical to it, or under
	// Rules.SkipRepeatedPoint at its step with its value.
	Duplicates int64
	// Batches is the number of batches the backend acknowledged.
	Batches int64
	// Retries is the number of backend calls repeated after a failure.
	Retries int64
	// Outages is the number of times the backend became unreachable for
	// longer than the retry policy.
	Outages int64
	// Failed lists the items lost after they were queued: refused by the
	// backend, refused by the spool, or left unsent (at most 10000; Dropped
	// has the counts). Items dropped by the full policy are listed by their
	// OnQueueFull events (LostItems), not here.
	Failed []Item
	// CallbackEvents is the number of events delivered to the callbacks,
	// CallbackEventsDropped the number lost because the event queue was full.
	CallbackEvents, CallbackEventsDropped int64
	// Duration is the time from NewRun to the end of Close.
	Duration time.Duration
}
