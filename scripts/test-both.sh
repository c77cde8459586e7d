#!/usr/bin/env bash
# The whole suite on both databases at once: on PostgreSQL (a throwaway server, its output
# shown as it runs) and on SQLite (the embedded default, whose outbox claim works differently;
# its output is kept in .test-artifacts/sqlite.log and shown at the end). Most tests wait on
# real processes and servers, so the two runs share two cores well: together they take about
# as long as one alone. Exits non-zero when either run fails. Arguments go to both pytests.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .test-artifacts
log=.test-artifacts/sqlite.log

DATABASE_URL="sqlite:///$PWD/.test-main.sqlite3" .venv/bin/pytest -q -p no:cacheprovider "$@" >"$log" 2>&1 &
sqlite=$!
trap 'kill "$sqlite" 2>/dev/null' INT TERM

scripts/with-test-services.sh .venv/bin/pytest "$@"
postgresql=$?

wait "$sqlite"
sqlite_status=$?
echo
echo "── the suite on SQLite (.test-artifacts/sqlite.log) ──"
if ((sqlite_status)); then cat "$log"; else tail -n 3 "$log"; fi
echo
echo "PostgreSQL: $( ((postgresql)) && echo FAILED || echo passed) · SQLite: $( ((sqlite_status)) && echo FAILED || echo passed)"
((postgresql == 0 && sqlite_status == 0))
