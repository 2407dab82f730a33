package mlerr

import (
	"strings"
	"time"
)

// admitter decides, entry by entry, what a log call does with what it was
// given: it validates each entry against the run's rules and the key's
// history and remembers, per key, what the next entries are checked
// against. It is pure state and logic: no I/O, no clock, no knowledge of
// queues or batches. It is not safe for concurrent use; the Run's log side
// guards it with its mutex, so that entries are admitted in the order they
// are queued.
type admitter struct {
	keys  map[string]*keyState
	rules Rules
}

// keyState is what the run remembers of one key: the kinds it was used as,
// the metric's latest point, the param's value, the tag's latest value.
type keyState struct {
	key    string // the run's own copy, shared by every queued item
	kinds  uint8  // bit 1<<ItemKind per kind used, and paramSet, tagSet
	point  bool   // the metric has a latest point
	step   int64
	value  float64
	tsNano int64
	param  string
	tag    string
}

// Flags of keyState.kinds beside the bits of the kinds used.
const (
	paramSet uint8 = 1 << 6 // the param's value is known
	tagSet   uint8 = 1 << 7 // the tag's latest value is known
)

// verdict is what the admitter decided for one entry.
type verdict uint8

const (
	// admitted: queue the entry.
	admitted verdict = iota
	// unchanged: the entry changes nothing (a param or tag set again to its
	// value): not queued, no event.
	unchanged
	// identical: the point is its metric's latest point again (key, value,
	// time and step): not queued, counted as a duplicate, no event.
	identical
	// duplicate: the point equals its metric's latest point: not queued,
	// reported to OnWarning as ErrDuplicatePoint.
	duplicate
	// truncated: the value was cut to the limit: queue the entry, report
	// ErrValueTruncated to OnWarning.
	truncated
	// rejected: the entry is invalid: not queued, the call fails.
	rejected
)

func newAdmitter(rules Rules) *admitter {
	return &admitter{keys: make(map[string]*keyState), rules: rules}
}

// state returns the state of key for an entry of kind, creating it for a
// new valid key, or the error that rejects the entry.
func (a *admitter) state(key string, kind ItemKind) (*keyState, *Error) {
	ks := a.keys[key]
	if ks == nil {
		var bad *Error
		if ks, bad = a.newKey(key, kind); bad != nil {
			return nil, bad
		}
	}
	bit := uint8(1) << kind
	if ks.kinds&bit == 0 {
		if a.rules.OneNamespace && ks.kinds&^(paramSet|tagSet) != 0 {
			return nil, ErrTypeMismatch.Errorf("%s key %s: the key is already used as a %s", kind, quoteKey(key), ks.firstKind())
		}
		ks.kinds |= bit
	}
	return ks, nil
}

// newKey makes the state of a key seen for the first time, or returns why
// the key is invalid.
func (a *admitter) newKey(key string, kind ItemKind) (*keyState, *Error) {
	if why := keyProblem(key, a.rules.MaxKeyLength); why != "" {
		return nil, ErrInvalidName.Errorf("%s key %s: %s", kind, quoteKey(key), why)
	}
	ks := &keyState{key: strings.Clone(key)}
	a.keys[ks.key] = ks
	return ks, nil
}

// firstKind names a kind the key was used as.
func (ks *keyState) firstKind() ItemKind {
	for k := ItemMetric; k <= ItemTag; k++ {
		if ks.kinds&(1<<k) != 0 {
			return k
		}
	}
	return 0
}

// metric decides for a point of key. ks is the key's state when the caller
// has it at hand (nil otherwise); the state is returned for the caller to
// keep. The point's timestamp is tsNano (Unix nanoseconds). A rejected
// point comes with its error, a duplicate with its warning. It allocates
// only for a new key or a rejection.
func (a *admitter) metric(ks *keyState, key string, step int64, v float64, tsNano int64) (*keyState, verdict, *Error) {
	if ks == nil || ks.kinds&(1<<ItemMetric) == 0 {
		var bad *Error
		if ks, bad = a.state(key, ItemMetric); bad != nil {
			return nil, rejected, bad
		}
	}
	if a.rules.RejectNonFinite && !finite(v) {
		return ks, rejected, ErrNonFiniteValue.Errorf("metric %s: value %v is not finite (the rules reject NaN and ±Inf)", quoteKey(key), v)
	}
	if ks.point {
		if verdict, e := a.follows(ks, key, step, v, tsNano); verdict != admitted {
			return ks, verdict, e
		}
	}
	ks.point, ks.step, ks.value, ks.tsNano = true, step, v, tsNano
	return ks, admitted, nil
}

// advance admits at once the point of a metric whose latest point it
// follows in the common way, the state of a training loop's key: a metric
// key with a latest point (ks; only metric sets one), a higher step, a
// value the rules take. It reports false, having changed nothing,
// otherwise: metric then decides. It is metric's verdict for these points
// (follows admits any higher step), without its calls.
func (a *admitter) advance(ks *keyState, step int64, v float64, tsNano int64) bool {
	if !ks.point || step <= ks.step || a.rules.RejectNonFinite && !finite(v) {
		return false
	}
	ks.step, ks.value, ks.tsNano = step, v, tsNano
	return true
}

// follows decides for a point of a metric that has a latest point, by
// their steps, values and times.
func (a *admitter) follows(ks *keyState, key string, step int64, v float64, tsNano int64) (verdict, *Error) {
	switch {
	case step < ks.step && a.rules.RejectLowerStep:
		return rejected, ErrStepNotIncreasing.Errorf("metric %s: step %d is lower than its latest step %d", quoteKey(key), step, ks.step)
	case step != ks.step:
		return admitted, nil
	case sameValue(v, ks.value):
		return a.repeats(ks, key, step, v, tsNano)
	case tsNano < ks.tsNano && a.rules.RejectEarlierTime:
		return rejected, ErrTimestampDecreasing.Errorf("metric %s: timestamp %s is before the latest point's %s at step %d",
			quoteKey(key), formatNano(tsNano), formatNano(ks.tsNano), step)
	}
	return admitted, nil
}

// repeats decides for a point with its metric's latest step and value.
func (a *admitter) repeats(ks *keyState, key string, step int64, v float64, tsNano int64) (verdict, *Error) {
	switch {
	case a.rules.SkipRepeatedPoint:
		return duplicate, ErrDuplicatePoint.Errorf("metric %s: the point (step %d, value %v) equals the latest one; not sent again", quoteKey(key), step, v).
			WithDetail("key", ks.key).WithDetail("step", step)
	case tsNano == ks.tsNano:
		return identical, nil
	}
	return admitted, nil
}

// text decides for a param or tag. It returns the value to queue (the run's
// copy, possibly truncated) with the verdict; a truncation comes with its
// warning, a rejection with its error.
func (a *admitter) text(kind ItemKind, key, value string) (*keyState, string, verdict, *Error) {
	ks, bad := a.state(key, kind)
	if bad != nil {
		return nil, "", rejected, bad
	}
	value, v, e := a.fit(kind, key, value)
	if v == rejected {
		return ks, "", rejected, e
	}
	if kind == ItemParam {
		return a.param(ks, key, value, v, e)
	}
	if ks.kinds&tagSet != 0 && ks.tag == value {
		return ks, "", unchanged, nil
	}
	ks.tag = strings.Clone(value)
	ks.kinds |= tagSet
	return ks, ks.tag, v, e
}

// fit checks a value's length against the rules: it is admitted, truncated
// (with the warning) or rejected (with the error).
func (a *admitter) fit(kind ItemKind, key, value string) (string, verdict, *Error) {
	limit := a.rules.textLimit(kind)
	switch {
	case !tooLong(value, limit):
		return value, admitted, nil
	case !a.rules.TruncateLongValues:
		return "", rejected, ErrValueTooLarge.Errorf("%s %s: the value has %d characters, the limit is %d", kind, quoteKey(key), len([]rune(value)), limit)
	}
	return truncate(value, limit), truncated, ErrValueTruncated.Errorf("%s %s: the value was truncated to %d characters", kind, quoteKey(key), limit).
		WithDetail("key", key)
}

// param decides for a param, which is write-once: set, set again to its
// value (unchanged), or changed (rejected).
func (a *admitter) param(ks *keyState, key, value string, v verdict, warning *Error) (*keyState, string, verdict, *Error) {
	if ks.kinds&paramSet != 0 {
		if ks.param == value {
			return ks, "", unchanged, nil
		}
		return ks, "", rejected, ErrParamChanged.Errorf("param %s: already logged as %q, now %q; params are write-once", quoteKey(key), shorten(ks.param), shorten(value))
	}
	ks.param = strings.Clone(value)
	ks.kinds |= paramSet
	return ks, ks.param, v, warning
}

// formatNano formats Unix nanoseconds for an error message.
func formatNano(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
