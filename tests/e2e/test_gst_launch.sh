#!/bin/bash
# The elements from gst-launch-1.0, as the README shows: two inputs through
# ssbatchmux ! ssinfer ! sstracker ! sstiler, encoded to a file that ffprobe checks.
set -euo pipefail
plugin_dir=$1
out=$(mktemp --suffix=.mkv)
log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT
sample=/usr/share/doc/opencv-doc/examples/data/vtest.avi
export GST_PLUGIN_PATH=$plugin_dir

gst-inspect-1.0 ssbatchmux >/dev/null
gst-inspect-1.0 ssinfer >/dev/null
gst-inspect-1.0 sstracker >/dev/null
gst-inspect-1.0 sstiler >/dev/null

# -e: Ctrl-C (SIGINT) becomes EOS so the file is finalised.
timeout -s INT 8 gst-launch-1.0 -e \
  ssbatchmux name=m fps=25/1 ! ssinfer ! sstracker ! sstiler width=640 height=360 ! \
  videoconvert ! x264enc speed-preset=ultrafast tune=zerolatency ! matroskamux ! filesink location="$out" \
  uridecodebin uri=file://$sample ! videoconvert ! m.sink_0 \
  uridecodebin uri=file://$sample ! videoconvert ! m.sink_1 >"$log" 2>&1 || true
if grep -q "ERROR" "$log"; then cat "$log"; exit 1; fi

info=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=width,height,nb_read_frames -of csv=p=0 "$out")
echo "output: $info (width,height,frames)"
IFS=, read -r width height frames <<<"$info"
[[ $width == 640 && $height == 360 ]] || { echo "FAIL: size ${width}x${height}"; exit 1; }
(( frames >= 100 )) || { echo "FAIL: only $frames frames in ~7 s at 25 fps"; exit 1; }
echo "test_gst_launch: all checks passed"
