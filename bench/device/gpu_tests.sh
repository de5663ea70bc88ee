#!/bin/bash
# On the lent GPU machine (device tool): the GPU unit tests that need no
# GStreamer — kernels and pre-processing (slipstream-cuda-tests), cuDNN
# convolutions (slipstream-cudnn-tests) — from build-device/, cuDNN from
# PyTorch's pip packages. Logs to $OUT; one summary line per binary.
set -u
root=$(pwd)
out=${OUT:-/tmp/out}
mkdir -p "$out"
source "$(dirname "${BASH_SOURCE[0]}")/cuda_libs.sh"
for t in slipstream-cuda-tests slipstream-cudnn-tests; do
  [[ -x $root/build-device/$t ]] || { echo "$t: not carried"; continue; }
  timeout "${TEST_TIMEOUT_S:-240}" "$root/build-device/$t" --gtest_brief=1 >"$out/$t.log" 2>&1
  echo "$t: exit $? — $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]' "$out/$t.log" | head -20
done
