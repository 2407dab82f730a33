package mlerr

import (
	"context"
	"time"
)

// Backend is where a Run's data goes: an MLflow server (package mlflow), the
// local on-disk store (package localstore), or anything an SDK author writes.
//
// A Run calls a Backend from a single goroutine at a time, through its retry
// policy; a Backend shared by several runs must be safe for concurrent use.
type Backend interface {
	// StartRun creates the run described by spec, or resumes it when
	// spec.RunID names an existing run (RunInfo.Resumed is then true). A
	// missing run to resume is an error of kind ErrRunNotFound; a missing fork
	// parent is not an error: the run starts without it and
	// RunInfo.ForkParentMissing is true.
	StartRun(ctx context.Context, spec RunSpec) (RunInfo, error)

	// WriteBatch stores a batch of a run's items. It must be idempotent per
	// (RunID, Seq): writing the same batch again, as a retry does, stores its
	// items once. When some items are rejected and the rest stored, it returns
	// a *BatchError[Item] whose failures index into b.Items; any other error
	// means nothing of the batch is known to be stored. The Run reuses
	// b.Items' array once WriteBatch returns: a Backend that keeps items
	// must copy them. WriteBatch must return when ctx is done.
	WriteBatch(ctx context.Context, b Batch) error

	// EndRun marks the run finished, failed or killed at the given time.
	EndRun(ctx context.Context, runID string, status RunStatus, end time.Time) error
}

// RunSpec describes the run a Run asks its Backend to start.
type RunSpec struct {
	// RunID resumes the run with this id when set.
	RunID string
	// Name is the run's display name; empty lets the backend choose.
	Name string
	// Experiment is the experiment (by name) the run belongs to; empty means
	// the backend's default experiment.
	Experiment string
	// ForkParent is the id of a run this run continues from, ForkStep the last
	// step of the parent that the fork inherits.
	ForkParent string
	ForkStep   int64
	// Tags are set on the run when it is created.
	Tags map[string]string
	// StartTime is when the run started.
	StartTime time.Time
}

// RunInfo is what a Backend tells about the run it started.
type RunInfo struct {
	// RunID is the run's id in the backend.
	RunID string
	// ExperimentID is the id of the run's experiment, when the backend has
	// experiments.
	ExperimentID string
	// Resumed is true when an existing run was resumed.
	Resumed bool
	// ForkParentMissing is true when RunSpec.ForkParent named no existing run.
	ForkParentMissing bool
	// LastSeq is, for a resumed run, the highest batch Seq the backend has
	// stored for it (0 if none or not tracked): the Run numbers its batches
	// after it, so that a resumed run's batches are not taken for repeats.
	LastSeq uint64
	// Warnings are events the Run reports to OnWarning, such as an error of
	// kind ErrRunConflicting when the run resumed has another name or
	// experiment than the one asked for (the existing ones are kept).
	Warnings []error
	// URL links to the run in the backend's UI, when there is one.
	URL string
}

// RunStatus is the final state of a run. A Run ends in one of three ways,
// and this is the one place that lists them:
//
//	FINISHED  Close, when every logged entry was stored (entries refused at
//	          the log call, whose caller was told, do not count).
//	FAILED    Close after Fail(err): the training failed; err's message is
//	          the run's tag "mlerr.error" (cut to the rules' MaxTagLength),
//	          and Close's error wraps err. Also Close when entries were lost
//	          after they were logged (Report.Dropped), or when the backend
//	          could not be told the run ended FINISHED.
//	KILLED    Terminate: the program stops the run now; what was still
//	          queued is reported lost.
type RunStatus uint8

const (
	// RunFinished: the run ended and every logged item was stored.
	RunFinished RunStatus = iota + 1
	// RunFailed: the run ended with items lost or the program failing.
	RunFailed
	// RunKilled: the run was terminated.
	RunKilled
)

// String returns MLflow's name for the status: "FINISHED", "FAILED", "KILLED".
func (s RunStatus) String() string {
	switch s {
	case RunFinished:
		return "FINISHED"
	case RunFailed:
		return "FAILED"
	case RunKilled:
		return "KILLED"
	}
	return "UNKNOWN"
}

// ItemKind says what an Item is.
type ItemKind uint8

const (
	// ItemMetric is one point of a metric: Key, Value, Step, Time.
	ItemMetric ItemKind = iota + 1
	// ItemParam is a param: Key, Text. Params are write-once.
	ItemParam
	// ItemTag is a tag: Key, Text. Tags may be overwritten.
	ItemTag
	// ItemArtifact is a file logged to the run (Run.LogArtifact): Key is
	// its path among the run's artifacts, Text the local file it came from
	// ("" for bytes), Value its size in bytes; Step numbers the copy the run
	// made of it when it was logged. A Backend's WriteBatch never gets one:
	// the Run uploads artifacts with ArtifactBackend.WriteArtifact.
	ItemArtifact
)

// String returns "metric", "param", "tag" or "artifact".
func (k ItemKind) String() string {
	switch k {
	case ItemMetric:
		return "metric"
	case ItemParam:
		return "param"
	case ItemTag:
		return "tag"
	case ItemArtifact:
		return "artifact"
	}
	return "unknown"
}

// Item is one logged entry: a metric point, a param or a tag. One flat type
// keeps queues and batches simple; the fields a kind does not use are zero.
type Item struct {
	Kind  ItemKind
	Key   string
	Value float64   // metric value
	Text  string    // param or tag value
	Step  int64     // metric step
	Time  time.Time // when the metric point was logged
}

// Batch is a group of a run's items written by one Backend.WriteBatch call.
type Batch struct {
	// RunID is the backend's id of the run.
	RunID string
	// Seq numbers the run's batches from 1 up; a retried batch keeps its
	// number, which is what lets a backend store it once.
	Seq uint64
	// Items are in the order they were logged; the order per key is kept.
	Items []Item
}

// Spool is durable overflow storage for a Run's queue: with the spill
// full-queue policy, items that do not fit in memory during an outage go to
// the spool and come back, in order, when the backend answers again. The
// localstore package provides one on disk.
type Spool interface {
	// Push appends items durably, in order.
	Push(items []Item) error
	// Peek returns up to max of the oldest items without removing them.
	Peek(max int) ([]Item, error)
	// Ack removes the n oldest items.
	Ack(n int) error
	// Len returns the number of items spooled.
	Len() int
	// Close releases the spool's resources; spooled items stay on disk.
	Close() error
}
