#!/usr/bin/python3
"""Fault: inputs that are not video, or video that misbehaves (files made
once with ffmpeg into the build tree). Two slipstream runs side by side, each
with a good camsim camera as the control that must keep its 10 fps:

  unusable   garbage bytes      -> "not a media file (unrecognised data)"
             a text file        -> "not a media file (this appears to be a text file)"
             audio only (AAC)   -> "no video stream (only MPEG-4 AAC)"
             a missing file     -> "file not found"
  awkward    H.264 with 40 kB of random bytes spliced into the middle,
             a TS cut off in the middle of a frame,
             a TS whose picture goes from 768x576 to 640x360,
             a TS going from H.264 640x360 to H.265 480x270 (new program),
             a TS going from 10 to 25 fps,
             a TS whose clock jumps 1000 s ahead and back (PTS discontinuity)
           -> none is an error: frames keep coming (a file starts over at
              its end), the changes show in the metadata."""
import collections
import sys
import time

import faultlib
from faultlib import check

FPS = 10
RUN_SECONDS = 20


def unusable(slipstream_bin, camsim, media):
    missing = media["garbage.bin"].replace("garbage.bin", "no-such-file.mp4")
    inputs = [camsim.uri(0), media["garbage.bin"], media["text.txt"], media["audio_only.m4a"], missing]
    expected = {
        1: r"not a media file \(unrecognised data\)",
        2: r"not a media file \(this appears to be a text file\)",
        3: r"no video stream \(only MPEG-4 AAC\)",
        4: r"file not found",
    }
    slip = faultlib.Slipstream(slipstream_bin, inputs, name="slipstream-unusable")
    try:
        slip.expect_first_errors(expected, lambda index: "file://" + inputs[index])
        slip.wait_frames(0, 10, 30, what="the control camera")
        t0 = time.monotonic()
        time.sleep(6)
        slip.check_rate(0, FPS, t0, time.monotonic(), "next to unusable files")
        for index in expected:
            check(not slip.frames(index), f"input {index} produced frames")
        slip.stop(max_seconds=2.0)
    finally:
        slip.kill()


def awkward(slipstream_bin, camsim, media):
    names = ["corrupt.h264", "truncated.ts", "resolution_change.ts", "codec_change.ts", "rate_change.ts",
             "clock_jump.ts"]
    inputs = [camsim.uri(1)] + [media[n] for n in names]
    slip = faultlib.Slipstream(slipstream_bin, inputs, name="slipstream-awkward")
    try:
        slip.wait_frames(0, 10, 30, what="the control camera")
        t0 = time.monotonic()
        time.sleep(RUN_SECONDS)
        t1 = time.monotonic()
        slip.check_rate(0, FPS, t0, t1, "next to awkward files")
        errors = [l for l in slip.stderr() if l.startswith("error:")]
        check(not errors, "awkward files reported as errors:\n" + "\n".join(errors))
        for k, name in enumerate(names, start=1):
            got = slip.frames(k, t0, t1)
            # A file that ends starts over after about a second; nothing else may stop it.
            times = [t0] + [t for t, _ in got] + [t1]
            gap = max(b - a for a, b in zip(times, times[1:]))
            sizes = collections.Counter(f"{r['width']}x{r['height']}" for _, r in got)
            print(f"  {name}: {len(got) / (t1 - t0):.1f} fps, longest gap {gap:.2f} s, sizes {dict(sizes)}")
            check(len(got) >= 0.5 * FPS * (t1 - t0), f"{name}: only {len(got)} frames in {t1 - t0:.0f} s")
            check(gap <= 3.5, f"{name}: no frame for {gap:.2f} s")
            if name == "resolution_change.ts":
                check(sizes["768x576"] > 10 and sizes["640x360"] > 10, f"{name}: both sizes expected, got {dict(sizes)}")
            if name == "codec_change.ts":
                check(sizes["640x360"] > 10 and sizes["480x270"] > 10, f"{name}: both parts expected, got {dict(sizes)}")
                check(any(l == f"Input {k}: H.265 480x270 @ 10 fps" for l in slip.proc.stdout()),
                      f"{name}: no line for the H.265 part")
            if name == "rate_change.ts":
                fast = sum(1 for (_, a), (_, b) in zip(got, got[1:]) if 0.03 <= b["pts"] - a["pts"] <= 0.05)
                print(f"    {fast} frames 40 ms apart (the 25 fps part)")
                check(fast >= 40, f"{name}: the 25 fps part did not come through ({fast} frames)")
        slip.stop(max_seconds=2.0)
    finally:
        slip.kill()


def test(camsim_bin, slipstream_bin):
    faultlib.harness.log_dir(slipstream_bin)
    media = faultlib.make_media(slipstream_bin)
    faultlib.run_with_camsim(camsim_bin, slipstream_bin, {
        "unusable": lambda camsim: unusable(slipstream_bin, camsim, media),
        "awkward": lambda camsim: awkward(slipstream_bin, camsim, media),
    }, fps=FPS)


if __name__ == "__main__":
    faultlib.main(test, sys.argv)
