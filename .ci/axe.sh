#!/usr/bin/env bash
# axe-core (npm, pinned) for the browser tests' accessibility audit (tests/browser/axe.py).
#   .ci/axe.sh install  -> installs it into the cache folder (once) and prints axe.min.js's path
#   .ci/axe.sh path     -> prints that path (exit 1 when not installed)
# The cache folder is ${DISTRIBUTOR_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distributor-axe},
# outside the repository and reused when present; the tests find it there, or through
# DISTRIBUTOR_TEST_AXE (which .ci/run exports).
set -euo pipefail
HOME="${HOME:-$(cd ~ && pwd)}"  # CI's environment may come without it
CACHE="${DISTRIBUTOR_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/distributor-axe}"
VERSION="4.14.1"
SCRIPT="$CACHE/node_modules/axe-core/axe.min.js"
STAMP="$CACHE/.installed-axe-core-$VERSION"

install() {
  if [ -f "$STAMP" ] && [ -f "$SCRIPT" ]; then
    echo "$SCRIPT"
    return
  fi
  if ! command -v npm >/dev/null; then
    apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm </dev/null >/dev/null
  fi
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  echo '{"private": true}' >"$CACHE/package.json"
  echo "axe: installing axe-core@$VERSION into $CACHE" >&2
  (cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error "axe-core@$VERSION" </dev/null >&2)
  touch "$STAMP"
  echo "$SCRIPT"
}

case "${1:-}" in
  install) install ;;
  path) [ -f "$STAMP" ] && [ -f "$SCRIPT" ] && echo "$SCRIPT" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
