"""Logs one run with MLflow's Python client, for TestIntegrationGoMatchesPython.

Reads the run to log as JSON on stdin:
  {"uri": ..., "experiment": ..., "name": ...,
   "metrics": [[key, value, timestamp_ms, step], ...],   # value as a string: "NaN", "Infinity" too
   "params": {...}, "tags": {...}, "status": "FAILED", "end_time": ms}
and prints the run's id. The run is created as mlflow.start_run creates one:
with the tags the fluent API's context providers resolve (mlflow.user,
mlflow.source.name, mlflow.source.type, git), then logged with MlflowClient,
one call per entry, and ended with the status given.
"""

import json
import sys

from mlflow import MlflowClient
from mlflow.tracking.context.registry import resolve_tags


def main():
    spec = json.load(sys.stdin)
    client = MlflowClient(tracking_uri=spec["uri"])
    exp = client.get_experiment_by_name(spec["experiment"])
    exp_id = exp.experiment_id if exp else client.create_experiment(spec["experiment"])
    run = client.create_run(exp_id, run_name=spec["name"], tags=resolve_tags(spec["tags"]))
    run_id = run.info.run_id
    for key, value, timestamp, step in spec["metrics"]:
        client.log_metric(run_id, key, float(value), timestamp=timestamp, step=step)
    for key, value in spec["params"].items():
        client.log_param(run_id, key, value)
    client.set_terminated(run_id, status=spec["status"], end_time=spec["end_time"])
    print(run_id)


if __name__ == "__main__":
    main()
