package mlerr

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The defaults of a Run's options: see Limits for the sizes and times;
// WithFullPolicy's is DropOldest(), WithRetryPolicy's DefaultPolicy(),
// WithRules' the backend's rules.
const (
	defaultQueueItems    = 100_000
	defaultQueueBytes    = 64 << 20
	defaultBatchItems    = 1000
	defaultBatchBytes    = 1 << 20
	defaultBatchInterval = time.Second
	defaultCloseTimeout  = 30 * time.Second
	defaultEventQueue    = 1024
	defaultEventBurst    = 10
	defaultEventWindow   = 10 * time.Second
	// defaultInFlight and maxInFlight (window.go) bound Limits.InFlight.
	// queueFullInterval is the least time between two OnQueueFull calls;
	// the drops and waits in between are added up.
	queueFullInterval = time.Second
)

// RunOption configures a Run (see NewRun). An option given an invalid value
// makes NewRun fail with an error of kind ErrInvalidRunParameters naming it.
type RunOption func(*runConfig) error

// runConfig is what the options set.
type runConfig struct {
	spec RunSpec

	cbs    Callbacks
	cbsFor func(*Run) Callbacks

	policy Policy

	maxItems, maxBytes int
	full               FullPolicy

	batchItems, batchBytes int
	interval               time.Duration
	inFlight               int

	logger       *slog.Logger
	ruleChanges  []func(*Rules)
	rules        Rules // the backend's, changed by ruleChanges, with the limits set (by apply)
	closeTimeout time.Duration
	clock        Clock

	eventQueue  int
	eventBurst  int
	eventWindow time.Duration
}

func defaultConfig() runConfig {
	return runConfig{
		policy:       DefaultPolicy(),
		maxItems:     defaultQueueItems,
		maxBytes:     defaultQueueBytes,
		full:         DropOldest(),
		batchItems:   defaultBatchItems,
		batchBytes:   defaultBatchBytes,
		interval:     defaultBatchInterval,
		inFlight:     defaultInFlight,
		closeTimeout: defaultCloseTimeout,
		eventQueue:   defaultEventQueue,
		eventBurst:   defaultEventBurst,
		eventWindow:  defaultEventWindow,
	}
}

// optionError returns the error of an option given a bad value.
func optionError(option, format string, args ...any) error {
	return ErrInvalidRunParameters.Errorf("%s: %s", option, fmt.Sprintf(format, args...)).
		WithDetail("option", option)
}

// runIDPattern is MLflow's rule for run ids.
var runIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,255}$`)

// WithRunID resumes the run with this id, or creates it with this id when
// the backend allows choosing ids. When the run exists, OnWarning receives
// an error of kind ErrRunExists and logging continues into it. The id must
// match MLflow's rule: a letter or digit, then up to 255 letters, digits,
// "_" or "-".
func WithRunID(id string) RunOption {
	return func(c *runConfig) error {
		if !runIDPattern.MatchString(id) {
			return optionError("WithRunID", "run id %q is not a letter or digit followed by up to 255 letters, digits, '_' or '-'", shorten(id))
		}
		c.spec.RunID = id
		return nil
	}
}

// WithRunName sets the run's display name (at most 250 characters).
func WithRunName(name string) RunOption {
	return func(c *runConfig) error {
		if name == "" || tooLong(name, maxKeyLength) {
			return optionError("WithRunName", "the name must have 1 to %d characters", maxKeyLength)
		}
		c.spec.Name = name
		return nil
	}
}

// WithExperiment puts the run in the experiment of this name (at most 500
// characters), which the backend creates when needed. Without it the
// backend's default experiment is used.
func WithExperiment(name string) RunOption {
	return func(c *runConfig) error {
		if name == "" || tooLong(name, 500) {
			return optionError("WithExperiment", "the experiment name must have 1 to 500 characters")
		}
		c.spec.Experiment = name
		return nil
	}
}

// WithFork starts the run as a fork of the run parentID from its step step
// on. When the parent does not exist the run starts without it and
// OnWarning receives an error of kind ErrForkParentNotFound.
func WithFork(parentID string, step int64) RunOption {
	return func(c *runConfig) error {
		if !runIDPattern.MatchString(parentID) {
			return optionError("WithFork", "parent run id %q is not a valid run id", shorten(parentID))
		}
		if step < 0 {
			return optionError("WithFork", "the fork step must not be negative, got %d", step)
		}
		c.spec.ForkParent, c.spec.ForkStep = parentID, step
		return nil
	}
}

// WithTags sets tags on the run when it is created. Keys and values follow
// the rules of SetTags (checked in NewRun, against the run's rules).
func WithTags(tags map[string]string) RunOption {
	return func(c *runConfig) error {
		if c.spec.Tags == nil {
			c.spec.Tags = make(map[string]string, len(tags))
		}
		for k, v := range tags {
			c.spec.Tags[k] = v
		}
		return nil
	}
}

// checkTags returns the error naming the tags of WithTags that break the
// rules, or nil.
func (c *runConfig) checkTags() error {
	var bad []string
	for k, v := range c.spec.Tags {
		if why := keyProblem(k, c.rules.MaxKeyLength); why != "" {
			bad = append(bad, fmt.Sprintf("%s: %s", quoteKey(k), why))
		} else if tooLong(v, c.rules.MaxTagLength) {
			bad = append(bad, fmt.Sprintf("%s: the value is longer than %d characters", quoteKey(k), c.rules.MaxTagLength))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return optionError("WithTags", "%s", strings.Join(bad, "; "))
}

// WithCallbacks sets the callbacks the run reports its events to; nil
// handlers log through the run's logger. See Callbacks for what goes where.
func WithCallbacks(cbs Callbacks) RunOption {
	return func(c *runConfig) error {
		c.cbs, c.cbsFor = cbs, nil
		return nil
	}
}

// WithCallbacksFor sets callbacks that need the run they belong to, such as
// CompleteDataOrStop(logger, r.Terminate): NewRun calls f with the new run
// before any event can happen.
func WithCallbacksFor(f func(r *Run) Callbacks) RunOption {
	return func(c *runConfig) error {
		if f == nil {
			return optionError("WithCallbacksFor", "the function is nil")
		}
		c.cbsFor = f
		return nil
	}
}

// WithRetryPolicy sets how each write to the backend is retried (default
// DefaultPolicy()). When the policy gives up on a network error the run
// reports an outage to OnNetworkError and keeps the data queued, trying
// again after the policy's MaxDelay; the policy's Clock, when nil, is the
// run's (WithClock).
func WithRetryPolicy(p Policy) RunOption {
	return func(c *runConfig) error {
		if why := policyProblem(&p); why != "" {
			return optionError("WithRetryPolicy", "%s", why)
		}
		c.policy = p
		return nil
	}
}

// policyProblem says why a Run cannot use p, or "".
func policyProblem(p *Policy) string {
	for _, d := range []time.Duration{p.InitialDelay, p.MaxDelay, p.MaxElapsed, p.AttemptTimeout, p.MaxRetryAfter} {
		if d < Off {
			return "durations must be positive, 0 (default) or Off"
		}
	}
	if p.Multiplier < 0 || p.Multiplier != p.Multiplier {
		return fmt.Sprintf("the multiplier must be 0 (default) or positive, got %v", p.Multiplier)
	}
	return ""
}

// WithFullPolicy says what a log call does when the queue is full: Block,
// DropOldest (the default), DropNewest or Spill.
func WithFullPolicy(p FullPolicy) RunOption {
	return func(c *runConfig) error {
		if why := p.problem(); why != "" {
			return optionError("WithFullPolicy", "%s", why)
		}
		c.full = p
		return nil
	}
}

// WithLogger sets the logger of the default callbacks and of the run's own
// messages (a panicking callback, say); nil means slog.Default().
func WithLogger(l *slog.Logger) RunOption {
	return func(c *runConfig) error {
		c.logger = l
		return nil
	}
}

// WithClock sets the clock that stamps points, measures outages and
// throttling windows, and (unless the retry policy has its own) times the
// retries. Tests pass a fake one. The default is the system clock, read as
// the monotonic clock's progress since a wall-clock reading at most a
// second old (a clock read less per log call; it sees a wall clock step
// within a second).
func WithClock(clock Clock) RunOption {
	return func(c *runConfig) error {
		if clock == nil {
			return optionError("WithClock", "the clock is nil")
		}
		c.clock = clock
		return nil
	}
}

// Limits are the sizes and times a Run works within, set with WithLimits.
// A zero field keeps the default (or the value a previous WithLimits set);
// a value that makes no sense (a negative size, a batch larger than the
// queue) makes NewRun fail with an error of kind ErrInvalidRunParameters
// naming the field.
type Limits struct {
	// QueueItems and QueueBytes bound the items waiting to be sent (default
	// 100,000 items, 64 MiB; an item weighs its key and text lengths plus 64
	// bytes). The memory a run holds stays below them plus one batch,
	// however long the backend is down; what happens to items that do not
	// fit is the full policy's choice (WithFullPolicy).
	QueueItems, QueueBytes int
	// BatchItems and BatchBytes bound each batch sent (default 1000 items,
	// MLflow's log-batch limit, and 1 MiB); BatchInterval is the longest a
	// queued item waits for its batch to fill (default 1 s). Wait and Close
	// send what is queued at once.
	BatchItems, BatchBytes int
	BatchInterval          time.Duration
	// CloseTimeout bounds Close when its context has no earlier deadline
	// (default 30 s), so that a dead server never hangs the program's exit.
	CloseTimeout time.Duration
	// EventQueue is how many events may wait for the callbacks (default
	// 1024): past it, events are counted and the callback concerned is told
	// how many it missed.
	EventQueue int
	// EventBurst events of one kind (same callback, kind and code) reach the
	// callbacks per EventWindow (default 10 per 10 s); the others are counted
	// and delivered as one summary event at the end of the window (see
	// Callbacks). A negative EventBurst turns throttling off.
	EventBurst  int
	EventWindow time.Duration
	// InFlight is how many batches may be in flight at once (default 1, at
	// most 64), each written by a goroutine of its own. Exactly-once holds
	// per batch (Batch.Seq, fixed time stamps); what the backend's
	// semantics depend on keeps its order: two batches writing one tag or
	// param key are never in flight together, nor two first writes of one
	// metric key, artifacts go alone and in
	// order with the run's other data, a replay from the spool goes one
	// batch at a time; metric points may be stored out of order (MLflow
	// orders a metric's history by step and time stamp). A 429 or 503
	// answer halves the window for every run sharing the retry policy's
	// Budget; acknowledged writes raise it again (see Budget and
	// Health.InFlightWindow).
	InFlight int
}

// WithLimits sets the sizes and times the run works within: the non-zero
// fields of l (see Limits).
func WithLimits(l Limits) RunOption {
	return func(c *runConfig) error {
		var bad []string
		for _, f := range []struct {
			name string
			n    int64
			dst  func()
		}{
			{"QueueItems", int64(l.QueueItems), func() { c.maxItems = l.QueueItems }},
			{"QueueBytes", int64(l.QueueBytes), func() { c.maxBytes = l.QueueBytes }},
			{"BatchItems", int64(l.BatchItems), func() { c.batchItems = l.BatchItems }},
			{"BatchBytes", int64(l.BatchBytes), func() { c.batchBytes = l.BatchBytes }},
			{"BatchInterval", int64(l.BatchInterval), func() { c.interval = l.BatchInterval }},
			{"CloseTimeout", int64(l.CloseTimeout), func() { c.closeTimeout = l.CloseTimeout }},
			{"EventQueue", int64(l.EventQueue), func() { c.eventQueue = l.EventQueue }},
			{"EventWindow", int64(l.EventWindow), func() { c.eventWindow = l.EventWindow }},
			{"InFlight", int64(l.InFlight), func() { c.inFlight = l.InFlight }},
		} {
			switch {
			case f.n < 0:
				bad = append(bad, fmt.Sprintf("%s must not be negative, got %d", f.name, f.n))
			case f.n > 0:
				f.dst()
			}
		}
		c.setEventBurst(l.EventBurst)
		if l.InFlight > maxInFlight {
			bad = append(bad, fmt.Sprintf("InFlight must be at most %d, got %d", maxInFlight, l.InFlight))
			c.inFlight = defaultInFlight
		}
		if len(bad) > 0 {
			return optionError("WithLimits", "%s", strings.Join(bad, "; "))
		}
		return nil
	}
}

// apply runs the options and checks them together, with base the
// backend's rules. It returns one error of kind ErrInvalidRunParameters
// naming every bad option.
func (c *runConfig) apply(opts []RunOption, base Rules) error {
	var errs []error
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			errs = append(errs, err)
		}
	}
	return joinOptionErrors(append(errs, c.checkTogether(base)...))
}

// setEventBurst sets the throttle's burst: a negative one turns throttling
// off, 0 keeps it.
func (c *runConfig) setEventBurst(n int) {
	switch {
	case n < 0:
		c.eventBurst = 0 // no throttling
	case n > 0:
		c.eventBurst = n
	}
}

// checkTogether checks what the options set together, and sets the rules:
// base changed by WithRules, with their limits.
func (c *runConfig) checkTogether(base Rules) []error {
	var errs []error
	if c.batchItems > c.maxItems {
		errs = append(errs, optionError("WithLimits", "a batch of %d items (BatchItems) does not fit in a queue of %d items (QueueItems)", c.batchItems, c.maxItems))
	}
	c.rules = base
	for _, f := range c.ruleChanges {
		f(&c.rules)
	}
	if err := c.rules.check(base.withLimits()); err != nil {
		errs = append(errs, err)
	}
	c.rules = c.rules.withLimits()
	if err := c.checkTags(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// joinOptionErrors returns nil, the one error, or one error of kind
// ErrInvalidRunParameters naming every bad option ("options" detail).
func joinOptionErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	names := make([]string, 0, len(errs))
	msgs := make([]string, 0, len(errs))
	for _, err := range errs {
		e := AsError(err)
		var name string
		e.Detail("option", &name)
		names = append(names, name)
		msgs = append(msgs, e.Message())
	}
	return ErrInvalidRunParameters.Errorf("%d invalid options: %s", len(errs), strings.Join(msgs, "; ")).
		WithDetail("options", names)
}
