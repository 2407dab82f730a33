package localstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mlerr/mlerr"
)

// fakeBackend is an in-memory mlerr.Backend that stores a batch once per
// (run, seq), as the Backend contract asks, and counts every item it stores
// so that tests can check "exactly once".
type fakeBackend struct {
	mu     sync.Mutex
	runs   map[string]*fakeRun
	nextID int
	calls  int // WriteBatch calls
	starts []mlerr.RunSpec

	// failCall makes the WriteBatch call with this number (from 1) fail
	// without storing anything; applyThenFail makes it store the batch and
	// then fail, as a response lost after the server applied the write.
	failCall, applyThenFailCall int
	// reject returns a reason for items the backend refuses (stored others).
	reject func(mlerr.Item) string
	// startErr is returned by StartRun when set.
	startErr error
}

type fakeRun struct {
	spec    mlerr.RunSpec
	batches map[uint64][]mlerr.Item
	seqs    []uint64 // in the order first stored
	count   map[string]int
	status  mlerr.RunStatus
	ends    int
	end     time.Time
}

func newFake() *fakeBackend { return &fakeBackend{runs: map[string]*fakeRun{}} }

var errInjected = mlerr.New(mlerr.CodeTemporarilyUnavailable, "injected failure")

func (f *fakeBackend) StartRun(_ context.Context, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return mlerr.RunInfo{}, f.startErr
	}
	f.starts = append(f.starts, spec)
	if spec.RunID != "" {
		if _, ok := f.runs[spec.RunID]; !ok {
			return mlerr.RunInfo{}, mlerr.ErrRunNotFound.Errorf("no run %s", spec.RunID)
		}
		return mlerr.RunInfo{RunID: spec.RunID, Resumed: true}, nil
	}
	f.nextID++
	id := fmt.Sprintf("remote-%d", f.nextID)
	f.runs[id] = &fakeRun{spec: spec, batches: map[uint64][]mlerr.Item{}, count: map[string]int{}}
	return mlerr.RunInfo{RunID: id}, nil
}

func (f *fakeBackend) WriteBatch(_ context.Context, b mlerr.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failCall {
		return errInjected
	}
	r, ok := f.runs[b.RunID]
	if !ok {
		return mlerr.ErrRunNotFound.Errorf("no run %s", b.RunID)
	}
	if _, dup := r.batches[b.Seq]; dup {
		return f.rejections(b)
	}
	var failures []mlerr.Failure[mlerr.Item]
	var stored []mlerr.Item
	for i, it := range b.Items {
		if f.reject != nil {
			if reason := f.reject(it); reason != "" {
				failures = append(failures, mlerr.Failure[mlerr.Item]{Item: it, Index: i, Reason: reason, Code: mlerr.CodeInvalidParameterValue})
				continue
			}
		}
		stored = append(stored, it)
		r.count[pointKey(it)]++
	}
	r.batches[b.Seq] = stored
	r.seqs = append(r.seqs, b.Seq)
	if f.calls == f.applyThenFailCall {
		return errInjected
	}
	return mlerr.NewBatchError(len(b.Items), failures).Err()
}

// rejections answers a duplicate batch as the first write did.
func (f *fakeBackend) rejections(b mlerr.Batch) error {
	if f.reject == nil {
		return nil
	}
	var failures []mlerr.Failure[mlerr.Item]
	for i, it := range b.Items {
		if reason := f.reject(it); reason != "" {
			failures = append(failures, mlerr.Failure[mlerr.Item]{Item: it, Index: i, Reason: reason, Code: mlerr.CodeInvalidParameterValue})
		}
	}
	return mlerr.NewBatchError(len(b.Items), failures).Err()
}

func (f *fakeBackend) EndRun(_ context.Context, id string, status mlerr.RunStatus, end time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[id]
	if !ok {
		return mlerr.ErrRunNotFound.Errorf("no run %s", id)
	}
	r.status, r.end = status, end
	r.ends++
	return nil
}

// pointKey names a stored item: a metric point by key and step, a param or
// tag by key.
func pointKey(it mlerr.Item) string {
	if it.Kind == mlerr.ItemMetric {
		return fmt.Sprintf("m/%s/%d", it.Key, it.Step)
	}
	return fmt.Sprintf("%s/%s", it.Kind, it.Key)
}

// run returns the remote run with the given id.
func (f *fakeBackend) run(id string) *fakeRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[id]
}

// items returns the remote run's items in the order stored.
func (r *fakeRun) items() []mlerr.Item {
	var out []mlerr.Item
	for _, seq := range r.seqs {
		out = append(out, r.batches[seq]...)
	}
	return out
}

// duplicates returns the points stored more than once.
func (r *fakeRun) duplicates() []string {
	var d []string
	for k, n := range r.count {
		if n > 1 {
			d = append(d, fmt.Sprintf("%s x%d", k, n))
		}
	}
	return d
}
