#!/bin/bash
# On the lent GPU machine (device tool): looks inside the GPU pipeline when it
# misbehaves. Carries build-device/ as for smoke.sh.
#   1. slipstream-cudnn-tests, each test in its own process (which one crashes)
#   2. camsim -> slipstream --gpu 0 --interval 0 with $CAMERAS 1080p30 cameras
#      for $SECONDS_RUN s, GST_DEBUG=$DEBUG; the log's lines about detection,
#      the device frames and buffer pools, and the summary, go to $OUT.
# PHASES=cudnn,pipeline picks some (default both).
set -u
root=$(pwd)
carry=$root/build-device
out=${OUT:-/tmp/out}
mkdir -p "$out" /tmp/ss
source "$(dirname "$0")/cuda_libs.sh"
phases=${PHASES:-cudnn,pipeline}

if [[ $phases == *cudnn* ]]; then
    echo "== slipstream-cudnn-tests, one process per test"
    t=$carry/slipstream-cudnn-tests
    for name in $("$t" --gtest_list_tests | awk '/^[^ ]/ {suite=$1} /^  / {print suite $1}'); do
        timeout 120 "$t" --gtest_filter="$name" >"/tmp/one.log" 2>&1
        rc=$?
        [[ $rc == 0 ]] || { echo "$name: exit $rc"; tail -5 /tmp/one.log; }
    done | tee "$out/cudnn-each.txt"
    echo "(tests not listed passed)"
    if command -v gdb >/dev/null; then
        timeout 300 gdb -q -batch -ex run -ex bt "$t" >"$out/cudnn-gdb.txt" 2>&1
        grep -A25 "SIGSEGV" "$out/cudnn-gdb.txt" | head -40
    else
        echo "no gdb here"
    fi
fi

if [[ $phases == *pipeline* ]]; then
    tar -xJf "$carry/slipstream-bundle-x86_64.tar.xz" -C /tmp/ss
    b=/tmp/ss/slipstream
    n=${CAMERAS:-4}
    "$b/bin/slipstream-camsim" --count "$n" --width 1920 --height 1080 --fps 30 --bitrate 4M --port 8555 "$carry/vtest.mp4" >"$out/camsim.log" 2>&1 &
    camsim=$!
    for _ in $(seq 120); do grep -q "rtsp://" "$out/camsim.log" && break; sleep 1; done
    inputs=$(for i in $(seq 0 $((n - 1))); do printf 'rtsp://127.0.0.1:8555/cam%d,' "$i"; done)
    echo "== slipstream --gpu 0 --interval 0, $n cameras, ${SECONDS_RUN:-25} s, GST_DEBUG=${DEBUG:-2,ssinfer:6,sscudascale:6}"
    GST_DEBUG_NO_COLOR=1 GST_DEBUG=${DEBUG:-2,ssinfer:6,sscudascale:6} timeout 120 "$b/bin/slipstream" --gpu 0 --interval 0 \
        --input "${inputs%,}" --port 8600 --bind 127.0.0.1 --duration "${SECONDS_RUN:-25}" --show-frames no \
        --metadata "$out/meta.jsonl" >"$out/slipstream.log" 2>&1
    echo "exit $?"
    kill $camsim; wait
    grep -v "^0:" "$out/slipstream.log" | head -40
    # The debug log is large: its first lines per kind, then counts.
    grep "^0:" "$out/slipstream.log" | sed -E 's/^[^ ]+ +[0-9]+ +0x[0-9a-f]+ +//' >/tmp/debug.log
    {
        echo "== first 150 debug lines"; head -150 /tmp/debug.log
        echo "== lines by level and category"; awk '{print $1, $2}' /tmp/debug.log | sort | uniq -c | sort -rn | head -30
        echo "== last 60 debug lines"; tail -60 /tmp/debug.log
    } >"$out/debug-digest.txt"
    grep -E "WARN|ERROR" /tmp/debug.log | sort | uniq -c | sort -rn | head -40 >"$out/warnings.txt"
    cat "$out/warnings.txt" | head -20
    python3 - "$out/meta.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for s in sorted({r["stream"] for r in rows}):
    mine = [r for r in rows if r["stream"] == s]
    print("stream %d: %d frames, %d detected, %d objects" % (s, len(mine), sum(1 for r in mine if r.get("detected")),
          sum(len(r.get("objects", [])) for r in mine)))
PY
    rm -f "$out/meta.jsonl" "$out/slipstream.log"
fi
