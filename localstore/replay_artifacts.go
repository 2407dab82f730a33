package localstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/mlerr/mlerr"
)

// uploadedPath is the list of a run's artifacts uploaded to target, one
// line per file, appended and fsynced after each upload.
func uploadedPath(runDir, target string) string {
	return filepath.Join(runDir, syncDirName, cursorBase(target)+".artifacts.jsonl")
}

// artifactsLeft returns the entries of the run's index not uploaded to
// the remote run of target (as they are now: a file written again is
// uploaded again).
func artifactsLeft(runDir, target, remote string) ([]artifactEntry, error) {
	all, err := readLines(filepath.Join(runDir, artifactsIndex))
	if err != nil || len(all) == 0 {
		return nil, err
	}
	done, err := readLines(uploadedPath(runDir, target))
	if err != nil {
		return nil, err
	}
	sent := make(map[artifactEntry]bool, len(done))
	for _, e := range done {
		if e.Remote == remote {
			e.Remote = ""
			sent[e] = true
		}
	}
	left := all[:0:0]
	for _, e := range all {
		if !sent[e] {
			left = append(left, e)
		}
	}
	return left, nil
}

// noArtifactsLeft reports whether every artifact of the run is uploaded to
// target (an index that cannot be read is left to the upload to report).
func noArtifactsLeft(runDir, target, remote string) bool {
	left, err := artifactsLeft(runDir, target, remote)
	return err == nil && len(left) == 0
}

// uploadArtifacts uploads the run's artifacts that target lacks, one by
// one, each through the retry policy from its first byte, after the run's
// batches; each one uploaded is recorded before the next, so a replay cut
// short uploads the others next time and none twice (the one in flight at
// the cut may be uploaded again, which replaces it). A non-nil error is the
// backend's; local trouble goes to rr.Err.
func (r *replayer) uploadArtifacts(ctx context.Context, dir, remoteID string, mode fs.FileMode, prog *Progress, rr *RunReport) error {
	left, err := artifactsLeft(dir, r.target, remoteID)
	if err != nil || len(left) == 0 {
		rr.Err = err
		return nil
	}
	ab, ok := r.b.(mlerr.ArtifactBackend)
	if !ok {
		rr.Err = mlerr.ErrNotImplemented.Errorf("run %s has %d artifacts and the target stores none (it is not an mlerr.ArtifactBackend)", filepath.Base(dir), len(left))
		return nil
	}
	for _, e := range left {
		prog.TotalArtifactBytes += e.Size
	}
	for _, e := range left {
		if err := r.uploadOne(ctx, ab, dir, remoteID, e); err != nil {
			return r.artifactFailed(err, rr)
		}
		sent := e
		sent.Remote = remoteID
		if err := appendLines(uploadedPath(dir, r.target), []artifactEntry{sent}, mode); err != nil {
			rr.Err = err
			return nil
		}
		rr.Artifacts++
		rr.ArtifactBytes += e.Size
		prog.ArtifactBytes += e.Size
		r.report(*prog)
	}
	return nil
}

// localArtifactError marks an artifact that could not be read locally.
type localArtifactError struct{ err error }

func (e localArtifactError) Error() string { return e.err.Error() }
func (e localArtifactError) Unwrap() error { return e.err }

// artifactFailed sorts an upload's failure: local (rr.Err) or the
// backend's (returned).
func (r *replayer) artifactFailed(err error, rr *RunReport) error {
	var le localArtifactError
	if errors.As(err, &le) {
		rr.Err = le.err
		return nil
	}
	return fmt.Errorf("uploading the artifacts of run %s: %w", rr.LocalID, err)
}

// uploadOne uploads one stored artifact through the retry policy, opening
// (and checking) the file anew for every attempt.
func (r *replayer) uploadOne(ctx context.Context, ab mlerr.ArtifactBackend, dir, remoteID string, e artifactEntry) error {
	return mlerr.Retry(ctx, r.policy, func(ctx context.Context) error {
		f, err := openArtifact(dir, e)
		if err != nil {
			return mlerr.Permanent(localArtifactError{err})
		}
		defer f.Close()
		return ab.WriteArtifact(ctx, remoteID, e.Path, f, e.Size)
	})
}

// countFor counts the entries of an upload list that went to remote.
func countFor(uploaded []artifactEntry, remote string) int {
	n := 0
	for _, e := range uploaded {
		if e.Remote == remote {
			n++
		}
	}
	return n
}
