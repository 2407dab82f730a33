package mlerr

import (
	"fmt"
	"strings"
)

// Rules are what a Run checks in every entry before it queues it, so that
// an entry the backend would refuse, or store other than it was logged, is
// refused at the call with a typed error instead. They belong to the
// backend: a Backend that implements RulesBackend declares its own (the
// mlflow package declares MLflow's, the local store those of the backend it
// will be synced to), any other gets MLflow's, the zero Rules; WithRules
// adjusts them.
//
//	rule                                   Rules{}       StrictSeriesRules   error kind
//	NaN and ±Inf values                    stored        rejected            ErrNonFiniteValue
//	a step lower than the metric's latest  stored        rejected            ErrStepNotIncreasing
//	at the latest step, an earlier time    stored        rejected            ErrTimestampDecreasing
//	the latest point again (step, value)   stored        not logged, warned  ErrDuplicatePoint
//	the same key, value, time and step     not logged    not logged, warned  ErrDuplicatePoint
//	key syntax and length (250)            checked       checked             ErrInvalidName
//	param (6000) and tag (8000) length     checked       checked             ErrValueTooLarge
//	a key used as two kinds                allowed       allowed             ErrTypeMismatch
//
// A point identical to its metric's latest (key, value, time and step) is
// never logged twice: the store would keep one row; it counts in
// Report.Duplicates.
type Rules struct {
	// RejectNonFinite rejects NaN and ±Inf metric values.
	RejectNonFinite bool
	// RejectLowerStep rejects a point whose step is lower than its metric's
	// latest point's.
	RejectLowerStep bool
	// RejectEarlierTime rejects a point at its metric's latest step stamped
	// before the latest point.
	RejectEarlierTime bool
	// SkipRepeatedPoint does not log a point equal to its metric's latest
	// (same step and value) and reports it to OnWarning (ErrDuplicatePoint).
	SkipRepeatedPoint bool
	// MaxKeyLength, MaxParamLength and MaxTagLength are the longest key,
	// param value and tag value, in characters; 0 means MLflow's limit
	// (250, 6000, 8000). A negative value, or one above the backend's own
	// limit, makes no sense (see WithRules).
	MaxKeyLength, MaxParamLength, MaxTagLength int
	// TruncateLongValues cuts param and tag values to their limit and reports
	// it to OnWarning (ErrValueTruncated) instead of rejecting them
	// (ErrValueTooLarge).
	TruncateLongValues bool
	// OneNamespace rejects a key used as two kinds of entry, a metric and a
	// param say (ErrTypeMismatch), as a single-namespace store needs;
	// MLflow keeps metrics, params and tags apart.
	OneNamespace bool
}

// A RulesBackend is a Backend that declares the rules of the store behind
// it; a Run on it checks entries with them (see Rules).
type RulesBackend interface {
	Backend
	// Rules returns the backend's rules; a Run calls it once, in NewRun.
	Rules() Rules
}

// StrictSeriesRules makes rules strict as a time-series store such as
// Neptune's needs them: NaN and ±Inf rejected, steps never going down, at
// one step time never going back, the latest point not repeated. Pass it to
// WithRules.
func StrictSeriesRules(r *Rules) {
	r.RejectNonFinite = true
	r.RejectLowerStep = true
	r.RejectEarlierTime = true
	r.SkipRepeatedPoint = true
}

// MLflow's limits, in characters (mlflow/utils/validation.py).
const (
	maxKeyLength   = 250
	maxParamLength = 6000
	maxTagLength   = 8000
)

// withLimits returns the rules with MLflow's limits in place of zeros.
func (r Rules) withLimits() Rules {
	for _, lim := range []struct {
		n   *int
		def int
	}{{&r.MaxKeyLength, maxKeyLength}, {&r.MaxParamLength, maxParamLength}, {&r.MaxTagLength, maxTagLength}} {
		if *lim.n == 0 {
			*lim.n = lim.def
		}
	}
	return r
}

// ValidateKey checks a metric, param or tag key against the rules (MLflow's
// key syntax, and their MaxKeyLength) and returns nil or an error of kind
// ErrInvalidName saying what is wrong: the key is empty, too long, contains
// a character other than letters, digits (Unicode ones included, as
// MLflow's \w) and "_ - . / space :", is not valid UTF-8, is ".", starts
// with ".." or "/", or would name another path when read as one ("a//b",
// "a/", "a/./b", "a/../b": MLflow refuses names that normalise to
// something else). The zero Rules check MLflow's limit of 250 characters.
func (r Rules) ValidateKey(kind ItemKind, key string) error {
	if why := keyProblem(key, r.withLimits().MaxKeyLength); why != "" {
		return ErrInvalidName.Errorf("%s key %s: %s", kind, quoteKey(key), why)
	}
	return nil
}

// check returns an error of kind ErrInvalidRunParameters naming the rules
// that make no sense, or nil: a negative limit, or one above the backend's
// (limits are its rules with their limits set), which lets through values
// the backend would refuse after they were logged.
func (r Rules) check(limits Rules) error {
	var bad []string
	w := r.withLimits() // 0 is MLflow's limit
	for _, lim := range []struct {
		name          string
		n, set, limit int
	}{
		{"MaxKeyLength", r.MaxKeyLength, w.MaxKeyLength, limits.MaxKeyLength},
		{"MaxParamLength", r.MaxParamLength, w.MaxParamLength, limits.MaxParamLength},
		{"MaxTagLength", r.MaxTagLength, w.MaxTagLength, limits.MaxTagLength},
	} {
		switch {
		case lim.n < 0:
			bad = append(bad, fmt.Sprintf("%s must not be negative, got %d", lim.name, lim.n))
		case lim.set > lim.limit:
			bad = append(bad, fmt.Sprintf("%s %d is above the backend's limit of %d: the backend would refuse what it lets through", lim.name, lim.set, lim.limit))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return optionError("WithRules", "%s", strings.Join(bad, "; "))
}

// textLimit returns the longest value a param or tag may have.
func (r *Rules) textLimit(kind ItemKind) int {
	if kind == ItemParam {
		return r.MaxParamLength
	}
	return r.MaxTagLength
}

// WithRules adjusts the rules the run checks entries with, starting from
// the backend's (see Rules): each function changes some of them, in the
// order given, as in WithRules(mlerr.StrictSeriesRules) or
// WithRules(func(r *mlerr.Rules) { r.RejectNonFinite = true }). Rules that
// make no sense (a nil change, a negative limit, a limit above the
// backend's) make NewRun fail with an error of kind ErrInvalidRunParameters
// naming them.
func WithRules(change ...func(*Rules)) RunOption {
	return func(c *runConfig) error {
		for _, f := range change {
			if f == nil {
				return optionError("WithRules", "a rule change is nil")
			}
		}
		c.ruleChanges = append(c.ruleChanges, change...)
		return nil
	}
}
