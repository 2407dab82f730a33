package localstore

import (
	"context"
	"fmt"
	"maps"

	"github.com/mlerr/mlerr"
)

// TagLocalRunID is the tag Replay sets on every remote run it creates or
// resumes: the id of the local run it came from (the run's directory name
// in the store), so that the remote run says where it came from.
const TagLocalRunID = "mlerr.localRunId"

// A RunChecker is a backend that can tell whether one of its runs still
// exists (the mlflow package's Backend is one). Replay asks it about every
// run an earlier replay uploaded, so that a run deleted in the target
// since is reported (RunReport.GoneRunID) instead of being taken for
// synced, or failing the replay when there is more to upload.
type RunChecker interface {
	// RunExists reports whether the run exists and is not deleted. An
	// error means the backend could not tell.
	RunExists(ctx context.Context, runID string) (bool, error)
}

// WithForce makes Replay upload again, from its first batch and as a new
// remote run, a run whose remote run the target no longer has (see
// RunChecker); without it such a run is reported and left alone.
func WithForce() ReplayOption { return func(r *replayer) { r.force = true } }

// remoteTags returns the run's tags with TagLocalRunID.
func remoteTags(tags map[string]string, localID string) map[string]string {
	out := make(map[string]string, len(tags)+1)
	maps.Copy(out, tags)
	out[TagLocalRunID] = localID
	return out
}

// remoteGone asks the backend, when it is a RunChecker, whether the remote
// run of an earlier replay still exists. A gone run is recorded in rr;
// with WithForce, p then plans a new upload of the whole run, else the
// run is not uploaded (stop). The backend's failure to tell stops the
// replay (stop, err).
func (r *replayer) remoteGone(ctx context.Context, p *planned, rr *RunReport) (gone, stop bool, err error) {
	gone, err = r.checkRemote(ctx, p, rr)
	return gone, err != nil || gone && !r.force, err
}

// forgetGone drops the cursor of a gone remote run (WithForce), so that
// the run is uploaded again as a new one; another replay may have done it
// already (the cursor read under the lock then names another run).
func forgetGone(cur cursor, has, gone bool, goneID string) (cursor, bool) {
	if gone && cur.RemoteRunID == goneID {
		return cursor{}, false
	}
	return cur, has
}

func (r *replayer) checkRemote(ctx context.Context, p *planned, rr *RunReport) (bool, error) {
	rc, ok := r.b.(RunChecker)
	if !ok || !p.has {
		return false, nil
	}
	exists, err := mlerr.Do(ctx, r.policy, func(ctx context.Context) (bool, error) {
		return rc.RunExists(ctx, p.cur.RemoteRunID)
	})
	if err != nil {
		return false, fmt.Errorf("checking run %s (%s) in the target: %w", p.sum.ID, p.cur.RemoteRunID, err)
	}
	if exists {
		return false, nil
	}
	rr.GoneRunID, rr.RemoteID = p.cur.RemoteRunID, ""
	if r.force {
		r.total += p.cur.Items + p.cur.Rejected
		p.has, p.cur = false, cursor{}
	}
	return true, nil
}
