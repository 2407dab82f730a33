package mlerr

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
)

// maxBatchPanics is how many sender panics one batch may cause before it is
// given up as lost, so that a batch that always makes the sender panic
// cannot stop the run.
const maxBatchPanics = 3

// senderMain is the sender goroutine: it starts the run, then sends the
// queue in batches until the run stops. A panic inside it is recovered,
// reported as ErrSynchronizationStopped, and the loop starts again.
func (r *Run) senderMain() {
	defer close(r.senderDone)
	for restarts := 0; ; restarts++ {
		if r.senderLoop() {
			return
		}
		// Back off a little when panics repeat, without ever giving up.
		pause := time.Duration(min(restarts, 50)) * 100 * time.Millisecond
		if r.clock.Sleep(r.stopCtx, pause) != nil {
			return
		}
	}
}

// senderLoop runs until the run stops (true) or a panic (false).
func (r *Run) senderLoop() (stopped bool) {
	defer func() {
		if p := recover(); p != nil {
			r.senderPanicked(p, debug.Stack())
			stopped = false
		}
	}()
	if !r.isStarted() && !r.start() {
		return true
	}
	timer := time.NewTimer(r.cfg.interval)
	defer timer.Stop()
	tick := false
	for {
		r.sendReady(tick)
		if r.stopCtx.Err() != nil {
			return true
		}
		tick = false
		select {
		case <-r.wake:
		case <-timer.C:
			tick = true
			timer.Reset(r.cfg.interval)
			now := r.clock.Now() // user code (WithClock): not under mu
			r.mu.Lock()
			r.emitDue(now, false)
			r.mu.Unlock()
		case <-r.stopCtx.Done():
			return true
		}
	}
}

// senderPanicked reports a panic of the sender. The batch being sent stays
// pending, unless it has caused too many panics.
func (r *Run) senderPanicked(p any, stack []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.stats.restarts++
	err := ErrSynchronizationStopped.Errorf("the goroutine sending data panicked: %v; it was restarted", p).
		WithDetail("panic", fmt.Sprint(p)).WithDetail("stack", string(stack))
	if pb := r.cur; pb != nil {
		pb.panics++
		if pb.panics >= maxBatchPanics {
			lost := r.finishBatch(pb, failAll(pb.b.Items, err, now), now)
			r.emit(onError, ErrSynchronizationStopped.Wrap(lost,
				fmt.Sprintf("batch %d made the sender panic %d times (%v): its %d items are lost", pb.b.Seq, pb.panics, p, len(pb.b.Items))), now)
			return
		}
	}
	r.emit(onError, err, now)
}

func (r *Run) isStarted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// start asks the backend to start the run, riding out outages. It reports
// whether the run started; false means the run failed for good or is
// stopping.
func (r *Run) start() bool {
	spec := r.cfg.spec
	spec.StartTime = r.created
	for {
		info, err := Do(r.stopCtx, r.policy, func(ctx context.Context) (info RunInfo, err error) {
			defer func() { r.noteCall(err, r.clock.Now()) }()
			defer recoverBackend("StartRun", &err)
			info, err = r.backend.StartRun(ctx, spec)
			if err == nil && info.RunID == "" {
				err = Permanent(ErrInvalidRunParameters.New("the backend started a run but gave no run id"))
			}
			return info, err
		})
		now := r.clock.Now()
		if err == nil {
			r.started1(info, now)
			return true
		}
		if r.stopCtx.Err() != nil {
			r.mu.Lock()
			close(r.startDone)
			r.mu.Unlock()
			return false
		}
		if isOutage(err) {
			r.outage(err, now, "starting the run")
			if !r.pause() {
				r.mu.Lock()
				close(r.startDone)
				r.mu.Unlock()
				return false
			}
			continue
		}
		r.startFailed(err, now)
		return false
	}
}

// started1 records the started run and reports what the backend said of it.
func (r *Run) started1(info RunInfo, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runID, r.started = info.RunID, true
	r.seq = info.LastSeq
	close(r.startDone)
	r.recovered(now)
	if info.Resumed {
		r.emit(onWarning, ErrRunExists.Errorf("run %s already exists: resuming it", info.RunID).WithDetail("run_id", info.RunID), now)
	}
	for _, w := range info.Warnings {
		if w != nil {
			r.emit(onWarning, w, now)
		}
	}
	if info.ForkParentMissing {
		p := r.cfg.spec.ForkParent
		r.emit(onWarning, ErrForkParentNotFound.Errorf("the run to fork from, %s, does not exist: run %s starts without a parent", p, info.RunID).
			WithDetail("parent_run_id", p), now)
	}
	r.signal()
}

// startFailed stops a run the backend refused to start: every queued item
// is lost, and log calls fail from now on.
func (r *Run) startFailed(err error, now time.Time) {
	last := lastError(err)
	kind, what := refusal(last)
	switch {
	case kind == ErrRunNotFound && r.cfg.spec.RunID != "":
		what = "the run to resume, " + r.cfg.spec.RunID + ", does not exist"
	case kind == nil || kind == ErrRunNotFound:
		kind, what = ErrInvalidRunParameters, "the backend could not start the run"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lost := r.drainUnsent(err, now)
	var fatal error
	if lost != nil {
		fatal = wrapAs(kind, lost, last, fmt.Sprintf("%s (%v): %d queued items are lost", what, last, len(lost.Failures)))
	} else {
		fatal = wrapAs(kind, err, last, what)
	}
	r.fatal = fatal
	r.closing = true
	r.closedErr = ErrClosed.Wrap(fatal, "the run could not be started: entries are not logged")
	r.roomMade()
	close(r.startDone)
	r.emit(onError, fatal, now)
}

// drainUnsent takes every item still queued (memory and in-flight batch)
// as lost because of cause, and returns them as a BatchError (nil if none).
// Spooled items stay in the spool. Called with mu held.
func (r *Run) drainUnsent(cause error, now time.Time) *BatchError[Item] {
	var items []Item
	if pb := r.cur; pb != nil {
		if pb.fromSpool == 0 { // a batch from the spool stays in the spool
			items = append(items, pb.b.Items...)
		}
		clear(pb.b.Items)
		r.cur = nil
	}
	items = r.q.drain(items)
	if len(items) == 0 {
		return nil
	}
	r.stats.drops.Unsent += int64(len(items))
	r.addFailed(items)
	r.settle(len(items))
	r.roomMade()
	return NewBatchError(len(items), failAll(items, cause, now))
}

// sendReady sends batches while there is a full one, or anything at all
// when forced (a tick of the batching interval, Wait, Close).
func (r *Run) sendReady(force bool) {
	pb := r.nextBatch(force)
	for pb != nil && r.stopCtx.Err() == nil {
		pb = r.send(pb, force)
	}
}

// lockSender takes mu for the sender, asking the log calls to let it in
// (see lock): a tight logging loop would otherwise retake the mutex before
// the sender, starve it, and fill the queue.
func (r *Run) lockSender() {
	r.senderWaiting.Store(true)
	r.mu.Lock()
	r.senderWaiting.Store(false)
}

// lock takes mu for a log call, yielding once first when the sender waits
// for it (one yield, so that a log call's latency stays bounded).
func (r *Run) lock() {
	if r.senderWaiting.Load() {
		runtime.Gosched()
	}
	r.mu.Lock()
}

// nextBatch returns the batch to send next, or nil. Called without mu.
func (r *Run) nextBatch(force bool) *pendingBatch {
	r.lockSender()
	defer r.mu.Unlock()
	return r.nextBatchLocked(force)
}

// nextBatchLocked is nextBatch with mu held.
func (r *Run) nextBatchLocked(force bool) *pendingBatch {
	// The sender looks at the queue now: a batch that is full later needs
	// a new wake-up (the log calls send one per batch, not one per call).
	r.batchSignalled = false
	if r.cur != nil {
		return r.cur
	}
	force = force || r.closing || r.q.out+r.spoolOut < r.flushUpTo
	ready := r.q.n >= r.cfg.batchItems || r.q.bytes >= r.cfg.batchBytes
	var pb *pendingBatch
	switch {
	case r.q.n > 0 && (ready || force):
		items, _ := r.q.take(r.batchBuf[:0], r.cfg.batchItems, r.cfg.batchBytes)
		pb = &pendingBatch{b: Batch{Items: items}}
		r.roomMade()
	case r.q.n == 0 && r.spooled > 0 && !r.spoolDead:
		items, err := peekSpool(r.cfg.full.spool, r.cfg.batchItems)
		if err != nil || len(items) == 0 {
			r.spoolBroken(err)
			return nil
		}
		pb = &pendingBatch{b: Batch{Items: append(r.batchBuf[:0], items...)}, fromSpool: len(items)}
		r.spoolOut += int64(len(items))
	default:
		return nil
	}
	r.batchBuf = pb.b.Items
	r.seq++
	pb.b.RunID, pb.b.Seq = r.runID, r.seq
	r.cur = pb
	return pb
}

// spoolBroken stops using a spool that cannot be read. Its items stay in
// it; they count as unsent. Called with mu held.
func (r *Run) spoolBroken(err error) {
	if err == nil {
		err = New(CodeDataLoss, fmt.Sprintf("the spool says it holds %d items but returned none", r.spooled))
	}
	r.spoolDead = true
	now := r.clock.Now()
	r.stats.drops.Unsent += int64(r.spooled)
	r.spoolOut += int64(r.spooled)
	r.settle(r.spooled)
	r.emit(onError, ErrSynchronizationStopped.Wrap(err,
		fmt.Sprintf("the spool cannot be read: its %d items stay in it, unsent; new items are queued in memory", r.spooled)), now)
	r.spooled = 0
}

// send writes one batch, through the retry policy, riding out outages,
// until it is stored, failed for good, or the run stops. It returns the next
// batch to send, or nil.
func (r *Run) send(pb *pendingBatch, force bool) *pendingBatch {
	op := func(ctx context.Context) (err error) {
		defer func() {
			if err != nil {
				r.noteCall(err, r.clock.Now())
			}
		}()
		defer recoverBackend("WriteBatch", &err)
		pb.attempts++
		if pb.attempts > 1 {
			r.mu.Lock()
			r.stats.retries++
			r.mu.Unlock()
		}
		err = r.backend.WriteBatch(ctx, pb.b)
		if err != nil && findBatchError(err) != nil {
			// Per-item rejections are the backend's final answer on this
			// batch: retrying it (same Seq) could only be deduplicated.
			err = Permanent(err)
		}
		return err
	}
	for {
		err := Retry(r.stopCtx, r.policy, op)
		now := r.clock.Now()
		if err == nil {
			r.lockSender()
			r.stats.consecutive = 0
			r.recovered(now)
			r.finishBatch(pb, nil, now)
			next := r.nextBatchLocked(force)
			r.mu.Unlock()
			return next
		}
		if r.stopCtx.Err() != nil {
			return nil // the batch stays pending; Close or Terminate accounts for it
		}
		if isOutage(err) {
			r.outage(err, now, fmt.Sprintf("sending batch %d", pb.b.Seq))
			if !r.pause() {
				return nil
			}
			continue
		}
		r.batchFailed(pb, err, now)
		return r.nextBatch(force)
	}
}

// batchFailed reports a batch the backend refused for good.
func (r *Run) batchFailed(pb *pendingBatch, err error, now time.Time) {
	last := lastError(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(pb.b.Items)
	if be := findBatchError(last); be != nil {
		failures := make([]Failure[Item], 0, len(be.Failures))
		for _, f := range be.Failures {
			if f.Index >= 0 && f.Index < n {
				failures = append(failures, f)
			}
		}
		lost := r.finishBatch(pb, failures, now)
		if lost == nil {
			return
		}
		r.emit(onError, newError(lost.Code(), ErrInvalidValue,
			fmt.Sprintf("the backend rejected %d of the %d items of batch %d", len(lost.Failures), n, pb.b.Seq), lost), now)
		return
	}
	kind, what := refusal(last)
	switch kind {
	case ErrRunNotFound:
		what = fmt.Sprintf("run %s does not exist (any more)", pb.b.RunID)
	case nil:
		what = "the backend refused the batch"
	}
	lost := r.finishBatch(pb, failAll(pb.b.Items, err, now), now)
	r.emit(onError, wrapAs(kind, lost, last, fmt.Sprintf("%s: the %d items of batch %d are lost", what, n, pb.b.Seq)), now)
}

// finishBatch ends a batch: its items are sent but for the failures, which
// are lost. It returns the failures as a BatchError, or nil. Called with mu
// held.
func (r *Run) finishBatch(pb *pendingBatch, failures []Failure[Item], now time.Time) *BatchError[Item] {
	n := len(pb.b.Items)
	if pb.fromSpool > 0 {
		if err := ackSpool(r.cfg.full.spool, pb.fromSpool); err != nil {
			r.cfg.logger.Error("mlerr: the spool could not drop sent items; they may be sent again", "err", err)
		}
		r.spooled -= pb.fromSpool
	}
	r.stats.sent += int64(n - len(failures))
	if len(failures) < n {
		r.stats.batches++
	}
	var lost *BatchError[Item]
	if len(failures) > 0 {
		r.stats.drops.Rejected += int64(len(failures))
		lost = NewBatchError(n, failures)
		r.addFailed(lost.Failed())
	}
	r.cur = nil
	r.settle(n)
	return lost
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
func (r *Run) noteCall(err error, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.stats
	if err == nil {
		s.consecutive = 0
		return
	}
	if findBatchError(err) != nil { // the backend answered: items were refused
		s.consecutive = 0
		s.lastErr, s.lastErrTime = err, now
		return
	}
	if s.consecutive == 0 {
		s.failingSince = now
	}
	s.consecutive++
	s.lastErr, s.lastErrTime = err, now
}

// outage records that the retry policy gave up on a network error: the
// first time in a row, it reports an outage to OnNetworkError.
func (r *Run) outage(err error, now time.Time, doing string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.stats
	if s.outage {
		return
	}
	s.outage, s.outageSince = true, s.failingSince
	s.outages++
	r.emit(onNetworkError, wrapAs(ErrNetwork, err, lastError(err), fmt.Sprintf(
		"the backend is unreachable (%s); the data stays queued and the run keeps retrying", doing)), now)
}

// recovered reports the end of an outage. Called with mu held.
func (r *Run) recovered(now time.Time) {
	s := &r.stats
	if !s.outage {
		return
	}
	down := now.Sub(s.outageSince)
	s.outage = false
	r.emit(onWarning, ErrRecovered.Errorf("the backend answers again after %s down", down.Round(time.Millisecond)).
		WithDetail("down_ms", down.Milliseconds()).WithDetail("since", s.outageSince), now)
}

// pause waits between two rounds of retries during an outage, the policy's
// longest backoff delay, or less when Wait or Close asks for a flush (see
// retryNow). It reports false when the run is stopping.
func (r *Run) pause() bool {
	ctx, cancel := context.WithCancel(r.stopCtx)
	r.mu.Lock()
	if r.skipPause { // a flush was asked for since the pause was decided
		r.skipPause = false
		r.mu.Unlock()
		cancel()
		return r.stopCtx.Err() == nil
	}
	r.pauseCancel = cancel
	r.mu.Unlock()
	r.clock.Sleep(ctx, r.outagePause())
	r.mu.Lock()
	r.pauseCancel = nil
	r.mu.Unlock()
	cancel()
	return r.stopCtx.Err() == nil
}

// retryNow ends the sender's pause between two rounds of retries, if it is
// in one, so that a flush asked for by Wait or Close is tried at once.
// Called with mu held.
func (r *Run) retryNow() {
	if r.pauseCancel != nil {
		r.pauseCancel()
		return
	}
	r.skipPause = true
}

// outagePause is the wait between two rounds of retries during an outage:
// the policy's longest backoff delay.
func (r *Run) outagePause() time.Duration {
	switch d := r.policy.MaxDelay; {
	case d > 0:
		return d
	case d == 0:
		return defaultMaxDelay
	}
	if d := r.policy.InitialDelay; d > 0 {
		return d
	}
	return 0
}

// recoverBackend turns a panic of a backend call into a permanent error of
// kind ErrSynchronizationStopped carrying the panic value and stack.
func recoverBackend(call string, err *error) {
	if p := recover(); p != nil {
		*err = Permanent(ErrSynchronizationStopped.Errorf("the backend panicked in %s: %v", call, p).
			WithDetail("panic", fmt.Sprint(p)).WithDetail("stack", string(debug.Stack())))
	}
}

// lastError returns the last attempt's error of a *RetryError, else err.
func lastError(err error) error {
	var re *RetryError
	if errors.As(err, &re) && re.Last != nil {
		return re.Last
	}
	return err
}

// isOutage reports whether Retry gave up on an error worth waiting out: a
// retryable one (network, timeout, 5xx, 429) that outlived the policy.
func isOutage(err error) bool {
	var re *RetryError
	if errors.As(err, &re) {
		switch re.Reason {
		case StopExhausted, StopElapsed, StopBudget:
			return true
		}
		return false
	}
	return Classify(err).Retry
}

// isUnauthorized reports a refusal of the credentials (401, 403).
// refusal names the kind of a permanent backend error that a Run reports
// as such (a panic, refused credentials, a run that is gone) and says what
// happened; other errors give a nil kind.
func refusal(last error) (*Kind, string) {
	switch {
	case errors.Is(last, ErrSynchronizationStopped):
		return ErrSynchronizationStopped, "the backend panicked"
	case isUnauthorized(last):
		return ErrUnauthorized, "the backend refused the credentials"
	case isRunGone(last):
		return ErrRunNotFound, "the run does not exist"
	}
	return nil, ""
}

func isUnauthorized(err error) bool {
	if errors.Is(err, ErrUnauthorized) {
		return true
	}
	if e := AsError(err); e != nil {
		if s := e.HTTPStatus(); s == 401 || s == 403 {
			return true
		}
	}
	switch CodeOf(err) {
	case CodeUnauthenticated, CodePermissionDenied, CodeCustomerUnauthorized:
		return true
	}
	return false
}

// isRunGone reports a run that does not exist (404 RESOURCE_DOES_NOT_EXIST).
func isRunGone(err error) bool {
	return errors.Is(err, ErrRunNotFound) || CodeOf(err) == CodeResourceDoesNotExist
}

// wrapAs wraps err in an error of kind k that keeps what the backend said:
// the code of the last attempt's error and the HTTP status and Retry-After
// observed, so that CodeOf and HTTPStatusOf see through the wrapping. last
// is the error whose code and status are kept (the last attempt's).
func wrapAs(k *Kind, err, last error, msg string) *Error {
	code := CodeOf(last)
	if k != nil && (last == nil || code == CodeInternalError && AsError(last) == nil) {
		code = k.code
	}
	e := newError(code, k, msg, err)
	if inner := AsError(last); inner != nil {
		e = e.withObserved(inner.observedStatus(), inner.RetryAfter())
	}
	return e
}
