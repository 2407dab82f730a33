package mlflow

import (
	"context"

	"github.com/mlerr/mlerr"
)

// WithExperimentID sets the experiment (by id) of the runs a Backend
// starts when RunSpec.Experiment is empty, as MLFLOW_EXPERIMENT_ID does
// for MLflow's client. With WithExperiment too, the experiment is the named
// one, and its id must be this one: a StartRun finding another fails with
// an error of kind mlerr.ErrInvalidRunParameters, as MLflow's client fails
// when MLFLOW_EXPERIMENT_NAME and MLFLOW_EXPERIMENT_ID disagree. The server
// refuses an id of no experiment (RESOURCE_DOES_NOT_EXIST). It has no
// effect on a Client.
func WithExperimentID(id string) Option {
	return func(c *config) { c.experimentID = id }
}

// WithResumeRun makes the first run the Backend starts for a RunSpec
// without a RunID resume the run with this id instead of creating one, as
// MLFLOW_RUN_ID does for MLflow's start_run (which then forgets the
// variable, so that a later run is a new one). A RunSpec.RunID
// (mlerr.WithRunID) wins over it, as start_run's run_id argument does. The
// run is resumed as StartRun resumes a RunSpec.RunID: a missing or deleted
// one is an error of kind mlerr.ErrRunNotFound. The Backend forgets the id
// once the run is resumed, not before, so that a StartRun retried after an
// outage resumes it still. An empty id resumes none (it cancels
// MLFLOW_RUN_ID for NewBackendFromEnv). It has no effect on a Client.
func WithResumeRun(id string) Option {
	return func(c *config) { c.resumeRun = id }
}

// resumeID returns WithResumeRun's run while it has not been resumed.
func (b *Backend) resumeID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resumeRun
}

// resumeOnce resumes WithResumeRun's run, and forgets it once resumed.
func (b *Backend) resumeOnce(ctx context.Context, spec mlerr.RunSpec, id string, tags []RunTag) (mlerr.RunInfo, error) {
	spec.RunID = id
	info, err := b.resume(ctx, spec, tags)
	if err == nil {
		b.mu.Lock()
		if b.resumeRun == id {
			b.resumeRun = ""
		}
		b.mu.Unlock()
	}
	return info, err
}
