package mlerr

import (
	"context"
	"fmt"
	"time"
)

// ride runs op through the retry policy of ln until it succeeds or fails
// for good, riding out outages: when the policy gives up on a network error
// the outage is reported once (doing says what the sender was doing) and
// the sender probes until the backend answers. It returns the error that
// failed op for good (nil when it succeeded), and false when life ended
// first. The sender's goroutine (StartRun) and its workers (batches) ride.
func (s *sender) ride(doing string, ln lane, op func(context.Context) error) (err error, alive bool) {
	for {
		epoch, out := s.outageState()
		if out && !ln.wait(s.probeDelay()) {
			return nil, false
		}
		err := Retry(s.life, ln.policy, op)
		now := s.clock.Now()
		switch {
		case err == nil:
			s.recovered(now)
			return nil, true
		case s.life.Err() != nil:
			return nil, false
		case isOutage(err):
			s.down(err, now, doing, epoch)
		default:
			return err, true
		}
	}
}

// write makes one WriteBatch call. A panic of the backend is not recovered
// here: it restarts the sender, which keeps the batch (see panicked).
func (s *sender) write(ctx context.Context, pb *pending) error {
	pb.attempts++
	if pb.attempts > 1 {
		s.publish(func(st *senderStats) { st.retries++ })
	}
	_, epoch := s.win.get()
	err := s.backend.WriteBatch(ctx, pb.b)
	s.noteCall(err, s.clock.Now())
	if err != nil && isBackpressure(err) {
		s.win.pressure(s.k, epoch)
	}
	switch {
	case err == nil:
	case findBatchError(err) != nil:
		// Per-item rejections are the backend's final answer on this
		// batch: retrying it (same Seq) could only be deduplicated.
		return Permanent(err)
	case mayHaveReached(err):
		pb.maybeStored = true
	}
	return err
}

// refused reports a batch the backend refused for good: per-item
// rejections lose those items, any other refusal the whole batch.
func (s *sender) refused(pb *pending, err error, now time.Time) {
	last := lastError(err)
	n := len(pb.b.Items)
	if be := findBatchError(last); be != nil {
		s.rejectedItems(pb, be, now)
		return
	}
	kind, what := refusal(last)
	switch kind {
	case ErrRunNotFound:
		what = fmt.Sprintf("run %s does not exist (any more)", pb.b.RunID)
	case nil:
		what = "the backend refused the batch"
	}
	lost := s.settle(pb, failAll(pb.b.Items, err, now), now)
	s.ev.emit(onError, wrapAs(kind, lost, last, fmt.Sprintf("%s: the %d items of batch %d are lost", what, n, pb.b.Seq)), now)
}

// rejectedItems ends a batch whose items the backend partly rejected: the
// others are stored, the rejected ones (those be names within the batch)
// reported lost.
func (s *sender) rejectedItems(pb *pending, be *BatchError[Item], now time.Time) {
	n := len(pb.b.Items)
	failures := make([]Failure[Item], 0, len(be.Failures))
	for _, f := range be.Failures {
		if f.Index >= 0 && f.Index < n {
			failures = append(failures, f)
		}
	}
	if lost := s.settle(pb, failures, now); lost != nil {
		s.ev.emit(onError, newError(lost.Code(), ErrInvalidValue,
			fmt.Sprintf("the backend rejected %d of the %d items of batch %d", len(lost.Failures), n, pb.b.Seq), lost), now)
	}
}

// settle ends a batch: its items are sent but for the failures, which are
// lost. It returns the failures as a BatchError, or nil.
func (s *sender) settle(pb *pending, failures []Failure[Item], now time.Time) *BatchError[Item] {
	if err := s.out.done(pb.taken); err != nil {
		s.cfg.logger.Error("mlerr: the spool could not drop sent items; they may be sent again", "err", err)
	}
	n := len(pb.b.Items)
	lost := NewBatchError(n, failures)
	if len(failures) < n {
		s.noteStored(pb)
	}
	s.publish(func(st *senderStats) {
		st.sent += int64(n - len(failures))
		if len(failures) < n {
			st.batches++
		}
		st.rejected += int64(len(failures))
		if lost != nil {
			st.keepFailed(lost.Failed())
		}
	})
	s.drop(pb)
	s.settleFlushes()
	return lost
}

// keepFailed keeps lost items for the Report, up to its bound.
func (st *senderStats) keepFailed(items []Item) {
	if room := maxReportItems - len(st.failed); room > 0 {
		st.failed = append(st.failed, items[:min(room, len(items))]...)
	}
}

// failAll returns a failure per item, all for cause.
func failAll(items []Item, cause error, now time.Time) []Failure[Item] {
	code := CodeOf(cause)
	reason := "batch failed"
	if e := AsError(lastError(cause)); e != nil && e.Message() != "" {
		reason = e.Message()
	}
	failures := make([]Failure[Item], len(items))
	for i := range items {
		failures[i] = Failure[Item]{Item: items[i], Index: i, Reason: reason, Code: code, Time: now, Cause: cause}
	}
	return failures
}

// noteCall records the outcome of one backend call for Health.
func (s *sender) noteCall(err error, now time.Time) {
	s.publish(func(st *senderStats) {
		switch {
		case err == nil:
			st.consecutive = 0
		case findBatchError(err) != nil: // the backend answered: items were refused
			st.consecutive = 0
			st.lastErr, st.lastErrTime = err, now
		default:
			if st.consecutive == 0 {
				st.failingSince = now
			}
			st.consecutive++
			st.lastErr, st.lastErrTime = err, now
		}
	})
}

// outageState returns whether the backend is down, and the outages ended
// so far (the epoch a ride's attempts belong to).
func (s *sender) outageState() (epoch uint64, down bool) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pub.recoveries, s.pub.outage
}

// inOutage reports whether the backend is down.
func (s *sender) inOutage() bool {
	_, down := s.outageState()
	return down
}

// down records that the retry policy gave up on a network error: the first
// time in a row, it reports an outage to OnNetworkError, unless an outage
// ended since the attempts began (epoch: they belong to that one). From
// now on the sender and its workers probe (see probeDelay) until the
// backend answers.
func (s *sender) down(err error, now time.Time, doing string, epoch uint64) {
	s.pubMu.Lock()
	news := !s.pub.outage && s.pub.recoveries == epoch
	if news {
		s.pub.outage, s.pub.outageSince = true, s.pub.failingSince
		s.pub.outages++
	}
	s.pubMu.Unlock()
	if !news {
		return
	}
	s.ev.emit(onNetworkError, wrapAs(ErrNetwork, err, lastError(err), fmt.Sprintf(
		"the backend is unreachable (%s); the data stays queued and the run keeps retrying", doing)), now)
}

// recovered reports the end of an outage.
func (s *sender) recovered(now time.Time) {
	s.pubMu.Lock()
	was, since := s.pub.outage, s.pub.outageSince
	if was {
		s.pub.outage = false
		s.pub.recoveries++
	}
	s.pubMu.Unlock()
	if !was {
		return
	}
	down := now.Sub(since)
	s.ev.emit(onWarning, ErrRecovered.Errorf("the backend answers again after %s down", down.Round(time.Millisecond)).
		WithDetail("down_ms", down.Milliseconds()).WithDetail("since", since), now)
}
