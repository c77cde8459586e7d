#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on 127.0.0.1 and DATABASE_URL pointing at it;
# with --redis first, also a throwaway redis-server and REDIS_URL (the load test runs so).
# The servers live in a temporary directory and are stopped and removed on exit, whatever happens.
set -euo pipefail

with_redis=0
if [[ ${1:-} == --redis ]]; then
  with_redis=1
  shift
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z $pg_bin ]]; then
  echo "PostgreSQL server binaries not found; install Debian's postgresql package (make test installs it)." >&2
  exit 1
fi

workdir=$(mktemp -d /tmp/market-alerts-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [[ $(id -u) == 0 ]]; then
  # initdb refuses to run as root: the server runs as the unprivileged postgres user.
  chown postgres "$workdir"
  as_pg=(runuser -u postgres --)
fi

redis_pid=""
cleanup() {
  [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$workdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$workdir/initdb.log" 2>&1 \
  || { cat "$workdir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 30 \
  -o "-h 127.0.0.1 -p $port -k $workdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$workdir/server.log" >&2; exit 1; }

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/market_alerts"
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres market_alerts
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

if ((with_redis)); then
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$workdir" \
    >"$workdir/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null || { cat "$workdir/redis.log" >&2; exit 1; }
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  echo "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$redis_port" >&2
fi
"$@"
