#!/usr/bin/env bash
# Install the Debian packages the project needs and a fresh machine lacks (PostgreSQL, Redis,
# Chromium and CJK fonts for the browser test, Python's venv). Called by `make test` and `make run`; does nothing when all are present.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
if [[ ${1:-} == test ]]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # Japanese titles in the browser test's screenshots, not boxes.
  [[ -d /usr/share/fonts/opentype/noto ]] || missing+=(fonts-noto-cjk)
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
((${#missing[@]})) || exit 0

if ! command -v apt-get >/dev/null; then
  echo "Missing system packages: ${missing[*]}. Install them with your package manager." >&2
  exit 1
fi
sudo=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || { echo "Missing system packages: ${missing[*]}; run as root or install sudo." >&2; exit 1; }
  sudo=(sudo)
fi
echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a cluster and a Redis server on install; the tests start their own on free ports.
if command -v pg_ctlcluster >/dev/null; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
    "${sudo[@]}" pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
  done
fi
if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null; then
  "${sudo[@]}" systemctl stop redis-server 2>/dev/null || true
fi
exit 0
