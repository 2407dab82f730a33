package mlerrtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlerrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errDown = mlerrtest.ServerError(503, mlerr.CodeTemporarilyUnavailable, "down")

func batch(runID string, seq uint64, keys ...string) mlerr.Batch {
	b := mlerr.Batch{RunID: runID, Seq: seq}
	for i, k := range keys {
		b.Items = append(b.Items, mlerr.Item{Kind: mlerr.ItemMetric, Key: k, Value: float64(i), Step: int64(seq)})
	}
	return b
}

// TestBackendDirect calls the Backend's methods and checks what it stored
// and recorded, fault by fault.
func TestBackendDirect(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		script  func(b *mlerrtest.Backend)
		writes  []mlerr.Batch
		wantErr []string // per write: "" for nil, else a substring
		wantLen int      // items stored
	}{
		{name: "no fault", writes: []mlerr.Batch{batch("run-1", 1, "a", "b")}, wantErr: []string{""}, wantLen: 2},
		{name: "a batch written twice is stored once",
			writes: []mlerr.Batch{batch("run-1", 1, "a"), batch("run-1", 1, "a")}, wantErr: []string{"", ""}, wantLen: 1},
		{name: "fail the next 2", script: func(b *mlerrtest.Backend) { b.FailNext(mlerrtest.WriteBatch, 2, errDown) },
			writes:  []mlerr.Batch{batch("run-1", 1, "a"), batch("run-1", 1, "a"), batch("run-1", 1, "a")},
			wantErr: []string{"down", "down", ""}, wantLen: 1},
		{name: "faults apply in order", script: func(b *mlerrtest.Backend) {
			b.FailNext(mlerrtest.WriteBatch, 1, errDown)
			b.FailNext(mlerrtest.WriteBatch, 1, errors.New("second"))
		}, writes: []mlerr.Batch{batch("run-1", 1, "a"), batch("run-1", 2, "a"), batch("run-1", 3, "a")},
			wantErr: []string{"down", "second", ""}, wantLen: 1},
		{name: "reject items", script: func(b *mlerrtest.Backend) {
			b.Reject(func(it mlerr.Item) string {
				if it.Key == "bad" {
					return "no"
				}
				return ""
			})
		}, writes: []mlerr.Batch{batch("run-1", 1, "a", "bad", "b")}, wantErr: []string{"1 of 3 items failed"}, wantLen: 2},
		{name: "unknown run", writes: []mlerr.Batch{batch("nope", 1, "a")}, wantErr: []string{"does not exist"}},
		{name: "heal", script: func(b *mlerrtest.Backend) {
			b.FailNext(mlerrtest.WriteBatch, 5, errDown)
			b.Heal()
		}, writes: []mlerr.Batch{batch("run-1", 1, "a")}, wantErr: []string{""}, wantLen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mlerrtest.NewBackend()
			info, err := b.StartRun(ctx, mlerr.RunSpec{Name: "r"})
			require.NoError(t, err)
			require.Equal(t, "run-1", info.RunID)
			if tt.script != nil {
				tt.script(b)
			}
			for i, w := range tt.writes {
				err := b.WriteBatch(ctx, w)
				if tt.wantErr[i] == "" {
					assert.NoError(t, err, i)
				} else if assert.Error(t, err, i) {
					assert.Contains(t, err.Error(), tt.wantErr[i])
				}
			}
			r, _ := b.Run("run-1")
			assert.Len(t, r.Items, tt.wantLen)
			calls := b.Calls()
			assert.Len(t, calls, 1+len(tt.writes), "every call is recorded")
			assert.Equal(t, len(tt.writes), b.Count(mlerrtest.WriteBatch))
		})
	}
}

func TestBackendRejectedBatchError(t *testing.T) {
	b := mlerrtest.NewBackend()
	_, _ = b.StartRun(context.Background(), mlerr.RunSpec{})
	b.Reject(func(it mlerr.Item) string { return map[bool]string{true: "too long"}[it.Key == "x"] })
	err := b.WriteBatch(context.Background(), batch("run-1", 1, "x", "y"))
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	require.Len(t, be.Failures, 1)
	assert.Equal(t, 0, be.Failures[0].Index)
	assert.Equal(t, "too long", be.Failures[0].Reason)
	assert.True(t, errors.Is(err, mlerr.CodeInvalidParameterValue))
}

func TestHang(t *testing.T) {
	tests := []struct {
		name    string
		release bool // release the hold (else the call's context ends)
		wantErr error
	}{
		{name: "released", release: true},
		{name: "context done", wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mlerrtest.NewBackend()
			_, _ = b.StartRun(context.Background(), mlerr.RunSpec{})
			h := b.Hang(mlerrtest.WriteBatch)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.WriteBatch(ctx, batch("run-1", 1, "a")) }()
			<-h.Entered()
			if tt.release {
				h.Release()
				h.Release() // twice is fine
			} else {
				cancel()
			}
			assert.ErrorIs(t, <-done, tt.wantErr)
			r, _ := b.Run("run-1")
			assert.Equal(t, tt.release, len(r.Items) == 1, "stored only when released")
			h.Release()
			require.NoError(t, b.WriteBatch(context.Background(), batch("run-1", 2, "a")), "released: calls go on")
		})
	}
}

func TestPanicNext(t *testing.T) {
	b := mlerrtest.NewBackend()
	b.PanicNext(mlerrtest.StartRun, "boom")
	assert.PanicsWithValue(t, "boom", func() { _, _ = b.StartRun(context.Background(), mlerr.RunSpec{}) })
	_, err := b.StartRun(context.Background(), mlerr.RunSpec{})
	require.NoError(t, err, "only the next call panics")
	calls := b.Calls()
	require.Len(t, calls, 2)
	assert.True(t, calls[0].Panicked)
	assert.False(t, calls[1].Panicked)
}

func TestFailNextMistakes(t *testing.T) {
	b := mlerrtest.NewBackend()
	assert.Panics(t, func() { b.FailNext(mlerrtest.EndRun, 0, errDown) })
	assert.Panics(t, func() { b.FailNext(mlerrtest.EndRun, 1, nil) })
}

func TestStartRunResumeAndFork(t *testing.T) {
	ctx := context.Background()
	b := mlerrtest.NewBackend()
	b.AddRun("old")
	require.NoError(t, b.WriteBatch(ctx, batch("old", 7, "a")))
	tests := []struct {
		name        string
		spec        mlerr.RunSpec
		wantResumed bool
		wantLastSeq uint64
		wantMissing bool
		wantKind    *mlerr.Kind
	}{
		{name: "resume", spec: mlerr.RunSpec{RunID: "old"}, wantResumed: true, wantLastSeq: 7},
		{name: "resume a missing run", spec: mlerr.RunSpec{RunID: "gone"}, wantKind: mlerr.ErrRunNotFound},
		{name: "fork of a missing parent", spec: mlerr.RunSpec{ForkParent: "gone"}, wantMissing: true},
		{name: "fork", spec: mlerr.RunSpec{ForkParent: "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := b.StartRun(ctx, tt.spec)
			if tt.wantKind != nil {
				assert.ErrorIs(t, err, tt.wantKind)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantResumed, info.Resumed)
			assert.Equal(t, tt.wantLastSeq, info.LastSeq)
			assert.Equal(t, tt.wantMissing, info.ForkParentMissing)
		})
	}
}

// TestThroughRun drives a real Run over the Backend with faults of every
// kind and checks the Run's report against what the Backend stored.
func TestThroughRun(t *testing.T) {
	tests := []struct {
		name       string
		script     func(b *mlerrtest.Backend)
		wantStatus mlerr.RunStatus
		wantStored int
	}{
		{name: "clean", wantStatus: mlerr.RunFinished, wantStored: 5},
		{name: "outage, retried", script: func(b *mlerrtest.Backend) { b.FailNext(mlerrtest.WriteBatch, 3, errDown) },
			wantStatus: mlerr.RunFinished, wantStored: 5},
		{name: "refused for good", script: func(b *mlerrtest.Backend) {
			b.FailNext(mlerrtest.WriteBatch, 1, mlerrtest.ServerError(403, mlerr.CodePermissionDenied, "no"))
		}, wantStatus: mlerr.RunFailed, wantStored: 0},
		{name: "backend panics once", script: func(b *mlerrtest.Backend) { b.PanicNext(mlerrtest.WriteBatch, "bug") },
			wantStatus: mlerr.RunFinished, wantStored: 5},
		{name: "one item rejected", script: func(b *mlerrtest.Backend) {
			b.Reject(func(it mlerr.Item) string { return map[bool]string{true: "no"}[it.Step == 2] })
		}, wantStatus: mlerr.RunFailed, wantStored: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := mlerrtest.NewBackend()
			if tt.script != nil {
				tt.script(b)
			}
			clock := mlerrtest.NewClock()
			run, err := mlerr.NewRun(ctx, b, mlerr.WithClock(clock), mlerr.WithCallbacks(mlerr.Callbacks{OnError: func(error, time.Time) {}}))
			require.NoError(t, err)
			for step := int64(0); step < 5; step++ {
				require.NoError(t, run.LogMetrics(step, map[string]float64{"loss": 1}))
			}
			report, _ := run.Close(ctx)
			assert.Equal(t, tt.wantStatus, report.Status)
			r := b.LastRun()
			assert.Len(t, r.Metric("loss"), tt.wantStored)
			assert.Equal(t, tt.wantStatus, r.Status)
		})
	}
}

func TestArtifacts(t *testing.T) {
	ctx := context.Background()
	b := mlerrtest.NewBackend()
	_, _ = b.StartRun(ctx, mlerr.RunSpec{})
	require.NoError(t, b.WriteArtifact(ctx, "run-1", "a.txt", strings.NewReader("hi"), 2))
	require.NoError(t, b.WriteBatch(ctx, batch("run-1", 1, "m")))
	require.NoError(t, b.WriteArtifact(ctx, "run-1", "a.txt", strings.NewReader("hello"), 5), "replaces")
	assert.Error(t, b.WriteArtifact(ctx, "run-1", "b.txt", strings.NewReader("x"), 9), "size mismatch")
	b.Reject(func(it mlerr.Item) string {
		return map[bool]string{true: "too big"}[it.Kind == mlerr.ItemArtifact && it.Value > 3]
	})
	err := b.WriteArtifact(ctx, "run-1", "big.bin", strings.NewReader("12345"), 5)
	assert.ErrorIs(t, err, mlerr.CodeInvalidParameterValue)
	r, _ := b.Run("run-1")
	assert.Equal(t, map[string][]byte{"a.txt": []byte("hello")}, r.Artifacts)
	assert.Equal(t, []string{"artifact a.txt", "batch 1", "artifact a.txt"}, r.Writes)
}

func TestClock(t *testing.T) {
	c := mlerrtest.NewClock()
	require.NoError(t, c.Sleep(context.Background(), time.Second))
	c.Advance(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	assert.Equal(t, mlerrtest.Epoch.Add(time.Minute+time.Second), c.Now())
	assert.Equal(t, []time.Duration{time.Second}, c.Sleeps())
}

func TestOpString(t *testing.T) {
	for op, want := range map[mlerrtest.Op]string{mlerrtest.StartRun: "StartRun", mlerrtest.WriteBatch: "WriteBatch",
		mlerrtest.WriteArtifact: "WriteArtifact", mlerrtest.EndRun: "EndRun", 9: "Op(9)"} {
		assert.Equal(t, want, op.String())
	}
}

func TestServerError(t *testing.T) {
	err := mlerrtest.ServerError(503, mlerr.CodeTemporarilyUnavailable, "down")
	assert.ErrorIs(t, err, mlerr.CodeTemporarilyUnavailable)
	assert.True(t, mlerr.Classify(err).Retry)
}
