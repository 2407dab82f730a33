"""Drives the comparison of run.sh: the same workload through three clients
against one real MLflow server, without and with a fault in the path.

For each scenario (no fault, then each outage mode) and each client (mlerr,
MLflow Python sync, MLflow Python async) it starts the client as a child
process (behind cmd/faultproxy when there is a fault), reaps it with
os.wait4 to get that child's own CPU time and peak RSS, reads the server
back (metrics/get-history for every key, straight to the server) to count
the points it holds, and collects what the client told its user (callbacks
for mlerr; exceptions and log lines for Python). Writes results.json and
RESULTS.md. Standard library only.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

CLIENTS = ["mlerr", "python-sync", "python-async"]


def log(msg):
    print(f"[mlflow-compare] {msg}", file=sys.stderr, flush=True)


def api(uri, path, params=None):
    url = f"{uri}/api/2.0/mlflow/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def server_points(uri, run_id, keys, steps):
    """Points the server holds for the run: rows, distinct (key, step), wrong values."""
    rows = distinct = wrong = 0
    for k in range(keys):
        key = f"metric_{k:03d}"
        seen, token = set(), None
        while True:
            params = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            page = api(uri, "metrics/get-history", params)
            for m in page.get("metrics", []):
                rows += 1
                s = int(m.get("step", 0))
                seen.add(s)
                if s >= steps or abs(float(m["value"]) - (k + 1.0 / (s + 1))) > 1e-9:
                    wrong += 1
            token = page.get("next_page_token")
            if not token:
                break
        distinct += len(seen)
    status = api(uri, "runs/get", {"run_id": run_id})["run"]["info"]["status"]
    return {"rows": rows, "distinct_points": distinct, "wrong_values": wrong, "run_status": status}


RETRY_LINE = re.compile(r"Retrying \(.*?\) after connection broken by '([A-Za-z]+)")


def told(client, out, stderr_text):
    """What the client told its user: a one-line summary and the distinct messages."""
    lines = [l for l in stderr_text.splitlines() if l.strip()]
    if client == "mlerr":
        by_cb = {}
        for ev in out.get("events", []):
            by_cb.setdefault(ev["callback"], []).append(ev)
        parts = [f"{cb} x{len(evs)}" for cb, evs in by_cb.items()]
        msgs = [f"{ev['callback']} at {ev['at_s']:.1f} s: {ev['err']}" for ev in out.get("events", [])]
        if out.get("log_errors"):
            parts.append(f"{out['log_errors']} LogMetrics errors")
        head = ("callbacks: " + ", ".join(parts)) if parts else "no callback"
        rep = (f"Close's Report: {out.get('retries', 0)} retries, {out.get('outages', 0)} outages, "
               f"{out.get('dropped', 0)} dropped, run {out.get('status', '?')}")
        return f"{head}; {rep}", msgs[:6] + [rep]
    retries = [l for l in lines if "Retrying (" in l]
    errors = [l for l in lines if re.search(r"\b(ERROR|Traceback|Exception)\b", l) and "Retrying (" not in l]
    parts, msgs = [], []
    if retries:
        kinds = sorted({m.group(1) for m in map(RETRY_LINE.search, retries) if m})
        parts.append(f"{len(retries)} urllib3 'Retrying' warnings" + (f" ({', '.join(kinds)})" if kinds else ""))
        msgs.append(retries[0][:300])
    if client == "python-sync" and out.get("exceptions"):
        ex = out["exceptions"]
        parts.append(f"{len(ex)} log_batch exception ({ex[0]['type']}) after the retries ran out")
        msgs.append(f"{ex[0]['type']} at {ex[0]['at_s']:.1f} s: {ex[0]['msg'][:300]}")
    if errors:
        parts.append(f"{len(errors)} ERROR log lines")
        msgs.append(errors[0][:300])
    if client == "python-async" and out.get("failed_operations"):
        f = out["first_failure"]
        parts.append(f"{out['failed_operations']} RunOperations.wait() raised ({f['type']})")
        msgs.append(f"{f['type']}: {f['msg'][:300]}")
    return ("; ".join(parts) if parts else "nothing: no exception, no output"), msgs


def client_cmd(client, a, uri, run_name):
    common = ["--keys", str(a.keys), "--steps", str(a.steps)]
    here = os.path.dirname(os.path.abspath(__file__))
    if client == "mlerr":
        return [a.go_load, "-uri", uri, "-experiment", a.experiment, "-run-name", run_name,
                "-keys", str(a.keys), "-steps", str(a.steps)]
    script = "client_sync.py" if client == "python-sync" else "client_async.py"
    return [a.python, os.path.join(here, script), "--uri", uri, "--experiment", a.experiment,
            "--run-name", run_name] + common


def run_child(cmd, env, workdir, name):
    """Runs cmd, returns (stdout, stderr, wall_s, rusage)."""
    out_path = os.path.join(workdir, name + ".out")
    err_path = os.path.join(workdir, name + ".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as f:
        stdout = f.read()
    with open(err_path, errors="replace") as f:
        stderr = f.read()
    if p.returncode != 0:
        log(f"{name} exited with {p.returncode}; stderr tail:\n{stderr[-2000:]}")
    return stdout, stderr, wall, ru, p.returncode


def start_proxy(a, mode, outage_s, after):
    cmd = [a.faultproxy, "-target", a.uri, "-after", str(after), "-outage", f"{outage_s}s", "-mode", mode]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("PROXY_URL="):
        p.kill()
        raise SystemExit(f"faultproxy printed {line!r}, not PROXY_URL=...")
    return p, line.split("=", 1)[1]


def stop_proxy(p, outage_s):
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=outage_s + 60)  # waits for an outage still under way to end
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True, help="the MLflow server")
    ap.add_argument("--go-load", required=True)
    ap.add_argument("--faultproxy", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--outage", type=float, default=10, help="seconds, for a fault without its own")
    ap.add_argument("--faults", default="refuse",
                    help="outages, space separated: MODE or MODE:SECONDS, MODE refuse or blackhole")
    ap.add_argument("--experiment", default="mlflow-compare-" + time.strftime("%Y%m%d-%H%M%S"))
    ap.add_argument("--json", default="results.json")
    ap.add_argument("--workdir", help="where the children's stdout and stderr go (default: a new temporary directory)")
    a = ap.parse_args()

    total = a.keys * a.steps
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)  # every client gets its URI explicitly
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    workdir = a.workdir or tempfile.mkdtemp(prefix="mlflow-compare-")
    os.makedirs(workdir, exist_ok=True)
    scenarios = [("none", None, 0)]
    for f in a.faults.split():
        mode, _, secs = f.partition(":")
        if mode not in ("refuse", "blackhole"):
            raise SystemExit(f"unknown fault {f!r}: want refuse or blackhole, optionally :SECONDS")
        secs = float(secs) if secs else a.outage
        scenarios.append((f"{mode}-{secs:g}s", mode, secs))
    results = []
    for scen, mode, outage_s in scenarios:
        for client in CLIENTS:
            name = f"{client}-{scen}"
            proxy, uri = None, a.uri
            if mode:
                proxy, uri = start_proxy(a, mode, outage_s, total // 2)
            log(f"{name}: logging {a.keys} keys x {a.steps} steps through {uri}")
            stdout, stderr, wall, ru, code = run_child(client_cmd(client, a, uri, name), env, workdir, name)
            summary = stop_proxy(proxy, outage_s) if proxy else {}
            out = {}
            for line in stdout.splitlines():
                if line.startswith("{"):
                    out = json.loads(line)
            r = {
                "scenario": scen, "mode": mode, "outage_s": outage_s, "client": client, "exit_code": code, "process_wall_s": wall,
                "process_cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mib": ru.ru_maxrss / 1024,
                "logged": total, "out": out, "proxy": summary,
            }
            if out.get("run_id"):
                r["server"] = server_points(a.uri, out["run_id"], a.keys, a.steps)
            r["told"], r["messages"] = told(client, out, stderr)
            r["stderr_lines"] = len(stderr.splitlines())
            results.append(r)
            srv = r.get("server", {})
            log(f"{name}: acked in {out.get('acked_s', float('nan')):.2f} s, cpu {r['process_cpu_s']:.2f} s, "
                f"rss {r['peak_rss_mib']:.0f} MiB, server holds {srv.get('distinct_points')} of {total}; "
                f"told: {r['told']}")
    with open(a.json, "w") as f:
        json.dump({"keys": a.keys, "steps": a.steps, "faults": a.faults, "experiment": a.experiment,
                   "results": results}, f, indent=1)
    log(f"wrote {a.json} (child outputs in {workdir})")


if __name__ == "__main__":
    main()
