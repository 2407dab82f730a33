package testserver

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExperimentNames(t *testing.T) {
	a, b := Experiment("errors"), Experiment("errors")
	assert.NotEqual(t, a, b, "every call names a new experiment")
	for _, n := range []string{a, b} {
		assert.True(t, strings.HasPrefix(n, ExperimentPrefix+session+"-errors-"), n)
	}
}

// TestDeleteExperiments creates two experiments on the real server, one
// named by Experiment and one not, and checks that DeleteExperiments deletes
// only the first.
func TestDeleteExperiments(t *testing.T) {
	s := &server{uri: MLflowURI(t)}
	t.Setenv(EnvAuthURI, "")
	ctx := context.Background()
	own := s.create(t, Experiment("delete-me"))
	other := s.create(t, ExperimentPrefix+"other-"+Experiment("x")[len(ExperimentPrefix):])
	DeleteExperiments(0)
	assert.Equal(t, "deleted", s.stage(t, ctx, own))
	assert.Equal(t, "active", s.stage(t, ctx, other))
	require.NoError(t, s.post(ctx, "experiments/delete", map[string]string{"experiment_id": other}, nil))
}

func (s *server) create(t *testing.T, name string) string {
	t.Helper()
	s.hc = newClient()
	t.Cleanup(s.hc.CloseIdleConnections)
	var out struct {
		ID string `json:"experiment_id"`
	}
	require.NoError(t, s.post(context.Background(), "experiments/create", map[string]string{"name": name}, &out))
	return out.ID
}

func (s *server) stage(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s.hc = newClient()
	var out struct {
		Experiment struct {
			Stage string `json:"lifecycle_stage"`
		} `json:"experiment"`
	}
	require.NoError(t, s.post(ctx, "experiments/get?experiment_id="+id, nil, &out))
	return out.Experiment.Stage
}
