package mlerrtest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/mlerr/mlerr"
)

// Op names a method of mlerr.ArtifactBackend.
type Op uint8

// The Backend's methods.
const (
	StartRun Op = iota + 1
	WriteBatch
	WriteArtifact
	EndRun
)

// String returns the method's name, "StartRun" for StartRun.
func (op Op) String() string {
	switch op {
	case StartRun:
		return "StartRun"
	case WriteBatch:
		return "WriteBatch"
	case WriteArtifact:
		return "WriteArtifact"
	case EndRun:
		return "EndRun"
	}
	return fmt.Sprintf("Op(%d)", uint8(op))
}

// Call is one call of a Backend method, as Calls reports it.
type Call struct {
	Op    Op
	RunID string // the run's id ("" for a StartRun that failed before one was made)
	// Seq and Items are the batch of a WriteBatch (Items copied).
	Seq   uint64
	Items []mlerr.Item
	// Path is the artifact of a WriteArtifact.
	Path string
	// Status is the status of an EndRun.
	Status mlerr.RunStatus
	// Repeat is true for a WriteBatch of a (RunID, Seq) already stored:
	// nothing was stored again, as the Backend contract asks.
	Repeat bool
	// Err is what the call returned, nil when it succeeded.
	Err error
	// Panicked is true for a call that panicked (PanicNext); it returned
	// nothing.
	Panicked bool
}

// Run is what a Backend stored for one run.
type Run struct {
	ID     string
	Spec   mlerr.RunSpec
	Status mlerr.RunStatus // 0 until EndRun
	End    time.Time
	// Items are the stored metric points, params and tags, in the order
	// stored (rejected items are not).
	Items []mlerr.Item
	// Artifacts are the stored artifacts, by path.
	Artifacts map[string][]byte
	// Writes lists what was stored, in order: "batch <seq>" or
	// "artifact <path>".
	Writes []string
}

// Metric returns the values of the metric key, in the order stored.
func (r Run) Metric(key string) []float64 {
	var out []float64
	for _, it := range r.Items {
		if it.Kind == mlerr.ItemMetric && it.Key == key {
			out = append(out, it.Value)
		}
	}
	return out
}

// Params returns the stored params.
func (r Run) Params() map[string]string { return r.texts(mlerr.ItemParam) }

// Tags returns the stored tags, the last value of each.
func (r Run) Tags() map[string]string { return r.texts(mlerr.ItemTag) }

func (r Run) texts(kind mlerr.ItemKind) map[string]string {
	out := map[string]string{}
	for _, it := range r.Items {
		if it.Kind == kind {
			out[it.Key] = it.Text
		}
	}
	return out
}

// Backend is an in-memory mlerr.ArtifactBackend that records every call.
// It keeps the contract of mlerr.Backend: a batch is stored once per
// (RunID, Seq), however often it is written; a run resumed by id must
// exist (else an error of kind mlerr.ErrRunNotFound); a missing fork parent
// sets RunInfo.ForkParentMissing. Runs get the ids "run-1", "run-2", ...
// The zero value is not usable: call NewBackend.
type Backend struct {
	mu     sync.Mutex
	runs   map[string]*Run
	order  []string
	calls  []Call
	faults map[Op][]*fault
	reject func(mlerr.Item) string
}

var _ mlerr.ArtifactBackend = (*Backend)(nil)

// NewBackend returns an empty Backend without faults.
func NewBackend() *Backend {
	return &Backend{runs: map[string]*Run{}, faults: map[Op][]*fault{}}
}

// AddRun creates a run with this id, as if an earlier process had made it,
// for tests of resuming (mlerr.WithResume).
func (b *Backend) AddRun(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addRun(id, mlerr.RunSpec{RunID: id})
}

func (b *Backend) addRun(id string, spec mlerr.RunSpec) *Run {
	r := &Run{ID: id, Spec: spec}
	b.runs[id] = r
	b.order = append(b.order, id)
	return r
}

// Calls returns every call made so far, in order, with its outcome.
func (b *Backend) Calls() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// Count returns how many times op was called.
func (b *Backend) Count(op Op) int {
	n := 0
	for _, c := range b.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Run returns a copy of what was stored for the run id.
func (b *Backend) Run(id string) (Run, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.runs[id]
	if !ok {
		return Run{}, false
	}
	c := *r
	c.Items, c.Writes, c.Artifacts = slices.Clone(r.Items), slices.Clone(r.Writes), maps.Clone(r.Artifacts)
	return c, true
}

// LastRun returns a copy of the run started last (the zero Run if none).
func (b *Backend) LastRun() Run {
	b.mu.Lock()
	n := len(b.order)
	b.mu.Unlock()
	if n == 0 {
		return Run{}
	}
	r, _ := b.Run(b.order[n-1])
	return r
}

// record appends c to the calls, with the outcome of the call.
func (b *Backend) record(c Call, err error) error {
	c.Err = err
	b.mu.Lock()
	b.calls = append(b.calls, c)
	b.mu.Unlock()
	return err
}

// StartRun implements mlerr.Backend.
func (b *Backend) StartRun(ctx context.Context, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	c := Call{Op: StartRun, RunID: spec.RunID}
	if err := b.enter(ctx, &c); err != nil {
		return mlerr.RunInfo{}, b.record(c, err)
	}
	b.mu.Lock()
	info, err := b.startLocked(spec)
	b.mu.Unlock()
	c.RunID = info.RunID
	return info, b.record(c, err)
}

func (b *Backend) startLocked(spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	info := mlerr.RunInfo{ExperimentID: "0"}
	if spec.ForkParent != "" && b.runs[spec.ForkParent] == nil {
		info.ForkParentMissing = true
	}
	if spec.RunID != "" {
		r, ok := b.runs[spec.RunID]
		if !ok {
			return mlerr.RunInfo{}, mlerr.ErrRunNotFound.Errorf("run %s does not exist", spec.RunID)
		}
		r.Status = 0
		info.RunID, info.Resumed, info.LastSeq = r.ID, true, r.lastSeq()
		return info, nil
	}
	spec.RunID = fmt.Sprintf("run-%d", len(b.order)+1)
	b.addRun(spec.RunID, spec)
	info.RunID = spec.RunID
	return info, nil
}

func (r *Run) lastSeq() uint64 {
	var last uint64
	for _, w := range r.Writes {
		var seq uint64
		if _, err := fmt.Sscanf(w, "batch %d", &seq); err == nil && seq > last {
			last = seq
		}
	}
	return last
}

// WriteBatch implements mlerr.Backend: it stores the batch once per
// (RunID, Seq), but the items a Reject function refuses, which come back
// in a *mlerr.BatchError[mlerr.Item].
func (b *Backend) WriteBatch(ctx context.Context, batch mlerr.Batch) error {
	c := Call{Op: WriteBatch, RunID: batch.RunID, Seq: batch.Seq, Items: slices.Clone(batch.Items)}
	if err := b.enter(ctx, &c); err != nil {
		return b.record(c, err)
	}
	b.mu.Lock()
	repeat, err := b.storeLocked(batch)
	b.mu.Unlock()
	c.Repeat = repeat
	return b.record(c, err)
}

func (b *Backend) storeLocked(batch mlerr.Batch) (repeat bool, err error) {
	r, ok := b.runs[batch.RunID]
	if !ok {
		return false, mlerr.ErrRunNotFound.Errorf("run %s does not exist", batch.RunID)
	}
	w := fmt.Sprintf("batch %d", batch.Seq)
	if slices.Contains(r.Writes, w) {
		return true, nil
	}
	r.Writes = append(r.Writes, w)
	var failures []mlerr.Failure[mlerr.Item]
	for i, it := range batch.Items {
		if why := b.rejects(it); why != "" {
			failures = append(failures, mlerr.Failure[mlerr.Item]{Item: it, Index: i, Reason: why,
				Code: mlerr.CodeInvalidParameterValue, Cause: mlerr.InvalidParameterValue("%s %q: %s", it.Kind, it.Key, why)})
			continue
		}
		r.Items = append(r.Items, it)
	}
	return false, mlerr.NewBatchError(len(batch.Items), failures).Err()
}

func (b *Backend) rejects(it mlerr.Item) string {
	if b.reject == nil {
		return ""
	}
	return b.reject(it)
}

// WriteArtifact implements mlerr.ArtifactBackend: it reads content to the
// end and stores it at path, replacing an artifact of that path. A size
// that differs from what was read is an error; an artifact a Reject
// function refuses (given an Item of Kind mlerr.ItemArtifact, Key path,
// Value size) fails with a permanent error of code INVALID_PARAMETER_VALUE.
func (b *Backend) WriteArtifact(ctx context.Context, runID, path string, content io.Reader, size int64) error {
	c := Call{Op: WriteArtifact, RunID: runID, Path: path}
	if err := b.enter(ctx, &c); err != nil {
		return b.record(c, err)
	}
	data, err := io.ReadAll(content)
	if err == nil && int64(len(data)) != size {
		err = fmt.Errorf("artifact %s: read %d bytes, size %d", path, len(data), size)
	}
	if err != nil {
		return b.record(c, err)
	}
	b.mu.Lock()
	err = b.putLocked(runID, path, data)
	b.mu.Unlock()
	return b.record(c, err)
}

func (b *Backend) putLocked(runID, path string, data []byte) error {
	if why := b.rejects(mlerr.Item{Kind: mlerr.ItemArtifact, Key: path, Value: float64(len(data))}); why != "" {
		return mlerr.InvalidParameterValue("artifact %q: %s", path, why)
	}
	r, ok := b.runs[runID]
	if !ok {
		return mlerr.ErrRunNotFound.Errorf("run %s does not exist", runID)
	}
	if r.Artifacts == nil {
		r.Artifacts = map[string][]byte{}
	}
	r.Artifacts[path] = data
	r.Writes = append(r.Writes, "artifact "+path)
	return nil
}

// EndRun implements mlerr.Backend: it records the run's status and end.
func (b *Backend) EndRun(ctx context.Context, runID string, status mlerr.RunStatus, end time.Time) error {
	c := Call{Op: EndRun, RunID: runID, Status: status}
	if err := b.enter(ctx, &c); err != nil {
		return b.record(c, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.runs[runID]
	if !ok {
		c.Err = mlerr.ErrRunNotFound.Errorf("run %s does not exist", runID)
	} else {
		r.Status, r.End = status, end
	}
	b.calls = append(b.calls, c)
	return c.Err
}
