#!/bin/bash
# On the lent GPU machine (device tool): the GPU detector, checked and measured
# from the bundle, about 6 minutes. Carries build-device/ with
# slipstream-bundle-x86_64.tar.xz (built with the cuda backend, bench-detector
# and the agreement test: tools/bundle.sh after a full build) and vtest.mp4.
#   1. raw frames of vtest.mp4 (one every FRAMES_APART s) by the bundle's gst-launch-1.0
#   2. the agreement test: OpenCV DNN against cuda, FP32 and FP16 (tests/agreement)
#   3. bench-detector --backend cuda at PRECISIONS, BATCHES, SECONDS per point
#      (host to host, and from frames in GPU memory: outputs to the host, or parsed on the GPU)
#   4. bench-detector --backend opencv at OPENCV_BATCHES (the CPU, for scale; empty: skipped)
#   5. the PyTorch peer (bench/peers/torch_peer.py) eager at TORCH_PRECISION, then
#      --compile at COMPILE_BATCHES (fp16) if COMPILE=1 and the time left allows
# and writes $OUT/detector_bench.md (one table) and $OUT/detector_bench.json,
# with every program's own JSON and log beside them.
# Settings (environment): BATCHES=1,8,32,64,128 PRECISIONS=fp16,fp32 SECONDS_PER_POINT=3 FRAMES_APART=2
# OPENCV_BATCHES=1,8 TORCH_PRECISION=fp16,fp32 COMPILE=1 COMPILE_BATCHES=1,64
# BUDGET_S=330 (the whole run; compile gets what is left) GPU=0 PHASES=agreement,cuda,opencv,torch
set -u
root=$(pwd)
carry=$root/build-device
out=${OUT:-/tmp/out}
batches=${BATCHES:-1,8,32,64,128}
seconds=${SECONDS_PER_POINT:-${SECONDS_EACH:-3}}
gpu=${GPU:-0}
phases=${PHASES:-agreement,cuda,opencv,torch}
budget=${BUDGET_S:-330}
started=$(date +%s)
elapsed() { echo $(($(date +%s) - started)); }
mkdir -p "$out" /tmp/ss /tmp/ss-frames
tar -xJf "$carry/slipstream-bundle-x86_64.tar.xz" -C /tmp/ss || { echo "cannot unpack the bundle"; exit 1; }
b=/tmp/ss/slipstream
model=$b/share/slipstream/configs/default/nanodet-416.onnx  # the bundle's copy of the default model
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
cat "$b/share/slipstream/VERSION" 2>/dev/null

source "$(dirname "${BASH_SOURCE[0]}")/cuda_libs.sh"

# 1. Frames.
echo "== frames ($(elapsed) s)"
frames=$(GST_LAUNCH="$b/bin/gst-launch-1.0" "$root/bench/detector/write_frames.sh" "$carry/vtest.mp4" \
         /tmp/ss-frames/vtest "${FRAMES_APART:-2}") || { echo "no frames: stopping"; exit 1; }
echo "$frames: $(($(stat -c %s "$frames") / 1048576)) MiB"

# 2. Agreement.
if [[ $phases == *agreement* ]]; then
    echo "== agreement test ($(elapsed) s)"
    SS_AGREEMENT_REQUIRE=1 SS_AGREEMENT_FRAMES="$frames" SS_AGREEMENT_GPU=$gpu SS_AGREEMENT_MAX_FRAMES=${AGREEMENT_FRAMES:-8} \
        timeout ${AGREEMENT_TIMEOUT_S:-120} "$b/bin/slipstream-agreement-tests" --gtest_output=json:"$out/agreement.json" \
        >"$out/agreement.log" 2>&1
    echo "agreement exit $?"
    grep -E "^\[ agreement\]|FAILED|SKIPPED|PASSED|Failure|error" "$out/agreement.log" | head -60
fi

# 3. and 4. bench-detector.
if [[ $phases == *cuda* ]]; then
    echo "== bench-detector --backend cuda ($(elapsed) s)"
    timeout ${CUDA_TIMEOUT_S:-180} "$b/bin/slipstream-bench-detector" --backend cuda --gpu "$gpu" --frames "$frames" \
        --batch-sizes "$batches" --precision "${PRECISIONS:-fp16,fp32}" --seconds "$seconds" --json "$out/bench-cuda.json" \
        2>&1 | tee "$out/bench-cuda.log"
    echo "exit ${PIPESTATUS[0]}"
fi
if [[ $phases == *opencv* && -n ${OPENCV_BATCHES-1,8} ]]; then
    echo "== bench-detector --backend opencv ($(elapsed) s)"
    timeout ${OPENCV_TIMEOUT_S:-60} "$b/bin/slipstream-bench-detector" --backend opencv --frames "$frames" \
        --batch-sizes "${OPENCV_BATCHES:-1,8}" --precision fp32 --seconds 2 --warmup 1 --no-detector \
        --json "$out/bench-opencv.json" 2>&1 | tee "$out/bench-opencv.log"
    echo "exit ${PIPESTATUS[0]}"
fi

# 5. The PyTorch peer.
if [[ $phases == *torch* ]]; then
    echo "== torch peer, eager ($(elapsed) s)"
    timeout ${TORCH_TIMEOUT_S:-150} python3 "$root/bench/peers/torch_peer.py" --gpu "$gpu" --frames "$frames" --model "$model" \
        --batch-sizes "$batches" --precision "${TORCH_PRECISION:-fp16,fp32}" --seconds "$seconds" \
        --json "$out/torch-eager.json" 2>&1 | tee "$out/torch-eager.log"
    echo "exit ${PIPESTATUS[0]}"
    left=$((budget - $(elapsed) - 15))
    if [[ ${COMPILE:-1} == 1 && $left -ge 60 ]] && ! grep -q "^skipped:" "$out/torch-eager.log"; then
        echo "== torch peer, torch.compile, at most $left s ($(elapsed) s)"
        timeout "$left" python3 "$root/bench/peers/torch_peer.py" --compile --no-check --gpu "$gpu" --frames "$frames" --model "$model" \
            --batch-sizes "${COMPILE_BATCHES:-1,64}" --precision fp16 --seconds "$seconds" \
            --json "$out/torch-compile.json" 2>&1 | tee "$out/torch-compile.log" | grep -v "^W[0-9]"
        echo "exit ${PIPESTATUS[0]}"
    elif grep -q "^skipped:" "$out/torch-eager.log"; then
        echo "== torch peer, torch.compile: not run (the eager run was skipped)"
    else
        echo "== torch peer, torch.compile: not run (COMPILE=${COMPILE:-1}, $left s left of BUDGET_S=$budget)"
    fi
fi

# One table and one JSON of everything.
echo "== report ($(elapsed) s)"
python3 "$root/bench/device/detector_report.py" "$out" --gpu-file "$out/gpu.txt" --elapsed "$(elapsed)"
# The report comes back with the main logs; the rest is packed (at most 8 files return).
bash "$root/bench/device/pack_out.sh" detector_bench.md detector_bench.json agreement.log bench-cuda.log torch-eager.log
