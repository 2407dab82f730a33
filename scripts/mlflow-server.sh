#!/usr/bin/env bash
# Installs and runs a real, pinned MLflow tracking server for integration tests.
#
#   scripts/mlflow-server.sh install   create/refresh the venv (.venv-mlflow) with the pinned mlflow
#   scripts/mlflow-server.sh start     install if needed, start a server on 127.0.0.1:<free port>,
#                                      wait for GET /health == 200 and print exactly one stdout line:
#                                        MLFLOW_TRACKING_URI=http://127.0.0.1:PORT
#   scripts/mlflow-server.sh stop      SIGTERM the server's process group, SIGKILL after a timeout
#   scripts/mlflow-server.sh status    print the URI and exit 0 if a server is up, else exit 1
#
# Typical use:  export "$(scripts/mlflow-server.sh start)"; go test ./...; scripts/mlflow-server.sh stop
#
# Only python3 (with the venv module) and network access to PyPI are needed; no curl.
# Everything but the one URI line goes to stderr or to the log file ($STATE_DIR/server.log).
#
# Environment overrides:
#   MLFLOW_VENV            venv dir                      (default <repo>/.venv-mlflow)
#   MLFLOW_STATE_DIR       db, artifacts, log, pid file  (default <repo>/.mlflow-state)
#   MLFLOW_PORT            port to use                   (default: a free port picked by the OS)
#   MLFLOW_START_TIMEOUT   seconds to wait for /health   (default 120)
#   MLFLOW_STOP_TIMEOUT    seconds before SIGKILL        (default 20)
#   MLFLOW_KEEP_STATE=1    keep the previous db/artifacts on start (default: start from an empty db)
#   PYTHON                 interpreter for the venv      (default python3)
set -euo pipefail

# Newest mlflow whose whole dependency set installs from PyPI with Python 3.11 here
# (3.18.0 is on PyPI but its pinned mlflow-skinny==3.18.0 / mlflow-tracing==3.18.0 are not).
# The full package is required: mlflow-skinny lacks the server's deps (sqlalchemy, alembic, flask...).
MLFLOW_VERSION="3.17.2"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLFLOW_VENV:-$ROOT/.venv-mlflow}"
STATE_DIR="$(realpath -m "${MLFLOW_STATE_DIR:-$ROOT/.mlflow-state}")" # absolute: the server runs in it
PYTHON="${PYTHON:-python3}"
START_TIMEOUT="${MLFLOW_START_TIMEOUT:-120}"
STOP_TIMEOUT="${MLFLOW_STOP_TIMEOUT:-20}"
PID_FILE="$STATE_DIR/server.pid"
URI_FILE="$STATE_DIR/server.uri"
LOG_FILE="$STATE_DIR/server.log"

# No phoning home from the server or pip; no background job runner (it forks ~8 huey processes that
# only serve GenAI evaluation jobs, which the REST tests never use).
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PIP_DISABLE_PIP_VERSION_CHECK=1
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

log() { printf '[mlflow-server] %s\n' "$*" >&2; }
die() {
  printf '[mlflow-server] ERROR: %s\n' "$*" >&2
  exit 1
}

installed_version() {
  [[ -x "$VENV/bin/python" ]] || return 1
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' 2>/dev/null
}

cmd_install() {
  local have
  if have="$(installed_version)" && [[ "$have" == "$MLFLOW_VERSION" ]] && [[ -x "$VENV/bin/mlflow" ]]; then
    log "mlflow $MLFLOW_VERSION already installed in $VENV"
    return 0
  fi
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install Python 3.10+"
  if [[ -e "$VENV" ]]; then
    log "venv $VENV has mlflow '${have:-none}', want $MLFLOW_VERSION: recreating it"
    rm -rf "$VENV"
  fi
  local t0=$SECONDS
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV" >&2 || die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
  log "installing mlflow==$MLFLOW_VERSION (this takes a minute or two)"
  if ! "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 ||
    ! "$VENV/bin/python" -m pip install --quiet "mlflow==$MLFLOW_VERSION" >&2; then
    rm -rf "$VENV" # never leave a half-installed venv that a later run would reuse
    die "pip install mlflow==$MLFLOW_VERSION failed"
  fi
  have="$(installed_version)" || die "mlflow is not importable after install"
  [[ "$have" == "$MLFLOW_VERSION" ]] || die "installed mlflow $have, want $MLFLOW_VERSION"
  log "installed mlflow $have in $((SECONDS - t0)) s"
}

# Prints the pid recorded in the pid file if that process is still alive.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

# health URL -> exit 0 when GET returns 200.
health_ok() {
  "$PYTHON" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/health", timeout=3) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

# port -> exit 0 when nothing listens on 127.0.0.1:port (so /health can only be answered by our server).
port_free() {
  "$PYTHON" -c 'import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()' "$1"
}

free_port() {
  "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

fail_start() {
  printf '[mlflow-server] ERROR: %s\n' "$1" >&2
  if [[ -f "$LOG_FILE" ]]; then
    printf '[mlflow-server] ---- last 60 lines of %s ----\n' "$LOG_FILE" >&2
    tail -n 60 "$LOG_FILE" >&2 || true
    printf '[mlflow-server] ---- end of log ----\n' >&2
  fi
  cmd_stop >/dev/null 2>&1 || true
  exit 1
}

cmd_start() {
  local pid uri
  if pid="$(running_pid)" && [[ -f "$URI_FILE" ]] && uri="$(cat "$URI_FILE")" && health_ok "$uri"; then
    log "server already running (pid $pid) at $uri"
    printf 'MLFLOW_TRACKING_URI=%s\n' "$uri"
    return 0
  fi
  # A stale or unhealthy leftover: stop it before starting anew.
  if [[ -f "$PID_FILE" ]]; then cmd_stop >&2 || true; fi

  cmd_install

  mkdir -p "$STATE_DIR"
  if [[ "${MLFLOW_KEEP_STATE:-}" != 1 ]]; then
    rm -rf "$STATE_DIR/mlflow.db" "$STATE_DIR/artifacts"
  fi
  mkdir -p "$STATE_DIR/artifacts"
  : >"$LOG_FILE"

  local port="${MLFLOW_PORT:-$(free_port)}"
  uri="http://127.0.0.1:$port"
  port_free "$port" || die "port $port on 127.0.0.1 is already in use"
  # --artifacts-destination, not --default-artifact-root: runs get mlflow-artifacts:/ URIs and
  # clients upload through the server's artifact proxy (/api/2.0/mlflow-artifacts/artifacts/...).
  # With --default-artifact-root the run's artifact_uri was a local path, and the proxy (served all
  # the same) wrote to ./mlartifacts in the server's cwd: the repo.
  local -a args=(server
    --backend-store-uri "sqlite:///$STATE_DIR/mlflow.db"
    --artifacts-destination "$STATE_DIR/artifacts"
    --host 127.0.0.1 --port "$port" --workers 1)

  log "starting mlflow $MLFLOW_VERSION server at $uri (log: $LOG_FILE)"
  local t0=$SECONDS
  # New session => the server (uvicorn/gunicorn and its workers) gets its own process group, pgid == pid.
  # Its cwd is the state dir, so nothing it writes relative to cwd lands in the repo.
  (cd "$STATE_DIR" && exec "$VENV/bin/python" -c 'import os, sys; os.setsid(); os.execv(sys.argv[1], sys.argv[1:])' \
    "$VENV/bin/mlflow" "${args[@]}" </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$uri" >"$URI_FILE"

  while ((SECONDS - t0 < START_TIMEOUT)); do
    kill -0 "$pid" 2>/dev/null || fail_start "mlflow server (pid $pid) exited during startup"
    if health_ok "$uri" && kill -0 "$pid" 2>/dev/null; then
      log "server healthy after $((SECONDS - t0)) s (pid $pid)"
      printf 'MLFLOW_TRACKING_URI=%s\n' "$uri"
      return 0
    fi
    sleep 0.5
  done
  fail_start "mlflow server did not answer GET $uri/health with 200 within ${START_TIMEOUT} s"
}

cmd_stop() {
  if [[ ! -f "$PID_FILE" ]]; then
    log "no pid file ($PID_FILE): nothing to stop"
    return 0
  fi
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    log "stopping server (process group $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    # Wait for the whole group, not just its leader (workers may outlive it briefly).
    while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 -- "-$pid" 2>/dev/null; then
      log "still alive after ${STOP_TIMEOUT} s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
      sleep 0.5
    fi
  else
    log "server (pid ${pid:-?}) was not running"
  fi
  rm -f "$PID_FILE" "$URI_FILE"
  log "stopped"
}

cmd_status() {
  local pid uri
  if pid="$(running_pid)" && uri="$(cat "$URI_FILE" 2>/dev/null)" && health_ok "$uri"; then
    log "running (pid $pid)"
    printf 'MLFLOW_TRACKING_URI=%s\n' "$uri"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
  echo "usage: $0 {install|start|stop|status}" >&2
  exit 2
  ;;
esac
