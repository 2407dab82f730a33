package mlerr

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
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
type dispatcher struct {
	events chan event
	cbs    [numCallbacks]Callback
	logger *slog.Logger
	clock  Clock

	overflow  [numCallbacks]atomic.Int64 // events dropped since last told
	dropped   atomic.Int64               // events dropped in all
	panics    atomic.Int64               // callbacks that panicked
	delivered atomic.Int64               // callbacks run

	gid  atomic.Uint64 // the dispatcher goroutine's id, once running
	done chan struct{} // closed when the goroutine has returned
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
	d.gid.Store(goroutineID())
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

// onDispatcher reports whether the calling goroutine is the dispatcher's,
// that is, whether the caller is a callback.
func (d *dispatcher) onDispatcher() bool {
	id := d.gid.Load()
	return id != 0 && id == goroutineID()
}

// wait waits until the dispatcher goroutine has returned or ctx is done.
func (d *dispatcher) wait(ctx context.Context) bool {
	select {
	case <-d.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// goroutineID returns the calling goroutine's id, read from its stack
// header ("goroutine 42 [running]:"). It costs about a microsecond and is
// only used when closing a run, to tell whether a callback is closing it.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
