#!/bin/bash
# On the lent GPU machine (device tool): the GPU unit tests that need no
# GStreamer — kernels and pre-processing (slipstream-cuda-tests), cuDNN
# convolutions (slipstream-cudnn-tests) — from build-device/, cuDNN from
# PyTorch's pip packages. Logs to $OUT; one summary line per binary.
set -u
root=$(pwd)
out=${OUT:-/tmp/out}
mkdir -p "$out"
libdirs=$(python3 -c '
import importlib, os
for name in ("nvidia.cudnn", "nvidia.cublas", "nvidia.cuda_nvrtc", "nvidia.cu13"):
    try:
        m = importlib.import_module(name)
    except Exception:
        continue
    for p in getattr(m, "__path__", []):
        for sub in ("lib", "lib64"):
            d = os.path.join(p, sub)
            if os.path.isdir(d): print(d)
' 2>/dev/null | paste -sd:)
export LD_LIBRARY_PATH="${libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "cuDNN from: ${libdirs:-nowhere}"
for t in slipstream-cuda-tests slipstream-cudnn-tests; do
  [[ -x $root/build-device/$t ]] || { echo "$t: not carried"; continue; }
  timeout "${TEST_TIMEOUT_S:-240}" "$root/build-device/$t" --gtest_brief=1 >"$out/$t.log" 2>&1
  echo "$t: exit $? — $(grep -E '^\[  (PASSED|FAILED)  \]' "$out/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]' "$out/$t.log" | head -20
done
