package mlerr

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// sender is the goroutine of a Run that owns the Backend: it starts the
// run, takes batches from the outbox and writes them through the retry
// policy, rides out outages, and ends the run. Nothing else calls the
// Backend, and the fields under "owned by the goroutine" are touched by
// nothing else.
//
// Others talk to it by requests: Wait and Close send a request on reqs (a
// flush up to an ordinal, with a channel closed once it is dealt with; or
// the close itself); the outbox wakes it through wake when a batch is
// ready; Terminate, and Close when its time is up, cancel life, the context
// of every backend call, with the reason as the cause. Requests are served
// between backend calls and during every wait, which they cut short: a
// flush is tried at once.
//
// What others read (Health, Report, ID, Started) the goroutine publishes
// under pubMu; the final accounting is published before done is closed.
type sender struct {
	backend Backend
	cfg     *runConfig
	out     *outbox
	ev      *events
	staging *stagingArea
	clock   Clock  // the run's clock: time stamps
	base    Clock  // the retry policy's clock, which waits
	policy  Policy // the retry policy, waiting on the sender's clock
	spec    RunSpec

	reqs      chan *request
	wake      chan struct{}
	life      context.Context
	abort     context.CancelCauseFunc
	done      chan struct{} // closed when the goroutine has returned
	startDone chan struct{} // closed when the run started, or could not
	created   time.Time

	// Owned by the goroutine.
	seq     uint64
	flight  []*pending // the batches in flight (sent, not settled), oldest first
	held    *pending   // the next batch, taken, waiting for its turn (see dispatch)
	spent   []*segment // the segments of settled batches, given back with the next take
	running int        // workers that have not handed their batch back
	stored  storedKeys // the metric keys stored (InFlight > 1, see noteKeys)
	flushes []*request // Waits not yet satisfied
	closing bool       // Close asked: send everything, then end the run
	panics  int        // panics of the goroutine in a row (restart pauses grow with them)

	// Shared with the workers (see flight.go).
	k       int           // Limits.InFlight
	win     *window       // the in-flight window: the Budget's, or the run's own
	results chan *pending // the batches the workers hand back
	own     lane          // how the goroutine itself retries (StartRun)
	workers lane          // how the workers retry
	hurry   atomic.Bool   // someone waits for the data (flushing), for the workers' clock
	hurryMu sync.Mutex    //
	hurryC  chan struct{} // closed (and replaced) when a request arrives: a worker's wait ends
	rngMu   sync.Mutex    //
	rng     *rand.Rand    // jitter of the probes

	pubMu sync.Mutex
	pub   senderStats
	final finalAccount

	// failure is the training's error (Run.Fail): the run ends FAILED. It
	// is written by Fail, read by finish.
	failure atomic.Pointer[error]
}

// request is what Wait and Close ask of the sender.
type request struct {
	upTo  int64         // a flush: every item of a lower ordinal
	done  chan struct{} // closed when they are acknowledged or lost
	close bool          // Close: send everything, then end the run
}

// pending is a batch on its way to the backend.
type pending struct {
	b           Batch
	taken       taken // where its items came from in the outbox
	attempts    int   // WriteBatch (WriteArtifact) calls made for it
	panics      int   // sender panics while sending it
	maybeStored bool  // an attempt may have reached the backend (for an artifact, the current one's)

	// A batch of artifacts is sent one by one: done counts the items dealt
	// with (stored, or failed for good into failures).
	done     int
	failures []Failure[Item]

	keys map[writeKey]struct{} // the tag and param keys it writes (InFlight > 1)

	// What its worker hands back.
	err      error          // why it failed for good; nil: stored
	alive    bool           // false: life ended first
	panicked any            // the worker panicked
	stack    []byte         //
	pause    time.Duration  // before it is sent again after a panic
	art      artifactRounds // its uploads' network failures
}

// artifacts reports whether the batch is one of artifacts.
func (pb *pending) artifacts() bool { return pb.b.Items[0].Kind == ItemArtifact }

// senderStats is what the sender publishes.
type senderStats struct {
	started          bool
	runID            string
	fatal            error // why the run could not start
	sent, batches    int64
	retries, outages int64
	rejected         int64 // items the backend refused, or given up after panics
	unsent, unacked  int64 // items left when the sender stopped
	restarts         int64
	inFlight         int    // items
	recoveries       uint64 // outages ended so far
	watermark        int64  // every item of a lower ordinal is acknowledged or lost
	lastErr          error
	lastErrTime      time.Time
	consecutive      int
	outage           bool
	outageSince      time.Time
	failingSince     time.Time
	failed           []Item // lost items kept for the Report (at most maxReportItems)
}

// finalAccount is how the sender ended the run: written by finish before
// done is closed, read after.
type finalAccount struct {
	status RunStatus // 0 when the run never started
	endErr error     // EndRun's failure, or nil
}

// Reasons life ends early, its cancellation causes.
var (
	errTerminated   = errors.New("the run was terminated")
	errCloseTimeout = errors.New("Close ran out of time")
)

func newSender(r *Run, wake chan struct{}) *sender {
	s := &sender{
		backend:   r.backend,
		cfg:       &r.cfg,
		out:       r.out,
		ev:        r.ev,
		staging:   &r.staging,
		clock:     r.clock,
		spec:      r.cfg.spec,
		reqs:      make(chan *request, 16),
		wake:      wake,
		done:      make(chan struct{}),
		startDone: make(chan struct{}),
		created:   r.created,
		rng:       rand.New(rand.NewPCG(uint64(r.created.UnixNano()), 0x6d6c657272)),
		k:         r.cfg.inFlight,
		results:   make(chan *pending, r.cfg.inFlight),
		hurryC:    make(chan struct{}),
		win:       &window{},
		stored:    storedKeys{},
	}
	s.spec.StartTime = r.created
	s.life, s.abort = context.WithCancelCause(r.ctx)
	s.policy = r.cfg.policy
	s.base = s.policy.Clock
	if s.base == nil {
		s.base = r.clock
	}
	if b := s.policy.Budget; b != nil {
		s.win = &b.win
	}
	s.workers = lane{policy: s.policy, wait: s.nap}
	s.workers.policy.Clock = workerClock{s}
	s.policy.Clock = senderClock{s}
	s.own = lane{policy: s.policy, wait: s.wait}
	return s
}

// main is the goroutine. A panic is recovered, reported as
// ErrSynchronizationStopped, and the loop starts again after a pause that
// grows with the panics in a row, keeping the batch being sent.
func (s *sender) main() {
	defer close(s.done)
	for !s.loop() {
		pause := time.Duration(min(s.panics-1, 50)) * 100 * time.Millisecond
		if !s.wait(pause) {
			break
		}
	}
	s.finish()
}

// loop starts the run if need be, then sends until the run stops (true) or
// a panic (false).
func (s *sender) loop() (stopped bool) {
	defer s.catch(&stopped)
	if !s.isStarted() && !s.start() {
		return true
	}
	timer := time.NewTimer(s.cfg.interval)
	defer timer.Stop()
	for tick := false; s.sendReady(tick) && !(s.closing && s.drained()); {
		if tick, stopped = s.await(timer); stopped {
			return true
		}
	}
	return true
}

// catch, deferred by loop, recovers a panic of the goroutine: it is
// reported, and loop returns false (the sender restarts).
func (s *sender) catch(stopped *bool) {
	if p := recover(); p != nil {
		s.panicked(p, debug.Stack())
		*stopped = false
	}
}

// await waits for the next reason to look at the queue: a wake-up from the
// outbox, a request, or a tick of the batching interval (tick), at which it
// also delivers the events due. stopped is true when life has ended.
//
// It listens for wake-ups only while the window has room for a batch:
// otherwise a wake-up stays pending in the one-slot channel, and the log
// calls, which signal only when none is pending, do not wake a sender that
// could do nothing but wait again (in an outage, the batch in flight
// retrying, that was a futex wake-up every few dozen calls; the p99.9 of
// BenchmarkLogMetricsOutage, 5 interleaved rounds on the project's 2-core
// machine: 7-17 µs listening always, 0.9-1.2 µs listening only with room).
// A batch handed back makes room, and the loop then looks at the queue
// itself.
func (s *sender) await(timer *time.Timer) (tick, stopped bool) {
	wake := s.wake
	if len(s.flight) >= s.limit() {
		wake = nil
	}
	select {
	case <-wake:
	case pb := <-s.results:
		s.returned(pb)
	case req := <-s.reqs:
		s.accept(req)
	case <-timer.C:
		timer.Reset(s.cfg.interval)
		now := s.clock.Now()
		s.ev.flushDue(now, false)
		s.out.flushReport(now, false)
		return true, false
	case <-s.life.Done():
		return false, true
	}
	return false, false
}

// accept takes a request in.
func (s *sender) accept(req *request) {
	defer s.hurryUp()
	if req.close {
		s.closing = true
		return
	}
	s.flushes = append(s.flushes, req)
	s.settleFlushes()
}

// hurryUp tells the workers whether someone waits for the data, and ends
// their current waits (see nap).
func (s *sender) hurryUp() {
	s.hurry.Store(s.flushing())
	s.hurryMu.Lock()
	close(s.hurryC)
	s.hurryC = make(chan struct{})
	s.hurryMu.Unlock()
}

// serveQueued accepts the requests already sent, without waiting, and
// reports whether there were any.
func (s *sender) serveQueued() bool {
	any := false
	for {
		select {
		case req := <-s.reqs:
			s.accept(req)
			any = true
		default:
			return any
		}
	}
}

// flushing reports whether someone waits for the items queued: a Wait not
// yet satisfied, or Close.
func (s *sender) flushing() bool { return s.closing || len(s.flushes) > 0 }

// settleFlushes tells the Waits whose items are all dealt with.
func (s *sender) settleFlushes() {
	w := s.watermark()
	kept := s.flushes[:0]
	for _, req := range s.flushes {
		if req.upTo <= w {
			close(req.done)
		} else {
			kept = append(kept, req)
		}
	}
	clear(s.flushes[len(kept):])
	s.flushes = kept
	s.hurry.Store(s.flushing())
}

// watermark is the ordinal below which every item is acknowledged or lost:
// the first item of the oldest batch in flight, else of the batch held,
// else the outbox's oldest.
func (s *sender) watermark() int64 {
	var w int64
	switch {
	case len(s.flight) > 0:
		w = s.flight[0].taken.first
	case s.held != nil:
		w = s.held.taken.first
	default:
		w = s.out.headOrdinal()
	}
	s.pubMu.Lock()
	s.pub.watermark = w
	s.pubMu.Unlock()
	return w
}

// drained reports whether nothing is left to send.
func (s *sender) drained() bool {
	return len(s.flight) == 0 && s.held == nil && !s.out.ready(true)
}

// sendReady deals with the batches handed back and sends batches while the
// window has room and there is a full one, or anything at all when forced
// (a tick of the batching interval) or flushing. It returns false when the
// run is stopping.
func (s *sender) sendReady(force bool) bool {
	s.collect()
	for s.life.Err() == nil {
		s.settleFlushes()
		if !s.dispatch(force) {
			return s.life.Err() == nil
		}
	}
	return false
}

// takeBatch takes the next batch when one is ready (any, when forced or
// flushing), or returns nil; it gives the spent segments back meanwhile.
func (s *sender) takeBatch(force bool) *pending {
	t := s.out.take(force || s.flushing(), s.spent, s.clock.Now())
	clear(s.spent)
	s.spent = s.spent[:0]
	if len(t.items) == 0 {
		return nil
	}
	pb := &pending{b: Batch{RunID: s.runID(), Items: t.items}, taken: t}
	if !pb.artifacts() {
		s.seq++
		pb.b.Seq = s.seq
	}
	s.noteKeys(pb)
	return pb
}

// wait waits d on the retry policy's clock, serving the requests that
// arrive meanwhile; a flush or close request ends it at once, as does a
// request already waiting. It reports false when life has ended.
func (s *sender) wait(d time.Duration) bool {
	if s.serveQueued() || d <= 0 {
		return s.life.Err() == nil
	}
	ctx, cancel := context.WithCancel(s.life)
	slept := make(chan struct{})
	go func() {
		defer close(slept)
		s.base.Sleep(ctx, d) //nolint:errcheck // ctx's end is read below
	}()
	select {
	case <-slept:
	case req := <-s.reqs:
		s.accept(req)
	}
	cancel()
	<-slept
	return s.life.Err() == nil
}

// nap is a worker's wait: d on the retry policy's clock, ended at once by
// a request to the sender (see hurryUp). It reports false when life has
// ended.
func (s *sender) nap(d time.Duration) bool {
	if d <= 0 {
		return s.life.Err() == nil
	}
	s.hurryMu.Lock()
	hurry := s.hurryC
	s.hurryMu.Unlock()
	ctx, cancel := context.WithCancel(s.life)
	go func() {
		select {
		case <-hurry:
			cancel()
		case <-ctx.Done():
		}
	}()
	s.base.Sleep(ctx, d) //nolint:errcheck // life's end is read below
	cancel()
	return s.life.Err() == nil
}

// probeDelay bounds the waits between two attempts during an outage,
// between two rounds of the retry policy and inside one: a random time
// between half and all of the probe interval (the policy's MaxDelay, at
// most outageProbe; at most flushProbe while a Wait or Close waits), so
// that the backend is tried again soon after it is back, and many runs hit
// by one outage do not come back at once.
func (s *sender) probeDelay() time.Duration {
	p := outageProbe
	if d := s.policy.MaxDelay; d > 0 && d < p {
		p = d
	}
	if s.hurry.Load() {
		p = min(p, flushProbe)
	}
	half := p / 2
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return half + time.Duration(s.rng.Int64N(int64(p-half)+1))
}

// The probe intervals of an outage.
const (
	// outageProbe bounds the wait between two attempts once the retry
	// policy gave up on a network error.
	outageProbe = 5 * time.Second
	// flushProbe bounds any wait between two attempts while a Wait or Close
	// waits for the data: it is at most this late once the backend is back.
	flushProbe = time.Second
)

// senderClock is the sender's retry clock: it tells the time of the
// policy's clock and waits as the sender does (see sender.wait), so that a
// Wait or Close cuts a backoff short; during an outage, or while a Wait or
// Close waits, a backoff is at most a probe delay.
type senderClock struct{ s *sender }

func (c senderClock) Now() time.Time { return c.s.base.Now() }

func (c senderClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.s.inOutage() || c.s.flushing() {
		d = min(d, c.s.probeDelay())
	}
	c.s.wait(d)
	return ctx.Err()
}

// workerClock is the workers' retry clock: senderClock, waiting as a
// worker does (see sender.nap).
type workerClock struct{ s *sender }

func (c workerClock) Now() time.Time { return c.s.base.Now() }

func (c workerClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.s.inOutage() || c.s.hurry.Load() {
		d = min(d, c.s.probeDelay())
	}
	c.s.nap(d)
	return ctx.Err()
}

// lane is how a goroutine of the sender retries: the policy, on a clock
// that waits as the goroutine must, and that wait.
type lane struct {
	policy Policy
	wait   func(time.Duration) bool
}

// panicked reports a panic of the goroutine (a worker's: see
// batchPanicked). The batches in flight stay in flight; a run not started
// yet is started again, unless it has panicked too often.
func (s *sender) panicked(p any, stack []byte) {
	now := s.clock.Now()
	s.panics++
	err := s.notePanic(p, stack, now)
	if !s.isStarted() && s.panics >= maxBatchPanics {
		s.startFailed(err, now)
		return
	}
	s.ev.emit(onError, err, now)
}

// notePanic counts a panic of the sender or a worker, and returns the
// error reporting it.
func (s *sender) notePanic(p any, stack []byte, now time.Time) *Error {
	err := ErrSynchronizationStopped.Errorf("the goroutine sending data panicked: %v; it was restarted", p).
		WithDetail("panic", fmt.Sprint(p)).WithDetail("stack", string(stack))
	s.publish(func(st *senderStats) {
		st.restarts++
		st.lastErr, st.lastErrTime = err, now
	})
	return err
}

// giveUp loses a batch that made the sender panic too often (of a batch of
// artifacts, the files not dealt with yet).
func (s *sender) giveUp(pb *pending, err error, p any, now time.Time) {
	if pb.artifacts() {
		rest := pb.b.Items[pb.done:]
		s.publish(func(st *senderStats) {
			st.rejected += int64(len(rest))
			st.keepFailed(rest)
		})
		for i := range rest {
			s.staging.remove(&rest[i])
			pb.failures = append(pb.failures, Failure[Item]{Item: rest[i], Index: pb.done + i, Reason: "made the sender panic", Code: CodeOf(err), Time: now, Cause: err})
		}
		pb.done = len(pb.b.Items)
		s.artifactsDone(pb, now)
		return
	}
	lost := s.settle(pb, failAll(pb.b.Items, err, now), now)
	s.ev.emit(onError, ErrSynchronizationStopped.Wrap(lost,
		fmt.Sprintf("batch %d made the sender panic %d times (%v): its %d items are lost", pb.b.Seq, pb.panics, p, len(pb.b.Items))), now)
}

// maxBatchPanics is how many panics one batch (or the start) may cause
// before it is given up, so that a batch that always makes the sender panic
// cannot stop the run.
const maxBatchPanics = 3

// publish changes what the sender publishes.
func (s *sender) publish(f func(*senderStats)) {
	s.pubMu.Lock()
	f(&s.pub)
	s.pubMu.Unlock()
}

// stats returns a copy of what the sender published.
func (s *sender) stats() senderStats {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.pub
}

func (s *sender) isStarted() bool { return s.stats().started }

func (s *sender) runID() string { return s.stats().runID }

// flush asks the sender to send every item below ordinal upTo now, and
// returns the channel closed once they are acknowledged or lost; nil when
// ctx ended first or the sender has stopped.
func (s *sender) flush(ctx context.Context, upTo int64) <-chan struct{} {
	req := &request{upTo: upTo, done: make(chan struct{})}
	select {
	case s.reqs <- req: // even when ctx is done already: Wait(canceled) asks for a flush
		return req.done
	default:
	}
	select {
	case s.reqs <- req:
		return req.done
	case <-ctx.Done():
	case <-s.done:
	}
	return nil
}

// ask sends a request, even when ctx is done already (a Close with no time
// left still ends the run), and reports false when the sender has stopped.
// When ctx ends while the request waits for room, the sender abandons what
// is left.
func (s *sender) ask(ctx context.Context, req *request) bool {
	select {
	case s.reqs <- req:
		return true
	default:
	}
	select {
	case s.reqs <- req:
	case <-s.done:
		return false
	case <-ctx.Done():
		s.abort(errCloseTimeout)
	}
	return true
}

// waitFlush asks for a flush up to upTo and waits for it; it reports true
// when the items are dealt with or the sender has stopped (everything is
// then dealt with), false when ctx ended first.
func (s *sender) waitFlush(ctx context.Context, upTo int64) bool {
	if done := s.flush(ctx, upTo); done != nil {
		select {
		case <-done:
			return true
		case <-ctx.Done():
		case <-s.done:
			return true
		}
	}
	return ctx.Err() == nil
}

// close asks the sender to send everything and end the run, and waits
// until it has stopped; when ctx ends first, the sender abandons what is
// left.
func (s *sender) close(ctx context.Context) {
	if !s.ask(ctx, &request{close: true}) {
		return // stopped already
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		s.abort(errCloseTimeout)
		<-s.done
	}
}
