"""The MLflow Python client, asynchronous: mlflow.log_metrics(..., synchronous=False).

One of the three clients of run.sh. Logs keys x steps points (metric_000..,
value k + 1/(s+1) at step s, as every client does), one log_metrics call per
step into MLflow's async queue, then mlflow.flush_async_logging() waits for
the queue to drain. Prints one JSON object on stdout: the run id, how long
the loop and the delivery took, its own CPU time, and what the user could
learn afterwards by waiting on each returned RunOperations (which raises when
its batch failed; MLflow itself only logs such failures).
"""

import argparse
import json
import resource
import time


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--experiment", default="mlflow-compare")
    ap.add_argument("--run-name", default="python-async")
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    a = ap.parse_args()

    import mlflow

    mlflow.set_tracking_uri(a.uri)
    mlflow.set_experiment(a.experiment)
    run = mlflow.start_run(run_name=a.run_name)
    run_id = run.info.run_id

    names = [f"metric_{k:03d}" for k in range(a.keys)]
    ops = []
    t0, c0 = time.monotonic(), cpu()
    for s in range(a.steps):
        ops.append(mlflow.log_metrics({n: k + 1.0 / (s + 1) for k, n in enumerate(names)},
                                      step=s, synchronous=False))
    loop = time.monotonic() - t0
    mlflow.flush_async_logging()
    acked = time.monotonic() - t0
    c1 = cpu()

    failed, first = 0, None
    for op in ops:
        try:
            op.wait()
        except Exception as e:  # noqa: BLE001
            failed += 1
            if first is None:
                first = {"type": type(e).__name__, "msg": str(e)[:400]}
    mlflow.end_run("FAILED" if failed else "FINISHED")
    print(json.dumps({
        "client": "python-async", "run_id": run_id, "logged": a.keys * a.steps,
        "loop_s": loop, "acked_s": acked, "cpu_logging_s": c1 - c0,
        "failed_operations": failed, "first_failure": first,
    }))


if __name__ == "__main__":
    main()
