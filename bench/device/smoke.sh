#!/bin/bash
# On the lent GPU machine (device tool): checks the GPU path from the bundle.
# Carries build-device/ with: slipstream-bundle-x86_64.tar.xz, slipstream-cuda-tests, vtest.mp4.
#   1. the CUDA kernel tests (bit-exact against the CPU reference)
#   2. camsim -> slipstream --gpu 0 with 2 1080p30 cameras, then --gpu none, 20 s each
#   3. reconnects on the GPU path: the cameras go away for 10 s and come back
# PHASES=tests,compare,faults picks some (default all). Logs go to $OUT.
set -u
root=$(pwd)
carry=$root/build-device
out=${OUT:-/tmp/out}
mkdir -p "$out" /tmp/ss
source "$(dirname "$0")/cuda_libs.sh"  # detection on the GPU (backend cuda) needs cuDNN
tar -xJf "$carry/slipstream-bundle-x86_64.tar.xz" -C /tmp/ss
b=/tmp/ss/slipstream
nvidia-smi -L
phases=${PHASES:-tests,compare,faults}
if [[ $phases == *tests* ]]; then
echo "== cuda tests"
"$carry/slipstream-cuda-tests" --gtest_brief=1 2>&1 | tail -15
fi
if [[ $phases == *compare* ]]; then
echo "== camsim"
"$b/bin/slipstream-camsim" --count ${CAMERAS:-2} --width 1920 --height 1080 --fps 30 --bitrate 4M --port 8555 "$carry/vtest.mp4" >"$out/camsim.log" 2>&1 &
camsim=$!
for _ in $(seq 120); do grep -q "rtsp://" "$out/camsim.log" && break; sleep 1; done
tail -3 "$out/camsim.log"
inputs=$(for i in $(seq 0 $((${CAMERAS:-2} - 1))); do printf 'rtsp://127.0.0.1:8555/cam%d,' "$i"; done)
for gpu in 0 none; do
    echo "== slipstream --gpu $gpu"
    TIMEFORMAT="cpu: %U user %S sys, %R s"
    time GST_DEBUG=${GST_DEBUG:-2} "$b/bin/slipstream" --gpu $gpu --input "${inputs%,}" --port 8600 --bind 127.0.0.1 \
        --duration ${SECONDS_EACH:-20} --show-frames no --metadata "$out/meta-$gpu.jsonl" >"$out/slipstream-$gpu.log" 2>&1
    echo "exit $?"
    grep -v "^0:" "$out/slipstream-$gpu.log" | head -30
    # What detection found: the GPU path (outputs parsed on the GPU) against the CPU path.
    python3 - "$out/meta-$gpu.jsonl" <<'PY'
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
detected = [r for r in rows if r.get("detected")]
labels = collections.Counter(o.get("label", o.get("class_id")) for r in detected for o in r.get("objects", []))
print("frames %d, detected %d, objects on detected frames %d (%.2f per frame): %s" % (
    len(rows), len(detected), sum(labels.values()), sum(labels.values()) / max(len(detected), 1),
    ", ".join("%s %d" % kv for kv in labels.most_common(4))))
PY
done
kill $camsim
wait
fi

# 3. Reconnect on the GPU path: the cameras go away for 10 s and come back.
if [[ $phases == *faults* ]]; then
    echo "== reconnect on the GPU path (GST_GL_WINDOW=${GL_WINDOW:-unset})"
    start_camsim() {
        "$b/bin/slipstream-camsim" --count 2 --width 1920 --height 1080 --fps 30 --bitrate 4M --port 8555 "$carry/vtest.mp4" >>"$out/camsim2.log" 2>&1 &
        camsim=$!
    }
    start_camsim
    for _ in $(seq 60); do grep -q "ready" "$out/camsim2.log" 2>/dev/null && break; sleep 1; done
    ${GL_WINDOW:+env GST_GL_WINDOW=$GL_WINDOW} "$b/bin/slipstream" --gpu 0 --input rtsp://127.0.0.1:8555/cam0,rtsp://127.0.0.1:8555/cam1 \
        --port 8601 --bind 127.0.0.1 --duration 40 --show-frames no --metadata "$out/meta-faults.jsonl" >"$out/slipstream-faults.log" 2>&1 &
    slip=$!
    sleep 12; kill $camsim; wait $camsim 2>/dev/null
    sleep 10; start_camsim
    wait $slip; echo "exit $?"
    kill $camsim; wait $camsim 2>/dev/null
    grep -v "^0:" "$out/slipstream-faults.log" | head -30
    # Frames of each camera shown before the cut and after the cameras came back.
    python3 - "$out/meta-faults.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for stream in sorted({r["stream"] for r in rows}):
    mine = [r for r in rows if r["stream"] == stream]
    print("stream %d: %d frames, last pts %.1f s" % (stream, len(mine), max(r["pts"] for r in mine)))
PY
fi
