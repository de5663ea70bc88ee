#!/bin/sh
# Writes real frames of a video as a raw BGR file (raw_frames.hpp) with
# GStreamer's gst-launch-1.0: the input of bench-detector --frames and of the
# backend agreement test where OpenCV has no videoio (the portable bundle).
#
# usage: write_frames.sh VIDEO PREFIX [SECONDS_APART] [SCALE_TO_WxH]
#   writes PREFIX-WIDTHxHEIGHT.bgr (one frame every SECONDS_APART seconds of
#   the video, default 8; the video's own size unless SCALE_TO is given) and
#   prints its path. GST_LAUNCH names the gst-launch-1.0 to run (default: the
#   one on PATH; the bundle's is slipstream/bin/gst-launch-1.0).
set -eu
[ $# -ge 2 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
video=$1 prefix=$2 apart=${3:-8} scale=${4:-}
gst=${GST_LAUNCH:-gst-launch-1.0}
[ -f "$video" ] || { echo "write_frames: $video: no such file" >&2; exit 1; }
size_caps=
if [ -n "$scale" ]; then
    size_caps=",width=${scale%x*},height=${scale#*x}"
fi
part=$prefix.part
log=$prefix.log
# -v prints the negotiated caps, which say the size of what was written.
if ! "$gst" -v filesrc location="$video" ! decodebin ! videorate drop-only=true \
        ! "video/x-raw,framerate=1/$apart" ! videoconvert ! videoscale \
        ! "video/x-raw,format=BGR$size_caps" ! filesink location="$part" >"$log" 2>&1; then
    tail -5 "$log" >&2
    echo "write_frames: gst-launch failed on $video (log: $log)" >&2
    exit 1
fi
caps=$(grep 'filesink.*sink: caps = video/x-raw' "$log" | tail -1)
width=$(printf '%s\n' "$caps" | sed -n 's/.*width=(int)\([0-9]*\).*/\1/p')
height=$(printf '%s\n' "$caps" | sed -n 's/.*height=(int)\([0-9]*\).*/\1/p')
[ -n "$width" ] && [ -n "$height" ] || { echo "write_frames: no frame size in $log" >&2; exit 1; }
[ -s "$part" ] || { echo "write_frames: no frames written from $video" >&2; exit 1; }
out=$prefix-${width}x$height.bgr
mv "$part" "$out"
rm -f "$log"
echo "$out"
