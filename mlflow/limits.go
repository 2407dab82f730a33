package mlflow

import (
	"path"
	"strings"
	"time"
	"unicode"
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
	// MaxKeyLength is the longest metric, param or tag key, in characters.
	MaxKeyLength = 250
	// MaxParamValueLength is the longest param value, in characters.
	MaxParamValueLength = 6000
	// MaxTagValueLength is the longest tag value, in characters.
	MaxTagValueLength = 8000
	// MaxExperimentNameLength is the longest experiment name, in characters.
	MaxExperimentNameLength = 500
)

// ValidateKey checks a metric, param or tag key as MLflow's server does: at
// most MaxKeyLength characters; only letters, digits, '_', '-', '.', ' ',
// ':' and '/'; a normalized path ("a/b", not "a//b", "a/", "./a" or "a/../b");
// not ".", not starting with ".." or "/". A bad key is an *mlerr.Error of kind
// mlerr.ErrInvalidName (code INVALID_PARAMETER_VALUE).
func ValidateKey(kind, key string) error {
	if key == "" {
		return mlerr.ErrInvalidName.Errorf("%s key is empty", kind)
	}
	if n := utf8.RuneCountInString(key); n > MaxKeyLength {
		return mlerr.ErrInvalidName.Errorf("%s key %q is %d characters long; MLflow takes at most %d",
			kind, truncateForMessage(key), n, MaxKeyLength)
	}
	for _, r := range key {
		if !keyRune(r) {
			return mlerr.ErrInvalidName.Errorf("%s key %q has the character %q; MLflow takes letters, digits, '_', '-', '.', ' ', ':' and '/'",
				kind, truncateForMessage(key), r)
		}
	}
	if key == "." || strings.HasPrefix(key, "..") || strings.HasPrefix(key, "/") || path.Clean(key) != key {
		return mlerr.ErrInvalidName.Errorf("%s key %q is not a normalized relative path, as MLflow requires (no leading '/' or '..', no '//', no trailing '/')",
			kind, truncateForMessage(key))
	}
	return nil
}

// keyRune is Python's \w plus the other characters MLflow's key pattern
// allows.
func keyRune(r rune) bool {
	switch r {
	case '_', '-', '.', ' ', ':', '/':
		return true
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// ValidateItem checks an item against MLflow's limits: its key (ValidateKey);
// for metrics, a time not before 1970 (MLflow refuses negative timestamps,
// kind mlerr.ErrInvalidValue); for params and tags, the length of the value
// (kind mlerr.ErrValueTooLarge: MLflow would truncate it silently). Any
// float64 is a valid metric value: NaN and the infinities are sent as
// protobuf JSON strings (the server stores ±Inf as ±math.MaxFloat64).
func ValidateItem(it mlerr.Item) error {
	if !utf8.ValidString(it.Text) {
		return mlerr.ErrInvalidValue.Errorf("%s %q has a value that is not valid UTF-8", it.Kind, truncateForMessage(it.Key))
	}
	switch it.Kind {
	case mlerr.ItemMetric:
		if err := ValidateKey("metric", it.Key); err != nil {
			return err
		}
		if !it.Time.IsZero() && it.Time.UnixMilli() < 0 {
			return mlerr.ErrInvalidValue.Errorf("metric %q at step %d has a time before 1970 (%s); MLflow takes only non-negative timestamps",
				truncateForMessage(it.Key), it.Step, it.Time.UTC().Format(time.RFC3339))
		}
	case mlerr.ItemParam:
		if err := ValidateKey("param", it.Key); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(it.Text); n > MaxParamValueLength {
			return mlerr.ErrValueTooLarge.Errorf("param %q has a value of %d characters; MLflow takes at most %d",
				it.Key, n, MaxParamValueLength)
		}
	case mlerr.ItemTag:
		if err := ValidateKey("tag", it.Key); err != nil {
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
