#!/usr/bin/env bash
# Installs and runs a real, pinned MLflow tracking server for integration tests.
#
#   scripts/mlflow-server.sh install   create/refresh the venv (.venv-mlflow): the pinned mlflow, the
#                                      PostgreSQL driver and the auth app's extra package
#   scripts/mlflow-server.sh start     install if needed, start a server on 127.0.0.1:<free port>
#                                      (and its PostgreSQL in postgres mode), wait for GET /health
#                                      == 200 and print exactly one stdout line:
#                                        MLFLOW_TRACKING_URI=http://127.0.0.1:PORT
#   scripts/mlflow-server.sh stop      SIGTERM the server's process group (SIGKILL after a timeout),
#                                      then stop its PostgreSQL
#   scripts/mlflow-server.sh status    print the URI and exit 0 if the server (and its PostgreSQL)
#                                      is up, else exit 1; the PostgreSQL state goes to stderr
#   scripts/mlflow-server.sh env       print the env file of the running server (see below), exit 1
#                                      if none is running
#   scripts/mlflow-server.sh clean     stop, then delete the state dir and the PostgreSQL cluster
#
# Typical use:  export MLERR_TEST_MLFLOW_URI=$(scripts/mlflow-server.sh start | cut -d= -f2-)
#               go test ./...; scripts/mlflow-server.sh stop
# (tests read MLERR_TEST_MLFLOW_URI, never MLFLOW_TRACKING_URI; see internal/testserver)
#
# Modes (chosen at start; a running server in another mode is stopped and started anew):
#   MLFLOW_STORE=sqlite    (default) SQLite db in the state dir, 1 worker by default.
#   MLFLOW_STORE=postgres  A PostgreSQL cluster of its own (initdb) on 127.0.0.1:<free port>, with a
#                          database "mlflow" (and "mlflow_auth" in auth mode), owner "mlflow" with a
#                          random password; the server runs MLFLOW_WORKERS (default 4) workers on
#                          postgresql+psycopg://. PostgreSQL comes from /usr/lib/postgresql/*/bin (the
#                          newest); when it is missing and we are root, `apt-get install postgresql`
#                          (Debian/Ubuntu). As root, PostgreSQL runs as the `postgres` user the package
#                          creates; its cluster lives in $STATE_DIR/pg, or in /tmp/mlflow-pg-<hash of
#                          the state dir> when that user cannot reach the state dir (removed on stop).
#   MLFLOW_AUTH=1          MLflow's basic-auth app (`--app-name basic-auth`), with either store. Users
#                          live in auth.db (sqlite) or in the "mlflow_auth" database (postgres). The
#                          admin is created by MLflow at first start from $STATE_DIR/basic_auth.ini
#                          (admin_username/admin_password, default_permission = READ); the password is
#                          random unless MLFLOW_AUTH_ADMIN_PASSWORD is set.
#
# In every mode the server proxies artifacts (runs get mlflow-artifacts:/ URIs; uploads go through
# /api/2.0/mlflow-artifacts/artifacts/<path> into $STATE_DIR/artifacts) and runs with the state dir
# as its cwd and umask 077.
#
# Output: stdout is only the URI line above, in every mode. Everything else goes to stderr or to the
# log files ($STATE_DIR/server.log, and postgres.log in the cluster dir). `start` also writes
# $STATE_DIR/server.env (mode 0600; plain KEY=VALUE lines, values need no quoting; read it with
# `set -a; . "$STATE_DIR/server.env"; set +a` or `scripts/mlflow-server.sh env`):
#   MLFLOW_TRACKING_URI=http://127.0.0.1:PORT
#   MLERR_SERVER_STORE=sqlite|postgres        MLERR_SERVER_WORKERS=N
#   MLERR_SERVER_DB_URI=postgresql://mlflow:PASSWORD@127.0.0.1:PGPORT/mlflow     (postgres only;
#                                                                  libpq form, psql takes it as is)
#   MLERR_SERVER_ADMIN_USERNAME=admin  MLERR_SERVER_ADMIN_PASSWORD=...           (auth only)
# It holds no MLFLOW_TRACKING_USERNAME/PASSWORD on purpose: a test chooses its own credentials.
#
# Only python3 (with the venv module) and network access to PyPI (and, in postgres mode on a machine
# without PostgreSQL, to the Debian archive) are needed; no curl.
#
# Environment overrides:
#   MLFLOW_STORE           sqlite | postgres                    (default sqlite)
#   MLFLOW_AUTH            1 = basic-auth app                   (default 0)
#   MLFLOW_WORKERS         server workers (mlflow's own name for --workers; default 1 sqlite, 4 postgres)
#   MLFLOW_AUTH_ADMIN_USERNAME / MLFLOW_AUTH_ADMIN_PASSWORD  the admin to create (default admin/random)
#   MLFLOW_VENV            venv dir                             (default <repo>/.venv-mlflow)
#   MLFLOW_STATE_DIR       db, artifacts, logs, pid/env files   (default <repo>/.mlflow-state); two
#                          servers run side by side with two state dirs
#   MLFLOW_PORT            port to use                          (default: a free port picked by the OS)
#   MLFLOW_PG_PORT         PostgreSQL port                      (default: a free port)
#   MLFLOW_PG_DIR          PostgreSQL cluster dir               (default: see postgres mode above)
#   MLFLOW_PG_BINDIR       dir with initdb/pg_ctl/psql          (default: newest /usr/lib/postgresql/*/bin)
#   MLFLOW_PG_OPTS         extra postgres server options, e.g. "-c shared_buffers=256MB"
#   MLFLOW_START_TIMEOUT   seconds to wait for /health          (default 180: 4 workers importing
#                          mlflow at once on 2 busy cores took up to 104 s here)
#   MLFLOW_STOP_TIMEOUT    seconds before SIGKILL               (default 20)
#   MLFLOW_KEEP_STATE=1    keep the previous db/cluster/users/artifacts on start (default: start empty)
#   PYTHON                 interpreter for the venv             (default python3)
set -euo pipefail

# Newest mlflow whose whole dependency set installs from PyPI with Python 3.11 here
# (3.18.0 is on PyPI but its pinned mlflow-skinny==3.18.0 / mlflow-tracing==3.18.0 are not).
# The full package is required: mlflow-skinny lacks the server's deps (sqlalchemy, alembic, flask...).
MLFLOW_VERSION="3.17.2"
# The extras, pinned: the PostgreSQL driver (SQLAlchemy's postgresql+psycopg dialect) with its binary
# wheel, so no libpq or compiler is needed; and what mlflow[auth] adds for the basic-auth app
# (mlflow 3.17.2 declares exactly Flask-WTF<2 for the "auth" extra).
EXTRA_PACKAGES=("psycopg:psycopg[binary]==3.3.9" "flask-wtf:Flask-WTF==1.3.0")

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLFLOW_VENV:-$ROOT/.venv-mlflow}"
STATE_DIR="$(realpath -m "${MLFLOW_STATE_DIR:-$ROOT/.mlflow-state}")"
PYTHON="${PYTHON:-python3}"
START_TIMEOUT="${MLFLOW_START_TIMEOUT:-180}"
STOP_TIMEOUT="${MLFLOW_STOP_TIMEOUT:-20}"
STORE="${MLFLOW_STORE:-sqlite}"
AUTH="${MLFLOW_AUTH:-0}"
PID_FILE="$STATE_DIR/server.pid"
URI_FILE="$STATE_DIR/server.uri"
MODE_FILE="$STATE_DIR/server.mode"
ENV_FILE="$STATE_DIR/server.env"
LOG_FILE="$STATE_DIR/server.log"
AUTH_INI="$STATE_DIR/basic_auth.ini"
PG_DIR_FILE="$STATE_DIR/pg.dir" # where this state dir's PostgreSQL cluster lives

# No phoning home from the server or pip; no background job runner (it forks ~8 huey processes that
# only serve GenAI evaluation jobs, which the REST tests never use).
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PIP_DISABLE_PIP_VERSION_CHECK=1
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

log() { printf '[mlflow-server] %s\n' "$*" >&2; }
die() {
  printf '[mlflow-server] ERROR: %s\n' "$*" >&2
  exit 1
}

case "$STORE" in sqlite | postgres) ;; *) die "MLFLOW_STORE must be sqlite or postgres, not '$STORE'" ;; esac
case "$AUTH" in 0 | 1) ;; *) die "MLFLOW_AUTH must be 0 or 1, not '$AUTH'" ;; esac
if [[ "$STORE" == postgres ]]; then WORKERS="${MLFLOW_WORKERS:-4}"; else WORKERS="${MLFLOW_WORKERS:-1}"; fi
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "MLFLOW_WORKERS must be a positive integer, not '$WORKERS'"
if [[ -n "${MLFLOW_AUTH_ADMIN_PASSWORD:-}" ]] && ((${#MLFLOW_AUTH_ADMIN_PASSWORD} < 12)); then
  die "MLFLOW_AUTH_ADMIN_PASSWORD must have at least 12 characters (MLflow's rule)"
fi

# A random secret of URL- and shell-safe characters ([A-Za-z0-9_-]).
random_secret() { "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))'; }

# dist name -> its version in the venv, exit 1 if it is not installed.
venv_version() {
  [[ -x "$VENV/bin/python" ]] || return 1
  "$VENV/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null
}

# Prints the pip requirement of every extra package the venv lacks (or has in another version).
missing_extras() {
  local entry dist req
  for entry in "${EXTRA_PACKAGES[@]}"; do
    dist="${entry%%:*}" req="${entry#*:}"
    [[ "$(venv_version "$dist" || true)" == "${req##*==}" ]] || printf '%s\n' "$req"
  done
}

cmd_install() {
  local have t0=$SECONDS
  local -a missing
  if have="$(venv_version mlflow)" && [[ "$have" == "$MLFLOW_VERSION" ]] && [[ -x "$VENV/bin/mlflow" ]]; then
    mapfile -t missing < <(missing_extras)
    if ((${#missing[@]} == 0)); then
      log "mlflow $MLFLOW_VERSION and its extras already installed in $VENV"
      return 0
    fi
    log "installing ${missing[*]} into $VENV"
    "$VENV/bin/python" -m pip install --quiet "${missing[@]}" >&2 || die "pip install ${missing[*]} failed"
    [[ -z "$(missing_extras)" ]] || die "still missing after install: $(missing_extras | tr '\n' ' ')"
    log "installed the extras in $((SECONDS - t0)) s"
    return 0
  fi
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install Python 3.10+"
  if [[ -e "$VENV" ]]; then
    log "venv $VENV has mlflow '${have:-none}', want $MLFLOW_VERSION: recreating it"
    rm -rf "$VENV"
  fi
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV" >&2 || die "'$PYTHON -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
  local entry
  local -a reqs=("mlflow==$MLFLOW_VERSION")
  for entry in "${EXTRA_PACKAGES[@]}"; do reqs+=("${entry#*:}"); done
  log "installing ${reqs[*]} (this takes a minute or two)"
  if ! "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2 ||
    ! "$VENV/bin/python" -m pip install --quiet "${reqs[@]}" >&2; then
    rm -rf "$VENV" # never leave a half-installed venv that a later run would reuse
    die "pip install ${reqs[*]} failed"
  fi
  have="$(venv_version mlflow)" || die "mlflow is not importable after install"
  [[ "$have" == "$MLFLOW_VERSION" ]] || die "installed mlflow $have, want $MLFLOW_VERSION"
  [[ -z "$(missing_extras)" ]] || die "missing after install: $(missing_extras | tr '\n' ' ')"
  log "installed mlflow $have and its extras in $((SECONDS - t0)) s"
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

# health URL -> exit 0 when GET returns 200 (/health needs no credentials, in auth mode too).
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

# ---- PostgreSQL ---------------------------------------------------------------------------------

# Prints the newest PostgreSQL bin dir that has initdb, pg_ctl and psql.
pg_find_bindir() {
  if [[ -n "${MLFLOW_PG_BINDIR:-}" ]]; then
    [[ -x "$MLFLOW_PG_BINDIR/initdb" ]] || die "MLFLOW_PG_BINDIR=$MLFLOW_PG_BINDIR has no initdb"
    printf '%s\n' "$MLFLOW_PG_BINDIR"
    return 0
  fi
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/psql" ]] || return 1
  printf '%s\n' "$d"
}

# Installs PostgreSQL with apt when it is missing; prints its bin dir.
pg_install() {
  local bindir
  if bindir="$(pg_find_bindir)"; then
    printf '%s\n' "$bindir"
    return 0
  fi
  ((EUID == 0)) || die "PostgreSQL is missing and only root can install it: apt-get install postgresql"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is missing and there is no apt-get to install it"
  local t0=$SECONDS
  log "PostgreSQL not found: apt-get install postgresql (Debian's supported version)"
  export DEBIAN_FRONTEND=noninteractive
  # On a fresh machine the package lists may be empty or stale: update once, then install.
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
  bindir="$(pg_find_bindir)" || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb"
  log "installed PostgreSQL ($bindir) in $((SECONDS - t0)) s"
  printf '%s\n' "$bindir"
}

# Runs a command as the cluster's owner: `postgres` when we are root (PostgreSQL refuses root).
as_pg() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints the dir for this state dir's cluster (see the header), creating nothing but the state dir.
pg_choose_dir() {
  if [[ -n "${MLFLOW_PG_DIR:-}" ]]; then
    realpath -m "$MLFLOW_PG_DIR"
  elif ((EUID != 0)) || runuser -u postgres -- test -x "$STATE_DIR" -a -r "$STATE_DIR"; then
    printf '%s\n' "$STATE_DIR/pg"
  else
    printf '/tmp/mlflow-pg-%s\n' "$(printf '%s' "$STATE_DIR" | sha256sum | cut -c1-12)"
  fi
}

# Prints the recorded cluster dir of this state dir, exit 1 if there is none.
pg_recorded_dir() {
  [[ -f "$PG_DIR_FILE" ]] || return 1
  local d
  d="$(cat "$PG_DIR_FILE")"
  [[ -n "$d" ]] || return 1
  printf '%s\n' "$d"
}

# dir -> exit 0 when the cluster in dir is running.
pg_running() {
  local bindir
  [[ -f "$1/data/postmaster.pid" ]] || return 1
  bindir="$(cat "$1/bindir" 2>/dev/null)" || return 1
  as_pg "$bindir/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# dir -> the libpq URI of database db ($2) in that cluster.
pg_uri() {
  printf 'postgresql://mlflow:%s@127.0.0.1:%s/%s\n' "$(cat "$1/password")" "$(cat "$1/port")" "$2"
}

# Creates (unless kept) and starts the cluster; leaves bindir, password and port files in its dir.
pg_start() {
  local bindir dir port
  bindir="$(pg_install)"
  ((EUID != 0)) || id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run PostgreSQL"
  dir="$(pg_choose_dir)"
  printf '%s\n' "$dir" >"$PG_DIR_FILE"
  if pg_running "$dir"; then pg_stop_dir "$dir"; fi
  if [[ "${MLFLOW_KEEP_STATE:-}" != 1 ]]; then rm -rf "$dir"; fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  ((EUID != 0)) || chown postgres: "$dir"
  printf '%s\n' "$bindir" >"$dir/bindir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    random_secret >"$dir/password"
    chmod 600 "$dir/password"
    ((EUID != 0)) || chown postgres: "$dir/password"
    log "initdb $dir/data ($("$bindir/initdb" --version))"
    as_pg "$bindir/initdb" -D "$dir/data" -U mlflow --pwfile="$dir/password" --auth=scram-sha-256 \
      --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      die "initdb failed"
    }
  fi
  port="${MLFLOW_PG_PORT:-$(free_port)}"
  port_free "$port" || die "PostgreSQL port $port on 127.0.0.1 is already in use"
  printf '%s\n' "$port" >"$dir/port"
  # TCP on loopback only, no unix socket (its path would depend on the state dir's length).
  # max_connections: each worker keeps a pool of up to 15 per engine, two engines in auth mode.
  local opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=200"
  opts+=" ${MLFLOW_PG_OPTS:-}"
  log "starting PostgreSQL on 127.0.0.1:$port (cluster $dir)"
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t "$START_TIMEOUT" -o "$opts" start >/dev/null ||
    fail_start "PostgreSQL did not start"
  local db
  for db in mlflow mlflow_auth; do
    if [[ -z "$(PGCONNECT_TIMEOUT=10 "$bindir/psql" "$(pg_uri "$dir" postgres)" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
      PGCONNECT_TIMEOUT=10 "$bindir/psql" -q "$(pg_uri "$dir" postgres)" -c "CREATE DATABASE $db" >&2 || fail_start "CREATE DATABASE $db failed"
    fi
  done
}

# dir -> stops the cluster in dir (fast shutdown, immediate after the stop timeout).
pg_stop_dir() {
  local bindir
  bindir="$(cat "$1/bindir")"
  log "stopping PostgreSQL (cluster $1)"
  as_pg "$bindir/pg_ctl" -D "$1/data" -m fast -w -t "$STOP_TIMEOUT" stop >/dev/null 2>&1 ||
    as_pg "$bindir/pg_ctl" -D "$1/data" -m immediate -w -t "$STOP_TIMEOUT" stop >/dev/null 2>&1 || true
}

pg_stop() {
  local dir
  dir="$(pg_recorded_dir)" || return 0
  if pg_running "$dir"; then pg_stop_dir "$dir"; fi
  # A cluster outside the state dir would outlive it: remove it unless asked to keep it.
  if [[ "$dir" != "$STATE_DIR"/* && -z "${MLFLOW_PG_DIR:-}" && "${MLFLOW_KEEP_STATE:-}" != 1 ]]; then
    rm -rf "$dir"
    rm -f "$PG_DIR_FILE"
  fi
}

# ---- MLflow -------------------------------------------------------------------------------------

fail_start() {
  printf '[mlflow-server] ERROR: %s\n' "$1" >&2
  if [[ -f "$LOG_FILE" ]]; then
    printf '[mlflow-server] ---- last 60 lines of %s ----\n' "$LOG_FILE" >&2
    tail -n 60 "$LOG_FILE" >&2 || true
    printf '[mlflow-server] ---- end of log ----\n' >&2
  fi
  local dir
  if dir="$(pg_recorded_dir)" && [[ -f "$dir/postgres.log" ]]; then
    printf '[mlflow-server] ---- last 20 lines of %s ----\n' "$dir/postgres.log" >&2
    tail -n 20 "$dir/postgres.log" >&2 || true
  fi
  cmd_stop >/dev/null 2>&1 || true
  exit 1
}

mode_string() { printf 'store=%s auth=%s workers=%s\n' "$STORE" "$AUTH" "$WORKERS"; }

# Writes basic_auth.ini (0600) for the admin user and database uri ($1); prints the admin password.
write_auth_config() {
  local user="${MLFLOW_AUTH_ADMIN_USERNAME:-admin}" password="${MLFLOW_AUTH_ADMIN_PASSWORD:-}"
  if [[ -z "$password" && "${MLFLOW_KEEP_STATE:-}" == 1 && -f "$AUTH_INI" ]]; then
    # The kept user store already holds the admin with the previous password.
    password="$(sed -n 's/^admin_password = //p' "$AUTH_INI")"
  fi
  [[ -n "$password" ]] || password="$(random_secret)"
  (
    umask 077
    cat >"$AUTH_INI" <<EOF
[mlflow]
default_permission = READ
database_uri = $1
admin_username = $user
admin_password = $password
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
EOF
  )
  printf '%s\n' "$password"
}

cmd_start() {
  local pid uri
  if pid="$(running_pid)" && [[ -f "$URI_FILE" ]] && uri="$(cat "$URI_FILE")" && health_ok "$uri" &&
    [[ "$(cat "$MODE_FILE" 2>/dev/null)" == "$(mode_string)" ]]; then
    log "server already running (pid $pid, $(mode_string)) at $uri"
    printf 'MLFLOW_TRACKING_URI=%s\n' "$uri"
    return 0
  fi
  # A stale, unhealthy or other-mode leftover: stop it before starting anew.
  local old_pg
  if [[ -f "$PID_FILE" ]] || { old_pg="$(pg_recorded_dir)" && pg_running "$old_pg"; }; then cmd_stop >&2 || true; fi

  cmd_install

  mkdir -p "$STATE_DIR"
  if [[ "${MLFLOW_KEEP_STATE:-}" != 1 ]]; then
    rm -rf "$STATE_DIR/mlflow.db" "$STATE_DIR/auth.db" "$STATE_DIR/artifacts" "$AUTH_INI" "$ENV_FILE" "$STATE_DIR/pg"
  fi
  if [[ "$STORE" == sqlite ]]; then rm -f "$PG_DIR_FILE"; fi
  mkdir -p "$STATE_DIR/artifacts"
  : >"$LOG_FILE"

  local backend auth_db pg_dir="" t0=$SECONDS
  if [[ "$STORE" == postgres ]]; then
    pg_start
    pg_dir="$(pg_recorded_dir)"
    backend="$(pg_uri "$pg_dir" mlflow)"
    backend="postgresql+psycopg://${backend#postgresql://}"
    auth_db="$(pg_uri "$pg_dir" mlflow_auth)"
    auth_db="postgresql+psycopg://${auth_db#postgresql://}"
  else
    backend="sqlite:///$STATE_DIR/mlflow.db"
    auth_db="sqlite:///$STATE_DIR/auth.db"
  fi

  local port="${MLFLOW_PORT:-$(free_port)}"
  uri="http://127.0.0.1:$port"
  port_free "$port" || fail_start "port $port on 127.0.0.1 is already in use"
  # --artifacts-destination, not --default-artifact-root: runs get mlflow-artifacts:/ URIs and
  # clients upload through the server's artifact proxy (/api/2.0/mlflow-artifacts/artifacts/...).
  local -a args=(server
    --backend-store-uri "$backend"
    --artifacts-destination "$STATE_DIR/artifacts"
    --host 127.0.0.1 --port "$port" --workers "$WORKERS")
  # Settings of `mlflow server` that it reads from the environment (click envvars): never inherited.
  local -a envs=(env -u MLFLOW_DEFAULT_ARTIFACT_ROOT -u MLFLOW_ARTIFACTS_DESTINATION -u MLFLOW_ARTIFACTS_ONLY
    -u MLFLOW_BACKEND_STORE_URI -u MLFLOW_REGISTRY_STORE_URI -u MLFLOW_READ_REPLICA_BACKEND_STORE_URI
    -u MLFLOW_STATIC_PREFIX -u MLFLOW_GUNICORN_OPTS -u MLFLOW_UVICORN_OPTS -u MLFLOW_WORKERS
    -u MLFLOW_AUTH_ADMIN_USERNAME -u MLFLOW_AUTH_ADMIN_PASSWORD -u MLFLOW_AUTH_CONFIG_PATH)
  local admin_password=""
  if [[ "$AUTH" == 1 ]]; then
    args+=(--app-name basic-auth)
    admin_password="$(write_auth_config "$auth_db")" || fail_start "cannot write $AUTH_INI"
    envs+=("MLFLOW_AUTH_CONFIG_PATH=$AUTH_INI" "MLFLOW_FLASK_SERVER_SECRET_KEY=$(random_secret)")
  fi

  log "starting mlflow $MLFLOW_VERSION server at $uri ($(mode_string); log: $LOG_FILE)"
  # New session => the server (uvicorn and its workers) gets its own process group, pgid == pid.
  # Its cwd is the state dir, so nothing it writes relative to cwd lands in the repo; umask 077: the
  # dbs (password hashes in auth.db) and artifacts are the owner's alone.
  (cd "$STATE_DIR" && umask 077 && exec "${envs[@]}" "$VENV/bin/python" -c \
    'import os, sys; os.setsid(); os.execv(sys.argv[1], sys.argv[1:])' \
    "$VENV/bin/mlflow" "${args[@]}" </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  printf '%s\n' "$uri" >"$URI_FILE"
  mode_string >"$MODE_FILE"

  while ((SECONDS - t0 < START_TIMEOUT)); do
    kill -0 "$pid" 2>/dev/null || fail_start "mlflow server (pid $pid) exited during startup"
    if health_ok "$uri" && kill -0 "$pid" 2>/dev/null; then
      write_env_file "$uri" "$pg_dir" "$admin_password"
      log "server healthy after $((SECONDS - t0)) s (pid $pid); env file: $ENV_FILE"
      printf 'MLFLOW_TRACKING_URI=%s\n' "$uri"
      return 0
    fi
    sleep 0.5
  done
  fail_start "mlflow server did not answer GET $uri/health with 200 within ${START_TIMEOUT} s"
}

# uri, pg dir ("" for sqlite), admin password ("" without auth) -> $ENV_FILE (0600).
write_env_file() {
  (
    umask 077
    {
      printf 'MLFLOW_TRACKING_URI=%s\n' "$1"
      printf 'MLERR_SERVER_STORE=%s\nMLERR_SERVER_WORKERS=%s\n' "$STORE" "$WORKERS"
      if [[ -n "$2" ]]; then printf 'MLERR_SERVER_DB_URI=%s\n' "$(pg_uri "$2" mlflow)"; fi
      if [[ -n "$3" ]]; then
        printf 'MLERR_SERVER_ADMIN_USERNAME=%s\n' "${MLFLOW_AUTH_ADMIN_USERNAME:-admin}"
        printf 'MLERR_SERVER_ADMIN_PASSWORD=%s\n' "$3"
      fi
    } >"$ENV_FILE"
  )
}

cmd_stop() {
  local pid
  if [[ ! -f "$PID_FILE" ]]; then
    log "no pid file ($PID_FILE): no mlflow server to stop"
  else
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
  fi
  rm -f "$PID_FILE" "$URI_FILE" "$MODE_FILE" "$ENV_FILE"
  pg_stop # after the server: its workers hold connections until they exit
  log "stopped"
}

cmd_status() {
  local pid uri rc=0 dir
  if pid="$(running_pid)" && uri="$(cat "$URI_FILE" 2>/dev/null)" && health_ok "$uri"; then
    log "mlflow: running (pid $pid, $(cat "$MODE_FILE" 2>/dev/null))"
  else
    log "mlflow: not running"
    rc=1
  fi
  if dir="$(pg_recorded_dir)"; then
    if pg_running "$dir"; then
      log "postgres: running on 127.0.0.1:$(cat "$dir/port") (cluster $dir)"
    else
      log "postgres: not running (cluster $dir)"
      rc=1
    fi
  fi
  ((rc == 0)) || return 1
  printf 'MLFLOW_TRACKING_URI=%s\n' "$uri"
}

cmd_env() {
  cmd_status >/dev/null || die "no server running for $STATE_DIR"
  cat "$ENV_FILE"
}

cmd_clean() {
  local dir=""
  dir="$(pg_recorded_dir)" || true
  MLFLOW_KEEP_STATE=0 cmd_stop
  [[ -z "$dir" ]] || rm -rf "$dir"
  rm -rf "$STATE_DIR"
  log "removed $STATE_DIR${dir:+ and $dir}"
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
clean) cmd_clean ;;
*)
  echo "usage: $0 {install|start|stop|status|env|clean}" >&2
  exit 2
  ;;
esac
