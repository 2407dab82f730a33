package mlerr

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// endGrace bounds the last EndRun attempt when Close's time is up or
// Terminate stops the run.
const endGrace = time.Second

// finish is the sender's last act, once it stops sending: what is left
// (the batch in flight, the queue) is accounted for and reported, and the
// run is ended in the backend with the status the accounting gives.
func (s *sender) finish() {
	s.stopWorkers()
	s.startOver()
	now := s.clock.Now()
	why := context.Cause(s.life)
	lost, unsent, unacked := s.leftovers(why, now)
	if lost.n > 0 {
		s.ev.emit(onError, lost.wrap(CodeDeadlineExceeded, nil, leftoverMessage(why, unsent, unacked)), now)
	}
	st := s.stats()
	if !st.started {
		return
	}
	s.final.status = s.endStatus(why, &st)
	if s.final.endErr = s.end(st.runID, s.final.status); s.final.endErr != nil && s.final.status == RunFinished {
		s.final.status = RunFailed
	}
}

// endStatus is the status the run ends with: KILLED after Terminate; FAILED
// when Fail was called or anything was lost or left; FINISHED otherwise.
func (s *sender) endStatus(why error, st *senderStats) RunStatus {
	o := s.out.stats()
	switch {
	case why == errTerminated:
		return RunKilled
	case s.failure.Load() != nil:
		return RunFailed
	case st.rejected+st.unsent+st.unacked+o.queueFull+o.spillFailed > 0 || o.spooled > 0:
		return RunFailed
	}
	return RunFinished
}

// startOver closes startDone if the sender stops before the run started:
// Started then returns.
func (s *sender) startOver() {
	select {
	case <-s.startDone:
	default:
		close(s.startDone)
	}
}

// leftovers takes what was not sent when the sender stopped: the batches
// in flight (unacknowledged when an attempt may have reached the backend,
// else unsent; a batch from the spool stays in the spool), the batch held
// and the queue (unsent), with the items of a spool that could not be read
// (unsent, kept in the spool).
func (s *sender) leftovers(why error, now time.Time) (lost lossRecord, unsent, unacked int64) {
	cause := New(CodeDeadlineExceeded, stopText(why))
	var notSent []Item
	for _, pb := range append(s.flight, s.held) {
		var n int64
		notSent, n = s.inFlightLeft(pb, notSent, &lost, cause, now)
		unacked += n
	}
	s.flight, s.held = nil, nil
	notSent = s.out.rest(notSent)
	for i := range notSent {
		s.staging.remove(&notSent[i])
	}
	lost.add(notSent, "unsent: still queued when the run stopped", CodeDeadlineExceeded, cause, now)
	unsent = int64(len(notSent)) + int64(s.out.stats().unread)
	s.publish(func(st *senderStats) {
		st.unsent += unsent
		st.unacked += unacked
		st.inFlight = 0
		st.keepFailed(notSent)
	})
	return lost, unsent, unacked
}

// inFlightLeft takes what is left of a batch in flight or held, if any:
// the items of an attempt that may have reached the backend go to lost as
// unacknowledged (for a batch of artifacts, the file being uploaded), the
// others are appended to notSent. A batch from the spool stays in the
// spool.
func (s *sender) inFlightLeft(pb *pending, notSent []Item, lost *lossRecord, cause error, now time.Time) ([]Item, int64) {
	if pb == nil || pb.taken.fromSpool {
		return notSent, 0
	}
	rest := pb.b.Items[pb.done:]
	s.reportArtifacts(len(pb.b.Items), pb.failures, now)
	for i := range rest {
		s.staging.remove(&rest[i])
	}
	switch {
	case pb.maybeStored && pb.artifacts():
		lost.add(rest[:1], "unacknowledged: an upload was in flight when the run stopped; the file may be stored", CodeDeadlineExceeded, cause, now)
		return append(notSent, inLoggedOrder(rest[1:])...), 1
	case pb.maybeStored:
		lost.add(rest, "unacknowledged: a write was in flight when the run stopped; the items may be stored", CodeDeadlineExceeded, cause, now)
		return notSent, int64(len(rest))
	case pb.artifacts():
		return append(notSent, inLoggedOrder(rest)...), 0
	}
	return append(notSent, rest...), 0
}

// stopText says why the sender stopped with items left.
func stopText(why error) string {
	if why == nil {
		return "the run stopped"
	}
	return why.Error()
}

// leftoverMessage is the text of the event that reports what was left.
func leftoverMessage(why error, unsent, unacked int64) string {
	var parts []string
	if unsent > 0 {
		parts = append(parts, fmt.Sprintf("%d items not stored (still queued)", unsent))
	}
	if unacked > 0 {
		parts = append(parts, fmt.Sprintf("%d unacknowledged (a write was in flight: they may be stored)", unacked))
	}
	return stopText(why) + ": " + strings.Join(parts, " and ")
}

// end tells the backend the run ended: through the retry policy while life
// lasts, then, if it ended first, in one attempt of at most endGrace.
func (s *sender) end(runID string, status RunStatus) error {
	at := s.clock.Now()
	op := func(ctx context.Context) (err error) {
		defer recoverBackend("EndRun", &err)
		return s.backend.EndRun(ctx, runID, status, at)
	}
	var err error
	if s.life.Err() == nil {
		err = Retry(s.life, s.policy, op)
	}
	if s.life.Err() != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.life), endGrace)
		defer cancel()
		p := s.policy
		p.MaxAttempts = 1
		err = Retry(ctx, p, op)
	}
	if err == nil {
		return nil
	}
	last := lastError(err)
	kind, _ := refusal(last)
	if kind == nil && isOutage(err) {
		kind = ErrNetwork
	}
	return wrapAs(kind, err, last, fmt.Sprintf("ending run %s as %s", runID, status))
}

// recoverBackend turns a panic of a backend call into a permanent error of
// kind ErrSynchronizationStopped carrying the panic value and stack.
func recoverBackend(call string, err *error) {
	if p := recover(); p != nil {
		*err = Permanent(ErrSynchronizationStopped.Errorf("the backend panicked in %s: %v", call, p).
			WithDetail("panic", fmt.Sprint(p)).WithDetail("stack", string(debug.Stack())))
	}
}
