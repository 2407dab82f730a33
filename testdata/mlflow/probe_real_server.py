#!/usr/bin/env python3
"""Probes a real MLflow tracking server and writes what it answers as markdown.

    export "$(scripts/mlflow-server.sh start)"
    python3 testdata/mlflow/probe_real_server.py > testdata/mlflow/real_errors.md

Uses http.client so that headers (Content-Type, Host) are exactly what each case says.
Only the standard library is needed.
"""
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid

URI = os.environ.get("MLFLOW_TRACKING_URI")
if not URI:
    sys.exit("set MLFLOW_TRACKING_URI")
U = urllib.parse.urlparse(URI)
API = "/api/2.0/mlflow/"
MAX_BODY = 3000

NOTES = """## Notable findings (3.17.2, SQLite store)

- Every JSON error body has four keys: `error_code`, `message`, `sqlstate` (always `"KAM00"` here) and
  `error_class` (seen: `RESOURCE_NOT_FOUND` for `RESOURCE_DOES_NOT_EXIST`, `INVALID_PARAMETER_VALUE` for
  `BAD_REQUEST`, else equal to `error_code`).
- Not JSON: unknown routes (404) and wrong methods (405) are Flask HTML pages; an unparseable or non-object
  JSON body is a 500 HTML page; a disallowed Host header (not localhost / 127.0.0.1 / ::1 / private IP) is
  403 `text/plain` "Invalid Host header - possible DNS rebinding attack detected"; a foreign `Origin` on a
  POST is 403 `text/plain` "Cross-origin request blocked". `/health` is never host-checked.
- The server swallows protobuf parse errors (`_get_request_message` catches `ParseError`): the fields parsed
  before the bad one are kept, the rest are left at their defaults, and the call still answers 200 `{}`.
  So a bare `NaN`/`Infinity` number, `1e309`, the string `"nan"`, a step `"five"` or `1.5` are NOT rejected:
  the metric is stored with value 0, timestamp 0 and/or step 0, and everything after it in the batch
  (later metrics, all params and tags) is silently dropped. Send exactly `"NaN"`, `"Infinity"`,
  `"-Infinity"` and integral steps. Likewise an unknown `runs/update` status (`"DONE"`) is ignored (200,
  status unchanged); a numeric enum (`3`) is accepted (FINISHED).
- Non-finite values: `"NaN"` reads back as `"NaN"`; `"Infinity"`/`"-Infinity"` (and `"inf"`) read back as
  `+-1.7976931348623157e+308`.
- Metric tuples are deduplicated on (key, value, timestamp, step): an identical tuple sent again (in a
  later batch or twice in one batch) is kept once; a different timestamp or value is a new point.
- Params: same value again is a 200 no-op; a different value is 400; two entries with the same key in one
  batch are 400 even when the values are equal. Param values over 6000 and tag values over 8000 chars are
  truncated (200), not rejected. Tags overwrite.
- Writing to a FINISHED run is allowed; writing to a deleted run is 400 INVALID_PARAMETER_VALUE.
- `runs/create` without `experiment_id` is 400 `BAD_REQUEST` with raw SQL text (not a clean validation error).
- `metrics/get-history` for an unknown run or key is 200 `{}`; `max_results=abc` is ignored; a bad
  `page_token` is 400. The page token is base64 JSON `{"offset": N}`; the last page has no `next_page_token`.
"""

out = []
results = {}


def raw(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(U.hostname, U.port, timeout=30)
    h = dict(headers or {})
    if isinstance(body, str):
        body = body.encode()
    skip_host = "Host" in h
    conn.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
    for k, v in h.items():
        conn.putheader(k, v)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    data = r.read().decode("utf-8", "replace")
    ct = r.getheader("Content-Type")
    conn.close()
    return r.status, ct, data


def call(method, ep, payload=None, query=None, ctype="application/json", headers=None, rawbody=None):
    path = API + ep
    if query is not None:
        path += "?" + urllib.parse.urlencode(query)
    h = dict(headers or {})
    body = rawbody
    if payload is not None:
        body = json.dumps(payload)
    if body is not None and ctype is not None:
        h["Content-Type"] = ctype
    return path, h, body, raw(method, path, body, h)


def ok(method, ep, payload=None, query=None):
    _, _, _, (st, ct, data) = call(method, ep, payload, query)
    if st != 200:
        raise SystemExit(f"setup call {ep} failed: {st} {data}")
    return json.loads(data)


def short(body):
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode()
    if len(body) > 400:
        return body[:300] + f"... ({len(body)} bytes in all)"
    return body


def record(name, note, method, ep, payload=None, query=None, ctype="application/json",
           headers=None, rawbody=None, path_override=None):
    if path_override is not None:
        h = dict(headers or {})
        body = rawbody
        if body is not None and ctype is not None:
            h["Content-Type"] = ctype
        path = path_override
        st, ct, data = raw(method, path, body, h)
    else:
        path, h, body, (st, ct, data) = call(method, ep, payload, query, ctype, headers, rawbody)
    results[name] = (st, ct, data)
    out.append(f"### {name}\n")
    if note:
        out.append(note + "\n")
    out.append(f"- request: `{method} {path}`")
    hs = ", ".join(f"{k}: {v}" for k, v in h.items()) or "(none besides Host/Content-Length)"
    out.append(f"- request headers: `{hs}`")
    if body is not None:
        out.append("- request body:\n\n```json\n" + short(body) + "\n```")
    out.append(f"- status: **{st}**")
    out.append(f"- Content-Type: `{ct}`")
    b = data if len(data) <= MAX_BODY else data[:MAX_BODY] + f"\n... [truncated; {len(data)} bytes in all]"
    out.append("- body:\n\n```\n" + b + "\n```\n")
    return st, ct, data


def note(text):
    out.append(text + "\n")


def now_ms():
    return int(time.time() * 1000)


def new_run(exp_id, name=None):
    p = {"experiment_id": exp_id, "start_time": now_ms()}
    if name:
        p["run_name"] = name
    return ok("POST", "runs/create", p)["run"]["info"]["run_id"]


def main():
    version = raw("GET", "/version")[2].strip()
    out.append(f"# Real MLflow server responses\n")
    out.append(
        f"Recorded by `testdata/mlflow/probe_real_server.py` against `mlflow server` **{version}** "
        "(SQLite backend store, started by `scripts/mlflow-server.sh start`, uvicorn, 1 worker). "
        "Bodies are verbatim (long ones truncated where marked); ids, timestamps and the port "
        "differ from run to run.\n"
    )
    tag = uuid.uuid4().hex[:8]
    exp_name = f"probe-{tag}"
    exp_id = ok("POST", "experiments/create", {"name": exp_name})["experiment_id"]
    note(f"Setup: `experiments/create {{\"name\": \"{exp_name}\"}}` -> experiment_id `{exp_id}`.\n")

    out.append("## Health, version and Host header\n")
    record("GET /health (Host 127.0.0.1:PORT)", None, "GET", None, path_override="/health")
    record("GET /version", None, "GET", None, path_override="/version")
    for host in ["localhost", f"localhost:{U.port}", f"127.0.0.1:{U.port}", "127.0.0.1",
                 "example.com", f"[::1]:{U.port}", "10.1.2.3"]:
        record(f"GET /health with Host: {host}", None, "GET", None, path_override="/health",
               headers={"Host": host})
        record(f"GET experiments/get-by-name with Host: {host}", None, "GET",
               "experiments/get-by-name", query={"experiment_name": exp_name}, headers={"Host": host})
    record("POST runs/search with Host: example.com", None, "POST", "runs/search",
           payload={"experiment_ids": [exp_id], "max_results": 1}, headers={"Host": "example.com"})
    record("GET /health with Origin: http://evil.example", None, "GET", None, path_override="/health",
           headers={"Origin": "http://evil.example"})
    record("POST experiments/create with Origin: http://evil.example (CORS)", None, "POST",
           "experiments/create", payload={"name": exp_name + "-cors"},
           headers={"Origin": "http://evil.example"})

    out.append("## Lookups\n")
    record("runs/get, unknown well-formed run id", None, "GET", "runs/get",
           query={"run_id": "0123456789abcdef0123456789abcdef"})
    record("runs/get, run_id=abc", None, "GET", "runs/get", query={"run_id": "abc"})
    record("runs/get, no run_id", None, "GET", "runs/get")
    record("runs/get, empty run_id", None, "GET", "runs/get", query={"run_id": ""})
    record("experiments/get-by-name, missing name", None, "GET", "experiments/get-by-name",
           query={"experiment_name": f"no-such-{tag}"})
    record("experiments/get-by-name, found", None, "GET", "experiments/get-by-name",
           query={"experiment_name": exp_name})
    record("experiments/get, unknown id", None, "GET", "experiments/get", query={"experiment_id": "987654"})

    out.append("## Experiments and runs\n")
    record("experiments/create with an existing name", None, "POST", "experiments/create",
           payload={"name": exp_name})
    record("experiments/create without name", None, "POST", "experiments/create", payload={})
    record("runs/create with run_name and tags", None, "POST", "runs/create",
           payload={"experiment_id": exp_id, "run_name": "probe-run", "start_time": now_ms(),
                    "tags": [{"key": "team", "value": "ml"}, {"key": "mlflow.source.name", "value": "probe"}]})
    record("runs/create with an unknown experiment_id", None, "POST", "runs/create",
           payload={"experiment_id": "987654", "start_time": now_ms()})
    record("runs/create without experiment_id", None, "POST", "runs/create",
           payload={"start_time": now_ms()})

    out.append("## runs/update\n")
    for st in ["FINISHED", "FAILED", "KILLED", "RUNNING", "SCHEDULED"]:
        r = new_run(exp_id)
        record(f"runs/update status {st}", None, "POST", "runs/update",
               payload={"run_id": r, "status": st, "end_time": now_ms()})
    r = new_run(exp_id)
    record("runs/update with a bad status \"DONE\"", None, "POST", "runs/update",
           payload={"run_id": r, "status": "DONE", "end_time": now_ms()})
    record("runs/update with status as a number 3", None, "POST", "runs/update",
           payload={"run_id": r, "status": 3, "end_time": now_ms()})
    record("runs/update of an unknown run", None, "POST", "runs/update",
           payload={"run_id": "0123456789abcdef0123456789abcdef", "status": "FINISHED", "end_time": now_ms()})
    r = new_run(exp_id)
    ok("POST", "runs/update", {"run_id": r, "status": "FINISHED", "end_time": now_ms()})
    record("log-batch to a FINISHED run (allowed?)", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "m", "value": 1, "timestamp": now_ms(), "step": 0}]})
    record("runs/update FINISHED -> RUNNING again", None, "POST", "runs/update",
           payload={"run_id": r, "status": "RUNNING"})

    out.append("## Params and tags\n")
    r = new_run(exp_id)
    ok("POST", "runs/log-batch", {"run_id": r, "params": [{"key": "lr", "value": "0.1"}]})
    record("log-batch: param re-logged with the same value", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "lr", "value": "0.1"}]})
    record("log-batch: param re-logged with a different value", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "lr", "value": "0.2"}]})
    record("log-batch: duplicate param keys in one batch", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "bs", "value": "1"}, {"key": "bs", "value": "2"}]})
    record("log-batch: duplicate identical params in one batch", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "bs2", "value": "1"}, {"key": "bs2", "value": "1"}]})
    record("log-batch: param value of 6001 chars", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "long", "value": "x" * 6001}]})
    record("log-batch: param value of 6000 chars", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "long6000", "value": "x" * 6000}]})
    record("log-batch: param without value", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "novalue"}]})
    ok("POST", "runs/log-batch", {"run_id": r, "tags": [{"key": "t", "value": "one"}]})
    record("log-batch: tag overwritten with a new value", None, "POST", "runs/log-batch",
           payload={"run_id": r, "tags": [{"key": "t", "value": "two"}]})
    record("log-batch: tag value of 8001 chars", None, "POST", "runs/log-batch",
           payload={"run_id": r, "tags": [{"key": "longtag", "value": "y" * 8001}]})
    st, ct, data = raw("GET", API + "runs/get?" + urllib.parse.urlencode({"run_id": r}))
    d = json.loads(data)["run"]["data"]
    tags = {t["key"]: t["value"] for t in d.get("tags", [])}
    params = {p["key"]: p["value"] for p in d.get("params", [])}
    note("runs/get afterwards (summarised): tag `t` = `%s`; longtag length %s; params %s\n" % (
        tags.get("t"), len(tags.get("longtag", "")) if "longtag" in tags else "absent",
        {k: (v if len(v) < 20 else f"<{len(v)} chars>") for k, v in params.items()}))

    out.append("## Keys\n")
    r = new_run(exp_id)
    for n in (250, 251):
        record(f"log-batch: metric key of {n} chars", None, "POST", "runs/log-batch",
               payload={"run_id": r, "metrics": [{"key": "k" * n, "value": 1.0, "timestamp": now_ms(), "step": 0}]})
    record("log-batch: param key of 251 chars", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": "p" * 251, "value": "v"}]})
    for key in ["a*b", "../x", "/abs", ".", "a b:c/d-e_f.g", "a\\b", "é"]:
        record(f"log-batch: metric key {json.dumps(key)}", None, "POST", "runs/log-batch",
               payload={"run_id": r, "metrics": [{"key": key, "value": 1.0, "timestamp": now_ms(), "step": 0}]})
    record("log-batch: metric with empty key", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "", "value": 1.0, "timestamp": now_ms(), "step": 0}]})

    out.append("## Batch limits\n")
    r = new_run(exp_id)
    record("log-batch with 0 items", None, "POST", "runs/log-batch", payload={"run_id": r})
    record("log-batch with empty lists", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [], "params": [], "tags": []})
    record("log-batch with 100 params", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": f"p{i}", "value": "v"} for i in range(100)]})
    record("log-batch with 101 params", None, "POST", "runs/log-batch",
           payload={"run_id": r, "params": [{"key": f"q{i}", "value": "v"} for i in range(101)]})
    record("log-batch with 101 tags", None, "POST", "runs/log-batch",
           payload={"run_id": r, "tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]})
    ts = now_ms()
    record("log-batch with 1000 metrics", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "m", "value": float(i), "timestamp": ts, "step": i} for i in range(1000)]})
    record("log-batch with 1001 metrics", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "n", "value": float(i), "timestamp": ts, "step": i} for i in range(1001)]})
    record("log-batch with 950 metrics + 51 params (1001 items)", None, "POST", "runs/log-batch",
           payload={"run_id": r,
                    "metrics": [{"key": "o", "value": float(i), "timestamp": ts, "step": i} for i in range(950)],
                    "params": [{"key": f"r{i}", "value": "v"} for i in range(51)]})

    out.append("## Deleted run\n")
    r = new_run(exp_id)
    record("runs/delete", None, "POST", "runs/delete", payload={"run_id": r})
    record("log-batch to a deleted run", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "m", "value": 1, "timestamp": now_ms(), "step": 0}]})
    record("runs/update of a deleted run", None, "POST", "runs/update",
           payload={"run_id": r, "status": "FINISHED", "end_time": now_ms()})
    record("runs/get of a deleted run", None, "GET", "runs/get", query={"run_id": r})
    record("log-batch to an unknown run id", None, "POST", "runs/log-batch",
           payload={"run_id": "0123456789abcdef0123456789abcdef",
                    "metrics": [{"key": "m", "value": 1, "timestamp": now_ms(), "step": 0}]})
    record("log-batch without run_id", None, "POST", "runs/log-batch",
           payload={"metrics": [{"key": "m", "value": 1, "timestamp": now_ms(), "step": 0}]})

    out.append("## Content-Type and routing\n")
    r = new_run(exp_id)
    body = json.dumps({"run_id": r, "metrics": [{"key": "m", "value": 1, "timestamp": now_ms(), "step": 0}]})
    record("POST log-batch without Content-Type", None, "POST", "runs/log-batch", rawbody=body, ctype=None)
    record("POST log-batch with Content-Type text/plain", None, "POST", "runs/log-batch", rawbody=body,
           ctype="text/plain")
    record("POST log-batch with Content-Type application/json; charset=utf-8", None, "POST", "runs/log-batch",
           rawbody=body, ctype="application/json; charset=utf-8")
    record("POST log-batch with a malformed JSON body", None, "POST", "runs/log-batch", rawbody='{"run_id": ',
           ctype="application/json")
    record("POST log-batch with an empty body", None, "POST", "runs/log-batch", rawbody="",
           ctype="application/json")
    record("POST log-batch with a JSON array body", None, "POST", "runs/log-batch", rawbody="[]",
           ctype="application/json")
    record("POST log-batch with an unknown field", None, "POST", "runs/log-batch",
           payload={"run_id": r, "bogus": 1})
    record("GET unknown route /api/2.0/mlflow/no-such-endpoint", None, "GET", "no-such-endpoint")
    record("POST unknown route /api/2.0/mlflow/no-such-endpoint", None, "POST", "no-such-endpoint",
           payload={})
    record("GET on a POST-only route (runs/log-batch)", None, "GET", "runs/log-batch")
    record("POST runs/get (GET-only route)", None, "POST", "runs/get", payload={"run_id": r})
    record("GET /api/2.0/no-such", None, "GET", None, path_override="/api/2.0/no-such")

    out.append("## Metric values, types and history\n")
    r = new_run(exp_id)
    ts = now_ms()
    record("log-batch with values \"NaN\", \"Infinity\", \"-Infinity\" (strings)", None, "POST",
           "runs/log-batch", payload={"run_id": r, "metrics": [
               {"key": "nan", "value": "NaN", "timestamp": ts, "step": 0},
               {"key": "pinf", "value": "Infinity", "timestamp": ts, "step": 0},
               {"key": "ninf", "value": "-Infinity", "timestamp": ts, "step": 0}]})
    for k in ["nan", "pinf", "ninf"]:
        record(f"metrics/get-history {k}", None, "GET", "metrics/get-history",
               query={"run_id": r, "metric_key": k})
    record("runs/get after non-finite metrics (latest metrics)", None, "GET", "runs/get", query={"run_id": r})
    record("log-batch with value as numeric string \"1.5\"", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "strnum", "value": "1.5", "timestamp": ts, "step": 0}]})
    record("log-batch with value \"nan\" (lower case)", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "nan2", "value": "nan", "timestamp": ts, "step": 0}]})
    record("log-batch with value \"inf\"", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "inf2", "value": "inf", "timestamp": ts, "step": 0}]})
    record("log-batch with value 1e309 (overflows double)", None, "POST", "runs/log-batch",
           rawbody='{"run_id": "%s", "metrics": [{"key": "big", "value": 1e309, "timestamp": %d, "step": 0}]}' % (r, ts))
    record("log-batch with a bare NaN in the JSON", None, "POST", "runs/log-batch",
           rawbody='{"run_id": "%s", "metrics": [{"key": "barenan", "value": NaN, "timestamp": %d, "step": 0}]}' % (r, ts))
    record("metrics/get-history barenan", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "barenan"})
    record("log-batch with a bare Infinity in the JSON", None, "POST", "runs/log-batch",
           rawbody='{"run_id": "%s", "metrics": [{"key": "bareinf", "value": Infinity, "timestamp": %d, "step": 0}]}' % (r, ts))
    record("log-batch with step as a string \"5\"", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "strstep", "value": 1.0, "timestamp": ts, "step": "5"}]})
    record("metrics/get-history strstep", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "strstep"})
    record("log-batch with step as a non-numeric string \"five\"", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "badstep", "value": 1.0, "timestamp": ts, "step": "five"}]})
    record("log-batch with step 1.5 (fractional)", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "fracstep", "value": 1.0, "timestamp": ts, "step": 1.5}]})
    record("log-batch with timestamp as a string", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "strts", "value": 1.0, "timestamp": str(ts), "step": 0}]})
    record("log-batch with the timestamp missing", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "nots", "value": 1.0, "step": 0}]})
    record("log-batch with the step missing", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "nostep", "value": 1.0, "timestamp": ts}]})
    record("metrics/get-history nostep", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "nostep"})
    record("log-batch with the value missing", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "noval", "timestamp": ts, "step": 0}]})
    record("log-batch with value null", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "nullval", "value": None, "timestamp": ts, "step": 0}]})
    record("log-batch with a negative step and timestamp", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [{"key": "neg", "value": 1.0, "timestamp": -5, "step": -1}]})
    record("log-batch with step 2^63-1 (as a number)", None, "POST", "runs/log-batch",
           rawbody='{"run_id": "%s", "metrics": [{"key": "bigstep", "value": 1, "timestamp": %d, "step": 9223372036854775807}]}' % (r, ts))
    record("metrics/get-history bigstep", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "bigstep"})
    for k in ["strnum", "nan2", "inf2", "big", "bareinf", "badstep", "fracstep", "strts"]:
        record(f"metrics/get-history {k}", None, "GET", "metrics/get-history",
               query={"run_id": r, "metric_key": k})

    r2 = new_run(exp_id)
    record("log-batch: a bad value (\"nan\") in the middle of a batch", "Shows what the server keeps of a "
           "batch whose protobuf parsing fails part-way (the ParseError is swallowed).", "POST", "runs/log-batch",
           payload={"run_id": r2,
                    "metrics": [{"key": "ok1", "value": 1.0, "timestamp": ts, "step": 1},
                                {"key": "bad", "value": "nan", "timestamp": ts, "step": 2},
                                {"key": "ok2", "value": 2.0, "timestamp": ts, "step": 3}],
                    "params": [{"key": "p_after", "value": "v"}],
                    "tags": [{"key": "t_after", "value": "v"}]})
    record("runs/get after the partly-parsed batch", None, "GET", "runs/get", query={"run_id": r2})

    out.append("## Duplicates\n")
    r = new_run(exp_id)
    ts = now_ms()
    tuple_ = {"key": "dup", "value": 0.5, "timestamp": ts, "step": 3}
    record("log-batch a metric tuple (1st time)", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [tuple_]})
    record("log-batch the identical tuple again", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [tuple_]})
    record("log-batch the identical tuple twice within one batch", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [tuple_, tuple_]})
    record("metrics/get-history dup (identical tuple sent 4 times)", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "dup"})
    record("log-batch same key/step/value, different timestamp", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [dict(tuple_, timestamp=ts + 1000)]})
    record("log-batch same key/step/timestamp, different value", None, "POST", "runs/log-batch",
           payload={"run_id": r, "metrics": [dict(tuple_, value=0.75)]})
    record("metrics/get-history dup (after the variants)", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "dup"})

    out.append("## get-history pagination\n")
    r = new_run(exp_id)
    ts = now_ms()
    ok("POST", "runs/log-batch", {"run_id": r, "metrics": [
        {"key": "pg", "value": float(i), "timestamp": ts + i, "step": i} for i in range(5)]})
    note("Setup: 5 points of `pg` (steps 0..4).\n")
    st, ct, data = record("metrics/get-history max_results=2", None, "GET", "metrics/get-history",
                          query={"run_id": r, "metric_key": "pg", "max_results": 2})
    tok = json.loads(data).get("next_page_token") if st == 200 else None
    if tok:
        st, ct, data = record("metrics/get-history max_results=2, page 2", None, "GET", "metrics/get-history",
                              query={"run_id": r, "metric_key": "pg", "max_results": 2, "page_token": tok})
        tok = json.loads(data).get("next_page_token") if st == 200 else None
        if tok:
            record("metrics/get-history max_results=2, page 3", None, "GET", "metrics/get-history",
                   query={"run_id": r, "metric_key": "pg", "max_results": 2, "page_token": tok})
    record("metrics/get-history without max_results (5 points)", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "pg"})
    record("metrics/get-history with a bad page_token", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "pg", "max_results": 2, "page_token": "garbage"})
    record("metrics/get-history max_results=0", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "pg", "max_results": 0})
    record("metrics/get-history max_results=-1", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "pg", "max_results": -1})
    record("metrics/get-history max_results=25001", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "pg", "max_results": 25001})
    record("metrics/get-history max_results=abc", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "pg", "max_results": "abc"})
    record("metrics/get-history of an unknown key", None, "GET", "metrics/get-history",
           query={"run_id": r, "metric_key": "nope"})
    record("metrics/get-history of an unknown run", None, "GET", "metrics/get-history",
           query={"run_id": "0123456789abcdef0123456789abcdef", "metric_key": "pg"})
    record("metrics/get-history without metric_key", None, "GET", "metrics/get-history",
           query={"run_id": r})

    summary = ["## Summary\n", "| case | status | Content-Type | error_code | message / body (first 160 chars) |",
               "| --- | --- | --- | --- | --- |"]
    for name, (st, ct, data) in results.items():
        code, msg = "", data
        try:
            j = json.loads(data)
            if isinstance(j, dict) and "error_code" in j:
                code, msg = j["error_code"], j.get("message", "")
            else:
                msg = json.dumps(j, separators=(",", ":"))
        except ValueError:
            pass
        msg = " ".join(msg.split())
        msg = (msg[:160] + "...") if len(msg) > 160 else msg
        cell = lambda x: str(x).replace("|", "\\|")
        summary.append(f"| {cell(name)} | {st} | {cell(ct)} | {code} | {cell(msg)} |")
    head, rest = out[:2], out[2:]
    sys.stdout.write("\n".join(head + [NOTES] + summary + ["", "## Details\n"] + rest) + "\n")


if __name__ == "__main__":
    main()
