package localstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/mlerr/mlerr"
)

// DefaultTarget is the cursor name Replay uses without WithTarget.
const DefaultTarget = "default"

// ReplayOption configures Replay.
type ReplayOption func(*replayer)

// WithTarget names the backend a replay uploads to (default DefaultTarget).
// Each run remembers its upload per target, so that uploading to a second
// server starts from the beginning and uploading to the same one again
// resumes. The name is any string (a tracking URI, say); `mlerr sync` uses
// the tracking URI.
func WithTarget(name string) ReplayOption { return func(r *replayer) { r.target = name } }

// WithProgress sets a function called after every uploaded batch and at the
// start and end of every run, on Replay's goroutine.
func WithProgress(fn func(Progress)) ReplayOption { return func(r *replayer) { r.progress = fn } }

// WithRuns limits a replay of a store to the runs with these local ids.
func WithRuns(ids ...string) ReplayOption {
	return func(r *replayer) {
		r.only = map[string]bool{}
		for _, id := range ids {
			r.only[id] = true
		}
	}
}

// WithRetry sets the policy for the calls to the backend (default
// mlerr.DefaultPolicy()). Each call (start a run, write a batch, end a run)
// is retried on its own; a batch is resent with the same Seq, so a retry
// after a lost response is stored once. A batch whose items were partly
// rejected is not retried.
func WithRetry(p mlerr.Policy) ReplayOption { return func(r *replayer) { r.policy = p } }

// WithReplayClock sets the clock stamped on cursors and rejections (default
// time.Now).
func WithReplayClock(now func() time.Time) ReplayOption { return func(r *replayer) { r.now = now } }

// Progress is what a replay reports as it goes.
type Progress struct {
	// Run is the local id of the run being uploaded; RunIndex counts the runs
	// from 1 up to Runs.
	Run            string
	RunIndex, Runs int
	// Batches and TotalBatches count the run's batches: uploaded (by this
	// replay or an earlier one) and in the log.
	Batches, TotalBatches int
	// Items counts the items this replay uploaded (or had rejected) so far,
	// over every run; TotalItems is how many it had to upload when it started.
	Items, TotalItems int
	// Done is true on the last report of a run.
	Done bool
	// ArtifactBytes counts the bytes of the run's artifacts this replay
	// uploaded, of TotalArtifactBytes it had to (after its batches).
	ArtifactBytes, TotalArtifactBytes int64
}

// ReplayReport says what a replay did.
type ReplayReport struct {
	// Runs has one entry per run considered, in upload order.
	Runs []RunReport
	// Batches and Items count what this replay uploaded, over every run
	// (stored batches and their items), Requests the WriteBatch calls that
	// carried them; Rejected counts the items the target rejected.
	Batches, Items, Requests, Rejected int
	// Elapsed is the replay's duration.
	Elapsed time.Duration
}

// RunReport says what a replay did with one run.
type RunReport struct {
	// LocalID is the run's id in the store, RemoteID its id in the target.
	LocalID, RemoteID string
	// Created is true when this replay created the remote run; false when it
	// resumed one an earlier replay created.
	Created bool
	// AlreadySynced is true when there was nothing left to upload.
	AlreadySynced bool
	// SkippedBatches counts the batches an earlier replay uploaded.
	SkippedBatches int
	// Batches and Items count what this replay uploaded: stored batches
	// and their items. Requests counts the WriteBatch calls that carried
	// them (see BatchLimits).
	Batches, Items, Requests int
	// Rejected are the items the target rejected (they are not retried; they
	// are also appended to the run's sync/<target>.rejected.jsonl).
	Rejected []Rejection
	// Artifacts and ArtifactBytes count the artifacts this replay uploaded.
	Artifacts     int
	ArtifactBytes int64
	// Ended is the final status this replay sent, empty when it sent none
	// (the run is still running locally, or its end was sent before).
	Ended string
	// GoneRunID is the remote run an earlier replay uploaded the run to,
	// when the target no longer has it (it was deleted; see RunChecker):
	// the run is then not uploaded, unless WithForce, which uploads it again
	// as a new run (Created, RemoteID).
	GoneRunID string
	// ForkParentUnsynced is true when the run's fork parent has not been
	// uploaded to the target, so the remote run was started without it.
	ForkParentUnsynced bool
	// Err is why the run could not be uploaded (a corrupted log, a run
	// locked by another replay); the replay goes on with the other runs.
	Err error
}

// Rejection is an item the target rejected.
type Rejection struct {
	// Seq is the remote batch number: the position in the log (from 1) of
	// the last stored batch of the request that carried the item.
	Seq    uint64
	Item   mlerr.Item
	Reason string
	Code   mlerr.Code
	// Time is when the rejection was recorded.
	Time time.Time
}

// Replay uploads offline runs to backend b, exactly once and resumably.
//
// dir is either one run's directory (holding manifest.json) or a store's root,
// in which case every run is uploaded (oldest first; WithRuns picks some).
//
// For each run, Replay starts the remote run (resuming the one an earlier
// replay created, by RunSpec.RunID), then sends the log's batches in order,
// joining consecutive stored batches into requests as large as the
// target takes (BatchLimits: MLflow's, 1000 metrics a request, by default),
// however small the stored batches were. A request's Seq is the position
// in the log of its last stored batch, and a request is recorded in the
// cursor before it is sent, so that one sent again after an interruption
// is the same batches under the same Seq and the backend stores it once.
// After each request the backend acknowledged, the cursor (saved
// atomically in the run's directory, per target, see WithTarget) moves past
// it: the next replay skips what it covers. Items the backend rejects (a *BatchError) are
// recorded in the report and in the run's rejection file and not sent again.
// When the run has ended locally, its status and end time are sent last.
//
// Replay stops at the first error from the backend and returns it with the
// report so far; nothing acknowledged is sent again by the next replay. A run
// whose log is corrupted, or that another replay is uploading, is skipped
// (RunReport.Err) and Replay goes on with the others; the returned error then
// joins the runs' errors.
//
// Replay only reads the log: a run may be replayed while it is being written
// (the batches written meanwhile are uploaded by the next replay).
func Replay(ctx context.Context, dir string, b mlerr.Backend, opts ...ReplayOption) (ReplayReport, error) {
	r := &replayer{b: b, target: DefaultTarget, now: time.Now, policy: mlerr.DefaultPolicy()}
	for _, o := range opts {
		o(r)
	}
	start := r.now()
	runs, err := r.plan(dir)
	if err != nil {
		return ReplayReport{}, err
	}
	var report ReplayReport
	var runErrs []error
	for i, run := range runs {
		rr, err := r.run(ctx, run, i+1, len(runs))
		report.Runs = append(report.Runs, rr)
		report.Batches += rr.Batches
		report.Items += rr.Items
		report.Requests += rr.Requests
		report.Rejected += len(rr.Rejected)
		if err != nil {
			report.Elapsed = r.now().Sub(start)
			return report, err
		}
		if rr.Err != nil {
			runErrs = append(runErrs, rr.Err)
		}
	}
	report.Elapsed = r.now().Sub(start)
	return report, errors.Join(runErrs...)
}

type replayer struct {
	b        mlerr.Backend
	target   string
	progress func(Progress)
	only     map[string]bool
	now      func() time.Time
	policy   mlerr.Policy
	limits   BatchLimits
	force    bool // WithForce

	total, done int // items to upload, uploaded
}

// planned is a run to upload and the cursor it starts from.
type planned struct {
	sum RunSummary
	cur cursor
	has bool // a cursor exists
}

// plan lists the runs under dir, with their cursors, and counts the items to
// upload.
func (r *replayer) plan(dir string) ([]planned, error) {
	var sums []RunSummary
	if _, err := os.Lstat(filepath.Join(dir, manifestFile)); err == nil {
		sums = []RunSummary{Summarize(dir)}
	} else {
		all, err := List(dir)
		if err != nil {
			return nil, err
		}
		for _, s := range all {
			if r.only == nil || r.only[s.ID] {
				sums = append(sums, s)
			}
		}
	}
	runs := make([]planned, 0, len(sums))
	for _, s := range sums {
		p := planned{sum: s}
		if s.Err == nil {
			p.cur, p.has, p.sum.Err = readCursor(s.Dir, r.target)
		}
		if p.sum.Err == nil {
			r.total += max(0, s.Items()-p.cur.Items-p.cur.Rejected)
		}
		runs = append(runs, p)
	}
	return runs, nil
}

// run uploads one run. A non-nil error is the backend's and stops the
// replay; local trouble is in RunReport.Err.
func (r *replayer) run(ctx context.Context, p planned, index, runs int) (RunReport, error) {
	sum := p.sum
	rr := RunReport{LocalID: sum.ID, RemoteID: p.cur.RemoteRunID, Err: sum.Err}
	if rr.Err != nil {
		return rr, nil
	}
	gone, stop, err := r.remoteGone(ctx, &p, &rr)
	if stop {
		return rr, err
	}
	if p.has && p.cur.Batches >= sum.Batches && (sum.Status == StatusRunning || p.cur.EndedStatus == sum.Status && p.cur.EndedAt.Equal(sum.EndTime)) && noArtifactsLeft(sum.Dir, r.target, p.cur.RemoteRunID) {
		rr.AlreadySynced, rr.SkippedBatches = true, p.cur.Batches
		return rr, nil
	}
	// Files of the sync directory get the permission of the run's log.
	mode := fileModeOf(filepath.Join(sum.Dir, logFile))
	unlock, err := lockCursor(sum.Dir, r.target, mode)
	if err != nil {
		rr.Err = err
		return rr, nil
	}
	defer unlock()
	// Read the cursor again under the lock: another replay may have moved it.
	cur, has, err := readCursor(sum.Dir, r.target)
	if err != nil {
		rr.Err = err
		return rr, nil
	}
	cur, has = forgetGone(cur, has, gone, rr.GoneRunID)
	m, err := readManifest(sum.Dir)
	if err != nil {
		rr.Err = err
		return rr, nil
	}
	spec := mlerr.RunSpec{
		RunID: cur.RemoteRunID, Name: m.Name, Experiment: m.Experiment,
		Tags: remoteTags(m.Tags, sum.ID), StartTime: m.StartTime,
	}
	if m.ForkParent != "" {
		pc, ok, _ := readCursor(filepath.Join(filepath.Dir(sum.Dir), m.ForkParent), r.target)
		if ok {
			spec.ForkParent, spec.ForkStep = pc.RemoteRunID, m.ForkStep
		} else {
			rr.ForkParentUnsynced = true
		}
	}
	info, err := mlerr.Do(ctx, r.policy, func(ctx context.Context) (mlerr.RunInfo, error) {
		return r.b.StartRun(ctx, spec)
	})
	if err != nil {
		return rr, fmt.Errorf("starting run %s in the target: %w", sum.ID, err)
	}
	if has && info.RunID != cur.RemoteRunID {
		return rr, mlerr.ErrRunConflicting.Errorf("the target answered run %q when asked to resume %q", info.RunID, cur.RemoteRunID)
	}
	rr.RemoteID, rr.Created = info.RunID, !has
	if !has {
		// Remember the remote run before sending anything, so that an
		// interrupted replay resumes it rather than creating another.
		cur = cursor{Target: r.target, RemoteRunID: info.RunID, Offset: fileHeaderSize, Updated: r.now()}
		if err := writeCursor(sum.Dir, cur, mode); err != nil {
			rr.Err = err
			return rr, nil
		}
	}
	if cur.Batches > sum.Batches {
		rr.Err = corrupted(filepath.Join(sum.Dir, logFile), 0, "the log has %d batches but its sync cursor says %d were uploaded", sum.Batches, cur.Batches)
		return rr, nil
	}
	rr.SkippedBatches = cur.Batches
	prog := Progress{Run: sum.ID, RunIndex: index, Runs: runs, Batches: cur.Batches, TotalBatches: sum.Batches, TotalItems: r.total}
	r.report(prog)

	up := &uploader{r: r, ctx: ctx, dir: sum.Dir, remote: info.RunID, mode: mode, limits: r.limits.withDefaults(), cur: &cur, rr: &rr, prog: &prog}
	err = up.upload()
	var be backendError
	if errors.As(err, &be) {
		return rr, be.err
	}
	if err != nil {
		rr.Err = err
		return rr, nil
	}
	if err := r.uploadArtifacts(ctx, sum.Dir, info.RunID, mode, &prog, &rr); err != nil || rr.Err != nil {
		return rr, err
	}
	if sum.Status != StatusRunning && cur.Batches >= sum.Batches &&
		(cur.EndedStatus != m.Status || !cur.EndedAt.Equal(m.EndTime)) {
		status, ok := parseStatus(m.Status)
		if ok {
			err := mlerr.Retry(ctx, r.policy, func(ctx context.Context) error {
				return r.b.EndRun(ctx, info.RunID, status, m.EndTime)
			})
			if err != nil {
				return rr, fmt.Errorf("ending run %s in the target: %w", sum.ID, err)
			}
			cur.EndedStatus, cur.EndedAt, cur.Updated = m.Status, m.EndTime, r.now()
			if err := writeCursor(sum.Dir, cur, mode); err != nil {
				rr.Err = err
				return rr, nil
			}
			rr.Ended = m.Status
		}
	}
	prog.Done = true
	r.report(prog)
	return rr, nil
}

// backendError carries an error of the backend out of the log scan.
type backendError struct{ err error }

func (e backendError) Error() string { return e.err.Error() }
func (e backendError) Unwrap() error { return e.err }

func (r *replayer) report(p Progress) {
	if r.progress != nil {
		r.progress(p)
	}
}

// send writes one batch, retrying as the policy says; the items the backend
// rejected come back as rejections, any other failure as the error.
func (r *replayer) send(ctx context.Context, b mlerr.Batch) ([]Rejection, error) {
	var partial *mlerr.BatchError[mlerr.Item]
	err := mlerr.Retry(ctx, r.policy, func(ctx context.Context) error {
		partial = nil
		err := r.b.WriteBatch(ctx, b)
		if errors.As(err, &partial) && len(partial.Failures) > 0 {
			return nil // stored but for the rejected items: not to be resent
		}
		partial = nil
		return err
	})
	if err != nil || partial == nil {
		return nil, err
	}
	now := r.now()
	out := make([]Rejection, 0, len(partial.Failures))
	for _, f := range partial.Failures {
		out = append(out, Rejection{Seq: b.Seq, Item: f.Item, Reason: f.Reason, Code: f.Code, Time: now})
	}
	return out, nil
}

func parseStatus(s string) (mlerr.RunStatus, bool) {
	for _, st := range []mlerr.RunStatus{mlerr.RunFinished, mlerr.RunFailed, mlerr.RunKilled} {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}

// appendRejections appends rejections, one JSON object a line, to the run's
// rejection file for target, and fsyncs it.
func appendRejections(runDir, target string, rs []Rejection, mode fs.FileMode) error {
	path := filepath.Join(runDir, syncDirName, cursorBase(target)+".rejected.jsonl")
	f, err := openInside(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, mode)
	if err != nil {
		return err
	}
	var buf []byte
	for _, rj := range rs {
		line, err := json.Marshal(rejectionLine(rj))
		if err != nil {
			f.Close()
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	_, err = f.Write(buf)
	return syncClose(f, err)
}

// lockCursor takes the lock of a run's upload to target, so that two
// replays never upload the same run to the same target at once.
func lockCursor(runDir, target string, mode fs.FileMode) (unlock func(), err error) {
	dir := filepath.Join(runDir, syncDirName)
	if err := mkdirInside(dir, dirMode(mode)); err != nil {
		return nil, err
	}
	f, err := openInside(filepath.Join(dir, cursorBase(target)+".lock"), os.O_RDWR|os.O_CREATE, mode)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLockBusy) {
			return nil, ErrLocked.Errorf("run %s is being uploaded to %q by another replay", filepath.Base(runDir), target)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}

// rejectionJSON is a line of a rejection file. A metric value is a JSON
// number, or the string "NaN", "Infinity" or "-Infinity" as protobuf JSON
// writes them.
type rejectionJSON struct {
	Seq    uint64    `json:"seq"`
	Kind   string    `json:"kind"`
	Key    string    `json:"key"`
	Value  any       `json:"value,omitempty"`
	Text   string    `json:"text,omitempty"`
	Step   int64     `json:"step,omitempty"`
	At     time.Time `json:"timestamp,omitzero"`
	Reason string    `json:"reason"`
	Code   string    `json:"error_code"`
	Time   time.Time `json:"time"`
}

func rejectionLine(r Rejection) rejectionJSON {
	j := rejectionJSON{
		Seq: r.Seq, Kind: r.Item.Kind.String(), Key: r.Item.Key, Text: r.Item.Text, Step: r.Item.Step,
		At: r.Item.Time, Reason: r.Reason, Code: r.Code.String(), Time: r.Time,
	}
	if r.Item.Kind == mlerr.ItemMetric {
		j.Value = jsonFloat(r.Item.Value)
	}
	return j
}

func jsonFloat(v float64) any {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return v
}
