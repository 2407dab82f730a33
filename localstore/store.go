package localstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mlerr/mlerr"
)

// Store is a local store: one directory per run under a root directory. It
// implements mlerr.Backend and is safe for concurrent use by several runs.
// Within one process, a run is written through one Store; another process
// (or Store) opening the same run for writing gets an ErrLocked error.
type Store struct {
	root  string
	now   func() time.Time
	ids   func() string
	rules mlerr.Rules
	mode  fs.FileMode // of the files it creates

	mu     sync.Mutex
	runs   map[string]*runLog // runs open for writing
	closed bool
}

var _ mlerr.RulesBackend = (*Store)(nil)

// Rules returns the rules of the backend the store's runs will be synced to
// (WithRules; MLflow's by default).
func (s *Store) Rules() mlerr.Rules { return s.rules }

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for the manifest's update times and for runs
// started or ended without a time (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithRunIDs sets the generator of the ids of new runs (default: 32 random
// hex digits, like MLflow's). Generated ids must satisfy ValidRunID.
func WithRunIDs(gen func() string) Option { return func(s *Store) { s.ids = gen } }

// WithRules sets the rules the Store declares to a Run logging to it: those
// of the backend its runs will be synced to (default: MLflow's, the zero mlerr.Rules),
// so that an entry the backend would refuse is refused when it is logged,
// not when it is synced.
func WithRules(r mlerr.Rules) Option { return func(s *Store) { s.rules = r } }

// WithFileMode sets the permission of the files the store creates (default
// DefaultFileMode, 0600: the owner's alone, since a run's data may be
// private), before the process's umask, which applies as always; its
// directories get the same bits plus search where a read bit is set (0600
// gives 0700, 0640 gives 0750, 0644 gives 0755). Files and directories that
// exist keep their permissions, but for a manifest, replaced whole. Replay
// creates its files with the permission of the run's log.
func WithFileMode(mode fs.FileMode) Option { return func(s *Store) { s.mode = mode.Perm() } }

// Open opens the store in dir, creating the directory and its marker file
// when needed.
func Open(dir string, opts ...Option) (*Store, error) {
	s := &Store{root: dir, now: time.Now, ids: newRunID, runs: map[string]*runLog{}, mode: DefaultFileMode}
	for _, o := range opts {
		o(s)
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, ErrNotStore.Errorf("%s is not a directory", dir)
	}
	if err := mkdirDurable(dir, dirMode(s.mode)); err != nil {
		return nil, mlerr.Wrap(err, mlerr.CodeIOError, "creating store "+dir)
	}
	marker := filepath.Join(dir, markerFile)
	if _, err := os.Lstat(marker); errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(marker, []byte("mlerr local store, format 1\n"), s.mode); err != nil {
			return nil, mlerr.Wrap(err, mlerr.CodeIOError, "creating store "+dir)
		}
	}
	return s, nil
}

// newRunID returns 32 random hex digits.
func newRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.root }

// RunDir returns the directory of the run with the given id.
func (s *Store) RunDir(id string) string { return filepath.Join(s.root, id) }

// StartRun creates a run, or resumes it when spec.RunID names a run of the
// store (RunInfo.Resumed is then true, RunInfo.LastSeq the highest Seq in
// its log, and the run's status is RUNNING again).
// A spec.RunID naming no run creates the run with that id, which must satisfy
// ValidRunID (else an mlerr.ErrInvalidRunParameters error). A spec.ForkParent
// naming no run of the store sets RunInfo.ForkParentMissing and the run starts
// without a parent. Resuming a run cuts a torn tail its log may have; a log
// corrupted in the middle is an ErrCorrupted error.
//
// RunInfo.URL is the run's directory as a file:// URL.
func (s *Store) StartRun(ctx context.Context, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	if err := ctx.Err(); err != nil {
		return mlerr.RunInfo{}, err
	}
	id := spec.RunID
	if id != "" && !ValidRunID(id) {
		return mlerr.RunInfo{}, mlerr.ErrInvalidRunParameters.Errorf("run id %q is not valid: want a letter or digit then up to 254 letters, digits, '-' or '_'", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return mlerr.RunInfo{}, mlerr.ErrClosed.New("local store is closed")
	}
	if id != "" {
		if m, err := readManifest(s.RunDir(id)); err == nil {
			return s.resume(m)
		} else if !errors.Is(err, mlerr.ErrRunNotFound) {
			return mlerr.RunInfo{}, err
		}
	} else {
		id = s.ids()
		if !ValidRunID(id) {
			return mlerr.RunInfo{}, mlerr.ErrInvalidRunParameters.Errorf("generated run id %q is not valid", id)
		}
	}
	return s.create(id, spec)
}

func (s *Store) create(id string, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	info := mlerr.RunInfo{RunID: id, ExperimentID: spec.Experiment, URL: fileURL(s.RunDir(id))}
	m := manifest{
		Version: 1, ID: id, Name: spec.Name, Experiment: spec.Experiment,
		Tags: maps.Clone(spec.Tags), StartTime: spec.StartTime, Status: StatusRunning, Updated: s.now(),
	}
	if m.StartTime.IsZero() {
		m.StartTime = m.Updated
	}
	if spec.ForkParent != "" {
		if _, err := readManifest(s.RunDir(spec.ForkParent)); ValidRunID(spec.ForkParent) && err == nil {
			m.ForkParent, m.ForkStep = spec.ForkParent, spec.ForkStep
		} else {
			info.ForkParentMissing = true
		}
	}
	dir := s.RunDir(id)
	if err := mkdirInside(dir, dirMode(s.mode)); err != nil {
		return mlerr.RunInfo{}, mlerr.Wrap(err, mlerr.CodeIOError, "creating run "+id)
	}
	// The log first, the manifest last: a run is listed once its manifest
	// exists, and then its log does too.
	l, _, err := openRunLog(filepath.Join(dir, logFile), true, s.mode)
	if err != nil {
		return mlerr.RunInfo{}, err
	}
	if err := writeManifest(dir, m, s.mode); err != nil {
		l.close()
		return mlerr.RunInfo{}, mlerr.Wrap(err, mlerr.CodeIOError, "writing manifest of run "+id)
	}
	s.runs[id] = l
	return info, nil
}

func (s *Store) resume(m manifest) (mlerr.RunInfo, error) {
	l, err := s.openLocked(m.ID)
	if err != nil {
		return mlerr.RunInfo{}, err
	}
	m.Status, m.EndTime, m.Updated = StatusRunning, time.Time{}, s.now()
	m.Resumes++
	if err := writeManifest(s.RunDir(m.ID), m, s.mode); err != nil {
		return mlerr.RunInfo{}, mlerr.Wrap(err, mlerr.CodeIOError, "writing manifest of run "+m.ID)
	}
	return mlerr.RunInfo{RunID: m.ID, ExperimentID: m.Experiment, Resumed: true, LastSeq: l.lastSeq(), URL: fileURL(s.RunDir(m.ID))}, nil
}

// openLocked returns the run's open log, opening it (and cutting a torn
// tail) when needed. s.mu must be held.
func (s *Store) openLocked(id string) (*runLog, error) {
	if l := s.runs[id]; l != nil {
		return l, nil
	}
	if !ValidRunID(id) {
		return nil, mlerr.ErrRunNotFound.Errorf("no run %q: not a valid run id", id)
	}
	if _, err := readManifest(s.RunDir(id)); err != nil {
		return nil, err
	}
	l, _, err := openRunLog(filepath.Join(s.RunDir(id), logFile), false, s.mode)
	if err != nil {
		return nil, err
	}
	s.runs[id] = l
	return l, nil
}

// WriteBatch appends the batch to its run's log and returns once it is
// fsynced. A batch already in the log (same Seq, same items: a retry) is
// acknowledged without being written again; a batch with a Seq already used
// but other items (a resumed Run numbering from 1 again) is appended. A run
// that is not open in this Store is opened (after a restart, say); a run the
// store does not have is an mlerr.ErrRunNotFound error. Items of an unknown
// kind are rejected (a *mlerr.BatchError[mlerr.Item] indexing into b.Items)
// and the others stored; a batch of more than 1,048,576 items, or that
// encodes to more than 64 MiB, is refused whole (kind mlerr.ErrValueTooLarge);
// any other error means nothing of the batch is in the log.
func (s *Store) WriteBatch(ctx context.Context, b mlerr.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return mlerr.ErrClosed.New("local store is closed")
	}
	l, err := s.openLocked(b.RunID)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	items, failures := validItems(b.Items)
	if _, err := l.append(b.Seq, items); err != nil {
		return err
	}
	return mlerr.NewBatchError(len(b.Items), failures).Err()
}

// validItems returns the items a log can store and the failures of the
// others (an unknown kind), which are left out rather than written in a form
// that could not be read back.
func validItems(items []mlerr.Item) ([]mlerr.Item, []mlerr.Failure[mlerr.Item]) {
	var failures []mlerr.Failure[mlerr.Item]
	for i, it := range items {
		if !validKind(it.Kind) {
			failures = append(failures, mlerr.Failure[mlerr.Item]{
				Item: it, Index: i, Reason: "unknown item kind", Code: mlerr.CodeInvalidParameterValue,
				Cause: mlerr.InvalidParameterValue("item %d (%q) has kind %d: not a metric, param or tag", i, it.Key, it.Kind),
			})
		}
	}
	if failures == nil {
		return items, nil
	}
	valid := make([]mlerr.Item, 0, len(items)-len(failures))
	for _, it := range items {
		if validKind(it.Kind) {
			valid = append(valid, it)
		}
	}
	return valid, failures
}

func validKind(k mlerr.ItemKind) bool { return k >= mlerr.ItemMetric && k <= mlerr.ItemTag }

// EndRun records the run's final status and end time (now when end is zero)
// in its manifest, and closes its log.
func (s *Store) EndRun(ctx context.Context, runID string, status mlerr.RunStatus, end time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if status < mlerr.RunFinished || status > mlerr.RunKilled {
		return mlerr.ErrInvalidRunParameters.Errorf("run status %d is not FINISHED, FAILED or KILLED", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return mlerr.ErrClosed.New("local store is closed")
	}
	if !ValidRunID(runID) {
		return mlerr.ErrRunNotFound.Errorf("no run %q: not a valid run id", runID)
	}
	m, err := readManifest(s.RunDir(runID))
	if err != nil {
		return err
	}
	m.Status, m.Updated = status.String(), s.now()
	m.EndTime = end
	if end.IsZero() {
		m.EndTime = m.Updated
	}
	if err := writeManifest(s.RunDir(runID), m, s.mode); err != nil {
		return mlerr.Wrap(err, mlerr.CodeIOError, "writing manifest of run "+runID)
	}
	if l := s.runs[runID]; l != nil {
		delete(s.runs, runID)
		return l.close()
	}
	return nil
}

// Close closes the runs' logs, releasing their locks. The store is not usable
// afterwards; nothing written is lost.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for id, l := range s.runs {
		errs = append(errs, l.close())
		delete(s.runs, id)
	}
	return errors.Join(errs...)
}

// fileURL returns path as a file:// URL.
func fileURL(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "file://" + filepath.ToSlash(path)
}
