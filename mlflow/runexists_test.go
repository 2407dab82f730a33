package mlflow_test

import (
	"context"
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunExists(t *testing.T) { checkRunExists(t, newFakeEnv(t)) }

func TestIntegrationRunExists(t *testing.T) { checkRunExists(t, newRealEnv(t)) }

func checkRunExists(t *testing.T, e *env) {
	ctx := context.Background()
	info, err := e.backend.StartRun(ctx, mlerr.RunSpec{Experiment: unique("exists")})
	require.NoError(t, err)
	ok, err := e.backend.RunExists(ctx, info.RunID)
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, e.direct.DeleteRun(ctx, info.RunID))
	ok, err = e.backend.RunExists(ctx, info.RunID)
	require.NoError(t, err)
	assert.False(t, ok, "deleted")
	ok, err = e.backend.RunExists(ctx, "0123456789abcdef0123456789abcdef")
	require.NoError(t, err)
	assert.False(t, ok, "never existed")
}
