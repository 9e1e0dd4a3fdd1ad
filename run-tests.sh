#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. ruff, then the PII annotation check of every model (code-annotations);
#   2. pytest on SQLite, Celery eager in the test process, and the real-browser test
#      (tests/browser: ./demo.sh served on its own SQLite files, driven by Debian's Chromium);
#   3. pytest on real MariaDB (databases "default" and "analytics" both real), without the
#      browser test (it never touches MariaDB: once a run is enough).
# In both pytest runs the tests that ask for a worker start real `celery -A lms_host worker`
# processes on Redis; without Redis they are skipped, and without Chromium the browser test
# is, except under CI=true where they fail. The browser test's screenshots and the demo's
# output land in test-output/browser/ (OA_TEST_OUTPUT); the run prints the folder.
#
# Usage: [PYTHON=/path/to/python] ./run-tests.sh [extra pytest arguments]
# Without PYTHON, it first prepares the machine and .venv-lms (bash .ci/prepare lms: system
# libraries, MariaDB and Redis, Python 3.11 with the LMS's pinned libraries) and uses that.
# Environment: PYTHON, OA_BROKER_URL (default: a Redis database chosen from
# this run's process id), OA_MYSQL_PREFIX (default: oa_t<pid>), OA_MYSQL_HOST/PORT/USER/PASSWORD,
# OA_PARALLEL_PASSES=1 (CI sets it) to run the SQLite and MariaDB passes side by side, each
# with its own log printed at the end (the MariaDB pass then uses OA_MARIADB_BROKER_URL,
# default another Redis database chosen from the process id).
set -euo pipefail
cd "$(dirname "$0")"

if [[ -z "${PYTHON:-}" ]]; then
    bash .ci/prepare lms
    PYTHON="$PWD/.venv-lms/bin/python"
fi
RUN_ID="$$"
export OA_BROKER_URL="${OA_BROKER_URL:-redis://127.0.0.1:6379/$(( RUN_ID % 15 + 1 ))}"
export OA_MYSQL_PREFIX="${OA_MYSQL_PREFIX:-oa_t${RUN_ID}}"
export OA_CELERY_EAGER=1
unset OA_USE_TEST_DB_NAMES

SQLITE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/oa-tests.XXXXXX")"
trap 'rm -rf "$SQLITE_DIR"' EXIT

section() { printf '\n==== %s ====\n' "$*"; }

run_pytest() {  # run_pytest LABEL [env assignments...] -- [pytest args...]
    local label="$1" status=0
    shift
    local -a assignments=()
    while [[ $# -gt 0 && "$1" != "--" ]]; do assignments+=("$1"); shift; done
    shift
    env "${assignments[@]}" "$PYTHON" -m pytest -q -rs "$@" || status=$?
    if [[ $status -eq 5 ]]; then
        echo "run-tests: the $label run collected no tests" >&2
        exit 1
    elif [[ $status -ne 0 ]]; then
        echo "run-tests: the $label run failed (pytest exit $status)" >&2
        exit "$status"
    fi
}

section "Python: $("$PYTHON" --version 2>&1) ($(command -v "$PYTHON" || echo "$PYTHON"))"
"$PYTHON" - <<'PY'
from importlib.metadata import version
names = ["Django", "celery", "openedx-events", "openedx-filters", "edx-toggles", "event-tracking",
         "edx-django-utils", "django-config-models", "djangorestframework"]
print("  " + ", ".join(f"{name} {version(name)}" for name in names))
PY

section "ruff check ."
"$PYTHON" -m ruff check .

section "PII annotations of every model (code-annotations, .pii_annotations.yml, coverage target 100%)"
for app in openedx_analytics lms_host.stub; do
    DJANGO_SETTINGS_MODULE=test_settings OA_TEST_DB=sqlite OA_SQLITE_DIR="$SQLITE_DIR" \
        "$PYTHON" -c 'import sys; from code_annotations.cli import entry_point; sys.exit(entry_point())' \
        django_find_annotations --config_file .pii_annotations.yml --app_name "$app" --lint --coverage
done

SQLITE_TITLE="pytest on SQLite (Celery eager; live-worker tests on Redis $OA_BROKER_URL; the browser test)"
MARIADB_TITLE="pytest on MariaDB (databases ${OA_MYSQL_PREFIX}_test_lms and ${OA_MYSQL_PREFIX}_test_analytics; live workers on Redis"

if [[ "${OA_PARALLEL_PASSES:-0}" != 1 ]]; then
    section "$SQLITE_TITLE"
    run_pytest SQLite OA_TEST_DB=sqlite "OA_SQLITE_DIR=$SQLITE_DIR" -- "$@"
    section "$MARIADB_TITLE $OA_BROKER_URL)"
    run_pytest MariaDB OA_TEST_DB=mysql -- --ignore=tests/browser "$@"
else
    # Side by side: each pass waits on its database, its workers and the browser much of the
    # time, so two passes take far less than twice one. Each has its own Redis database (a
    # worker test purges its broker) and its own log, printed whole when both have ended.
    MARIADB_BROKER_URL="${OA_MARIADB_BROKER_URL:-redis://127.0.0.1:6379/$(( (RUN_ID + 7) % 15 + 1 ))}"
    section "the SQLite and MariaDB passes side by side (OA_PARALLEL_PASSES=1)"
    ( run_pytest SQLite OA_TEST_DB=sqlite "OA_SQLITE_DIR=$SQLITE_DIR" -- "$@" ) > "$SQLITE_DIR/sqlite.log" 2>&1 &
    sqlite_pid=$!
    ( run_pytest MariaDB OA_TEST_DB=mysql "OA_BROKER_URL=$MARIADB_BROKER_URL" -- --ignore=tests/browser "$@" ) \
        > "$SQLITE_DIR/mariadb.log" 2>&1 &
    mariadb_pid=$!
    sqlite_status=0 mariadb_status=0
    wait "$sqlite_pid" || sqlite_status=$?
    wait "$mariadb_pid" || mariadb_status=$?
    section "$SQLITE_TITLE"
    cat "$SQLITE_DIR/sqlite.log"
    section "$MARIADB_TITLE $MARIADB_BROKER_URL)"
    cat "$SQLITE_DIR/mariadb.log"
    if [[ $sqlite_status -ne 0 || $mariadb_status -ne 0 ]]; then
        echo "run-tests: SQLite pass exit $sqlite_status, MariaDB pass exit $mariadb_status" >&2
        exit 1
    fi
fi

section "all test runs passed"
