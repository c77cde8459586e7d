#!/usr/bin/env bash
# The embedded run: migrate, load the demo, then serve the web app with the workers beside it.
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
port=${PORT:-8000}
export DEBUG=${DEBUG:-true}

$py manage.py migrate --noinput -v0
$py manage.py loaddemo

pids=()
stop() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait; }
trap stop EXIT INT TERM

$py manage.py qcluster & pids+=($!)
$py manage.py sendalerts & pids+=($!)
echo "serving on http://127.0.0.1:$port/ (admin at /admin/); alerts print below"
$py manage.py runserver --noreload "127.0.0.1:$port" & pids+=($!)
wait -n
