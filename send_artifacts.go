package mlerr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
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
		it := pb.b.Items[pb.done]
		deferred, ok, err := s.upload(ab, pb, &it)
		switch {
		case !ok:
			return false
		case deferred:
			postponeFirst(pb.b.Items[pb.done:])
		default:
			s.uploaded(pb, &it, err)
		}
	}
	return true
}

// uploaded records the end of one file's upload: stored (err nil) or
// failed for good.
func (s *sender) uploaded(pb *pending, it *Item, err error) {
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

// upload writes one artifact through the retry policy. It returns the error
// that failed it for good, or deferred when the file waits for the end of
// the batch, or alive false when life ended.
//
// A round of the policy that ends on a network error (an outage, for a
// batch) is judged against the other files: the first such failure after a
// file was stored sets the file aside for the end of the batch (the server
// may be down, or this one upload may be what fails); a second one in a row
// is an outage, ridden out as for a batch, on this file; and a file that
// fails so again after other files were stored since its first failure has
// its connection lost for good: it fails, so that one upload that never
// gets through cannot hold the others back.
func (s *sender) upload(ab ArtifactBackend, pb *pending, it *Item) (deferred, alive bool, err error) {
	op := func(ctx context.Context) error { return s.writeArtifact(ctx, ab, pb, it) }
	for {
		epoch, out := s.outageState()
		if out && !s.nap(s.probeDelay()) {
			return false, false, nil
		}
		err := Retry(s.life, s.workers.policy, op)
		now := s.clock.Now()
		switch {
		case err == nil:
			s.recovered(now)
			pb.art.stored()
			return false, true, nil
		case s.life.Err() != nil:
			return false, false, nil
		case !isOutage(err):
			return false, true, err
		case pb.art.lostForGood(it):
			return false, true, lostUpload(err, it)
		case pb.art.setAside(it, len(pb.b.Items)-pb.done):
			return true, true, nil
		}
		s.down(err, now, "uploading artifact "+quoteKey(it.Key), epoch)
	}
}

// artifactRounds is what a batch of artifacts knows of its uploads' network
// failures (see sender.upload).
type artifactRounds struct {
	stores int           // files stored so far
	inARow int           // rounds failed on the network since the last file stored
	struck map[int64]int // a file set aside (by its Step) -> stores when it was
}

// stored notes a file stored.
func (a *artifactRounds) stored() { a.stores, a.inARow = a.stores+1, 0 }

// lostForGood reports whether the file failed on the network before and
// other files were stored since.
func (a *artifactRounds) lostForGood(it *Item) bool {
	at, ok := a.struck[it.Step]
	return ok && a.stores > at
}

// setAside reports whether the file, having failed on the network, waits
// for the end of the batch: it is the first such failure since a file was
// stored and other files (of left) remain.
func (a *artifactRounds) setAside(it *Item, left int) bool {
	a.inARow++
	if a.struck == nil {
		a.struck = map[int64]int{}
	}
	a.struck[it.Step] = a.stores
	return a.inARow == 1 && left > 1
}

// postponeFirst moves the first of the files left to the end.
func postponeFirst(rest []Item) {
	first := rest[0]
	copy(rest, rest[1:])
	rest[len(rest)-1] = first
}

// inLoggedOrder sorts artifact items back into the order they were logged
// (their Step), which setting files aside changed.
func inLoggedOrder(items []Item) []Item {
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.Step, b.Step) })
	return items
}

// lostUpload is the error of a file whose upload failed on the network
// while the backend stored other files.
func lostUpload(err error, it *Item) error {
	return ErrNetwork.Wrap(err, "the upload of artifact "+quoteKey(it.Key)+" failed on every attempt while the backend stored other files: its connection is lost for good")
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
		kind = failureKind(lost.Failures[0].Cause)
	}
	s.ev.emit(onError, wrapAs(kind, lost, last, fmt.Sprintf("%d of %d artifacts could not be stored: %s", len(lost.Failures), n, lost.Failures[0].Reason)), now)
}

// failureKind is the kind of the event of failed uploads that are not
// refusals: ErrNotImplemented (a backend that cannot store artifacts after
// all) or ErrNetwork (a connection lost for good) when the first failure is
// one, else ErrInvalidValue.
func failureKind(cause error) *Kind {
	for _, k := range []*Kind{ErrNotImplemented, ErrNetwork} {
		if errors.Is(cause, k) {
			return k
		}
	}
	return ErrInvalidValue
}

// uploadReason is the Failure.Reason of an artifact that failed for good.
func uploadReason(err error) string {
	last := lastError(err)
	switch {
	case errors.Is(last, fs.ErrNotExist):
		return "file vanished"
	case isUnauthorized(last):
		return "credentials refused"
	case errors.Is(err, ErrNetwork):
		return "connection lost for good"
	}
	if e := AsError(last); e != nil && e.Message() != "" {
		return "refused by the backend: " + e.Message()
	}
	return "refused by the backend"
}
