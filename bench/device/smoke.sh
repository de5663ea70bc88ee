#!/bin/bash
# On the lent GPU machine (device tool): checks the GPU path from the bundle.
# Carries build-device/ with: slipstream-bundle-x86_64.tar.xz, slipstream-cuda-tests, vtest.mp4.
#   1. the CUDA kernel tests (bit-exact against the CPU reference)
#   2. camsim -> slipstream --gpu 0 with 2 1080p30 cameras, then --gpu none, 20 s each
# Logs go to $OUT.
set -u
root=$(pwd)
carry=$root/build-device
out=${OUT:-/tmp/out}
mkdir -p "$out" /tmp/ss
tar -xJf "$carry/slipstream-bundle-x86_64.tar.xz" -C /tmp/ss
b=/tmp/ss/slipstream
nvidia-smi -L
echo "== cuda tests"
"$carry/slipstream-cuda-tests" --gtest_brief=1 2>&1 | tail -15
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
done
kill $camsim
wait
