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

from clientlib import cpu, percentiles, wait_start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--experiment", default="mlflow-compare")
    ap.add_argument("--run-name", default="python-async")
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--ready", action="store_true",
                    help="once the run exists, print READY and wait for a line on stdin before logging")
    a = ap.parse_args()

    import mlflow

    mlflow.set_tracking_uri(a.uri)
    mlflow.set_experiment(a.experiment)
    run = mlflow.start_run(run_name=a.run_name)
    run_id = run.info.run_id

    names = [f"metric_{k:03d}" for k in range(a.keys)]
    ops, calls = [], []
    wait_start(a.ready)
    start_unix = time.time()
    t0, c0 = time.monotonic(), cpu()
    for s in range(a.steps):
        m = {n: k + 1.0 / (s + 1) for k, n in enumerate(names)}
        c = time.monotonic()
        ops.append(mlflow.log_metrics(m, step=s, synchronous=False))
        calls.append(time.monotonic() - c)
    loop = time.monotonic() - t0
    mlflow.flush_async_logging()
    acked = time.monotonic() - t0
    c1 = cpu()
    acked_unix = time.time()
    p50, p99, mx = percentiles(calls)

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
        "start_unix": start_unix, "acked_unix": acked_unix,
        "call_p50_us": p50, "call_p99_us": p99, "call_max_us": mx,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
