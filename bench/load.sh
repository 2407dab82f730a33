#!/usr/bin/env bash
# The load benchmark (issue 13): many ranks against one MLflow tracking server, PostgreSQL-backed
# with 4 workers, and SQLite with 1 for comparison. Every figure is a ratio taken in the same run
# against row 1, the raw ingest limit of that server (see bench/cmd/loadbench for the rows).
#
#   bench/load.sh                        both stores, the sizes of docs/performance.md (~15 min on 2 cores)
#   STORES=postgres bench/load.sh        one store
#   PG_URI=http://127.0.0.1:5000 SQLITE_URI=http://127.0.0.1:5001 bench/load.sh   running servers
#   SIZES=issue bench/load.sh            the issue's sizes (R = 8, 32, 64 x 100 keys x 1,000 steps,
#                                        one run of 100 x 10,000, 30 s outage): hours on 2 cores
#   PG_FLAGS='-rows 1,2 -inflight 1,2,4,8' bench/load.sh   extra loadbench flags for one store
#   OUT=/tmp/load bench/load.sh          where load-<store>.md and .json go (default bench/load/)
#
# On a fresh machine it needs Go and python3 (with venv) and, as root, network access to PyPI and the
# Debian archive: scripts/mlflow-server.sh installs the pinned mlflow (and psycopg) into
# .venv-mlflow (MLFLOW_VENV overrides) and PostgreSQL with apt-get when missing, starts each server
# in a state dir of its own under $OUT/state and stops it at the end. The Python clients of row 6
# come from that venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STORES="${STORES:-postgres sqlite}"
SIZES="${SIZES:-small}"
OUT="$(realpath -m "${OUT:-$root/bench/load}")"
export MLFLOW_VENV="${MLFLOW_VENV:-$root/.venv-mlflow}"
log() { printf '[load] %s\n' "$*" >&2; }

case "$SIZES" in
small) # what a shared 2-core machine does in minutes: ranks log 10 keys, not 100 (see docs/performance.md)
  common=(-raw-conc 1,2,4,8,16 -raw-dur 8s -one-keys 100 -one-steps 1000 -inflight 1,2,4,8
    -rank-keys 10 -rank-steps 1000 -outage-ranks 32 -outage 15s -rate-ranks 8 -rate-steps 1000 -py-ranks 8)
  pg=(-ranks 8,32,64)
  sqlite=(-rows 1,2,3,6 -ranks 8,32 -inflight 1) ;;
issue)
  common=(-raw-conc 1,2,4,8,16,32 -raw-dur 20s -one-keys 100 -one-steps 10000 -inflight 1,2,4,8
    -rank-keys 100 -rank-steps 1000 -outage-ranks 32 -outage 30s -rate-ranks 32 -rate-steps 1000 -py-ranks 8)
  pg=(-ranks 8,32,64)
  sqlite=(-ranks 8,32,64) ;;
*) log "SIZES must be small or issue, not '$SIZES'"; exit 2 ;;
esac

mkdir -p "$OUT"
tmp="$(mktemp -d)"
started=()
cleanup() {
  for dir in "${started[@]}"; do MLFLOW_STATE_DIR="$dir" "$root/scripts/mlflow-server.sh" stop >&2 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

log "building the clients and the driver"
(cd "$root/bench" && for c in loadbench mlflowload faultproxy; do go build -o "$tmp/$c" "./cmd/$c"; done)

# server STORE: sets uri to a server of that store (PG_URI / SQLITE_URI, or one started here).
server() {
  local store="$1" given line
  if [[ "$store" == postgres ]]; then given="${PG_URI:-}"; else given="${SQLITE_URI:-}"; fi
  if [[ -n "$given" ]]; then uri="$given"; return; fi
  local dir="$OUT/state/$store"
  started+=("$dir")
  line="$(MLFLOW_STATE_DIR="$dir" MLFLOW_STORE="$store" "$root/scripts/mlflow-server.sh" start)"
  uri="${line#MLFLOW_TRACKING_URI=}"
}

unset MLFLOW_TRACKING_URI MLFLOW_EXPERIMENT_NAME MLFLOW_ENABLE_ASYNC_LOGGING
for store in $STORES; do
  case "$store" in
  postgres) label="PostgreSQL, 4 workers"; extra=("${pg[@]}") ; flags="${PG_FLAGS:-}" ;;
  sqlite) label="SQLite, 1 worker"; extra=("${sqlite[@]}"); flags="${SQLITE_FLAGS:-}" ;;
  *) log "unknown store '$store' (postgres or sqlite)"; exit 2 ;;
  esac
  log "starting the $store server (or using the one given)"
  server "$store"
  [[ "$uri" == http://* ]] || { log "no server URI for $store: '$uri'"; exit 1; }
  log "$store: $uri"
  work="$OUT/work-$store"
  rm -rf "$work" && mkdir -p "$work"
  # shellcheck disable=SC2086 # $flags is a list of flags
  "$tmp/loadbench" -uri "$uri" -label "$label" -bin "$tmp" \
    -python "$MLFLOW_VENV/bin/python" -py-dir "$root/bench/mlflow-compare" -workdir "$work" \
    -command "STORES=$store SIZES=$SIZES bench/load.sh" \
    "${common[@]}" "${extra[@]}" $flags -json "$OUT/load-$store.json" -md "$OUT/load-$store.md"
  for p in "$work"/*.pprof; do
    [[ -e "$p" ]] || continue
    go tool pprof -top -nodecount=30 "$tmp/mlflowload" "$p" >"${p%.pprof}.top.txt" 2>/dev/null || true
  done
  log "wrote $OUT/load-$store.md (profiles and clients' stderr in $work)"
done
