// Package fakebackend is an in-memory mlerr.Backend for tests whose calls
// can be made to fail on demand with realistic errors (see Fault): refused
// connections, resets, hangs, 429 with Retry-After, 5xx, 401/403, a run
// gone, malformed responses, per-item rejections, a write applied whose
// response is lost, panics.
//
// It stores each (run, Seq) once, as the Backend contract asks, so a test
// can check that every point arrived exactly once whatever the faults.
package fakebackend

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlerr/mlerr"
)

// Op names a Backend method.
type Op uint8

const (
	// Start is StartRun.
	Start Op = iota + 1
	// Write is WriteBatch.
	Write
	// End is EndRun.
	End
	// Artifact is WriteArtifact.
	Artifact
)

// String names the Backend method.
func (op Op) String() string {
	switch op {
	case Start:
		return "StartRun"
	case Write:
		return "WriteBatch"
	case End:
		return "EndRun"
	case Artifact:
		return "WriteArtifact"
	}
	return "op?"
}

// RunRecord is what the fake knows of a run.
type RunRecord struct {
	Spec      mlerr.RunSpec
	Status    mlerr.RunStatus // 0 while running
	EndTime   time.Time
	Items     []mlerr.Item
	Seqs      []uint64          // batches stored, in order
	Artifacts map[string][]byte // artifacts stored, by path
	Writes    []string          // what was stored, in order: "batch <seq>" or "artifact <path>"
}

// injected is a fault armed for the next calls of an op.
type injected struct {
	fault Fault
	times int // calls left; < 0: every call until Heal
}

// Backend is the fake. The zero value is not usable; call New.
type Backend struct {
	mu      sync.Mutex
	runs    map[string]*RunRecord
	nextID  int
	faults  map[Op][]*injected
	calls   map[Op]int
	onCall  func(op Op, n int)
	discard bool

	discarded atomic.Int64 // items counted in discard mode
}

// New returns an empty fake backend.
func New() *Backend {
	return &Backend{runs: map[string]*RunRecord{}, faults: map[Op][]*injected{}, calls: map[Op]int{}}
}

// NewDiscard returns a fake that stores nothing and only counts the items
// written (Discarded), as fast as it can: for benchmarks.
func NewDiscard() *Backend {
	b := New()
	b.discard = true
	return b
}

// Inject arms f for the next times calls of op (times < 0: every call until
// Heal). Faults armed for the same op apply in the order they were armed.
func (b *Backend) Inject(op Op, times int, f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults[op] = append(b.faults[op], &injected{fault: f, times: times})
}

// Heal disarms every fault of op.
func (b *Backend) Heal(op Op) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.faults, op)
}

// OnCall sets a function called at the start of every call with the op and
// its call number (1 for the first call of that op), before any fault.
func (b *Backend) OnCall(f func(op Op, n int)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onCall = f
}

// AddRun creates a run with this id, as if an earlier process had made it.
func (b *Backend) AddRun(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.runs[id] = &RunRecord{Spec: mlerr.RunSpec{RunID: id}}
}

// Calls returns how many times op was called.
func (b *Backend) Calls(op Op) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[op]
}

// Run returns a copy of the record of a run.
func (b *Backend) Run(id string) (RunRecord, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.runs[id]
	if !ok {
		return RunRecord{}, false
	}
	c := *r
	c.Items = slices.Clone(r.Items)
	c.Seqs = slices.Clone(r.Seqs)
	c.Writes = slices.Clone(r.Writes)
	c.Artifacts = maps.Clone(r.Artifacts)
	return c, true
}

// Items returns the items stored for a run, in the order stored.
func (b *Backend) Items(id string) []mlerr.Item {
	r, _ := b.Run(id)
	return r.Items
}

// Discarded returns the number of items a discarding fake was given.
func (b *Backend) Discarded() int64 { return b.discarded.Load() }

// next takes the fault for this call of op, if any, and counts the call.
func (b *Backend) next(op Op) (Fault, bool) {
	b.mu.Lock()
	b.calls[op]++
	n, hook := b.calls[op], b.onCall
	var f Fault
	found := false
	for len(b.faults[op]) > 0 {
		in := b.faults[op][0]
		if in.times == 0 {
			b.faults[op] = b.faults[op][1:]
			continue
		}
		if in.times > 0 {
			in.times--
		}
		f, found = in.fault, true
		break
	}
	b.mu.Unlock()
	if hook != nil {
		hook(op, n)
	}
	return f, found
}

// fail applies the part of a fault that comes before storing: it panics or
// returns the error to fail with.
func (f Fault) fail(ctx context.Context) error {
	if f.panics {
		panic(f.panicV)
	}
	if f.before != nil {
		return f.before(ctx)
	}
	return nil
}

// StartRun creates a run, or resumes the run spec.RunID when it exists
// (Resumed, LastSeq; a warning of kind ErrRunConflicting when the name
// asked for differs). A missing fork parent sets ForkParentMissing.
func (b *Backend) StartRun(ctx context.Context, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	f, faulty := b.next(Start)
	if faulty {
		if err := f.fail(ctx); err != nil {
			return mlerr.RunInfo{}, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var info mlerr.RunInfo
	if spec.RunID != "" {
		if r, ok := b.runs[spec.RunID]; ok {
			info = mlerr.RunInfo{RunID: spec.RunID, Resumed: true}
			if spec.Name != "" && r.Spec.Name != "" && spec.Name != r.Spec.Name {
				info.Warnings = append(info.Warnings, mlerr.ErrRunConflicting.Errorf(
					"run %s is named %q, not %q: the existing name is kept", spec.RunID, r.Spec.Name, spec.Name))
			}
			if n := len(r.Seqs); n > 0 {
				info.LastSeq = slices.Max(r.Seqs)
			}
			r.Status = 0
		} else {
			b.runs[spec.RunID] = &RunRecord{Spec: spec}
			info.RunID = spec.RunID
		}
	} else {
		b.nextID++
		id := fmt.Sprintf("run%d", b.nextID)
		spec.RunID = id
		b.runs[id] = &RunRecord{Spec: spec}
		info.RunID = id
	}
	if spec.ForkParent != "" {
		if _, ok := b.runs[spec.ForkParent]; !ok {
			info.ForkParentMissing = true
		}
	}
	info.ExperimentID = "0"
	if faulty && f.after != nil {
		return info, f.after(ctx)
	}
	return info, nil
}

// WriteBatch stores a batch once per (run, Seq).
func (b *Backend) WriteBatch(ctx context.Context, batch mlerr.Batch) error {
	if b.discard {
		b.discarded.Add(int64(len(batch.Items)))
		return nil
	}
	f, faulty := b.next(Write)
	if faulty {
		if err := f.fail(ctx); err != nil {
			return err
		}
	}
	repeat, err := b.store(batch, f.reject)
	if err != nil || repeat {
		return err
	}
	if faulty && f.after != nil {
		return f.after(ctx)
	}
	return nil
}

// store stores a batch once per (run, Seq), but the items reject gives a
// reason for (reject may be nil). It reports a repeat of a stored batch.
func (b *Backend) store(batch mlerr.Batch, reject func(mlerr.Item) string) (repeat bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.runs[batch.RunID]
	if !ok {
		return false, mlerr.Decoder{}.DecodeError(404, nil, mlflowBody(mlerr.CodeResourceDoesNotExist, "Run with id="+batch.RunID+" not found"))
	}
	if slices.Contains(r.Seqs, batch.Seq) {
		return true, nil
	}
	r.Seqs = append(r.Seqs, batch.Seq)
	r.Writes = append(r.Writes, fmt.Sprintf("batch %d", batch.Seq))
	var failures []mlerr.Failure[mlerr.Item]
	for i, it := range batch.Items {
		if reject != nil {
			if why := reject(it); why != "" {
				failures = append(failures, mlerr.Failure[mlerr.Item]{Item: it, Index: i, Reason: why,
					Code: mlerr.CodeInvalidParameterValue, Cause: mlerr.InvalidParameterValue("%s %q: %s", it.Kind, it.Key, why)})
				continue
			}
		}
		r.Items = append(r.Items, it)
	}
	return false, mlerr.NewBatchError(len(batch.Items), failures).Err()
}

// WriteArtifact stores an artifact (content read to the end, its size
// checked); a fault's reject function, given an item with the artifact's
// path as Key and Kind ItemArtifact, refuses it with a permanent error.
func (b *Backend) WriteArtifact(ctx context.Context, runID, path string, content io.Reader, size int64) error {
	f, faulty := b.next(Artifact)
	if faulty {
		if err := f.fail(ctx); err != nil {
			return err
		}
		if f.reject != nil {
			if why := f.reject(mlerr.Item{Kind: mlerr.ItemArtifact, Key: path}); why != "" {
				return mlerr.Decoder{}.DecodeError(400, nil, mlflowBody(mlerr.CodeInvalidParameterValue, why))
			}
		}
	}
	if b.discard {
		n, err := io.Copy(io.Discard, content)
		if err == nil && n != size {
			err = fmt.Errorf("artifact %s: read %d bytes, size %d", path, n, size)
		}
		b.discarded.Add(1)
		return err
	}
	data, err := io.ReadAll(content)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("artifact %s: read %d bytes, size %d", path, len(data), size)
	}
	b.mu.Lock()
	r, ok := b.runs[runID]
	if ok {
		if r.Artifacts == nil {
			r.Artifacts = map[string][]byte{}
		}
		r.Artifacts[path] = data
		r.Writes = append(r.Writes, "artifact "+path)
	}
	b.mu.Unlock()
	if !ok {
		return mlerr.Decoder{}.DecodeError(404, nil, mlflowBody(mlerr.CodeResourceDoesNotExist, "Run with id="+runID+" not found"))
	}
	if faulty && f.after != nil {
		return f.after(ctx)
	}
	return nil
}

// EndRun records the run's end.
func (b *Backend) EndRun(ctx context.Context, runID string, status mlerr.RunStatus, end time.Time) error {
	f, faulty := b.next(End)
	if faulty {
		if err := f.fail(ctx); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.runs[runID]
	if !ok {
		return mlerr.Decoder{}.DecodeError(404, nil, mlflowBody(mlerr.CodeResourceDoesNotExist, "Run with id="+runID+" not found"))
	}
	r.Status, r.EndTime = status, end
	if faulty && f.after != nil {
		return f.after(ctx)
	}
	return nil
}
