package mlerr

import (
	"log/slog"
	"sync"
	"time"
)

// events is where the parts of a Run report what happened: the log side
// (rejected entries, duplicates), the outbox (full queue, spool failures)
// and the sender (outages, refusals, panics). It passes each event through
// the throttle to the dispatcher, which runs the callbacks. Posting never
// blocks. Its mutex guards the throttle and the closed flag; it is taken
// last, after any other lock of the run.
type events struct {
	mu     sync.Mutex
	thr    throttle
	disp   *dispatcher
	closed bool // the dispatcher's channel is closed
	logger *slog.Logger
}

func newEvents(cfg *runConfig, cbs Callbacks, clock Clock) *events {
	return &events{
		thr:    throttle{burst: cfg.eventBurst, window: cfg.eventWindow},
		disp:   newDispatcher(cbs, cfg.eventQueue, cfg.logger, clock),
		logger: cfg.logger,
	}
}

// emit reports an event to a callback, through the throttle (except
// OnQueueFull events, which the outbox coalesces itself).
func (ev *events) emit(to which, err error, now time.Time) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		ev.logger.Warn("mlerr: event after the run closed", "callback", to.String(), "err", err)
		return
	}
	if to != onQueueFull {
		deliver, summary := ev.thr.admit(to, err, now)
		if summary != nil {
			ev.disp.post(to, summary, now)
		}
		if !deliver {
			return
		}
	}
	ev.disp.post(to, err, now)
}

// flushDue delivers the throttle's summaries whose window has ended, or all
// of them when all is true.
func (ev *events) flushDue(now time.Time, all bool) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		return
	}
	for _, e := range ev.thr.due(now, all) {
		ev.disp.post(e.to, e.err, e.ts)
	}
}

// close delivers every pending summary and closes the dispatcher's queue:
// the dispatcher returns once it has run the callbacks still queued.
// Later events are logged, not delivered.
func (ev *events) close(now time.Time) {
	ev.flushDue(now, true)
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if !ev.closed {
		ev.closed = true
		close(ev.disp.events)
	}
}
