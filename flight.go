package mlerr

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"time"
)

// The sender keeps up to Limits.InFlight batches in flight (fewer while
// the window is lowered, see window): each is written by a worker
// goroutine of its own, which runs the retry policy and rides out outages,
// then hands the batch back on results. Everything else stays the
// sender's: which batch goes when, the accounting, the events of its
// outcome, the Waits. The order rules (see dispatchable) keep what the
// backend's semantics depend on.

// dispatch sends the next batch when the window has room and the order
// rules allow it, and reports whether it did. force: any batch, not only a
// full one.
func (s *sender) dispatch(force bool) bool {
	if len(s.flight) >= s.limit() {
		return false
	}
	if s.held == nil {
		s.held = s.takeBatch(force)
	}
	pb := s.held
	if pb == nil || !s.dispatchable(pb) {
		return false
	}
	s.held = nil
	s.flight = append(s.flight, pb)
	s.publishFlight()
	s.launch(pb)
	return true
}

// limit is how many batches may be in flight now: Limits.InFlight, or the
// window when backpressure lowered it.
func (s *sender) limit() int {
	w, _ := s.win.get()
	return min(s.k, w)
}

// dispatchable applies the order rules to the next batch: a batch of
// artifacts goes alone (after every batch before it, before any after
// it); a batch from the spool does not go beside another one (the spool
// acknowledges its oldest items first); a batch writing a tag or param key
// waits while another batch writing that key is in flight (tags are
// last-write-wins). Metric points may be stored out of order.
func (s *sender) dispatchable(pb *pending) bool {
	if len(s.flight) == 0 {
		return true
	}
	if pb.artifacts() || s.flight[0].artifacts() {
		return false
	}
	return !s.clashes(pb)
}

// clashes reports whether a batch in flight keeps pb from going beside it:
// both from the spool, or writing one tag or param key.
func (s *sender) clashes(pb *pending) bool {
	for _, f := range s.flight {
		if pb.taken.fromSpool && f.taken.fromSpool || sharesKey(pb, f) {
			return true
		}
	}
	return false
}

// sharesKey reports whether two batches write one tag or param key.
func sharesKey(a, b *pending) bool {
	if len(a.keys) > len(b.keys) {
		a, b = b, a
	}
	for k := range a.keys {
		if _, ok := b.keys[k]; ok {
			return true
		}
	}
	return false
}

// writeKey is a tag or param key a batch writes.
type writeKey struct {
	kind ItemKind
	key  string
}

// noteKeys records, when several batches may be in flight, the keys of a
// batch that no other batch in flight may write: its tag and param keys,
// and the metric keys no batch of the run has stored yet (MLflow creates a
// metric's latest-value row on its first write without a lock: two first
// writes of one key at once make one fail with a unique-key violation,
// answered 400).
func (s *sender) noteKeys(pb *pending) {
	if s.k == 1 {
		return
	}
	for i := range pb.b.Items {
		it := &pb.b.Items[i]
		if it.Kind == ItemMetric && s.stored.has(it.Key) || it.Kind == ItemArtifact {
			continue
		}
		if pb.keys == nil {
			pb.keys = make(map[writeKey]struct{})
		}
		pb.keys[writeKey{it.Kind, it.Key}] = struct{}{}
	}
}

// storedKeys are the metric keys a batch of the run has stored.
type storedKeys map[string]struct{}

func (k storedKeys) has(key string) bool {
	_, ok := k[key]
	return ok
}

// noteStored records the new metric keys of a batch the backend took.
func (s *sender) noteStored(pb *pending) {
	for k := range pb.keys {
		if k.kind == ItemMetric {
			s.stored[k.key] = struct{}{}
		}
	}
}

// launch starts the worker of a batch.
func (s *sender) launch(pb *pending) {
	s.running++
	go s.work(pb)
}

// work is a worker: it writes one batch (a batch of artifacts: uploads its
// files) and hands it back. A panic is recovered and handed back too.
func (s *sender) work(pb *pending) {
	defer s.handBack(pb)
	if pb.pause > 0 && !s.nap(pb.pause) {
		return
	}
	if pb.artifacts() {
		pb.alive = s.uploadAll(pb)
		return
	}
	pb.err, pb.alive = s.ride(fmt.Sprintf("sending batch %d", pb.b.Seq), s.workers, func(ctx context.Context) error { return s.write(ctx, pb) })
}

// handBack, deferred by work, hands the batch back to the sender.
func (s *sender) handBack(pb *pending) {
	if p := recover(); p != nil {
		pb.panicked, pb.stack = p, debug.Stack()
	}
	s.results <- pb // never blocks: room for every batch in flight
}

// collect deals with the batches the workers handed back, without waiting.
func (s *sender) collect() {
	for {
		select {
		case pb := <-s.results:
			s.returned(pb)
		default:
			return
		}
	}
}

// returned deals with a batch its worker handed back: settled, refused,
// sent again after a panic, or kept in flight when life has ended (finish
// accounts for it).
func (s *sender) returned(pb *pending) {
	s.running--
	p := pb.panicked
	pb.panicked, pb.pause = nil, 0
	switch {
	case p != nil:
		s.batchPanicked(pb, p, pb.stack)
	case !pb.alive:
	case pb.artifacts():
		s.artifactsDone(pb, s.clock.Now())
	case pb.err != nil:
		s.refused(pb, pb.err, s.clock.Now())
	default:
		s.win.success(s.k)
		s.settle(pb, nil, s.clock.Now())
	}
}

// batchPanicked reports a panic of a worker (the backend's, the
// classifier's): the batch is sent again after a pause that grows with its
// panics, unless it has caused maxBatchPanics of them or life has ended.
func (s *sender) batchPanicked(pb *pending, p any, stack []byte) {
	now := s.clock.Now()
	err := s.notePanic(p, stack, now)
	pb.panics++
	switch {
	case pb.panics >= maxBatchPanics:
		s.giveUp(pb, err, p, now)
	case s.life.Err() == nil:
		s.ev.emit(onError, err, now)
		pb.pause = time.Duration(pb.panics-1) * 100 * time.Millisecond
		s.launch(pb)
	default:
		s.ev.emit(onError, err, now)
	}
}

// drop removes a settled batch from the flight; its items' segment goes
// back to the outbox with the next take.
func (s *sender) drop(pb *pending) {
	for i, f := range s.flight {
		if f == pb {
			s.flight = slices.Delete(s.flight, i, i+1)
			break
		}
	}
	if pb.taken.seg != nil {
		s.spent = append(s.spent, pb.taken.seg)
	}
	s.publishFlight()
}

// publishFlight publishes the items in flight.
func (s *sender) publishFlight() {
	n := 0
	for _, f := range s.flight {
		n += len(f.b.Items)
	}
	s.publish(func(st *senderStats) { st.inFlight = n })
}

// stopWorkers waits, once life has ended or the run closes, for every
// worker to hand its batch back, and deals with them.
func (s *sender) stopWorkers() {
	for s.running > 0 {
		s.returned(<-s.results)
	}
}
