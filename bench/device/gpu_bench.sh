#!/bin/bash
# On the lent GPU machine (device tool): the reconnect check, then the GPU
# benchmark from the bundle. Carries build-device/ as for smoke.sh.
# FAULTS=0 skips the reconnect check; BENCH_ARGS go to slipstream-bench-gpu.
set -u
out=${OUT:-/tmp/out}
source "$(dirname "$0")/cuda_libs.sh"  # detection on the GPU (backend cuda) needs cuDNN
if [[ ${FAULTS:-1} != 0 ]]; then
    PHASES=faults bash "$(dirname "$0")/smoke.sh"
else
    mkdir -p /tmp/ss && tar -xJf build-device/slipstream-bundle-x86_64.tar.xz -C /tmp/ss
fi
# The working tree's benchmark scripts replace the bundle's: a change to them needs no new bundle.
cp bench/gpu.py bench/bench.py /tmp/ss/slipstream/share/slipstream/bench/ && cp -r bench/benchlib /tmp/ss/slipstream/share/slipstream/bench/
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
/tmp/ss/slipstream/bin/slipstream-bench-gpu --video "$(pwd)/build-device/vtest.mp4" --out "$out" ${BENCH_ARGS:-} 2>"$out/bench-progress.log"
echo "bench exit $?"
tail -5 "$out/bench-progress.log"
