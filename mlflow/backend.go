package mlflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlerr/mlerr"
)

// Tags the Backend sets on the runs it creates.
const (
	// TagParentRunID names the run a forked run continues from; MLflow's UI
	// shows runs with it as children of that run.
	TagParentRunID = "mlflow.parentRunId"
	// TagForkStep is the last step of the parent that a forked run inherits.
	TagForkStep = "mlerr.forkStep"
	// TagIdempotencyKey is the idempotency key of a runs/create request: a
	// digest of the RunSpec (experiment, name, start time, fork, tags) that
	// the Backend sets on a run it creates for a RunSpec with a StartTime.
	// When a runs/create fails with its outcome unknown (its answer lost),
	// the next StartRun with the same spec searches for the run carrying the
	// key instead of creating a second one. It is the only tag of the
	// Backend's own that is not MLflow's; it carries nothing but the digest.
	TagIdempotencyKey = "mlerr.idempotencyKey"
)

// defaultExperimentID is MLflow's "Default" experiment.
const defaultExperimentID = "0"

// Backend is an mlerr.Backend that stores runs in an MLflow tracking server.
// It makes one attempt per call; the mlerr.Run using it retries, which is
// safe: log-batch resends are de-duplicated by the server, runs/update is
// idempotent, and a run whose runs/create answer was lost is found again by
// its idempotency key (see StartRun). A Backend is safe for concurrent use.
type Backend struct {
	c          *Client
	experiment string

	sysTags map[string]string // see systemTags
	// experimentIDOpt is WithExperimentID's experiment.
	experimentIDOpt string

	mu        sync.Mutex
	expIDs    map[string]string   // experiment name -> id
	pending   map[string]struct{} // start tokens of creates with unknown outcome
	resumeRun string              // WithResumeRun's run, until it is resumed
	roots     map[string]string   // run id -> its artifact root in the proxy (artifacts.go)
}

var _ mlerr.Backend = (*Backend)(nil)

// NewBackend returns a Backend for the tracking server at trackingURI; see
// NewClient for the URI and the options, WithExperiment for the default
// experiment.
func NewBackend(trackingURI string, opts ...Option) (*Backend, error) {
	c, err := NewClient(trackingURI, opts...)
	if err != nil {
		return nil, err
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.experiment != "" {
		if err := ValidateExperimentName(cfg.experiment); err != nil {
			return nil, err
		}
	}
	return &Backend{
		c: c, experiment: cfg.experiment, sysTags: systemTags(&cfg),
		experimentIDOpt: cfg.experimentID, resumeRun: cfg.resumeRun,
		expIDs: map[string]string{}, pending: map[string]struct{}{},
	}, nil
}

// Client returns the Client the Backend sends its requests with.
func (b *Backend) Client() *Client { return b.c }

// Rules returns MLflow's rules (the zero mlerr.Rules): a Run on the Backend
// logs what MLflow stores (NaN and ±Inf, any step order, a value again at
// a new time) and refuses at the call what it would refuse (MLflow's key
// syntax, MaxKeyLength, MaxParamValueLength, MaxTagValueLength).
func (b *Backend) Rules() mlerr.Rules {
	return mlerr.Rules{MaxKeyLength: MaxKeyLength, MaxParamLength: MaxParamValueLength, MaxTagLength: MaxTagValueLength}
}

// StartRun creates a run, or resumes spec.RunID.
//
// A new run goes to the experiment spec.Experiment (else the WithExperiment
// one, else MLflow's default experiment), created when missing. It is created
// with spec.Name, spec.StartTime (now when zero), spec.Tags and the system
// tags MLflow's fluent client sets (TagUser, also sent as the run's user_id,
// TagSourceName, TagSourceType, TagGitCommit, TagGitBranch; a tag of
// spec.Tags wins over one of them; see WithoutSystemTags). When
// spec.StartTime is set, the run also carries a TagIdempotencyKey tag derived
// from the spec: if a runs/create fails in a way that leaves its outcome
// unknown (its answer lost), the next StartRun with the same spec looks the
// run up by that tag instead of creating a second one.
//
// A fork (spec.ForkParent) checks that the parent exists and records it in
// the TagParentRunID and TagForkStep tags; a missing or deleted parent is no
// error: the run starts without it and RunInfo.ForkParentMissing is true.
//
// Resuming (spec.RunID set) reads the run, sets it RUNNING again if it had
// ended, and sets spec.Tags on it; RunInfo.Resumed is true. A missing or
// deleted run is an error of kind mlerr.ErrRunNotFound whose cause is the
// server's error. Bad tags or a bad experiment name are errors of kind
// mlerr.ErrInvalidRunParameters. RunInfo.LastSeq is always 0: MLflow keeps
// no batch numbers, and needs none, since it de-duplicates resent points.
func (b *Backend) StartRun(ctx context.Context, spec mlerr.RunSpec) (mlerr.RunInfo, error) {
	tags, err := specTags(spec.Tags)
	if err != nil {
		return mlerr.RunInfo{}, err
	}
	if spec.RunID != "" {
		return b.resume(ctx, spec, tags)
	}
	if id := b.resumeID(); id != "" {
		return b.resumeOnce(ctx, spec, id, tags)
	}
	expID, err := b.experimentID(ctx, spec.Experiment)
	if err != nil {
		return mlerr.RunInfo{}, err
	}
	info := mlerr.RunInfo{ExperimentID: expID}
	if tags, err = b.forkTags(ctx, spec, tags, &info); err != nil {
		return mlerr.RunInfo{}, err
	}
	start := spec.StartTime
	token := ""
	if start.IsZero() {
		start = time.Now()
	} else {
		token = startToken(expID, spec)
		tags = append(tags, RunTag{Key: TagIdempotencyKey, Value: token})
		if id, ok, err := b.findStarted(ctx, expID, token); err != nil {
			return mlerr.RunInfo{}, err
		} else if ok {
			info.RunID, info.URL = id, b.runURL(expID, id)
			return info, nil
		}
	}
	tags = b.withSystemTags(tags, spec.Tags)
	run, err := b.c.CreateRun(ctx, CreateRunRequest{
		ExperimentID: expID,
		RunName:      spec.Name,
		StartTime:    start.UnixMilli(),
		Tags:         tags,
		UserID:       tagValue(tags, TagUser),
	})
	if err != nil {
		b.createFailed(token, err)
		return mlerr.RunInfo{}, err
	}
	info.RunID, info.URL = run.Info.RunID, b.runURL(expID, run.Info.RunID)
	return info, nil
}

// forkTags checks a fork's parent and adds the tags naming it; a missing
// or deleted parent is marked in info instead.
func (b *Backend) forkTags(ctx context.Context, spec mlerr.RunSpec, tags []RunTag, info *mlerr.RunInfo) ([]RunTag, error) {
	if spec.ForkParent == "" {
		return tags, nil
	}
	parent, err := b.c.GetRun(ctx, spec.ForkParent)
	switch {
	case err == nil && parent.Info.LifecycleStage != LifecycleDeleted:
		tags = append(tags,
			RunTag{Key: TagParentRunID, Value: spec.ForkParent},
			RunTag{Key: TagForkStep, Value: strconv.FormatInt(spec.ForkStep, 10)})
	case err == nil || errors.Is(err, mlerr.CodeResourceDoesNotExist):
		info.ForkParentMissing = true
	default:
		return nil, err
	}
	return tags, nil
}

// createFailed remembers the idempotency key of a create whose outcome is
// unknown, so that the next StartRun looks for the run first.
func (b *Backend) createFailed(token string, err error) {
	if token != "" && outcomeUnknown(err) {
		b.mu.Lock()
		b.pending[token] = struct{}{}
		b.mu.Unlock()
	}
}

// withSystemTags adds the Backend's system tags that the caller's tags do
// not set.
func (b *Backend) withSystemTags(tags []RunTag, own map[string]string) []RunTag {
	keys := make([]string, 0, len(b.sysTags))
	for k := range b.sysTags {
		if _, set := own[k]; !set {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		tags = append(tags, RunTag{Key: k, Value: b.sysTags[k]})
	}
	return tags
}

// tagValue returns the value of the tag called key, "" when there is none.
func tagValue(tags []RunTag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// findStarted looks up the run created with token when an earlier create
// with it had an unknown outcome.
func (b *Backend) findStarted(ctx context.Context, expID, token string) (string, bool, error) {
	b.mu.Lock()
	_, unsure := b.pending[token]
	b.mu.Unlock()
	if !unsure {
		return "", false, nil
	}
	runs, err := b.c.SearchRuns(ctx, []string{expID}, "tags.`"+TagIdempotencyKey+"` = '"+token+"'", 1)
	if err != nil {
		return "", false, err
	}
	b.mu.Lock()
	delete(b.pending, token)
	b.mu.Unlock()
	if len(runs) == 0 {
		return "", false, nil
	}
	return runs[0].Info.RunID, true, nil
}

// outcomeUnknown reports whether a failed request may have been applied: a
// transport failure or a 5xx, but not a 4xx the server answered.
func outcomeUnknown(err error) bool {
	e := mlerr.AsError(err)
	return e == nil || e.HTTPStatus() >= 500
}

// startToken identifies a StartRun request by its spec.
func startToken(expID string, spec mlerr.RunSpec) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00%d\x00", expID, spec.Name, spec.StartTime.UnixNano(), spec.ForkParent, spec.ForkStep)
	keys := make([]string, 0, len(spec.Tags))
	for k := range spec.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\x00", k, spec.Tags[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (b *Backend) resume(ctx context.Context, spec mlerr.RunSpec, tags []RunTag) (mlerr.RunInfo, error) {
	run, err := b.c.GetRun(ctx, spec.RunID)
	if err != nil {
		return mlerr.RunInfo{}, runGone(err, spec.RunID)
	}
	if run.Info.LifecycleStage == LifecycleDeleted {
		return mlerr.RunInfo{}, mlerr.ErrRunNotFound.Errorf("mlflow: run %s is deleted; restore it to resume it", spec.RunID)
	}
	if run.Info.Status != StatusRunning {
		if _, err := b.c.UpdateRun(ctx, UpdateRunRequest{RunID: spec.RunID, Status: StatusRunning}); err != nil {
			return mlerr.RunInfo{}, runGone(err, spec.RunID)
		}
	}
	if len(tags) > 0 {
		if err := b.c.LogBatch(ctx, spec.RunID, nil, nil, tags); err != nil {
			return mlerr.RunInfo{}, runGone(err, spec.RunID)
		}
	}
	return mlerr.RunInfo{
		RunID:        spec.RunID,
		ExperimentID: run.Info.ExperimentID,
		Resumed:      true,
		URL:          b.runURL(run.Info.ExperimentID, spec.RunID),
	}, nil
}

// specTags checks a RunSpec's tags and returns them sorted by key.
func specTags(m map[string]string) ([]RunTag, error) {
	tags := make([]RunTag, 0, len(m)+3)
	for k, v := range m {
		if err := ValidateItem(mlerr.Item{Kind: mlerr.ItemTag, Key: k, Text: v}); err != nil {
			return nil, mlerr.ErrInvalidRunParameters.Errorf("mlflow: run tag: %w", err)
		}
		tags = append(tags, RunTag{Key: k, Value: v})
	}
	slices.SortFunc(tags, func(a, b RunTag) int { return strings.Compare(a.Key, b.Key) })
	return tags, nil
}

// experimentID returns the id of the experiment called name (the Backend's
// default when empty), creating it if need be, and caches it.
func (b *Backend) experimentID(ctx context.Context, name string) (string, error) {
	if name != "" {
		return b.experimentByName(ctx, name)
	}
	if b.experiment == "" {
		return firstNonEmpty(b.experimentIDOpt, defaultExperimentID), nil
	}
	id, err := b.experimentByName(ctx, b.experiment)
	if err == nil && b.experimentIDOpt != "" && id != b.experimentIDOpt {
		return "", mlerr.ErrInvalidRunParameters.Errorf("mlflow: the experiment id %s (WithExperimentID or %s) does not match the id %s of experiment %q (WithExperiment or %s)",
			b.experimentIDOpt, EnvExperimentID, id, b.experiment, EnvExperimentName)
	}
	return id, err
}

// experimentByName returns the id of the experiment called name, creating
// it if need be, and caches it.
func (b *Backend) experimentByName(ctx context.Context, name string) (string, error) {
	b.mu.Lock()
	id, ok := b.expIDs[name]
	b.mu.Unlock()
	if ok {
		return id, nil
	}
	if err := ValidateExperimentName(name); err != nil {
		return "", err
	}
	id, err := b.c.GetOrCreateExperiment(ctx, name)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.expIDs[name] = id
	b.mu.Unlock()
	return id, nil
}

func (b *Backend) runURL(expID, runID string) string {
	return b.c.TrackingURI() + "/#/experiments/" + expID + "/runs/" + runID
}

// EndRun sets the run's status (FINISHED, FAILED or KILLED) and end time
// (runs/update). Ending a run twice is harmless. A missing run is an error of
// kind mlerr.ErrRunNotFound.
func (b *Backend) EndRun(ctx context.Context, runID string, status mlerr.RunStatus, end time.Time) error {
	switch status {
	case mlerr.RunFinished, mlerr.RunFailed, mlerr.RunKilled:
	default:
		return mlerr.ErrInvalidRunParameters.Errorf("mlflow: cannot end run %s with status %d", runID, status)
	}
	if end.IsZero() {
		end = time.Now()
	}
	_, err := b.c.UpdateRun(ctx, UpdateRunRequest{RunID: runID, Status: status.String(), EndTime: end.UnixMilli()})
	return runGone(err, runID)
}

// runGone gives a server's "run does not exist" answer the kind
// mlerr.ErrRunNotFound, keeping the server's code, status and message (the
// server's *mlerr.Error is the cause). Other errors are returned as they are.
func runGone(err error, runID string) error {
	e := mlerr.AsError(err)
	if e == nil {
		return err
	}
	deleted := e.Code() == mlerr.CodeInvalidParameterValue && strings.Contains(e.Message(), "must be in the 'active' state")
	if e.Code() != mlerr.CodeResourceDoesNotExist && !deleted {
		return err
	}
	what := "does not exist"
	if deleted {
		what = "is deleted"
	}
	return mlerr.New(e.Code(), fmt.Sprintf("mlflow: run %s %s", runID, what)).
		WithKind(mlerr.ErrRunNotFound).WithHTTPStatus(e.HTTPStatus()).WithCause(err)
}
