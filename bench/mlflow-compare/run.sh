#!/usr/bin/env bash
# mlerr against the MLflow Python client, same real server, same run.
#
# Starts a real MLflow server (scripts/mlflow-server.sh: installs the pinned
# mlflow into .venv-mlflow on first use; the Python clients come from that
# same venv), then logs one workload three times, one client at a time:
# through mlerr.Run with the mlflow backend (bench/cmd/mlflowload), through
# MlflowClient().log_batch (sync) and through mlflow.log_metrics(...,
# synchronous=False) (async). Then again with an outage in the middle of
# each run (bench/cmd/faultproxy between client and server). Writes
# bench/mlflow-compare/RESULTS.md (and results.json); stops the server.
#
#   bench/mlflow-compare/run.sh                        100 keys x 1000 steps; 10 s outages: refused, black-holed
#   KEYS=10 STEPS=100 OUT=/tmp/quick bench/mlflow-compare/run.sh   a quick check, written elsewhere
#   FAULTS="refuse blackhole refuse:90" OUTAGE=10 bench/mlflow-compare/run.sh   (MODE[:SECONDS]; FAULTS= for none)
set -euo pipefail

KEYS="${KEYS:-100}"
STEPS="${STEPS:-1000}"
OUTAGE="${OUTAGE:-10}"
FAULTS="${FAULTS-refuse blackhole}"
OUT="${OUT:-}" # where RESULTS.md and results.json go (default: beside this script)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
root="$(cd "$here/../.." && pwd)"
venv="${MLFLOW_VENV:-$root/.venv-mlflow}"
log() { printf '[mlflow-compare] %s\n' "$*" >&2; }

for n in "$KEYS" "$STEPS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { log "KEYS and STEPS must be positive integers"; exit 2; }
done

tmp="$(mktemp -d)"
server_started=""
cleanup() {
  if [[ -n "$server_started" ]]; then "$root/scripts/mlflow-server.sh" stop || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

log "building the Go client and the fault proxy"
(cd "$root/bench" && go build -o "$tmp/mlflowload" ./cmd/mlflowload && go build -o "$tmp/faultproxy" ./cmd/faultproxy)

log "starting the MLflow server"
uri_line="$("$root/scripts/mlflow-server.sh" start)"
server_started=1
uri="${uri_line#MLFLOW_TRACKING_URI=}"
[[ "$uri" == http://* ]] || { log "mlflow-server.sh printed '$uri_line'"; exit 1; }
log "server at $uri"

# Keep the driver's clients off a tracking URI or experiment set in the caller's environment.
unset MLFLOW_TRACKING_URI MLFLOW_EXPERIMENT_NAME MLFLOW_ENABLE_ASYNC_LOGGING

t0=$SECONDS
"$venv/bin/python" "$here/driver.py" --uri "$uri" --go-load "$tmp/mlflowload" --faultproxy "$tmp/faultproxy" \
  --python "$venv/bin/python" --keys "$KEYS" --steps "$STEPS" --outage "$OUTAGE" --faults "$FAULTS" \
  --json "$out/results.json" --workdir "$tmp/children"
"$venv/bin/python" "$here/report.py" "$out/results.json" >"$out/RESULTS.md"
log "wrote $out/RESULTS.md in $((SECONDS - t0)) s"
