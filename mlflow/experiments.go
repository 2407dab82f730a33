package mlflow

import (
	"context"
	"errors"
	"net/url"

	"github.com/mlerr/mlerr"
)

// GetExperimentByName returns the experiment called name (experiments/
// get-by-name). A missing experiment is the server's 404
// RESOURCE_DOES_NOT_EXIST error.
func (c *Client) GetExperimentByName(ctx context.Context, name string) (*Experiment, error) {
	var out struct {
		Experiment *Experiment `json:"experiment"`
	}
	if err := c.get(ctx, "experiments/get-by-name", url.Values{"experiment_name": {name}}, &out); err != nil {
		return nil, err
	}
	if out.Experiment == nil {
		return nil, mlerr.ErrRest.Errorf("mlflow: experiments/get-by-name answered without an experiment for %q", name)
	}
	return out.Experiment, nil
}

// CreateExperiment creates the experiment called name and returns its id
// (experiments/create). tags may be nil. An existing name is the server's
// RESOURCE_ALREADY_EXISTS error; GetOrCreateExperiment handles it.
func (c *Client) CreateExperiment(ctx context.Context, name string, tags []ExperimentTag) (string, error) {
	in := struct {
		Name string          `json:"name"`
		Tags []ExperimentTag `json:"tags,omitempty"`
	}{name, tags}
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	if err := c.post(ctx, "experiments/create", in, &out); err != nil {
		return "", err
	}
	if out.ExperimentID == "" {
		return "", mlerr.ErrRest.Errorf("mlflow: experiments/create answered without an experiment id for %q", name)
	}
	return out.ExperimentID, nil
}

// GetOrCreateExperiment returns the id of the experiment called name,
// creating it when it does not exist. Two callers racing to create it both
// get the same id: the loser's RESOURCE_ALREADY_EXISTS is answered by reading
// the experiment again, as MLflow's Python client does. A deleted experiment
// of that name is an error of kind mlerr.ErrInvalidRunParameters (MLflow
// would refuse to create runs in it).
func (c *Client) GetOrCreateExperiment(ctx context.Context, name string) (string, error) {
	exp, err := c.GetExperimentByName(ctx, name)
	if err == nil {
		return activeExperiment(exp)
	}
	if !errors.Is(err, mlerr.CodeResourceDoesNotExist) {
		return "", err
	}
	id, err := c.CreateExperiment(ctx, name, nil)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, mlerr.CodeResourceAlreadyExists) {
		return "", err
	}
	exp, err = c.GetExperimentByName(ctx, name)
	if err != nil {
		return "", err
	}
	return activeExperiment(exp)
}

func activeExperiment(exp *Experiment) (string, error) {
	if exp.LifecycleStage == LifecycleDeleted {
		return "", mlerr.ErrInvalidRunParameters.Errorf(
			"mlflow: experiment %q (id %s) is deleted: restore it or use another name", exp.Name, exp.ExperimentID)
	}
	return exp.ExperimentID, nil
}
