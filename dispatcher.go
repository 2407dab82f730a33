package mlerr

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// event is one call of a callback waiting in the dispatcher's queue.
type event struct {
	to  which
	err error
	ts  time.Time
}

// dispatcher runs a Run's callbacks on a goroutine of its own, one at a
// time, in the order the events were posted. Posting never blocks: when the
// bounded queue is full the event is counted, and the dispatcher later tells
// the callback concerned how many of its events were dropped.
//
// It marks the callback it is running with a number (running): that is how
// Close and Terminate, which wait for the callbacks before they return,
// avoid waiting for the very callback that called them (see
// waitUnlessIn).
type dispatcher struct {
	events chan event
	cbs    [numCallbacks]Callback
	logger *slog.Logger
	clock  Clock

	overflow  [numCallbacks]atomic.Int64 // events dropped since last told
	dropped   atomic.Int64               // events dropped in all
	panics    atomic.Int64               // callbacks that panicked
	delivered atomic.Int64               // callbacks run

	calls uint64        // callbacks started; the dispatcher goroutine's own
	done  chan struct{} // closed when the goroutine has returned

	curMu   sync.Mutex
	cur     uint64        // the number of the callback running, 0 between callbacks
	curDone chan struct{} // closed when it returns
}

func newDispatcher(cbs Callbacks, size int, logger *slog.Logger, clock Clock) *dispatcher {
	d := &dispatcher{
		events: make(chan event, size),
		logger: logger,
		clock:  clock,
		done:   make(chan struct{}),
	}
	def := KeepTraining(logger)
	pick := func(cb, def Callback) Callback {
		if cb != nil {
			return cb
		}
		return def
	}
	d.cbs[onNetworkError] = pick(cbs.OnNetworkError, def.OnNetworkError)
	d.cbs[onWarning] = pick(cbs.OnWarning, def.OnWarning)
	d.cbs[onError] = pick(cbs.OnError, def.OnError)
	d.cbs[onQueueFull] = pick(cbs.OnQueueFull, def.OnQueueFull)
	return d
}

// post queues an event without blocking; it reports whether it was queued.
// The caller guarantees the channel is not closed (the Run's mutex orders
// post and stop).
func (d *dispatcher) post(to which, err error, ts time.Time) bool {
	select {
	case d.events <- event{to, err, ts}:
		return true
	default:
		d.overflow[to].Add(1)
		d.dropped.Add(1)
		return false
	}
}

// run delivers events until the channel is closed and drained.
func (d *dispatcher) run() {
	defer close(d.done)
	for ev := range d.events {
		d.deliver(ev)
		d.reportOverflow()
	}
	d.reportOverflow()
}

// deliver runs one callback, recovering a panic.
func (d *dispatcher) deliver(ev event) {
	defer func() {
		if p := recover(); p != nil {
			d.panics.Add(1)
			d.logger.Error("mlerr: a callback panicked; the run goes on",
				"callback", ev.to.String(), "panic", fmt.Sprint(p), "event", ev.err,
				"stack", string(debug.Stack()))
		}
	}()
	d.calls++
	returned := make(chan struct{})
	d.curMu.Lock()
	d.cur, d.curDone = d.calls, returned
	d.curMu.Unlock()
	defer func() {
		d.curMu.Lock()
		d.cur = 0
		d.curMu.Unlock()
		close(returned)
	}()
	d.delivered.Add(1)
	d.cbs[ev.to](ev.err, ev.ts)
}

// reportOverflow tells each callback how many of its events were dropped
// because the queue was full, if any were.
func (d *dispatcher) reportOverflow() {
	for w := range numCallbacks {
		if d.overflow[w].Load() == 0 {
			continue
		}
		n := d.overflow[w].Swap(0)
		err := New(CodeResourceExhausted, fmt.Sprintf(
			"%d %s events were dropped: the callback queue (%d events) was full because a callback is slow",
			n, w, cap(d.events))).WithDetail("dropped_events", n)
		d.deliver(event{w, err, d.clock.Now()})
	}
}

// current returns the number of the callback running now, 0 if none: a
// mark that waitUnlessIn compares later.
func (d *dispatcher) current() uint64 {
	d.curMu.Lock()
	defer d.curMu.Unlock()
	return d.cur
}

// graceFor reports whether the callback numbered mark (0: none) has
// returned, or was not running any more: it waits for it at most
// callbackGrace, or while ctx lasts.
func (d *dispatcher) graceFor(ctx context.Context, mark uint64) bool {
	d.curMu.Lock()
	running, returned := d.cur, d.curDone
	d.curMu.Unlock()
	if mark == 0 || running != mark {
		return true
	}
	t := time.NewTimer(callbackGrace)
	defer t.Stop()
	select {
	case <-returned:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// callbackGrace is how long waitUnlessIn waits for a callback that may be
// its caller.
const callbackGrace = 250 * time.Millisecond

// waitUnlessIn waits until the dispatcher goroutine has returned (every
// callback queued has run) or ctx is done, and reports whether it returned.
// mark is what current said when the caller began (Close, Terminate). If
// that callback is still running, the caller may be that very callback,
// which cannot return before the caller does: nothing tells one goroutine
// from another, so waitUnlessIn gives it callbackGrace to return, and if
// it does not, returns without waiting (false). A caller that is not a
// callback waits for every callback, unless one was already running when it
// began and runs on for callbackGrace after it is done.
func (d *dispatcher) waitUnlessIn(ctx context.Context, mark uint64) bool {
	if !d.graceFor(ctx, mark) {
		return false
	}
	select {
	case <-d.done:
		return true
	case <-ctx.Done():
		return false
	}
}
