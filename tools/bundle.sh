#!/bin/bash
# Writes a relocatable slipstream bundle: one .tar.xz that runs on another
# x86_64 Linux with glibc >= 2.36 (Debian 12, Ubuntu 24.04) with nothing
# installed, e.g. a GPU server without GStreamer or package access.
#
# usage: tools/bundle.sh [--build DIR] [--output FILE]
#   --build DIR    the build folder to take slipstream from (default: build)
#   --output FILE  the archive to write (default: DIR/slipstream-bundle-x86_64.tar.xz)
#
# Unpacked, it holds:
#   bin/slipstream, bin/slipstream-camsim   start scripts (set the paths below, then exec)
#   bin/gst-launch-1.0                      GStreamer's own, on the bundle's plugins
#   bin/slipstream-bench-gpu                the GPU benchmark (bench/gpu.sh; needs python3)
#   bin/slipstream-bench-detector           inference backends' throughput (bench/detector, where built)
#   bin/slipstream-agreement-tests          OpenCV against the cuda backend (tests/agreement, where built)
#   libexec/                                the programs and GStreamer's plugin scanner
#   lib/                                    every library they need but glibc and libstdc++
#   lib/gstreamer-1.0/                      the GStreamer plugins slipstream uses, ours too
#   share/slipstream/                       default detector (config, labels, model), licences,
#                                           VERSION, bench/ (gpu.sh, gpu.py, bench.py, benchlib/),
#                                           web/ (the page served at /; found from libexec/)
#
# Kept lean on purpose (the archive must stay under 60 MiB):
# - no gst-libav: its libavfilter/libavformat closure is ~60 MB compressed;
#   H.264 decodes on NVDEC (nvcodec) where an NVIDIA GPU is present, else with
#   openh264dec; H.265 needs NVDEC in the bundle (Debian 12's libde265dec
#   crashes on x265 streams, so it is not carried either);
# - no OpenCV imgcodecs (it pulls in GDAL): `slipstream detect` reads images
#   through GStreamer's jpegdec/pngdec.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
output=
while (($#)); do
  case "$1" in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --output) output=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bundle: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
output=${output:-$build/slipstream-bundle-x86_64.tar.xz}

say() { echo "bundle: $*" >&2; }
die() { echo "bundle: error: $*" >&2; exit 1; }

gst_plugins=/usr/lib/x86_64-linux-gnu/gstreamer-1.0
scanner=/usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
# What slipstream and camsim build, receive, decode, scale, encode and serve
# with; bench/gpu.sh and the chroot test run nothing else.
plugins=(
  coreelements app playback typefindfunctions   # pipelines, uridecodebin, appsrc/appsink
  rtsp rtp rtpmanager udp                        # rtspsrc, depayloaders, payloaders, RTP
  videoparsersbad videoconvertscale videorate videotestsrc
  isomp4 matroska                                # file:// inputs and camsim's sources
  jpeg png                                       # still images for `slipstream detect`
  openh264 x264 x265                             # CPU H.264 decode; H.264/H.265 encode
  webrtc dtls srtp nice rtpmanagerbad            # the live view: webrtcbin, DTLS-SRTP, ICE (libnice)
  nvcodec                                        # NVDEC/NVENC, CUDA memory (GPU servers)
)
programs=("$build/app/slipstream/slipstream" "$build/app/camsim/slipstream-camsim")
our_plugin=$build/gst/libgstslipstream.so
for f in "${programs[@]}" "$our_plugin"; do
  [[ -f $f ]] || die "$f is missing: build first (./setup.sh --no-run)"
done
# GStreamer's command line, for bench/gpu.sh's decode runs and latency viewer.
gst_launch=$(command -v gst-launch-1.0 || true)
[[ -n $gst_launch ]] || die "gst-launch-1.0 is not installed (apt install gstreamer1.0-tools; ./setup.sh does)"
model=$("$root/tools/fetch_model.sh" --print-path)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top=$stage/slipstream
mkdir -p "$top"/{bin,libexec,lib/gstreamer-1.0,lib/gio-modules,share/slipstream/configs/default,share/slipstream/licenses}
mkdir -p "$top/share/slipstream/bench/benchlib"

plugin_files=()
for p in "${plugins[@]}"; do
  f=$gst_plugins/libgst$p.so
  [[ -f $f ]] || die "GStreamer plugin $p ($f) is not installed (./setup.sh installs it)"
  plugin_files+=("$f")
done

# Our binaries without their debug info; the system's are stripped already.
for f in "${programs[@]}" "$scanner" "$gst_launch"; do
  cp "$f" "$top/libexec/"
done
cp "$our_plugin" "${plugin_files[@]}" "$top/lib/gstreamer-1.0/"
strip --strip-unneeded "$top/libexec/slipstream" "$top/libexec/slipstream-camsim" "$top/lib/gstreamer-1.0/libgstslipstream.so"
# The detector's measuring programs, where built (under 1 MB together; no OpenCV
# videoio: they read raw frames that bench/detector/write_frames.sh writes with
# the bundle's gst-launch-1.0). bench/device/detector_bench.sh runs them.
measuring=()
for f in "$build/bench/detector/slipstream-bench-detector" "$build/tests/agreement/slipstream-agreement-tests"; do
  if [[ -f $f ]]; then
    cp "$f" "$top/libexec/"
    strip --strip-unneeded "$top/libexec/$(basename "$f")"
    measuring+=("$(basename "$f")")
  else
    say "note: $f not built: not carried"
  fi
done
# The cuda inference backend, where it was built: slipstream loads it from
# ../lib/slipstream when a config asks for backend=cuda. cuDNN is not carried
# (about 600 MB): the module loads the GPU server's own libcudnn.so.9.
modules=()
if [[ -f $build/lib/slipstream/libslipstream-cuda-backend.so ]]; then
  mkdir -p "$top/lib/slipstream"
  cp "$build/lib/slipstream/libslipstream-cuda-backend.so" "$top/lib/slipstream/"
  strip --strip-unneeded "$top/lib/slipstream/libslipstream-cuda-backend.so"
  modules=("$top"/lib/slipstream/*.so)
fi

# Every library the programs and plugins need, but the ones every glibc >= 2.36
# system has: glibc itself and GCC's runtime (libstdc++, libgcc_s). Carrying
# those would shadow a newer system copy that the GPU driver's libraries need.
system_libs='/(ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|libstdc\+\+|libgcc_s)\.so'
ldd "$top"/libexec/* "$top"/lib/gstreamer-1.0/*.so "${modules[@]}" 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | grep -Ev "$system_libs" >"$stage/libs"
missing=$(ldd "$top"/libexec/* "$top"/lib/gstreamer-1.0/*.so "${modules[@]}" 2>/dev/null | grep 'not found' | sort -u || true)
[[ -z $missing ]] || die "unresolved libraries: $missing"
xargs -a "$stage/libs" cp -L -t "$top/lib/"

# The default detector: config and labels from the tree, the model from the cache
# (the config looks for it next to itself first).
cp "$root/configs/default/nanodet.txt" "$root/configs/default/coco-labels.txt" "$model" \
  "$top/share/slipstream/configs/default/"
cp "$root/LICENSE" "$top/share/slipstream/licenses/slipstream.LICENSE"
# The web page: slipstream looks in ../share/slipstream/web beside its executable.
mkdir -p "$top/share/slipstream/web"
cp "$root"/app/slipstream/web/* "$top/share/slipstream/web/"  # every file the page is made of
# Each carried library's Debian copyright file, by package.
while read -r lib; do
  # dpkg knows /usr/lib/...; ldd may say /lib/... (merged /usr).
  { dpkg -S "/usr${lib#/usr}" 2>/dev/null || true; } | head -n1 | cut -d: -f1
done < <(cat "$stage/libs"; printf '%s\n' "${plugin_files[@]}") | sort -u | while read -r pkg; do
  [[ -f /usr/share/doc/$pkg/copyright ]] && cp "/usr/share/doc/$pkg/copyright" "$top/share/slipstream/licenses/$pkg.copyright"
done
cp "$root/tools/bundle/README" "$top/README"
# What the bundle was built from, for the benchmark's results.
{
  echo "$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown) built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$top/share/slipstream/VERSION"

# The GPU benchmark: python3 with its standard library runs it; it starts the
# programs through their start scripts in bin/.
cp "$root/bench/gpu.sh" "$root/bench/gpu.py" "$root/bench/bench.py" "$top/share/slipstream/bench/"
cp "$root"/bench/benchlib/*.py "$top/share/slipstream/bench/benchlib/"
chmod +x "$top/share/slipstream/bench/gpu.sh"

cp "$root/bench/detector/write_frames.sh" "$top/share/slipstream/bench/"
for program in slipstream slipstream-camsim gst-launch-1.0 "${measuring[@]}"; do
  sed "s/@PROGRAM@/$program/" "$root/tools/bundle/start.sh.in" >"$top/bin/$program"
  chmod +x "$top/bin/$program"
done
cp "$root/tools/bundle/bench-gpu.sh" "$top/bin/slipstream-bench-gpu"
chmod +x "$top/bin/slipstream-bench-gpu"

mkdir -p "$(dirname "$output")"
tar -C "$stage" -cf - slipstream | xz -T0 -6 >"$output.part"
mv "$output.part" "$output"
size=$(stat -c %s "$output")
say "wrote $output ($((size / 1048576)) MiB, $(wc -l <"$stage/libs") libraries, ${#plugin_files[@]} + 1 plugins)"
