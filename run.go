package mlerr

import (
	"context"
	"log/slog"
	"sync"
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
//
// Inside, a Run is four parts, each the owner of its state (docs/DESIGN.md
// tells the whole story): the log side admits entries (validation and
// per-key state), the outbox holds them under the full policy, the sender
// (one goroutine) owns the backend and everything about sending, and the
// events reach the callbacks through a throttle and a dispatcher (another
// goroutine).
type Run struct {
	backend Backend
	cfg     runConfig
	clock   Clock
	ctx     context.Context // NewRun's context without its cancellation: values for backend calls
	created time.Time

	log     logSide
	out     *outbox
	snd     *sender
	ev      *events
	staging stagingArea // copies of the files logged as artifacts

	finalOnce sync.Once
	report    Report
	closeErr  error
}

// NewRun starts a run on backend and returns at once: the backend is asked
// to start (or resume, see WithRunID) the run in the background, and
// entries logged meanwhile are queued. Use Started to wait for the start,
// ID for the run's id. A nil context or backend, and invalid options, make
// NewRun fail with an error of kind ErrInvalidRunParameters naming them;
// what happens later goes to the callbacks (WithCallbacks).
//
// ctx's values reach every backend call; its cancellation does not: a run
// lives until Close or Terminate.
func NewRun(ctx context.Context, backend Backend, opts ...RunOption) (*Run, error) {
	if ctx == nil {
		return nil, ErrInvalidRunParameters.New("NewRun: the context is nil (use context.Background())").WithDetail("option", "ctx")
	}
	if backend == nil {
		return nil, ErrInvalidRunParameters.New("NewRun: the backend is nil").WithDetail("option", "backend")
	}
	cfg, err := configure(backend, opts)
	if err != nil {
		return nil, err
	}
	r := &Run{
		backend: backend,
		cfg:     cfg,
		clock:   cfg.clock,
		ctx:     context.WithoutCancel(ctx),
	}
	r.created = r.clock.Now()
	cbs := cfg.cbs
	if cfg.cbsFor != nil {
		cbs = cfg.cbsFor(r)
	}
	r.ev = newEvents(&r.cfg, cbs, r.clock)
	wake := make(chan struct{}, 1)
	r.out = newOutbox(&r.cfg, wake, r.ev)
	r.out.dropStaged = func(it Item) { r.staging.remove(&it) }
	r.log.adm = newAdmitter(r.cfg.rules)
	r.log.call.log, r.log.call.ev = &r.log, r.ev
	r.snd = newSender(r, wake)
	go r.ev.disp.run()
	go r.snd.main()
	return r, nil
}

// configure applies the options over the defaults, with the backend's
// rules (MLflow's, the zero Rules, when it declares none).
func configure(backend Backend, opts []RunOption) (runConfig, error) {
	var rules Rules
	if rb, ok := backend.(RulesBackend); ok {
		rules = rb.Rules()
	}
	cfg := defaultConfig()
	if err := cfg.apply(opts, rules); err != nil {
		return cfg, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.clock == nil {
		cfg.clock = newMonoClock()
	}
	return cfg, nil
}

// ID returns the run's id in the backend, or "" until the backend has
// started the run (see Started).
func (r *Run) ID() string { return r.snd.runID() }

// Started waits until the backend has started the run and returns nil, or
// returns why it could not (the error also went to OnError), or ctx's error.
// During an outage the run keeps trying to start; entries stay queued.
func (r *Run) Started(ctx context.Context) error {
	select {
	case <-r.snd.startDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	st := r.snd.stats()
	switch {
	case st.started:
		return nil
	case st.fatal != nil:
		return st.fatal
	}
	return r.out.closedError()
}

// Wait waits until every entry logged before the call has been
// acknowledged by the backend or has failed for good (failures go to
// OnError), sending partial batches at once and cutting short any wait
// between two attempts. It returns nil then (at once once the run has
// stopped: everything is dealt with), or ctx's error, with the number of
// items still pending, when ctx ends first.
func (r *Run) Wait(ctx context.Context) error {
	upTo := r.out.tail()
	if r.snd.waitFlush(ctx, upTo) {
		return nil
	}
	pending := max(0, upTo-r.snd.stats().watermark)
	return Errorf(CodeOf(ctx.Err()), "%d items not yet acknowledged by the backend: %w", pending, ctx.Err())
}

// Health returns a snapshot of the run's synchronisation.
func (r *Run) Health() Health {
	s := r.snd.stats()
	o := r.out.stats()
	closed := r.out.closedFast() != nil
	return Health{
		Healthy:               !closed && s.fatal == nil && s.consecutive == 0 && !s.outage,
		Started:               s.started,
		RunID:                 s.runID,
		Closed:                closed,
		Logged:                o.logged,
		Invalid:               r.log.invalid.Load(),
		Queued:                o.queued,
		QueuedBytes:           o.queuedBytes,
		Spooled:               o.spooled,
		InFlight:              s.inFlight,
		InFlightWindow:        r.snd.limit(),
		Sent:                  s.sent,
		Retries:               s.retries,
		Dropped:               Drops{QueueFull: o.queueFull, Rejected: s.rejected, Unsent: s.unsent, SpillFailed: o.spillFailed},
		LastError:             s.lastErr,
		LastErrorTime:         s.lastErrTime,
		ConsecutiveFailures:   s.consecutive,
		Outage:                s.outage,
		OutageSince:           s.outageSince,
		SenderRestarts:        s.restarts,
		CallbackEventsDropped: r.ev.disp.dropped.Load(),
	}
}
