#!/usr/bin/env bash
# The demo: openedx-analytics in a small LMS-like host on SQLite, filled with realistic data
# sent through the live doors, then served on http://127.0.0.1:8000: log in as course staff,
# an instructor, a data researcher, a learner, staff of another course or admin (password =
# user name), see your courses, their analytics pages and their instructor dashboards.
#
#   ./demo.sh                 set up (venv, migrations, data) and run the server
#   ./demo.sh --no-server     set up and print the summary only
#   ./demo.sh --fresh         start from empty databases
#   ./demo.sh --port 8001     serve on another port
#   ./demo.sh --learners 100  seed fewer (or more) learners (only when the data is created)
#
# Environment: PYTHON (default python3.11), VENV (default .venv), OA_SQLITE_DIR (default .data),
# OA_DEMO_PORT (default 8000); DEMO_PYTHON: use that Python environment as it is (no virtualenv,
# no install), as the tests do.
set -euo pipefail
cd "$(dirname "$0")"

SERVER=1
FRESH=0
PORT="${OA_DEMO_PORT:-8000}"
SEED_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-server) SERVER=0 ;;
    --fresh) FRESH=1 ;;
    --port) PORT="$2"; shift ;;
    --learners) SEED_ARGS+=(--learners "$2"); shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see ./demo.sh --help)" >&2; exit 2 ;;
  esac
  shift
done

PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-.venv}"
export OA_SQLITE_DIR="${OA_SQLITE_DIR:-$PWD/.data}"
export DJANGO_SETTINGS_MODULE=lms_host.settings_demo
# A demo shows the product, not the libraries' deprecation notices.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}" PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$OA_SQLITE_DIR"
LOG="$OA_SQLITE_DIR/setup.log"
: > "$LOG"

quietly() {  # quietly DESCRIPTION COMMAND...: run with output to the log; show its end if it fails
  local what="$1"
  shift
  if ! "$@" >>"$LOG" 2>&1; then
    echo "demo: $what failed; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}

if [[ -n "${DEMO_PYTHON:-}" ]]; then
  PY="$DEMO_PYTHON"
else
  # (Re)install when the venv is new or the package's requirements changed since the last install.
  STAMP="$(cat setup.py requirements/constraints-lms.txt | sha1sum | cut -c1-16)"
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "Creating $VENV with $PYTHON (a minute; details in $LOG) ..."
    quietly "creating the virtualenv" "$PYTHON" -m venv "$VENV"
  fi
  if [[ "$(cat "$VENV/.openedx-analytics-demo" 2>/dev/null)" != "$STAMP" ]]; then
    echo "Installing openedx-analytics and the LMS's library versions into $VENV ..."
    quietly "pip install" "$VENV/bin/python" -m pip install -q -e . Mako -c requirements/constraints-lms.txt
    echo "$STAMP" > "$VENV/.openedx-analytics-demo"
  fi
  PY="$VENV/bin/python"
fi

if [[ "$FRESH" = 1 ]]; then
  rm -f "$OA_SQLITE_DIR/lms.sqlite3" "$OA_SQLITE_DIR/analytics.sqlite3"
fi
quietly "migrate" "$PY" -m django migrate -v0
quietly "migrate --database analytics" "$PY" -m django migrate --database analytics -v0
"$PY" -m django seed_demo "${SEED_ARGS[@]}"

if [[ "$SERVER" = 1 ]]; then
  URL="http://127.0.0.1:$PORT/"
  SERVER_LOG="$OA_SQLITE_DIR/server.log"
  "$PY" -m django runserver "127.0.0.1:$PORT" --noreload --insecure >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
  trap 'exit 0' INT TERM
  for _ in $(seq 100); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "demo: the server did not start; the end of $SERVER_LOG:" >&2
      tail -n 20 "$SERVER_LOG" >&2
      exit 1
    fi
    if "$PY" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1] + 'accounts/login/', timeout=2)" "$URL" 2>/dev/null; then
      break
    fi
    sleep 0.2
  done
  echo
  echo "The demo LMS is serving (its log: $SERVER_LOG; Ctrl-C stops it)."
  "$PY" -m django demo_links --url "$URL"
  wait "$SERVER_PID"
fi
