package mlerr

import (
	"context"
	"fmt"
	"strings"
)

// Close ends the run: log calls fail from now on (ErrClosed), everything
// queued is sent, the backend is told the run ended (FINISHED, or FAILED
// when queued items were lost), every goroutine of the run stops, and the
// Report says what happened.
//
// Close waits at most until ctx's deadline or the close timeout
// (WithCloseTimeout, default 30 s), whichever comes first, so a dead server
// never hangs the program's exit: what is left then is reported to OnError
// (LostItems): items still queued as not stored (Report.Dropped.Unsent),
// the items of a write still waiting for its answer as unacknowledged,
// since they may be stored (Report.Unacknowledged); and the run is ended
// FAILED with one last short attempt. Entries rejected by log calls (the
// caller was told) do not make the run FAILED.
//
// The error is nil when the run ended FINISHED; otherwise it says why not
// (items lost, the run could not start or be ended). Calling Close again
// returns the same report and error. Close waits for the callbacks queued
// before it returns. It may be called from a callback: a callback that was
// running when Close was called and still runs a quarter of a second after
// Close is done may be the caller, and is not waited for (nor are the
// callbacks after it, which run later).
func (r *Run) Close(ctx context.Context) (Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	mark := r.ev.disp.current()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.closeTimeout)
	defer cancel()
	r.out.close(ErrClosed.New("the run is closed: entries are no longer logged"))
	r.snd.close(ctx)
	return r.finalize(ctx, mark)
}

// Fail records that the training failed with err (nil has no effect; the
// first error given stays): Close then ends the run FAILED, not FINISHED
// (RunStatus lists the three endings),
// and returns an error that wraps err; err's message is logged on the run
// as the tag "mlerr.error" (cut to the tag length the rules allow), where
// MLflow's UI shows it. In Go's idiom, with the function's error:
//
//	defer func() {
//		run.Fail(err)
//		run.Close(context.Background())
//	}()
//
// Terminate still ends the run KILLED. Fail may be called from any
// goroutine, a callback included; after Close it has no effect.
func (r *Run) Fail(err error) {
	if err == nil || r.out.closedFast() != nil || !r.snd.failure.CompareAndSwap(nil, &err) {
		return
	}
	msg := err.Error()
	if limit := r.cfg.rules.MaxTagLength; tooLong(msg, limit) {
		msg = truncate(msg, limit)
	}
	r.SetTags(map[string]string{failureTag: msg}) //nolint:errcheck // a refusal is reported to OnError
}

// failureTag is the tag Fail sets to the training's error.
const failureTag = "mlerr.error"

// Terminate stops the run now: log calls fail from now on (ErrClosed), the
// sender stops at once (a write in progress is abandoned), what is left is
// reported as by Close, and the backend is told, in one short attempt,
// that the run was KILLED. It is safe to call from a callback, and more
// than once. It returns when the sender has stopped and, as Close, when
// the callbacks queued have run; Close then returns the report.
func (r *Run) Terminate() {
	mark := r.ev.disp.current()
	r.out.close(ErrClosed.New("the run was terminated: entries are no longer logged"))
	r.snd.abort(errTerminated)
	<-r.snd.done
	ctx, cancel := context.WithTimeout(context.Background(), endGrace)
	defer cancel()
	r.finalize(ctx, mark)
}

// finalize ends the run once the sender has stopped: it builds the Report,
// delivers the events due and stops the dispatcher, once; then it waits for
// the callbacks (see dispatcher.waitUnlessIn), at least endGrace.
func (r *Run) finalize(ctx context.Context, mark uint64) (Report, error) {
	r.finalOnce.Do(func() {
		now := r.clock.Now()
		if err := r.out.closeSpool(); err != nil {
			r.cfg.logger.Error("mlerr: closing the spool", "err", err)
		}
		if err := r.staging.close(); err != nil {
			r.cfg.logger.Error("mlerr: removing the staged copies of artifacts", "err", err)
		}
		if err := r.snd.final.endErr; err != nil {
			r.ev.emit(onError, err, now)
		}
		r.out.flushReport(now, true)
		r.report = r.buildReport()
		r.report.Duration = now.Sub(r.created)
		r.closeErr = r.closeError()
		r.ev.close(now)
	})
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), endGrace)
		defer cancel()
	}
	r.ev.disp.waitUnlessIn(ctx, mark)
	rep := r.report
	rep.CallbackEvents = r.ev.disp.delivered.Load()
	rep.CallbackEventsDropped = r.ev.disp.dropped.Load()
	return rep, r.closeErr
}

// buildReport builds the Report once the sender has stopped.
func (r *Run) buildReport() Report {
	s := r.snd.stats()
	o := r.out.stats()
	rep := Report{
		RunID:          s.runID,
		Status:         r.snd.final.status,
		Logged:         o.logged,
		Sent:           s.sent,
		Unacknowledged: s.unacked,
		Invalid:        r.log.invalid.Load(),
		Batches:        s.batches,
		Retries:        s.retries,
		Duplicates:     r.log.duplicates.Load(),
		Outages:        s.outages,
		Dropped: Drops{
			QueueFull:   o.queueFull,
			Rejected:    s.rejected,
			Unsent:      s.unsent,
			SpillFailed: o.spillFailed,
		},
		Spooled: o.spooled,
	}
	rep.Failed = append(s.failed, o.spillLost[:min(len(o.spillLost), maxReportItems-len(s.failed))]...)
	return rep
}

// closeError says why the run did not end FINISHED, or is nil.
func (r *Run) closeError() error {
	rep := &r.report
	if fatal := r.snd.stats().fatal; fatal != nil {
		return fatal
	}
	err := r.lossError()
	if p := r.snd.failure.Load(); p != nil && rep.Status == RunFailed {
		return failedError(rep.RunID, *p, err)
	}
	return err
}

// lossError says what the run lost or left unacknowledged, and why ending
// it failed, or that it was terminated; nil when none of these happened.
func (r *Run) lossError() error {
	rep := &r.report
	msg := lossMessage(rep)
	endErr := r.snd.final.endErr
	switch {
	case endErr != nil && msg != "":
		return Errorf(CodeDataLoss, "%s; and ending it failed: %w", msg, endErr)
	case endErr != nil:
		return endErr
	case msg != "":
		return New(CodeDataLoss, msg).WithDetail("dropped", rep.Dropped).WithDetail("unacknowledged", rep.Unacknowledged)
	case rep.Status == RunKilled:
		return ErrClosed.Errorf("run %s was terminated", rep.RunID)
	}
	return nil
}

// lossMessage says what the Report counts as not stored, by reason, and as
// unacknowledged; "" when nothing.
func lossMessage(rep *Report) string {
	d := rep.Dropped
	parts := lossParts(rep)
	msg := fmt.Sprintf("run %s ended %s", rep.RunID, rep.Status)
	if len(parts) > 0 {
		msg += fmt.Sprintf(": %d items not stored (%s)", d.Total()+int64(rep.Spooled), strings.Join(parts, ", "))
	}
	if rep.Unacknowledged > 0 {
		msg += fmt.Sprintf("; %d items unacknowledged (they may be stored)", rep.Unacknowledged)
	}
	if len(parts) == 0 && rep.Unacknowledged == 0 {
		return ""
	}
	return msg
}

// lossParts names the counts of the Report's losses by reason, those that
// are not zero.
func lossParts(rep *Report) []string {
	d := rep.Dropped
	var parts []string
	for _, p := range []struct {
		n    int64
		what string
	}{
		{d.QueueFull, "dropped because the queue was full"},
		{d.Rejected, "refused by the backend"},
		{d.Unsent, "unsent when the run stopped"},
		{d.SpillFailed, "refused by the spool"},
		{int64(rep.Spooled), "left in the spool"},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return parts
}

// failedError is Close's error for a run that Fail marked: it wraps the
// training's error, and says what else went wrong (other, when not nil).
func failedError(runID string, training, other error) error {
	if other == nil {
		return ErrClosed.Wrap(training, fmt.Sprintf("run %s ended FAILED: the training failed", runID))
	}
	return Errorf(CodeOf(other), "run %s ended FAILED: the training failed (%w); and %w", runID, training, other)
}
