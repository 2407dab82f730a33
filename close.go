package mlerr

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// endGrace bounds the last EndRun attempt when Close's time is up or
// Terminate stops the run.
const endGrace = time.Second

// Close ends the run: log calls fail from now on (ErrClosed), everything
// queued is sent, the backend is told the run ended (FINISHED, or FAILED
// when queued items were lost), every goroutine of the run stops, and the
// Report says what happened.
//
// Close waits at most until ctx's deadline or the close timeout
// (WithCloseTimeout, default 30 s), whichever comes first, so a dead server
// never hangs the program's exit: items still queued then are reported lost
// (Report.Dropped.Unsent, and OnError) and the run is ended FAILED with one
// last short attempt. Entries rejected by log calls (the caller was told)
// do not make the run FAILED.
//
// The error is nil when the run ended FINISHED; otherwise it says why not
// (items lost, the run could not start or be ended). Calling Close again
// returns the same report and error. Close may be called from a callback;
// it then does not wait for the callbacks still queued.
func (r *Run) Close(ctx context.Context) (Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.closeTimeout)
	defer cancel()

	r.mu.Lock()
	r.markClosing(r.closedErr)
	target := r.accepted
	r.flushUpTo = max(r.flushUpTo, target)
	r.mu.Unlock()
	r.signal()
	r.waitSettled(ctx, target)

	r.stopSender()
	<-r.senderDone
	return r.finalize(ctx, "Close ran out of time")
}

// Terminate stops the run now: log calls fail from now on (ErrClosed), the
// sender stops at once (a write in progress is abandoned), items still
// queued are reported lost, and the backend is told, in one short attempt,
// that the run was KILLED. It is safe to call from a callback, and more
// than once. It returns when the sender has stopped and, unless called from
// a callback, when the callbacks already queued have run; Close then returns
// the report.
func (r *Run) Terminate() {
	r.mu.Lock()
	r.killed = true
	r.markClosing(ErrClosed.New("the run was terminated: entries are no longer logged"))
	r.mu.Unlock()
	r.stopSender()
	<-r.senderDone
	ctx, cancel := context.WithTimeout(context.Background(), endGrace)
	defer cancel()
	r.finalize(ctx, "the run was terminated")
}

// markClosing makes log calls fail with err from now on. Called with mu
// held.
func (r *Run) markClosing(err error) {
	if !r.closing {
		r.closing = true
		r.closedErr = err
	}
	r.roomMade()
}

// finalize ends the run once the sender has stopped: it accounts for what
// was not sent, ends the run in the backend, flushes the events and stops
// the dispatcher. The first call does the work; later ones wait for it
// (except from a callback) and return its result.
func (r *Run) finalize(ctx context.Context, why string) (Report, error) {
	onDispatcher := r.disp.onDispatcher()
	r.mu.Lock()
	if r.finalStarted {
		r.mu.Unlock()
		if !onDispatcher {
			<-r.finalDone
			r.waitDispatcher(ctx)
		}
		return r.result()
	}
	r.finalStarted = true
	now := r.clock.Now()
	if lost := r.drainUnsent(New(CodeDeadlineExceeded, why), now); lost != nil {
		r.emit(onError, Wrap(lost, CodeDeadlineExceeded,
			fmt.Sprintf("%s: the %d items still queued are lost", why, len(lost.Failures))), now)
	}
	if r.spooled > 0 {
		r.settle(r.spooled) // they stay in the spool, for a later replay
	}
	status := RunFinished
	switch {
	case r.killed:
		status = RunKilled
	case r.fatal != nil || r.stats.drops.Total()-r.stats.drops.Invalid > 0 || r.spooled > 0:
		status = RunFailed
	}
	started, runID := r.started, r.runID
	r.mu.Unlock()

	var endErr error
	if started {
		endErr = r.endRun(ctx, runID, status)
		if endErr != nil && status == RunFinished {
			status = RunFailed
		}
	}
	if r.cfg.full.mode == fullSpill {
		if err := r.cfg.full.spool.Close(); err != nil {
			r.cfg.logger.Error("mlerr: closing the spool", "err", err)
		}
	}

	r.mu.Lock()
	now = r.clock.Now()
	if endErr != nil {
		r.emit(onError, endErr, now)
	}
	r.emitDue(now, true)
	r.evClosed = true
	close(r.disp.events)
	r.report = r.buildReport(status, now)
	r.closeErr = r.closeError(status, endErr)
	close(r.finalDone)
	r.mu.Unlock()

	if !onDispatcher {
		r.waitDispatcher(ctx)
	}
	return r.result()
}

// endRun tells the backend the run ended, through the retry policy while
// ctx lasts, else in one attempt of at most endGrace.
func (r *Run) endRun(ctx context.Context, runID string, status RunStatus) error {
	p := r.policy
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && time.Until(dl) < endGrace {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(r.ctx, endGrace)
		defer cancel()
		p.MaxAttempts = 1
	}
	end := r.clock.Now()
	err := Retry(ctx, p, func(ctx context.Context) (err error) {
		defer recoverBackend("EndRun", &err)
		return r.backend.EndRun(ctx, runID, status, end)
	})
	if err == nil {
		return nil
	}
	last := lastError(err)
	var kind *Kind
	switch {
	case isUnauthorized(last):
		kind = ErrUnauthorized
	case isRunGone(last):
		kind = ErrRunNotFound
	case isOutage(err):
		kind = ErrNetwork
	}
	return wrapAs(kind, err, last, fmt.Sprintf("ending run %s as %s", runID, status))
}

// waitDispatcher waits for the callbacks still queued, while ctx lasts (at
// least endGrace), so that a callback that never returns cannot hang Close.
func (r *Run) waitDispatcher(ctx context.Context) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), endGrace)
		defer cancel()
	}
	if !r.disp.wait(ctx) {
		r.cfg.logger.Warn("mlerr: a callback is still running after the run closed")
	}
}

// result returns the report and error of finalize, with the callback counts
// as they are now.
func (r *Run) result() (Report, error) {
	r.mu.Lock()
	rep, err := r.report, r.closeErr
	r.mu.Unlock()
	rep.CallbackEvents = r.disp.delivered.Load()
	rep.CallbackEventsDropped = r.disp.dropped.Load()
	return rep, err
}

// buildReport builds the Report. Called with mu held.
func (r *Run) buildReport(status RunStatus, now time.Time) Report {
	s := &r.stats
	rep := Report{
		RunID:      r.runID,
		Logged:     r.accepted,
		Sent:       s.sent,
		Batches:    s.batches,
		Retries:    s.retries,
		Duplicates: s.duplicates,
		Outages:    s.outages,
		Dropped:    s.drops,
		Failed:     r.failedItems,
		Spooled:    r.spooled,
		Duration:   now.Sub(r.created),
	}
	if r.started {
		rep.Status = status
	}
	return rep
}

// closeError says why the run did not end FINISHED, or is nil. Called with
// mu held.
func (r *Run) closeError(status RunStatus, endErr error) error {
	if r.fatal != nil {
		return r.fatal
	}
	d := r.stats.drops
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(d.QueueFull, "dropped because the queue was full")
	add(d.Rejected, "refused by the backend")
	add(d.Unsent, "unsent when the run stopped")
	add(d.SpillFailed, "refused by the spool")
	if r.spooled > 0 {
		parts = append(parts, fmt.Sprintf("%d left in the spool", r.spooled))
	}
	var msg string
	if len(parts) > 0 {
		msg = fmt.Sprintf("run %s ended %s: %d items not stored (%s)", r.runID, status, d.Total()-d.Invalid+int64(r.spooled), strings.Join(parts, ", "))
	}
	switch {
	case endErr != nil && msg != "":
		return Errorf(CodeDataLoss, "%s; and ending it failed: %w", msg, endErr)
	case endErr != nil:
		return endErr
	case msg != "":
		return New(CodeDataLoss, msg).WithDetail("dropped", d)
	case status == RunKilled:
		return ErrClosed.Errorf("run %s was terminated", r.runID)
	}
	return nil
}
