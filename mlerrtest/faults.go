package mlerrtest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/mlerr/mlerr"
)

// fault is one scripted behaviour of the next calls of an op.
type fault struct {
	times  int // calls left; < 0: every call until the Hold is released
	err    error
	panics bool
	panicV any
	hold   *Hold
}

// FailNext makes the next n calls of op fail with err, storing nothing.
// Faults scripted for the same op apply in the order they were scripted:
// FailNext(WriteBatch, 2, e1) then FailNext(WriteBatch, 1, e2) fails the
// first two writes with e1 and the third with e2. A nil err or n < 1 is a
// mistake in the test, and FailNext panics.
func (b *Backend) FailNext(op Op, n int, err error) {
	if err == nil || n < 1 {
		panic(fmt.Sprintf("mlerrtest: FailNext(%s, %d, %v): need n >= 1 and an error", op, n, err))
	}
	b.script(op, &fault{times: n, err: err})
}

// PanicNext makes the next call of op panic with v, as a buggy backend
// does; the call is recorded with Panicked true. A Run recovers such a
// panic and treats it as a failed call.
func (b *Backend) PanicNext(op Op, v any) {
	b.script(op, &fault{times: 1, panics: true, panicV: v})
}

// Hang makes the calls of op block, in the order scripted with the other
// faults, until the returned Hold is released, when they go on as usual, or
// until their context is done, when they fail with the context's error and
// store nothing: a server that accepted the connection and does not answer.
func (b *Backend) Hang(op Op) *Hold {
	h := &Hold{b: b, op: op, release: make(chan struct{}), entered: make(chan struct{})}
	h.f = &fault{times: -1, hold: h}
	b.script(op, h.f)
	return h
}

// Reject makes every later WriteBatch store a batch but the items for
// which reason returns a non-empty reason; they come back in a
// *mlerr.BatchError[mlerr.Item], each a failure of code
// INVALID_PARAMETER_VALUE with that reason, as a server's per-item
// refusals. WriteArtifact asks it too (see there). Reject(nil) stops it.
func (b *Backend) Reject(reason func(mlerr.Item) string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reject = reason
}

// Heal removes every scripted fault and the Reject function, and releases
// every Hold.
func (b *Backend) Heal() {
	b.mu.Lock()
	var holds []*Hold
	for _, fs := range b.faults {
		for _, f := range fs {
			if f.hold != nil {
				holds = append(holds, f.hold)
			}
		}
	}
	b.faults, b.reject = map[Op][]*fault{}, nil
	b.mu.Unlock()
	for _, h := range holds {
		h.Release()
	}
}

func (b *Backend) script(op Op, f *fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults[op] = append(b.faults[op], f)
}

// next takes the fault for this call of op, if any.
func (b *Backend) next(op Op) *fault {
	b.mu.Lock()
	defer b.mu.Unlock()
	fs := b.faults[op]
	if len(fs) == 0 {
		return nil
	}
	f := fs[0]
	if f.times > 0 {
		f.times--
		if f.times == 0 {
			b.faults[op] = fs[1:]
		}
	}
	return f
}

// enter applies the scripted fault of c's op: it returns the error the
// call fails with, blocks on a Hold, or panics.
func (b *Backend) enter(ctx context.Context, c *Call) error {
	f := b.next(c.Op)
	switch {
	case f == nil:
		return nil
	case f.panics:
		c.Panicked = true
		_ = b.record(*c, nil)
		panic(f.panicV)
	case f.hold != nil:
		return f.hold.wait(ctx)
	}
	return f.err
}

// Hold is a Hang in force; the zero value is not usable.
type Hold struct {
	b           *Backend
	op          Op
	f           *fault
	release     chan struct{}
	entered     chan struct{}
	releaseOnce sync.Once
	enterOnce   sync.Once
}

// Entered returns a channel closed when the first call blocked on the Hold:
// the Run is busy with that call from then on.
func (h *Hold) Entered() <-chan struct{} { return h.entered }

// Release lets the blocked calls, and every later call of the op, go on.
// It may be called more than once.
func (h *Hold) Release() {
	h.releaseOnce.Do(func() {
		h.b.mu.Lock()
		fs := h.b.faults[h.op]
		if i := slices.Index(fs, h.f); i >= 0 {
			h.b.faults[h.op] = slices.Delete(slices.Clone(fs), i, i+1)
		}
		h.b.mu.Unlock()
		close(h.release)
	})
}

func (h *Hold) wait(ctx context.Context) error {
	h.enterOnce.Do(func() { close(h.entered) })
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServerError returns the error the mlflow backend returns for an MLflow
// error response: HTTP status, MLflow's error code and message, decoded as
// mlerr.FromResponse decodes them (so errors.Is(err, code) and the kinds of
// the taxonomy hold, and the retry policy judges it as it would the real
// one). ServerError(503, mlerr.CodeTemporarilyUnavailable, "try later") is
// an outage, ServerError(401, mlerr.CodeUnauthenticated, "Invalid token") a
// refused credential.
func ServerError(status int, code mlerr.Code, message string) error {
	body := fmt.Sprintf(`{"error_code": %q, "message": %q}`, code.String(), message)
	return mlerr.Decoder{}.DecodeError(status, nil, []byte(body))
}
