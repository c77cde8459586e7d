#!/usr/bin/env bash
# The embedded run: migrate, load the demo, then serve the web app with the workers beside it.
# Ctrl-C or SIGTERM stops all three within 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
port=${PORT:-8000}
export DEBUG=${DEBUG:-true}

scripts/ensure-secret-key.sh .env
# The site's own address (sign-in's redirect, the demo's pictures) follows PORT, unless set.
if [[ -z ${SITE_URL:-} ]] && ! grep -q '^SITE_URL=' .env 2>/dev/null; then
  export SITE_URL="http://127.0.0.1:$port"
fi

# Every process of this run counts into the metrics directory; start it empty, as
# prometheus_client's multiprocess mode wants (a custom METRICS_DIR is left alone).
rm -rf .metrics
$py manage.py migrate --noinput -v0
$py manage.py loaddemo

pids=()
# SIGTERM or Ctrl-C stops all three within 10 s: each gets SIGTERM and about 9 s to finish
# (qcluster kills its own tasks after 6); whatever still runs then is killed.
stop() {
  trap - EXIT INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 90); do
    [[ -n $(jobs -rp) ]] || break
    sleep 0.1
  done
  kill -KILL $(jobs -rp) 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT
# A stop asked for is a clean exit: make then adds no "*** [run] Interrupt" line.
trap 'stop; exit 0' INT TERM

$py manage.py qcluster & pids+=($!)
$py manage.py sendalerts & pids+=($!)
echo "serving on http://127.0.0.1:$port/ (admin at /admin/); alerts print below"
$py manage.py runserver --noreload "127.0.0.1:$port" & pids+=($!)
wait -n
