package localstore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// checkingFake is the fake backend as a RunChecker: a run in deleted is
// gone.
type checkingFake struct {
	*fakeBackend
	deleted map[string]bool
}

func (f checkingFake) RunExists(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.runs[id]
	return ok && !f.deleted[id], nil
}

// TestReplayRemoteRunDeleted: a run whose remote run was deleted after it
// was synced (whole or in part) is reported, not taken for synced nor
// resumed; WithForce uploads it again, whole, as a new run.
func TestReplayRemoteRunDeleted(t *testing.T) {
	tests := []struct {
		name    string
		partial bool // the first replay was interrupted
	}{{"synced whole", false}, {"synced in part", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			offlineRun(t, s, mlerr.RunSpec{}, 4, 10, true)
			fb := checkingFake{newFake(), map[string]bool{}}
			if tt.partial {
				fb.failCall = 3
			}
			rep, err := Replay(ctx, s.Dir(), fb, WithRetry(noRetry), oneEach)
			require.Equal(t, tt.partial, err != nil, "%v", err)
			first := rep.Runs[0].RemoteID
			fb.failCall = 0
			fb.deleted[first] = true

			rep, err = Replay(ctx, s.Dir(), fb)
			require.NoError(t, err)
			rr := rep.Runs[0]
			assert.Equal(t, first, rr.GoneRunID)
			assert.False(t, rr.AlreadySynced)
			assert.Empty(t, rr.RemoteID)
			assert.Len(t, fb.runs, 1, "nothing uploaded without WithForce")

			rep, err = Replay(ctx, s.Dir(), fb, WithForce())
			require.NoError(t, err)
			rr = rep.Runs[0]
			assert.Equal(t, first, rr.GoneRunID)
			assert.True(t, rr.Created)
			require.NotEqual(t, first, rr.RemoteID)
			checkExactlyOnce(t, fb.run(rr.RemoteID), 40)
			assert.Equal(t, mlerr.RunFinished, fb.run(rr.RemoteID).status)

			rep, err = Replay(ctx, s.Dir(), fb)
			require.NoError(t, err)
			assert.True(t, rep.Runs[0].AlreadySynced, "synced to the new run")
			assert.Equal(t, rr.RemoteID, rep.Runs[0].RemoteID)
		})
	}
}
