package mlflow

import (
	"encoding/json"
	"time"
)

// Metric is one point of a metric, as MLflow stores it: a (key, value,
// timestamp, step) tuple. MLflow keeps an identical tuple once, which is what
// makes resending a batch with its original timestamps harmless.
type Metric struct {
	Key   string
	Value float64 // NaN and ±Inf travel as "NaN", "Infinity", "-Infinity"
	// Timestamp is in milliseconds since the Unix epoch.
	Timestamp int64
	Step      int64
}

// Time returns the metric's timestamp as a time.Time.
func (m Metric) Time() time.Time { return time.UnixMilli(m.Timestamp) }

type metricJSON struct {
	Key       string    `json:"key"`
	Value     jsonFloat `json:"value"`
	Timestamp jsonInt64 `json:"timestamp"`
	Step      jsonInt64 `json:"step"`
}

// MarshalJSON writes the metric as MLflow's protobuf JSON: int64 fields as
// numbers, non-finite values as the strings "NaN", "Infinity", "-Infinity".
func (m Metric) MarshalJSON() ([]byte, error) {
	return appendMetric(nil, m), nil
}

// UnmarshalJSON reads a metric; int64 fields may be numbers or strings and the
// value may be one of the strings "NaN", "Infinity", "-Infinity".
func (m *Metric) UnmarshalJSON(b []byte) error {
	var w metricJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*m = Metric{Key: w.Key, Value: float64(w.Value), Timestamp: int64(w.Timestamp), Step: int64(w.Step)}
	return nil
}

// Param is a run's parameter. Params are write-once: logging the same value
// again is a no-op, another value is rejected with INVALID_PARAMETER_VALUE.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// RunTag is a tag of a run; a tag may be overwritten.
type RunTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ExperimentTag is a tag of an experiment.
type ExperimentTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Experiment is an MLflow experiment.
type Experiment struct {
	ExperimentID     string          `json:"experiment_id"`
	Name             string          `json:"name"`
	ArtifactLocation string          `json:"artifact_location,omitempty"`
	LifecycleStage   string          `json:"lifecycle_stage,omitempty"` // "active" or "deleted"
	LastUpdateTime   int64           `json:"last_update_time,omitempty"`
	CreationTime     int64           `json:"creation_time,omitempty"`
	Tags             []ExperimentTag `json:"tags,omitempty"`
}

// UnmarshalJSON reads an experiment; int64 fields may be numbers or strings.
func (e *Experiment) UnmarshalJSON(b []byte) error {
	type plain Experiment
	w := struct {
		*plain
		LastUpdateTime jsonInt64 `json:"last_update_time"`
		CreationTime   jsonInt64 `json:"creation_time"`
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	e.LastUpdateTime, e.CreationTime = int64(w.LastUpdateTime), int64(w.CreationTime)
	return nil
}

// Run statuses as MLflow names them.
const (
	StatusRunning   = "RUNNING"
	StatusScheduled = "SCHEDULED"
	StatusFinished  = "FINISHED"
	StatusFailed    = "FAILED"
	StatusKilled    = "KILLED"
)

// Lifecycle stages of runs and experiments.
const (
	LifecycleActive  = "active"
	LifecycleDeleted = "deleted"
)

// RunInfo is the metadata of a run.
type RunInfo struct {
	RunID          string `json:"run_id"`
	RunName        string `json:"run_name,omitempty"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id,omitempty"`
	Status         string `json:"status"` // StatusRunning, StatusFinished, ...
	StartTime      int64  `json:"start_time,omitempty"`
	EndTime        int64  `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	LifecycleStage string `json:"lifecycle_stage,omitempty"`
}

// UnmarshalJSON reads run info; int64 fields may be numbers or strings.
func (r *RunInfo) UnmarshalJSON(b []byte) error {
	type plain RunInfo
	w := struct {
		*plain
		StartTime jsonInt64 `json:"start_time"`
		EndTime   jsonInt64 `json:"end_time"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	r.StartTime, r.EndTime = int64(w.StartTime), int64(w.EndTime)
	return nil
}

// RunData is what was logged to a run. Metrics holds each metric's latest
// point only; GetMetricHistory returns all of them.
type RunData struct {
	Metrics []Metric `json:"metrics,omitempty"`
	Params  []Param  `json:"params,omitempty"`
	Tags    []RunTag `json:"tags,omitempty"`
}

// Param returns the value of the param called key and whether it is set.
func (d RunData) Param(key string) (string, bool) {
	for _, p := range d.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Tag returns the value of the tag called key and whether it is set.
func (d RunData) Tag(key string) (string, bool) {
	for _, t := range d.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Run is a run: its info and its data.
type Run struct {
	Info RunInfo `json:"info"`
	Data RunData `json:"data"`
}

// CreateRunRequest is the body of runs/create.
type CreateRunRequest struct {
	ExperimentID string   `json:"experiment_id"`
	RunName      string   `json:"run_name,omitempty"`
	StartTime    int64    `json:"start_time,omitempty"` // milliseconds since the epoch
	Tags         []RunTag `json:"tags,omitempty"`
	// UserID is the run's user (MLflow's client sends its mlflow.user tag).
	UserID string `json:"user_id,omitempty"`
}

// UpdateRunRequest is the body of runs/update. Empty fields are left alone.
type UpdateRunRequest struct {
	RunID   string `json:"run_id"`
	Status  string `json:"status,omitempty"`
	EndTime int64  `json:"end_time,omitempty"` // milliseconds since the epoch
	RunName string `json:"run_name,omitempty"`
}
