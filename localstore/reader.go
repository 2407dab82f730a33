package localstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/mlerr/mlerr"
)

// RunSummary describes a run of a store, as List reads it.
type RunSummary struct {
	ID         string
	Name       string
	Experiment string
	// Status is StatusRunning or the final status ("FINISHED", "FAILED",
	// "KILLED").
	Status    string
	StartTime time.Time
	EndTime   time.Time // zero while running
	Dir       string
	// Batches is the number of batches in the log; Metrics, Params and Tags
	// count its items by kind (Metrics is the number of metric points).
	Batches               int
	Metrics, Params, Tags int
	// RunTags is the number of the run's own tags, given when it started
	// (mlerr.WithTags, RunSpec.Tags), which are in its manifest, not its
	// log.
	RunTags int
	// Bytes is the size of the good part of the log.
	Bytes int64
	// TornTail is true when the log ends with a torn tail (left by a crash,
	// cut when the run is next resumed), or when its last record is being
	// written as List reads it.
	TornTail bool
	// Artifacts is the number of the run's artifacts (files logged with
	// Run.LogArtifact and the like), ArtifactBytes their size.
	Artifacts     int
	ArtifactBytes int64
	// Sync is the state of the uploads of the run, one per target.
	Sync []SyncState
	// Err is why the run could not be read (an ErrCorrupted error, say); the
	// other fields are then what could be read.
	Err error
}

// Items returns the number of items of every kind.
func (r RunSummary) Items() int { return r.Metrics + r.Params + r.Tags }

// Synced reports whether the run is fully uploaded to at least one target:
// every batch, and its end when it has ended.
func (r RunSummary) Synced() bool {
	for _, s := range r.Sync {
		if s.complete(r) {
			return true
		}
	}
	return false
}

// SyncState is what a replay cursor says of a run's upload to one target.
type SyncState struct {
	// Target names where the run is uploaded (see WithTarget).
	Target string
	// RemoteRunID is the run's id in the target.
	RemoteRunID string
	// Batches is the number of the log's batches uploaded, in log order.
	Batches int
	// Items is the number of items uploaded, Rejected the number the
	// target rejected.
	Items, Rejected int
	// Artifacts is the number of the run's artifacts uploaded.
	Artifacts int
	// EndedStatus is the final status sent to the target, empty when none was.
	EndedStatus string
	// Updated is when the cursor was last saved.
	Updated time.Time
}

// complete reports whether the state covers every batch and the end of r.
func (s SyncState) complete(r RunSummary) bool {
	return s.Batches >= r.Batches && s.Artifacts >= r.Artifacts && (r.Status == StatusRunning || s.EndedStatus == r.Status)
}

// List returns the runs of the store in dir, oldest first (by start time,
// then id). A run that cannot be read is listed with its Err set; List itself
// fails only when dir is not a readable store (an ErrNotStore error when dir
// is missing, not a directory, or holds neither a marker nor a run).
func List(dir string) ([]RunSummary, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, ErrNotStore.Errorf("%s does not exist", dir)
		case isNotDir(dir):
			return nil, ErrNotStore.Errorf("%s is not a directory", dir)
		}
		return nil, mlerr.Wrap(err, mlerr.CodeIOError, "reading store "+dir)
	}
	marker := false
	var runs []RunSummary
	for _, e := range entries {
		if e.Name() == markerFile {
			marker = true
		}
		if !ValidRunID(e.Name()) {
			continue
		}
		runDir := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			// Maybe a run, maybe not: it is not followed, and says so.
			runs = append(runs, RunSummary{ID: e.Name(), Dir: runDir, Err: checkDir(runDir)})
			continue
		}
		if !e.IsDir() {
			continue
		}
		if _, err := os.Lstat(filepath.Join(runDir, manifestFile)); err != nil {
			continue // not a run, or one whose creation did not finish
		}
		runs = append(runs, Summarize(runDir))
	}
	if !marker && len(runs) == 0 {
		return nil, ErrNotStore.Errorf("%s holds no mlerr local store", dir)
	}
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].StartTime.Equal(runs[j].StartTime) {
			return runs[i].StartTime.Before(runs[j].StartTime)
		}
		return runs[i].ID < runs[j].ID
	})
	return runs, nil
}

func isNotDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// Summarize reads the run in runDir: its manifest, its log (checking every
// record) and its sync cursors. Errors are in RunSummary.Err.
func Summarize(runDir string) RunSummary {
	r := RunSummary{Dir: runDir, ID: filepath.Base(runDir)}
	m, err := readManifest(runDir)
	if err != nil {
		r.Err = err
		return r
	}
	r.ID, r.Name, r.Experiment, r.Status, r.StartTime, r.EndTime = m.ID, m.Name, m.Experiment, m.Status, m.StartTime, m.EndTime
	r.RunTags = len(m.Tags)
	r.Sync, r.Err = readCursors(runDir)
	err = scanRun(runDir, func(rec record) error {
		_, c, err := countBatch(rec.payload)
		if err != nil {
			return err
		}
		r.Batches++
		r.Metrics += c.Metrics
		r.Params += c.Params
		r.Tags += c.Tags
		r.Bytes = rec.end()
		return nil
	}, &r.TornTail)
	if err != nil {
		r.Err = err
	}
	if n, size, err := artifactTotals(runDir); r.Err == nil {
		r.Artifacts, r.ArtifactBytes, r.Err = n, size, err
	}
	return r
}

// scanRun calls fn with each good record of a run's log, read-only: a torn
// tail is not cut, it ends the scan and sets *torn. An error from fn (a
// payload that does not decode) is returned as an ErrCorrupted error.
func scanRun(runDir string, fn func(record) error, torn *bool) error {
	path := filepath.Join(runDir, logFile)
	f, err := openInside(path, os.O_RDONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return mlerr.ErrRunNotFound.Errorf("no log at %s", path)
		}
		return err
	}
	defer f.Close()
	s, tornHeader, err := newScanner(f, path, logName)
	if err != nil {
		return err
	}
	if tornHeader {
		if torn != nil {
			*torn = s.size > 0
		}
		return nil
	}
	for s.Next() {
		rec := s.Record()
		if err := fn(rec); err != nil {
			if ce, ok := err.(callerError); ok {
				return ce.err
			}
			return corrupted(path, rec.off, "%v", err)
		}
	}
	if t, _ := s.Torn(); t && torn != nil {
		*torn = true
	}
	return s.Err()
}

// Scan calls fn with each batch of the run in runDir, in log order. The
// batches' RunID is the run's local id and Seq the seq they were written
// with. It stops at the first error fn returns, and returns it. A torn tail
// ends the scan (it is not cut); corruption is an ErrCorrupted error.
func Scan(runDir string, fn func(b mlerr.Batch) error) error {
	id := filepath.Base(runDir)
	return scanRun(runDir, func(rec record) error {
		seq, items, err := decodeBatch(rec.payload)
		if err != nil {
			return err
		}
		if err := fn(mlerr.Batch{RunID: id, Seq: seq, Items: items}); err != nil {
			return callerError{err}
		}
		return nil
	}, nil)
}

// callerError carries an error of Scan's callback through scanRun untouched.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

// Items returns every item of the run in runDir, in log order.
func Items(runDir string) ([]mlerr.Item, error) {
	var items []mlerr.Item
	err := Scan(runDir, func(b mlerr.Batch) error {
		items = append(items, b.Items...)
		return nil
	})
	return items, err
}

// String returns a one-line description of the summary.
func (r RunSummary) String() string {
	return fmt.Sprintf("%s %s %d batches %d points", r.ID, r.Status, r.Batches, r.Metrics)
}
