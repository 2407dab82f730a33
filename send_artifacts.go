package mlerr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// uploadAll, a worker's, uploads a batch of artifacts one by one, each
// through the retry policy, riding out outages, from where the batch got
// to (pb.done): a file that fails for good is a failure of the batch, the
// others are stored; the sender reports the batch's failures together once
// it is handed back (artifactsDone). It reports false when life has ended:
// the batch then stays pending. A batch of artifacts is alone in flight.
func (s *sender) uploadAll(pb *pending) bool {
	ab := s.backend.(ArtifactBackend) // the log calls checked it
	for pb.done < len(pb.b.Items) {
		it := &pb.b.Items[pb.done]
		err, ok := s.upload(ab, pb, it)
		if !ok {
			return false
		}
		now := s.clock.Now()
		if err != nil {
			pb.failures = append(pb.failures, Failure[Item]{Item: *it, Index: pb.done, Reason: uploadReason(err), Code: CodeOf(lastError(err)), Time: now, Cause: err})
		}
		s.staging.remove(it)
		s.publish(func(st *senderStats) {
			if err != nil {
				st.rejected++
				st.keepFailed([]Item{*it})
			} else {
				st.sent++
			}
		})
		pb.done++
		pb.maybeStored = false
	}
	return true
}

// upload writes one artifact through the retry policy, riding out outages.
// It returns the error that failed it for good, or false when life ended.
func (s *sender) upload(ab ArtifactBackend, pb *pending, it *Item) (error, bool) {
	return s.ride("uploading artifact "+quoteKey(it.Key), s.workers, func(ctx context.Context) error { return s.writeArtifact(ctx, ab, pb, it) })
}

// writeArtifact makes one WriteArtifact call with the staged copy, opened
// anew, so that a retry starts from the first byte.
func (s *sender) writeArtifact(ctx context.Context, ab ArtifactBackend, pb *pending, it *Item) error {
	pb.attempts++
	if pb.attempts > 1 {
		s.publish(func(st *senderStats) { st.retries++ })
	}
	f, err := s.staging.open(it)
	if err != nil {
		return Permanent(ErrInvalidValue.Wrap(err, "the run's copy of the file is gone"))
	}
	defer f.Close()
	err = ab.WriteArtifact(ctx, pb.b.RunID, it.Key, f, int64(it.Value))
	s.noteCall(err, s.clock.Now())
	if err != nil && mayHaveReached(err) {
		pb.maybeStored = true
	}
	return err
}

// artifactsDone ends a batch of artifacts: its failures, if any, go to
// OnError in one event.
func (s *sender) artifactsDone(pb *pending, now time.Time) {
	if err := s.out.done(pb.taken); err != nil {
		s.cfg.logger.Error("mlerr: the spool could not drop sent items; they may be sent again", "err", err)
	}
	n := len(pb.b.Items)
	s.drop(pb)
	s.settleFlushes()
	s.reportArtifacts(n, pb.failures, now)
}

// reportArtifacts reports the artifacts of a batch of n that failed for
// good, if any, in one OnError event.
func (s *sender) reportArtifacts(n int, failures []Failure[Item], now time.Time) {
	lost := NewBatchError(n, failures)
	if lost == nil {
		return
	}
	last := lastError(lost.Failures[0].Cause)
	kind, _ := refusal(last)
	if kind == nil {
		kind = ErrInvalidValue
	}
	s.ev.emit(onError, wrapAs(kind, lost, last, fmt.Sprintf("%d of %d artifacts could not be stored: %s", len(lost.Failures), n, lost.Failures[0].Reason)), now)
}

// uploadReason is the Failure.Reason of an artifact that failed for good.
func uploadReason(err error) string {
	last := lastError(err)
	switch {
	case errors.Is(last, fs.ErrNotExist):
		return "file vanished"
	case isUnauthorized(last):
		return "credentials refused"
	}
	if e := AsError(last); e != nil && e.Message() != "" {
		return "refused by the backend: " + e.Message()
	}
	return "refused by the backend"
}
