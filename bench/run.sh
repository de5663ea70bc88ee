#!/bin/sh
# bench/run.sh -- slipstream's performance benchmark, in one command.
#
#   bench/run.sh            the full run (about 20-25 minutes)
#   bench/run.sh --quick    a few-minute smoke run with short measurements
#   bench/run.sh --help     all options (sections, peer, capacity settings)
#
# Everything runs on loopback on this machine. Results: one table on stdout,
# full numbers in bench/results/latest.json (and the table in latest.txt).
# Also a CMake target: `ninja -C build bench`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${SLIPSTREAM_BUILD:-$root/build}

missing=""
for tool in ffmpeg gst-launch-1.0 taskset ninja; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
/usr/bin/python3 -c 'import cv2, numpy' 2>/dev/null || missing="$missing python3-opencv(/usr/bin/python3)"
if [ -n "$missing" ]; then
    echo "bench/run.sh: missing:$missing (run ./setup.sh, or apt-get install ffmpeg python3-opencv)" >&2
    exit 2
fi

# Build just what the benchmark runs: another folder may be mid-edit. The
# CMake target has built them already and says so.
if [ -z "${SLIPSTREAM_BENCH_NO_BUILD:-}" ]; then
    if [ ! -f "$build/build.ninja" ]; then
        echo "bench/run.sh: no build in $build; run ./setup.sh (or cmake -G Ninja -B build) first" >&2
        exit 2
    fi
    ninja -C "$build" slipstream slipstream-camsim bench-detector >/dev/null || {
        echo "bench/run.sh: building slipstream, slipstream-camsim and bench-detector failed" >&2
        exit 2
    }
fi

exec /usr/bin/python3 "$here/bench.py" --build "$build" "$@"
