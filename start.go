package mlerr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// start asks the backend to start the run, riding out outages. It reports
// whether the run started; false means it failed for good or life ended.
func (s *sender) start() bool {
	var info RunInfo
	err, alive := s.ride("starting the run", s.own, func(ctx context.Context) error {
		var err error
		info, err = s.backend.StartRun(ctx, s.spec)
		s.noteCall(err, s.clock.Now())
		if err == nil && info.RunID == "" {
			err = Permanent(ErrInvalidRunParameters.New("the backend started a run but gave no run id"))
		}
		return err
	})
	switch {
	case !alive:
		return false
	case err != nil:
		s.startFailed(err, s.clock.Now())
		return false
	}
	s.started(info, s.clock.Now())
	return true
}

// started records the started run and reports what the backend said of it.
func (s *sender) started(info RunInfo, now time.Time) {
	s.seq = info.LastSeq
	s.panics = 0
	s.publish(func(st *senderStats) { st.started, st.runID = true, info.RunID })
	close(s.startDone)
	if info.Resumed {
		s.ev.emit(onWarning, ErrRunExists.Errorf("run %s already exists: resuming it", info.RunID).WithDetail("run_id", info.RunID), now)
	}
	for _, w := range info.Warnings {
		if w != nil {
			s.ev.emit(onWarning, w, now)
		}
	}
	if info.ForkParentMissing {
		p := s.spec.ForkParent
		s.ev.emit(onWarning, ErrForkParentNotFound.Errorf("the run to fork from, %s, does not exist: run %s starts without a parent", p, info.RunID).
			WithDetail("parent_run_id", p), now)
	}
}

// startRefusal names the kind of the error that refused to start the run,
// and says what happened.
func (s *sender) startRefusal(last error) (*Kind, string) {
	kind, what := refusal(last)
	switch {
	case errors.Is(last, ErrSynchronizationStopped):
		return ErrSynchronizationStopped, "the sender panicked while starting the run"
	case kind == ErrRunNotFound && s.spec.RunID != "":
		return kind, "the run to resume, " + s.spec.RunID + ", does not exist"
	case kind == nil || kind == ErrRunNotFound:
		return ErrInvalidRunParameters, "the backend could not start the run"
	}
	return kind, what
}

// startFailed stops a run the backend refused to start: log calls fail
// from now on, and every queued item is lost.
func (s *sender) startFailed(err error, now time.Time) {
	last := lastError(err)
	kind, what := s.startRefusal(last)
	// Close the outbox first: nothing is queued after the items taken here.
	s.out.close(ErrClosed.Wrap(wrapAs(kind, err, last, what), "the run could not be started: entries are not logged"))
	rest := s.out.rest(nil)
	fatal := wrapAs(kind, err, last, what)
	if len(rest) > 0 {
		var lost lossRecord
		lost.add(rest, what, CodeOf(last), err, now)
		fatal = wrapAs(kind, lost.batch(), last, fmt.Sprintf("%s (%v): %d queued items are lost", what, last, len(rest))).
			WithDetail("lost", len(rest))
	}
	s.publish(func(st *senderStats) {
		st.fatal = fatal
		st.unsent += int64(len(rest))
		st.keepFailed(rest)
	})
	close(s.startDone)
	s.ev.emit(onError, fatal, now)
}
