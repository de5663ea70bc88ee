#!/bin/sh
# bench/gpu.sh -- slipstream on a machine with an NVIDIA GPU, in one run:
# the decode ceiling (N 1080p30 H.264 streams on NVDEC, frames left in CUDA
# memory), the CPU path's cost per camera, and slipstream carrying rising
# numbers of simulated 1080p30 cameras into a 1200x600@30 tiled output with
# detection, until it no longer keeps real time. Latency, CPU and GPU use of
# every run; one table on stdout, full numbers in JSON.
#
# From an unpacked bundle (needs only python3 and the video; the bundle's
# slipstream, slipstream-camsim and gst-launch-1.0 are found next to it):
#   slipstream/bin/slipstream-bench-gpu --video walk.mp4            (~7.5 min)
#   slipstream/bin/slipstream-bench-gpu --video walk.mp4 --quick    (~3 min)
# From a source tree (Debian's gst-launch-1.0):
#   bench/gpu.sh --build build --video walk.mp4
#   bench/gpu.sh --build build --gpu none --decoder openh264dec --quick --max-cameras 3
# --help lists every option. The video: MP4 or Matroska with H.264 (the bundle
# has no FFmpeg decoders). Results: --out DIR (gpu-latest.json / .txt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# The system's own Python with only its standard library: never a bundle's or
# a virtual environment's library path.
unset PYTHONHOME PYTHONPATH
for python in /usr/bin/python3 python3; do
    if command -v "$python" >/dev/null 2>&1; then
        exec "$python" "$here/gpu.py" "$@"
    fi
done
echo "gpu.sh: python3 is needed (only its standard library)" >&2
exit 2
