package localstore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// TestReplayJoinsStoredBatches: small stored batches go in requests as
// large as the limits allow, each limit counted on its own kind.
func TestReplayJoinsStoredBatches(t *testing.T) {
	tests := []struct {
		name     string
		limits   BatchLimits
		wantSeqs []uint64
	}{
		{"MLflow's limits: one request", BatchLimits{}, []uint64{7}},
		{"25 metrics: 2 batches of 10 a request", BatchLimits{Metrics: 25}, []uint64{2, 4, 6, 7}},
		{"items limit", BatchLimits{Items: 30}, []uint64{3, 6, 7}},
		{"a batch above the limit goes alone", BatchLimits{Metrics: 5}, []uint64{1, 2, 3, 4, 5, 6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			offlineRun(t, s, mlerr.RunSpec{}, 7, 10, true)
			fb := newFake()
			rep, err := Replay(context.Background(), s.Dir(), fb, WithBatchLimits(tt.limits))
			require.NoError(t, err)
			r := fb.run(rep.Runs[0].RemoteID)
			checkExactlyOnce(t, r, 70)
			assert.Equal(t, tt.wantSeqs, r.seqs)
			assert.Equal(t, len(tt.wantSeqs), rep.Requests)
			assert.Equal(t, 7, rep.Batches)
			assert.Equal(t, mlerr.RunFinished, r.status)
		})
	}
}

// TestReplayJoinedExactlyOnce: a replay interrupted in the middle of a
// joined request (before the backend stored it, or after, its answer
// lost), then resumed after the log grew, stores every point once: the
// pending request is sent again whole, under its Seq, before the new
// batches are joined.
func TestReplayJoinedExactlyOnce(t *testing.T) {
	limits := WithBatchLimits(BatchLimits{Metrics: 20}) // requests of 2 stored batches
	tests := []struct {
		name string
		set  func(f *fakeBackend)
	}{
		{"first request fails", func(f *fakeBackend) { f.failCall = 1 }},
		{"middle request fails", func(f *fakeBackend) { f.failCall = 2 }},
		{"middle request stored, answer lost", func(f *fakeBackend) { f.applyThenFailCall = 2 }},
		{"last (short) request fails", func(f *fakeBackend) { f.failCall = 3 }},
		{"last (short) request stored, answer lost", func(f *fakeBackend) { f.applyThenFailCall = 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			id := startRun(t, s, mlerr.RunSpec{})
			writeBatches(t, s, id, 5, 10) // requests [1 2] [3 4] [5]
			fb := newFake()
			tt.set(fb)
			_, err := Replay(ctx, s.Dir(), fb, WithRetry(noRetry), limits)
			require.ErrorIs(t, err, errInjected)
			fb.failCall, fb.applyThenFailCall = 0, 0

			// Training goes on: batch 6 would join batch 5 in a new request.
			require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 6, Items: points("loss", 50, 10)}))
			require.NoError(t, s.EndRun(ctx, id, mlerr.RunFinished, t0))
			rep, err := Replay(ctx, s.Dir(), fb, WithRetry(noRetry), limits)
			require.NoError(t, err)
			checkExactlyOnce(t, fb.run(rep.Runs[0].RemoteID), 60)
			runs, err := List(s.Dir())
			require.NoError(t, err)
			assert.True(t, runs[0].Synced())
			assert.Equal(t, 60, runs[0].Sync[0].Items)
		})
	}
}

// TestReplayPendingBeyondTheLog: a cursor whose pending request ends past
// the log (the log lost batches) is corruption; nothing is sent.
func TestReplayPendingBeyondTheLog(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := offlineRun(t, s, mlerr.RunSpec{}, 3, 2, false)
	fb := newFake()
	_, err := Replay(ctx, s.Dir(), fb, oneEach)
	require.NoError(t, err)
	c, ok, err := readCursor(s.RunDir(id), DefaultTarget)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: id, Seq: 4, Items: points("loss", 6, 2)}))
	c.Pending = 9
	require.NoError(t, writeCursor(s.RunDir(id), c, DefaultFileMode))
	calls := fb.calls
	rep, err := Replay(ctx, s.Dir(), fb)
	assert.ErrorIs(t, err, ErrCorrupted)
	assert.ErrorIs(t, rep.Runs[0].Err, ErrCorrupted)
	assert.Contains(t, rep.Runs[0].Err.Error(), "up to 9 were being sent")
	assert.Equal(t, calls, fb.calls, "nothing sent")
}
