#!/bin/bash
# Install playwright-core (npm, pinned by tests/browser/package-lock.json) for
# the browser tests, which drive Debian's chromium with it.
#
#   $CACHE = ${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipstream}
#   $CACHE/browser-npm/node_modules/playwright-core
#
# Reinstalls only when node_modules is missing or the lock changed, so a
# second run is silent. --print-path writes the node_modules folder to stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
spec=$here/../tests/browser
cache=${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipstream}
npm_dir=$cache/browser-npm
die() { echo "fetch_browser_test: error: $*" >&2; exit 1; }

mkdir -p "$npm_dir"
if command -v flock >/dev/null; then
  exec 9>"$npm_dir/.lock"
  flock 9
fi
if [[ ! -d $npm_dir/node_modules/playwright-core ]] \
   || ! cmp -s "$spec/package.json" "$npm_dir/package.json" \
   || ! cmp -s "$spec/package-lock.json" "$npm_dir/package-lock.json"; then
  echo "fetch_browser_test: installing playwright-core into $npm_dir" >&2
  cp "$spec/package.json" "$spec/package-lock.json" "$npm_dir/"
  log=$npm_dir/npm-install.log
  if ! (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -rf "$npm_dir/node_modules"   # a partial tree must not look installed next time
    die "npm ci failed (log: $log)"
  fi
fi
[[ ${1:-} == --print-path ]] && echo "$npm_dir/node_modules"
exit 0
