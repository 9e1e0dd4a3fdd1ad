#!/usr/bin/env bash
# The demo: openedx-analytics in a small LMS-like host on SQLite, filled with realistic data
# sent through the live doors, then served on http://127.0.0.1:8000 (admin / admin).
#
#   ./demo.sh               set up (venv, migrations, data) and run the server
#   ./demo.sh --no-server   set up and print the summary only
#   ./demo.sh --fresh       start from empty databases
#
# Environment: PYTHON (default python3.11), VENV (default .venv), OA_SQLITE_DIR (default .data).
set -euo pipefail
cd "$(dirname "$0")"

SERVER=1
FRESH=0
for arg in "$@"; do
  case "$arg" in
    --no-server) SERVER=0 ;;
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-.venv}"
export OA_SQLITE_DIR="${OA_SQLITE_DIR:-$PWD/.data}"
export DJANGO_SETTINGS_MODULE=lms_host.settings_demo

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating $VENV with $PYTHON ..."
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e . -c requirements/constraints-lms.txt
fi
PY="$VENV/bin/python"

if [ "$FRESH" = 1 ]; then
  rm -f "$OA_SQLITE_DIR/lms.sqlite3" "$OA_SQLITE_DIR/analytics.sqlite3"
fi
mkdir -p "$OA_SQLITE_DIR"
"$PY" -m django migrate -v0
"$PY" -m django migrate --database analytics -v0
"$PY" -m django seed_demo

if [ "$SERVER" = 1 ]; then
  echo
  echo "Serving on http://127.0.0.1:8000/admin/ (admin / admin; course staff: staff/staff, instructor/instructor,"
  echo "researcher/researcher). Ctrl-C to stop."
  exec "$PY" -m django runserver 127.0.0.1:8000
fi
