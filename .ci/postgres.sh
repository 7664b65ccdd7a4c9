#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 for the store tests.
#   .ci/postgres.sh start   -> prints `export DISTRIBUTOR_TEST_PG_URL=...` (eval it)
#   .ci/postgres.sh stop
# State lives in ${PGTEST_DIR:-/tmp/distributor-pgtest}. Runs the server as the `postgres` user
# when started as root (initdb refuses root).
set -euo pipefail
DIR="${PGTEST_DIR:-/tmp/distributor-pgtest}"

bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
  echo "$d"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
  local bin port
  bin="$(bindir)"
  if [ -f "$DIR/port" ] && as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    port="$(cat "$DIR/port")"
  else
    rm -rf "$DIR"; mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    as_owner "$bin/initdb" -D "$DIR/data" -U postgres -A trust --no-sync -E UTF8 >"$DIR/initdb.log"
    port="$(free_port)"
    echo "$port" >"$DIR/port"
    as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o \
      "-h 127.0.0.1 -p $port -k $DIR -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres distributor_test
  fi
  echo "export DISTRIBUTOR_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/distributor_test"
}

stop() {
  local bin
  bin="$(bindir)"
  [ -d "$DIR/data" ] && as_owner "$bin/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
