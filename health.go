package mlerr

import "time"

// Health is a snapshot of a Run's synchronisation, cheap enough to poll
// (Run.Health), in the spirit of a connection pool's health check.
type Health struct {
	// Healthy is true while the run is open, started or starting, and its
	// last call to the backend did not fail.
	Healthy bool
	// Started is true once the backend started the run; RunID is its id.
	Started bool
	RunID   string
	// Closed is true once Close or Terminate was called, or the run could
	// not be started.
	Closed bool
	// Logged is the number of items the log calls accepted so far (see
	// Report.Logged), Invalid the number of entries they rejected.
	Logged, Invalid int64
	// Queued and QueuedBytes are the items waiting in memory and their
	// weight; Spooled the items waiting in the spool; InFlight the items
	// being sent.
	Queued, QueuedBytes, Spooled, InFlight int
	// InFlightWindow is how many batches may be in flight now:
	// Limits.InFlight, or fewer while the server's backpressure (429, 503)
	// keeps the window lowered (see Budget).
	InFlightWindow int
	// Sent is the number of items the backend acknowledged, Retries the
	// number of backend calls repeated after a failure.
	Sent, Retries int64
	// Dropped counts the items lost so far, by reason.
	Dropped Drops
	// LastError is the latest error of a backend call (nil if none),
	// LastErrorTime when it happened.
	LastError     error
	LastErrorTime time.Time
	// ConsecutiveFailures counts the backend calls that failed since the last
	// success.
	ConsecutiveFailures int
	// Outage is true while the backend is unreachable past the retry
	// policy, since OutageSince.
	Outage      bool
	OutageSince time.Time
	// SenderRestarts counts the panics the sender recovered from.
	SenderRestarts int64
	// CallbackEventsDropped counts the events lost because the callbacks
	// were too slow.
	CallbackEventsDropped int64
}
