package mlflow

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mlerr/mlerr"
)

// MLflow's server-side limits. Backend.WriteBatch splits batches and checks
// items against them before sending anything.
const (
	// MaxMetricsPerRequest is the most metric points one runs/log-batch takes.
	MaxMetricsPerRequest = 1000
	// MaxParamsPerRequest is the most params one runs/log-batch takes.
	MaxParamsPerRequest = 100
	// MaxTagsPerRequest is the most tags one runs/log-batch takes.
	MaxTagsPerRequest = 100
	// MaxItemsPerRequest is the most metrics, params and tags in all that one
	// runs/log-batch takes.
	MaxItemsPerRequest = 1000
	// MaxKeyLength is the longest metric, param or tag key, in characters
	// (a Run on the Backend checks it: see Backend.Rules).
	MaxKeyLength = 250
	// MaxParamValueLength is the longest param value, in characters.
	MaxParamValueLength = 6000
	// MaxTagValueLength is the longest tag value, in characters.
	MaxTagValueLength = 8000
	// MaxExperimentNameLength is the longest experiment name, in characters.
	MaxExperimentNameLength = 500
)

// ValidateItem checks an item against MLflow's limits: its key (mlerr.Rules.ValidateKey);
// for metrics, a time not before 1970 (MLflow refuses negative timestamps,
// kind mlerr.ErrInvalidValue); for params and tags, the length of the value
// (kind mlerr.ErrValueTooLarge: MLflow would truncate it silently). Any
// float64 is a valid metric value: NaN and the infinities are sent as
// protobuf JSON strings (the server stores ±Inf as ±math.MaxFloat64).
func ValidateItem(it mlerr.Item) error { return validateItem(&it) }

// validateItem is ValidateItem without copying the item.
func validateItem(it *mlerr.Item) error {
	if !utf8.ValidString(it.Text) {
		return mlerr.ErrInvalidValue.Errorf("%s %q has a value that is not valid UTF-8", it.Kind, truncateForMessage(it.Key))
	}
	switch it.Kind {
	case mlerr.ItemMetric:
		if err := (mlerr.Rules{}).ValidateKey(it.Kind, it.Key); err != nil {
			return err
		}
		if !it.Time.IsZero() && it.Time.UnixMilli() < 0 {
			return mlerr.ErrInvalidValue.Errorf("metric %q at step %d has a time before 1970 (%s); MLflow takes only non-negative timestamps",
				truncateForMessage(it.Key), it.Step, it.Time.UTC().Format(time.RFC3339))
		}
	case mlerr.ItemParam:
		if err := (mlerr.Rules{}).ValidateKey(it.Kind, it.Key); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(it.Text); n > MaxParamValueLength {
			return mlerr.ErrValueTooLarge.Errorf("param %q has a value of %d characters; MLflow takes at most %d",
				it.Key, n, MaxParamValueLength)
		}
	case mlerr.ItemTag:
		if err := (mlerr.Rules{}).ValidateKey(it.Kind, it.Key); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(it.Text); n > MaxTagValueLength {
			return mlerr.ErrValueTooLarge.Errorf("tag %q has a value of %d characters; MLflow takes at most %d",
				it.Key, n, MaxTagValueLength)
		}
	default:
		return mlerr.ErrInvalidValue.Errorf("item %q has unknown kind %d", it.Key, it.Kind)
	}
	return nil
}

// ValidateExperimentName checks an experiment name: not empty, at most
// MaxExperimentNameLength characters. A bad name is an error of kind
// mlerr.ErrInvalidRunParameters.
func ValidateExperimentName(name string) error {
	if strings.TrimSpace(name) == "" {
		return mlerr.ErrInvalidRunParameters.New("experiment name is empty")
	}
	if n := utf8.RuneCountInString(name); n > MaxExperimentNameLength {
		return mlerr.ErrInvalidRunParameters.Errorf("experiment name %q is %d characters long; MLflow takes at most %d",
			truncateForMessage(name), n, MaxExperimentNameLength)
	}
	return nil
}

func truncateForMessage(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "..."
}
