package mlerr

import "time"

// FullPolicy says what a log call does with entries that do not fit in a
// Run's full queue. Build one with Block, DropOldest, DropNewest or Spill;
// every choice is reported to OnQueueFull and counted in Health and Report.
type FullPolicy struct {
	mode    fullMode
	maxWait time.Duration
	spool   Spool
}

type fullMode uint8

const (
	fullBlock fullMode = iota + 1
	fullDropOldest
	fullDropNewest
	fullSpill
)

// Block makes a log call wait until the whole call fits in the queue, at
// most maxWait (0: no limit), or until the context of LogMetricsContext or
// LogItems is done, or the run closes. When the wait ends without room, the
// call's entries are dropped and the call returns an error of kind
// ErrQueueFull. It trades training speed for complete data.
func Block(maxWait time.Duration) FullPolicy { return FullPolicy{mode: fullBlock, maxWait: maxWait} }

// DropOldest makes room by dropping the oldest queued items: the most recent
// data survives an outage. It is the default.
func DropOldest() FullPolicy { return FullPolicy{mode: fullDropOldest} }

// DropNewest drops the entries that do not fit: the oldest data survives an
// outage.
func DropNewest() FullPolicy { return FullPolicy{mode: fullDropNewest} }

// Spill writes entries that do not fit to spool, and while the spool holds
// items it writes every new entry there too, so that order is kept; the run
// sends the queue first, then the spool. Nothing is dropped while the spool
// takes writes (a failing Push loses the entries, reported to OnError).
// The spool must hold nothing but this run's items: items already in it are
// sent first, as this run's. Spooled items left when the run closes stay in
// the spool. A log call that spills writes to the spool before it returns.
func Spill(spool Spool) FullPolicy { return FullPolicy{mode: fullSpill, spool: spool} }

// dropping reports whether p drops entries when full (DropOldest,
// DropNewest): a log call then never waits nor writes to a spool.
func (p FullPolicy) dropping() bool {
	return p.mode == fullDropOldest || p.mode == fullDropNewest
}

// problem says why p is not a policy a Run can use, or "".
func (p FullPolicy) problem() string {
	switch {
	case p.mode == 0:
		return "the zero FullPolicy is not a policy: use Block, DropOldest, DropNewest or Spill"
	case p.mode == fullBlock && p.maxWait < 0:
		return "Block's maximum wait must not be negative, got " + p.maxWait.String()
	case p.mode == fullSpill && p.spool == nil:
		return "Spill needs a Spool, got nil"
	}
	return ""
}

// String returns "block", "block(1m0s)", "drop-oldest", "drop-newest" or
// "spill".
func (p FullPolicy) String() string {
	switch p.mode {
	case fullBlock:
		if p.maxWait > 0 {
			return "block(" + p.maxWait.String() + ")"
		}
		return "block"
	case fullDropOldest:
		return "drop-oldest"
	case fullDropNewest:
		return "drop-newest"
	case fullSpill:
		return "spill"
	}
	return "none"
}
