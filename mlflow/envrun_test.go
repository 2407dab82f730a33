package mlflow_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBackendFromEnvRunAndExperiment: MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID
// and MLFLOW_EXPERIMENT_NAME as MLflow's start_run reads them.
func TestBackendFromEnvRunAndExperiment(t *testing.T) {
	srv := httptest.NewServer(fakemlflow.New())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := mlflow.NewClient(srv.URL)
	require.NoError(t, err)
	expA, err := c.CreateExperiment(ctx, "a", nil)
	require.NoError(t, err)
	expB, err := c.CreateExperiment(ctx, "b", nil)
	require.NoError(t, err)
	old, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expB, RunName: "old"})
	require.NoError(t, err)
	oldID := old.Info.RunID

	tests := []struct {
		name    string
		env     map[string]string
		spec    mlerr.RunSpec
		wantRun string // "" a new run
		wantExp string
		wantErr *mlerr.Kind
		keeps   bool // the variable's run is still to resume after the run
	}{
		{name: "MLFLOW_RUN_ID resumes", env: map[string]string{"MLFLOW_RUN_ID": oldID}, wantRun: oldID, wantExp: expB},
		{name: "RunSpec.RunID wins", env: map[string]string{"MLFLOW_RUN_ID": "f00"}, spec: mlerr.RunSpec{RunID: oldID}, wantRun: oldID, wantExp: expB, keeps: true},
		{name: "missing MLFLOW_RUN_ID run", env: map[string]string{"MLFLOW_RUN_ID": "f00"}, wantErr: mlerr.ErrRunNotFound},
		{name: "MLFLOW_EXPERIMENT_ID", env: map[string]string{"MLFLOW_EXPERIMENT_ID": expA}, wantExp: expA},
		{name: "name and matching id", env: map[string]string{"MLFLOW_EXPERIMENT_ID": expB, "MLFLOW_EXPERIMENT_NAME": "b"}, wantExp: expB},
		{name: "name and another id", env: map[string]string{"MLFLOW_EXPERIMENT_ID": expA, "MLFLOW_EXPERIMENT_NAME": "b"}, wantErr: mlerr.ErrInvalidRunParameters},
		{name: "RunSpec.Experiment wins", env: map[string]string{"MLFLOW_EXPERIMENT_ID": expA}, spec: mlerr.RunSpec{Experiment: "b"}, wantExp: expB},
		{name: "neither: Default", wantExp: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"MLFLOW_TRACKING_URI": srv.URL}
			for k, v := range tt.env {
				env[k] = v
			}
			setEnv(t, env)
			b, err := mlflow.NewBackendFromEnv()
			require.NoError(t, err)
			info, err := b.StartRun(ctx, tt.spec)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, tt.wantErr), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantExp, info.ExperimentID)
			if tt.wantRun != "" {
				assert.Equal(t, tt.wantRun, info.RunID)
				assert.True(t, info.Resumed)
			} else {
				assert.NotEqual(t, oldID, info.RunID)
				assert.False(t, info.Resumed)
			}
			// The variable's run is resumed once: the next run is new.
			next, err := b.StartRun(ctx, mlerr.RunSpec{})
			if tt.keeps {
				assert.True(t, errors.Is(err, mlerr.ErrRunNotFound), "resumes MLFLOW_RUN_ID's run: %v", err)
				return
			}
			require.NoError(t, err)
			assert.False(t, next.Resumed)
			assert.NotEqual(t, oldID, next.RunID)
		})
	}
}
