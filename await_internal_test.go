package mlerr

import (
	"context"
	"testing"
	"time"
)

// gatedBackend starts runs at once and holds every write until its gate
// closes or the write's context ends.
type gatedBackend struct{ gate chan struct{} }

func (b *gatedBackend) StartRun(context.Context, RunSpec) (RunInfo, error) {
	return RunInfo{RunID: "run"}, nil
}

func (b *gatedBackend) WriteBatch(ctx context.Context, _ Batch) error {
	select {
	case <-b.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *gatedBackend) EndRun(context.Context, string, RunStatus, time.Time) error { return nil }

// TestSenderIgnoresWakeUpsWithoutRoom: while the window is full (a write
// held), a wake-up from the outbox stays pending: the sender does not take
// it only to wait again, so the log calls, which signal only when none is
// pending, do not signal again and again.
func TestSenderIgnoresWakeUpsWithoutRoom(t *testing.T) {
	b := &gatedBackend{gate: make(chan struct{})}
	run, err := NewRun(context.Background(), b, WithLimits(Limits{BatchItems: 10, BatchInterval: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(context.Background())
	defer close(b.gate)
	if err := run.Started(context.Background()); err != nil {
		t.Fatal(err)
	}
	step := int64(0)
	logBatch := func() {
		for range 10 {
			step++
			if err := run.LogMetric("loss", 1, step); err != nil {
				t.Fatal(err)
			}
		}
	}
	logBatch() // taken, and held by the backend
	deadline := time.Now().Add(10 * time.Second)
	for run.Health().InFlight == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first batch never went out")
		}
		time.Sleep(time.Millisecond)
	}
	for range 5 {
		logBatch()
		time.Sleep(10 * time.Millisecond) // the sender would have taken a wake-up by now
		if n := len(run.out.wake); n != 1 {
			t.Fatalf("%d wake-ups pending with the window full, want 1 (the sender took it)", n)
		}
	}
}
