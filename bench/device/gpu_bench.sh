#!/bin/bash
# On the lent GPU machine (device tool): the reconnect check, then the GPU
# benchmark from the bundle. Carries build-device/ as for smoke.sh.
# FAULTS=0 skips the reconnect check; BENCH_ARGS go to slipstream-bench-gpu.
# GST_DEBUG (e.g. cudaallocator:2,cudacontext:2,nvh264dec:2) reaches slipstream;
# gpu.py keeps each run's WARN and ERROR lines of it in the JSON.
set -u
out=${OUT:-/tmp/out}
mkdir -p "$out"
export GST_DEBUG_NO_COLOR=1
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
# The JSON and the table of this run come back; the rest is packed (at most 8 files return).
rm -f "$out"/gpu-latest.*
bash "$(dirname "$0")/pack_out.sh" 'gpu-2*.json' 'gpu-2*.txt' bench-progress.log
