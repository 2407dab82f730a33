package mlerr

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Run is one training run being logged to a Backend: the object training
// code talks to. Its log calls validate their entries, queue them and
// return at once; a goroutine of the run sends the queue to the backend in
// batches, through the retry policy, and another one reports every event to
// the Callbacks. Nothing a log call does waits for the network.
//
// All methods are safe for concurrent use. A Run must be ended with Close
// (or Terminate then Close), which stops its goroutines.
type Run struct {
	backend Backend
	cfg     runConfig
	clock   Clock
	policy  Policy
	ctx     context.Context // NewRun's context without its cancellation: values for backend calls
	created time.Time
	disp    *dispatcher

	wake       chan struct{} // cap 1: tells the sender a batch is ready or a flush is wanted
	stopCtx    context.Context
	stopSender context.CancelFunc // cancels the sender's backend calls and sleeps
	senderDone chan struct{}      // closed when the sender goroutine has returned
	startDone  chan struct{}      // closed when the run started or failed to start

	senderWaiting atomic.Bool // the sender waits for mu: log calls yield to it

	mu        sync.Mutex // guards everything below
	keys      map[string]*keyState
	kcache    keyCache
	sole      soleKeys
	q         queue
	spillBuf  []Item // entries of the current call going to the spool
	spooled   int    // items in the spool
	spoolDead bool   // the spool failed to read: no more spilling or draining

	closing   bool  // Close or Terminate called, or the start failed: log calls fail
	killed    bool  // Terminate called
	closedErr error // what log calls return once closing
	fatal     error // why the run could not start, or nil
	runID     string
	started   bool

	cur            *pendingBatch      // the batch being sent, kept across sender restarts
	batchSignalled bool               // a log call woke the sender for a full batch since it last looked at the queue
	pauseCancel    context.CancelFunc // ends the sender's pause in an outage
	skipPause      bool               // a flush was asked for outside a pause: skip the next one
	batchBuf       []Item             // reused for each batch's items
	seq            uint64

	accepted, settled int64         // items queued; items sent, failed or dropped after queueing
	settleCh          chan struct{} // closed when settled grows, made by waiters
	spaceCh           chan struct{} // closed when the queue has room, made by Block waiters
	spoolOut          int64         // items that left the spool (taken or given up)
	flushUpTo         int64         // Wait and Close want the items before this sent now

	thr        throttle
	evClosed   bool // the dispatcher's channel is closed
	fullDrops  int64
	fullWaited time.Duration
	fullLast   time.Time // last OnQueueFull call

	stats       runStats
	failedItems []Item

	finalStarted bool
	finalDone    chan struct{}
	report       Report
	closeErr     error
}

// runStats are the counters behind Health and Report.
type runStats struct {
	sent, batches, retries, duplicates, outages int64
	drops                                       Drops
	lastErr                                     error
	lastErrTime                                 time.Time
	consecutive                                 int
	outage                                      bool
	outageSince                                 time.Time
	failingSince                                time.Time
	restarts                                    int64
}

// pendingBatch is a batch on its way to the backend.
type pendingBatch struct {
	b         Batch
	fromSpool int // items of it to Ack in the spool once done
	attempts  int // WriteBatch calls made for it
	panics    int // sender panics while sending it
}

// keyState is what the run remembers of one key, to validate the next
// entries: the kinds it was used as, the metric's latest point, the param's
// value, the tag's latest value.
type keyState struct {
	key    string // the run's own copy, shared by every queued item
	kinds  uint8  // bit 1<<ItemKind per kind used
	point  bool   // the metric has a latest point
	step   int64
	value  float64
	tsNano int64
	param  string
	tag    string
}

// NewRun starts a run on backend and returns at once: the backend is asked
// to start (or resume, see WithRunID) the run in the background, and
// entries logged meanwhile are queued. Use Started to wait for the start,
// ID for the run's id. Invalid options make NewRun fail with an error of
// kind ErrInvalidRunParameters naming them; what happens later goes to the
// callbacks (WithCallbacks).
//
// ctx's values reach every backend call; its cancellation does not: a run
// lives until Close or Terminate.
func NewRun(ctx context.Context, backend Backend, opts ...RunOption) (*Run, error) {
	if backend == nil {
		return nil, ErrInvalidRunParameters.New("NewRun: the backend is nil").WithDetail("option", "backend")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.clock == nil {
		cfg.clock = newMonoClock()
	}
	r := &Run{
		backend:    backend,
		cfg:        cfg,
		clock:      cfg.clock,
		policy:     cfg.policy,
		ctx:        context.WithoutCancel(ctx),
		wake:       make(chan struct{}, 1),
		senderDone: make(chan struct{}),
		startDone:  make(chan struct{}),
		finalDone:  make(chan struct{}),
		keys:       make(map[string]*keyState),
		q:          queue{maxItems: cfg.maxItems, maxBytes: cfg.maxBytes},
		thr:        throttle{burst: cfg.eventBurst, window: cfg.eventWindow},
	}
	if r.policy.Clock == nil {
		r.policy.Clock = r.clock
	}
	r.created = r.clock.Now()
	r.stopCtx, r.stopSender = context.WithCancel(r.ctx)
	r.closedErr = ErrClosed.New("the run is closed: entries are no longer logged")
	if cfg.full.mode == fullSpill {
		r.spooled = cfg.full.spool.Len()
		r.accepted = int64(r.spooled)
	}
	cbs := cfg.cbs
	if cfg.cbsFor != nil {
		cbs = cfg.cbsFor(r)
	}
	r.disp = newDispatcher(cbs, cfg.eventQueue, cfg.logger, r.clock)
	go r.disp.run()
	go r.senderMain()
	return r, nil
}

// ID returns the run's id in the backend, or "" until the backend has
// started the run (see Started).
func (r *Run) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runID
}

// Started waits until the backend has started the run and returns nil, or
// returns why it could not (the error also went to OnError), or ctx's error.
// During an outage the run keeps trying to start; entries stay queued.
func (r *Run) Started(ctx context.Context) error {
	select {
	case <-r.startDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	if r.fatal != nil {
		return r.fatal
	}
	return r.closedErr
}

// signal wakes the sender without blocking.
func (r *Run) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// settle records n queued items leaving the pipeline (sent, failed or
// dropped) and wakes Wait callers. Called with mu held.
func (r *Run) settle(n int) {
	r.settled += int64(n)
	if r.settleCh != nil {
		close(r.settleCh)
		r.settleCh = nil
	}
}

// roomMade wakes callers blocked on a full queue. Called with mu held.
func (r *Run) roomMade() {
	if r.spaceCh != nil {
		close(r.spaceCh)
		r.spaceCh = nil
	}
}

// waitSettled waits until target items have settled, ctx is done or the
// sender has stopped. It reports whether target was reached.
func (r *Run) waitSettled(ctx context.Context, target int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.settled < target {
		if r.settleCh == nil {
			r.settleCh = make(chan struct{})
		}
		ch := r.settleCh
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			r.mu.Lock()
			return r.settled >= target
		case <-r.senderDone:
			r.mu.Lock()
			return r.settled >= target
		}
		r.mu.Lock()
	}
	return true
}

// Wait waits until every entry logged before the call has been
// acknowledged by the backend or has failed for good (failures go to
// OnError), sending partial batches at once. It returns nil then, ctx's
// error (with the number of items still pending) when ctx ends first, and
// an error of kind ErrClosed when the run stopped before.
func (r *Run) Wait(ctx context.Context) error {
	r.mu.Lock()
	target := r.accepted
	r.flushUpTo = max(r.flushUpTo, target)
	r.retryNow()
	r.mu.Unlock()
	r.signal()
	ok := r.waitSettled(ctx, target)
	r.mu.Lock()
	pending := target - r.settled
	closedErr := r.closedErr
	r.mu.Unlock()
	switch {
	case ok:
		return nil
	case ctx.Err() != nil:
		return Errorf(CodeOf(ctx.Err()), "%d items not yet acknowledged by the backend: %w", pending, ctx.Err())
	}
	return closedErr
}

// Health returns a snapshot of the run's synchronisation.
func (r *Run) Health() Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.stats
	inflight := 0
	if r.cur != nil {
		inflight = len(r.cur.b.Items)
	}
	return Health{
		Healthy:               !r.closing && r.fatal == nil && s.consecutive == 0 && !s.outage,
		Started:               r.started,
		RunID:                 r.runID,
		Closed:                r.closing,
		Queued:                r.q.n,
		QueuedBytes:           r.q.bytes,
		Spooled:               r.spooled,
		InFlight:              inflight,
		Sent:                  s.sent,
		Retries:               s.retries,
		Dropped:               s.drops,
		LastError:             s.lastErr,
		LastErrorTime:         s.lastErrTime,
		ConsecutiveFailures:   s.consecutive,
		Outage:                s.outage,
		OutageSince:           s.outageSince,
		SenderRestarts:        s.restarts,
		CallbackEventsDropped: r.disp.dropped.Load(),
	}
}

// emit reports an event to a callback through the throttle. Called with mu
// held.
func (r *Run) emit(to which, err error, now time.Time) {
	if r.evClosed {
		r.cfg.logger.Warn("mlerr: event after the run closed", "callback", to.String(), "err", err)
		return
	}
	if to != onQueueFull {
		deliver, summary := r.thr.admit(to, err, now)
		if summary != nil {
			r.disp.post(to, summary, now)
		}
		if !deliver {
			return
		}
	}
	r.disp.post(to, err, now)
}

// emitDue delivers the throttle summaries and the queue-full report that
// are due (all of them when all is true). Called with mu held.
func (r *Run) emitDue(now time.Time, all bool) {
	if r.evClosed {
		return
	}
	for _, ev := range r.thr.due(now, all) {
		r.disp.post(ev.to, ev.err, ev.ts)
	}
	if (r.fullDrops > 0 || r.fullWaited > 0) && (all || now.Sub(r.fullLast) >= QueueFullInterval) {
		r.emitQueueFull(now)
	}
}
