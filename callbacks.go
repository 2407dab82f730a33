package mlerr

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Callback receives one event of a Run: err says what happened and is always
// inspectable with errors.Is and errors.As (it carries an *Error with a kind
// and a code; when data was lost, a *BatchError[Item] of exactly the items
// lost, see LostItems), ts says when it happened.
//
// Callbacks run one at a time, in the order of the events, on a goroutine of
// the Run's own, never on the goroutine that logs: a slow callback delays
// only the callbacks after it, a panicking one is recovered and logged. A
// callback may call the Run's methods, Terminate and Close included.
type Callback func(err error, ts time.Time)

// Callbacks are the four handlers a Run reports its events to (Neptune's
// design). A nil handler logs the event through the Run's slog.Logger.
//
//	event                                                          callback
//	network failure, timeout, 5xx, 429 that outlived the retries,  OnNetworkError
//	  once per outage (the data stays queued)
//	run exists (resumed), run conflicting, fork parent missing,    OnWarning
//	  duplicate point, value truncated, connection recovered
//	unauthorized (401/403), invalid run parameters, run not        OnError
//	  found, invalid entries rejected by a Log call, items
//	  rejected by the backend, synchronization stopped (a panic)
//	queue full: how many items were dropped or how long a caller   OnQueueFull
//	  waited
//
// Repeats of one kind of event are throttled (Limits.EventBurst and EventWindow): past
// the burst, events are counted and delivered later as one event of the
// same kind and code saying how many more like it there were ("and 37 more
// like it"), whose lost items are those of all the events it stands for.
type Callbacks struct {
	// OnNetworkError is called when the backend cannot be reached even after
	// the retry policy gave up: once when an outage starts, not once per
	// batch. err wraps the *RetryError (errors.As) and is of kind ErrNetwork.
	// The data stays queued and the Run keeps retrying; OnWarning reports
	// ErrRecovered when the backend answers again.
	OnNetworkError Callback
	// OnWarning is called for events that lose nothing: ErrRunExists,
	// ErrRunConflicting, ErrForkParentNotFound, ErrDuplicatePoint,
	// ErrValueTruncated, ErrRecovered.
	OnWarning Callback
	// OnError is called for events that lose data or stop the run:
	// ErrUnauthorized, ErrInvalidRunParameters, ErrRunNotFound, entries
	// rejected by a Log call (kinds under ErrInvalidValue), items rejected by
	// the backend, ErrSynchronizationStopped, items left unsent when Close
	// timed out. LostItems(err) returns the items lost.
	OnError Callback
	// OnQueueFull is called when the queue was full, coalesced to at most one
	// call per second: err is of kind ErrQueueFull; LostItems(err) lists the
	// items dropped (the first 1000), LostCount(err) counts them, and the
	// "waited_ms" detail says how long callers waited.
	OnQueueFull Callback
}

// which names one of the four callbacks.
type which uint8

const (
	onNetworkError which = iota
	onWarning
	onError
	onQueueFull
	numCallbacks
)

func (w which) String() string {
	return [...]string{"OnNetworkError", "OnWarning", "OnError", "OnQueueFull"}[w]
}

// LostItems returns the items err says were lost: those of the first
// *BatchError[Item] in err's chain, or nil. Every data-losing event a Run
// reports carries one, with at most the first 1000 items it lost (LostCount
// has the exact number). Items of a write in flight when the run stopped
// are listed too, with the Reason "unacknowledged: ...": they may be stored.
func LostItems(err error) []Item {
	return findBatchError(err).Failed()
}

// findBatchError returns the first *BatchError[Item] in err's chain, or nil.
func findBatchError(err error) *BatchError[Item] {
	var be *BatchError[Item]
	if err != nil && errors.As(err, &be) {
		return be
	}
	return nil
}

// LostCount returns how many items the event err says were lost: its
// "lost" detail ("dropped" for OnQueueFull) when it has one (events that
// lose more than 1000 items list the first 1000 in LostItems and count them
// all there), else the number of LostItems. It is 0 for an event that lost
// nothing, such as an OnQueueFull event for a wait.
func LostCount(err error) int64 {
	var n int64
	if e := AsError(err); e != nil && (e.Detail("lost", &n) || e.Detail("dropped", &n)) {
		return n
	}
	return int64(len(LostItems(err)))
}

// KeepTraining returns callbacks that log every event through logger
// (slog.Default() when nil) and never stop anything: Neptune's strategy A,
// "never stop the training process, even at the cost of some data". Data
// losses are logged at level Error with the number of items lost, network
// outages, warnings and full queues at level Warn; a connection recovered
// after an outage is good news, logged at level Info as what it says ("the
// backend answers again after 2s down"), without an error code (the event
// still carries its kind, ErrRecovered, and code for programs).
func KeepTraining(logger *slog.Logger) Callbacks {
	if logger == nil {
		logger = slog.Default()
	}
	return Callbacks{
		OnNetworkError: logCallback(logger, slog.LevelWarn, onNetworkError),
		OnWarning:      logCallback(logger, slog.LevelWarn, onWarning),
		OnError:        logCallback(logger, slog.LevelError, onError),
		OnQueueFull:    logCallback(logger, slog.LevelWarn, onQueueFull),
	}
}

// CompleteDataOrStop returns callbacks that log every event through logger
// (slog.Default() when nil) and call stop, once, on the first event that
// loses data: any OnError event, and an OnQueueFull event that dropped
// items. Network outages (the data stays queued) and warnings are only
// logged. It is Neptune's strategy B, "ensure correct and complete data,
// even at the cost of stopping the training".
//
// stop is typically the Run's Terminate, bound with WithCallbacksFor so that
// the callbacks can reach the run they belong to; it may also cancel the
// training's context.
func CompleteDataOrStop(logger *slog.Logger, stop func()) Callbacks {
	if logger == nil {
		logger = slog.Default()
	}
	var once sync.Once
	halt := func(err error) {
		once.Do(func() {
			logger.Error("mlerr: data lost, stopping the run", "err", err)
			if stop != nil {
				stop()
			}
		})
	}
	logErr := logCallback(logger, slog.LevelError, onError)
	logFull := logCallback(logger, slog.LevelWarn, onQueueFull)
	return Callbacks{
		OnNetworkError: logCallback(logger, slog.LevelWarn, onNetworkError),
		OnWarning:      logCallback(logger, slog.LevelWarn, onWarning),
		OnError: func(err error, ts time.Time) {
			logErr(err, ts)
			halt(err)
		},
		OnQueueFull: func(err error, ts time.Time) {
			logFull(err, ts)
			if LostCount(err) > 0 {
				halt(err)
			}
		},
	}
}

// logCallback returns a callback that logs its event at level.
func logCallback(logger *slog.Logger, level slog.Level, w which) Callback {
	msg := "mlerr: " + w.String()
	return func(err error, ts time.Time) {
		if errors.Is(err, ErrRecovered) {
			logRecovered(logger, err, ts)
			return
		}
		attrs := []slog.Attr{slog.Any("err", err), slog.Time("event_time", ts)}
		if e := AsError(err); e != nil && e.Kind() != nil {
			attrs = append(attrs, slog.String("kind", e.Kind().Name()))
		}
		if lost := LostItems(err); len(lost) > 0 {
			attrs = append(attrs, slog.Int("items_lost", len(lost)))
		}
		logger.LogAttrs(context.Background(), level, msg, attrs...)
	}
}

// logRecovered logs a recovered connection as good news: at level Info, its
// message without the code ("mlerr: the backend answers again after 2s
// down"), and the kind for programs that read the log.
func logRecovered(logger *slog.Logger, err error, ts time.Time) {
	text := err.Error()
	if e := AsError(err); e != nil {
		text = e.Message()
	}
	logger.LogAttrs(context.Background(), slog.LevelInfo, "mlerr: "+text,
		slog.Time("event_time", ts), slog.String("kind", ErrRecovered.Name()))
}
