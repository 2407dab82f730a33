package mlflow

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mlerr/mlerr"
)

// CreateRun creates a run (runs/create) and returns it.
func (c *Client) CreateRun(ctx context.Context, req CreateRunRequest) (*Run, error) {
	var out struct {
		Run *Run `json:"run"`
	}
	if err := c.post(ctx, "runs/create", req, &out); err != nil {
		return nil, err
	}
	if out.Run == nil || out.Run.Info.RunID == "" {
		return nil, mlerr.ErrRest.New("mlflow: runs/create answered without a run id")
	}
	return out.Run, nil
}

// GetRun returns the run with the given id (runs/get): its info, params,
// tags and the latest point of each metric. A missing run is the server's 404
// RESOURCE_DOES_NOT_EXIST error. A deleted run is returned with
// Info.LifecycleStage "deleted".
func (c *Client) GetRun(ctx context.Context, runID string) (*Run, error) {
	var out struct {
		Run *Run `json:"run"`
	}
	if err := c.get(ctx, "runs/get", url.Values{"run_id": {runID}}, &out); err != nil {
		return nil, err
	}
	if out.Run == nil {
		return nil, mlerr.ErrRest.Errorf("mlflow: runs/get answered without a run for %q", runID)
	}
	return out.Run, nil
}

// UpdateRun changes a run's status, end time or name (runs/update) and
// returns its updated info.
func (c *Client) UpdateRun(ctx context.Context, req UpdateRunRequest) (*RunInfo, error) {
	var out struct {
		RunInfo *RunInfo `json:"run_info"`
	}
	if err := c.post(ctx, "runs/update", req, &out); err != nil {
		return nil, err
	}
	if out.RunInfo == nil {
		return &RunInfo{RunID: req.RunID, Status: req.Status, EndTime: req.EndTime, RunName: req.RunName}, nil
	}
	return out.RunInfo, nil
}

// DeleteRun marks a run deleted (runs/delete); MLflow keeps it, in the
// "deleted" lifecycle stage, and refuses writes to it.
func (c *Client) DeleteRun(ctx context.Context, runID string) error {
	return c.post(ctx, "runs/delete", struct {
		RunID string `json:"run_id"`
	}{runID}, nil)
}

// SearchRuns returns up to max runs of the given experiments that match
// filter, in MLflow's search syntax (runs/search), one page only.
func (c *Client) SearchRuns(ctx context.Context, experimentIDs []string, filter string, max int) ([]Run, error) {
	in := struct {
		ExperimentIDs []string `json:"experiment_ids"`
		Filter        string   `json:"filter,omitempty"`
		MaxResults    int      `json:"max_results,omitempty"`
	}{experimentIDs, filter, max}
	var out struct {
		Runs []Run `json:"runs"`
	}
	if err := c.post(ctx, "runs/search", in, &out); err != nil {
		return nil, err
	}
	return out.Runs, nil
}

// LogBatch logs metrics, params and tags to a run in one request
// (runs/log-batch). It does not check MLflow's limits: the server rejects a
// request with more than 1000 metrics, 100 params, 100 tags or 1000 items in
// all, as a whole, with INVALID_PARAMETER_VALUE; Backend.WriteBatch splits and
// checks. Resending the same metrics with the same timestamps is harmless
// (MLflow stores an identical point once) and so is resending a param with
// the same value.
func (c *Client) LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []RunTag) error {
	return c.logBatchBody(ctx, encodeLogBatch(runID, metrics, params, tags))
}

// logBatchBody posts an encoded runs/log-batch body.
func (c *Client) logBatchBody(ctx context.Context, body []byte) error {
	return c.call(ctx, http.MethodPost, "runs/log-batch", nil, body, nil)
}
