package mlflow

import (
	"context"
	"errors"

	"github.com/mlerr/mlerr"
)

// RunExists reports whether the run exists in the server and is not
// deleted (runs/get); localstore's Replay uses it to tell a run deleted
// since it was synced (it satisfies localstore.RunChecker). An answer
// other than the run or RESOURCE_DOES_NOT_EXIST is the error.
func (b *Backend) RunExists(ctx context.Context, runID string) (bool, error) {
	run, err := b.c.GetRun(ctx, runID)
	switch {
	case err == nil:
		return run.Info.LifecycleStage != LifecycleDeleted, nil
	case errors.Is(err, mlerr.CodeResourceDoesNotExist):
		return false, nil
	}
	return false, err
}
