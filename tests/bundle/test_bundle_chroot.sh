#!/bin/bash
# The portable bundle on a machine with nothing installed: a bare Debian 12
# minbase chroot (debootstrap) gets only the unpacked bundle, a JPEG and an
# MP4, then runs `slipstream --help`, `gst-launch-1.0 --version` and a test
# pipeline (what bench/gpu.sh runs), `slipstream detect` on the JPEG, and
# camsim -> slipstream, read by ffprobe from outside the chroot over loopback.
#
# usage: test_bundle_chroot.sh BUILD_DIR
# Needs root (chroot, mount). The minbase tree is made once and cached as a
# tarball in ${SLIPSTREAM_CACHE:-~/.cache/slipstream}/chroot/.
set -euo pipefail

build=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
skip=77   # CTest's SKIP_RETURN_CODE for this test

if [[ $(id -u) != 0 ]] || ! chroot / true 2>/dev/null; then
  echo "SKIP: the chroot test needs root with chroot allowed; run the suite as root to include it"
  exit $skip
fi
for tool in debootstrap ffmpeg ffprobe; do
  command -v $tool >/dev/null || { echo "error: $tool is missing: run ./setup.sh"; exit 1; }
done

cache=${SLIPSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slipstream}/chroot
minbase=$cache/debian12-minbase.tar
if [[ ! -f $minbase ]]; then
  echo "making a Debian 12 minbase tree with debootstrap (once; cached in $cache)"
  mkdir -p "$cache"
  tree=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$tree" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log"; rm -rf "$tree"; exit 1; }
  rm -rf "$tree"/var/cache/apt/archives/*.deb
  tar -C "$tree" -cf "$minbase.part" . && mv "$minbase.part" "$minbase"
  rm -rf "$tree"
fi

work=$(mktemp -d /tmp/slipstream-chroot-XXXXXX)
jail=$work/jail
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  umount "$jail/proc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bundle=$work/slipstream-bundle.tar.xz
"$root/tools/bundle.sh" --build "$build" --output "$bundle"
mkdir -p "$jail"
tar -C "$jail" -xf "$minbase"
tar -C "$jail/opt" -xf "$bundle"
# A real machine has /proc; where a container forbids mounting it, run without.
mount -t proc proc "$jail/proc" 2>/dev/null || echo "note: /proc not mounted in the chroot (not allowed here)"

# Inputs made outside, with Debian's ffmpeg, from the OpenCV sample video.
sample=/usr/share/doc/opencv-doc/examples/data/vtest.avi
ffmpeg -v error -y -ss 10 -i "$sample" -frames:v 1 "$jail/tmp/street.jpg"
ffmpeg -v error -y -i "$sample" -t 6 -c:v libx264 -pix_fmt yuv420p -g 10 "$jail/tmp/street.mp4"

# Nothing of the host's environment goes in: no library or plugin paths.
chroot_cmd=$(command -v chroot)
in_jail() { env -i HOME=/root PATH=/usr/bin:/bin "$chroot_cmd" "$jail" "$@"; }

echo "== slipstream --help"
in_jail /opt/slipstream/bin/slipstream --help >"$work/help.txt"
grep -q RTSPINPUT "$work/help.txt" || { cat "$work/help.txt"; echo "FAIL: --help does not describe RTSPINPUT"; exit 1; }

echo "== gst-launch-1.0"
in_jail /opt/slipstream/bin/gst-launch-1.0 --version >"$work/gst-version.txt"
cat "$work/gst-version.txt"
grep -q '^GStreamer 1\.' "$work/gst-version.txt" || { echo "FAIL: gst-launch-1.0 --version printed no GStreamer version"; exit 1; }
# The elements bench/gpu.sh's viewer uses (the bundle's plugins, its own registry).
in_jail /opt/slipstream/bin/gst-launch-1.0 -q videotestsrc num-buffers=10 ! video/x-raw,width=320,height=240 ! \
  x264enc ! h264parse ! openh264dec ! videoconvert ! video/x-raw,format=GRAY8 ! fdsink fd=1 >"$work/gray.raw" ||
  { echo "FAIL: gst-launch-1.0 could not run a test pipeline"; exit 1; }
gray_bytes=$(stat -c %s "$work/gray.raw")
((gray_bytes == 10 * 320 * 240)) || { echo "FAIL: the test pipeline gave $gray_bytes bytes, want $((10 * 320 * 240))"; exit 1; }
echo "ok: 10 GRAY8 pictures through x264enc -> openh264dec"
[[ -x $jail/opt/slipstream/bin/slipstream-bench-gpu && -f $jail/opt/slipstream/share/slipstream/bench/gpu.py ]] ||
  { echo "FAIL: the bundle lacks the GPU benchmark (bin/slipstream-bench-gpu, share/slipstream/bench/gpu.py)"; exit 1; }

echo "== slipstream detect"
in_jail /opt/slipstream/bin/slipstream detect /tmp/street.jpg >"$work/detect.json"
cat "$work/detect.json"
persons=$(grep -o '"label":"person"' "$work/detect.json" | wc -l)
((persons >= 3)) || { echo "FAIL: $persons persons in the street picture (want >= 3)"; exit 1; }

echo "== camsim -> slipstream -> ffprobe"
camsim_port=$((20000 + RANDOM % 20000))
out_port=$((camsim_port + 1))
api_port=$((camsim_port + 2))
in_jail /opt/slipstream/bin/slipstream-camsim --port $camsim_port /tmp/street.mp4 >"$work/camsim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q '^ready' "$work/camsim.log" && break; sleep 0.2; done
grep -q '^ready' "$work/camsim.log" || { cat "$work/camsim.log"; echo "FAIL: camsim did not start"; exit 1; }
env -i HOME=/root PATH=/usr/bin:/bin RTSPINPUT=rtsp://127.0.0.1:$camsim_port/cam0 \
  "$chroot_cmd" "$jail" /opt/slipstream/bin/slipstream --ip 127.0.0.1 --port $out_port --bind 127.0.0.1 --api-port $api_port \
  >"$work/slipstream.out" 2>"$work/slipstream.err" &
pids+=($!)
url=rtsp://127.0.0.1:$out_port/ds
frames=0
for _ in $(seq 1 30); do
  if frames=$(timeout 20 ffprobe -v error -rtsp_transport tcp -select_streams v -read_intervals %+3 -count_frames \
      -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$url" 2>/dev/null); then
    [[ -n $frames ]] && break
  fi
  sleep 1
done
echo "ffprobe: $frames"
# The page: every file of app/slipstream/web as the bundled program serves it.
/usr/bin/python3 - "$root/app/slipstream/web" $api_port <<'PY' || { tail -5 "$work/slipstream.err"; exit 1; }
import os, sys, urllib.request
folder, port = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(folder)):
    with open(os.path.join(folder, name), "rb") as f:
        want = f.read()
    try:
        got = urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}", timeout=10).read()
    except Exception as e:
        sys.exit(f"FAIL: the bundle does not serve the page's {name}: {e}")
    if got != want:
        sys.exit(f"FAIL: the bundle serves a different {name} ({len(got)} bytes, the source has {len(want)})")
print(f"ok: the page's {len(os.listdir(folder))} files served by the bundled slipstream")
PY
kill -INT "${pids[1]}" 2>/dev/null || true
wait "${pids[1]}" 2>/dev/null || true
read_frames=$(echo "$frames" | cut -d, -f4)
[[ $frames == h264,* && ${read_frames:-0} -ge 30 ]] || {
  tail -20 "$work/slipstream.err"; echo "FAIL: the output at $url gave '$frames' (want h264 and >= 30 frames in 3 s)"; exit 1; }
grep -q '^Stream=0 Frame=' "$work/slipstream.out" || { tail -5 "$work/slipstream.out"; echo "FAIL: no per-frame lines"; exit 1; }
grep -Eq 'Persons=[1-9]' "$work/slipstream.out" || { echo "FAIL: no person counted"; exit 1; }
echo "PASS: the bundle runs in a bare Debian 12 chroot"
