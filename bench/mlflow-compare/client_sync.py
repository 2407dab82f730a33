"""The MLflow Python client, synchronous: MlflowClient().log_batch in batches.

One of the three clients of run.sh. Logs keys x steps points (metric_000..,
value k + 1/(s+1) at step s, as every client does) with log_batch calls of
--batch metrics, and prints one JSON object on stdout: the run id, how long
the logging took, its own CPU time, and every exception a log_batch raised.
A script without try/except would stop at the first one; this one records
it, counts the batch as lost and goes on, the most data a careful user keeps.
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
    ap.add_argument("--run-name", default="python-sync")
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--ready", action="store_true",
                    help="once the run exists, print READY and wait for a line on stdin before logging")
    a = ap.parse_args()

    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=a.uri)
    exp = client.get_experiment_by_name(a.experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(a.experiment)
    run_id = client.create_run(exp_id, run_name=a.run_name).info.run_id

    names = [f"metric_{k:03d}" for k in range(a.keys)]
    errors, lost, calls = [], 0, []
    wait_start(a.ready)
    start_unix = time.time()
    t0, c0 = time.monotonic(), cpu()

    def send(chunk):
        nonlocal lost
        c = time.monotonic()
        try:
            client.log_batch(run_id, metrics=chunk)
        except Exception as e:  # noqa: BLE001 - what the user is told, whatever it is
            lost += len(chunk)
            errors.append({"at_s": round(time.monotonic() - t0, 3), "type": type(e).__name__,
                           "msg": str(e)[:400]})
        calls.append(time.monotonic() - c)

    pending = []
    for s in range(a.steps):
        ts = int(time.time() * 1000)
        pending.extend(Metric(n, k + 1.0 / (s + 1), ts, s) for k, n in enumerate(names))
        while len(pending) >= a.batch:
            send(pending[:a.batch])
            pending = pending[a.batch:]
    if pending:
        send(pending)
    acked = time.monotonic() - t0
    c1 = cpu()
    acked_unix = time.time()
    p50, p99, mx = percentiles(calls)
    client.set_terminated(run_id, "FAILED" if lost else "FINISHED")
    print(json.dumps({
        "client": "python-sync", "run_id": run_id, "logged": a.keys * a.steps,
        "loop_s": acked, "acked_s": acked, "cpu_logging_s": c1 - c0,
        "lost_in_exceptions": lost, "exceptions": errors,
        "start_unix": start_unix, "acked_unix": acked_unix,
        "call_p50_us": p50, "call_p99_us": p99, "call_max_us": mx,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
