#!/usr/bin/python3
"""Cameras joining and leaving a running 4-camera pipeline through the API
(real camsim cameras at 10 fps, login required, all on 127.0.0.1).

  1. A fifth camera added by POST /api/v1/stream/add shows in the output's
     metadata within 3 s of the request, while the four keep their frame rate:
     each one's rate in the 6 s after the add is measured against its own rate
     in the 6 s before (same machine, same load), and none stops for 2 s.
  2. 10 add/remove cycles of that camera leave the process's RSS within 5% of
     what it was before them (after one cycle to warm up: the first use of a
     decoder maps its code and pools once for the process's life).
Each camera's frames are counted from the metadata file, as they are written."""
import statistics
import sys
import time

import apilib
import faultlib
import harness
from apilib import ADD, REMOVE, Api, camera_body
from faultlib import check

FPS = 10
WINDOW = 6.0
MAX_GAP = 2.0


def rss_mib(pid, seconds=2.0):
    """The median of samples over a few seconds: frames in flight make single readings jump."""
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(harness.rss_kib(pid) / 1024)
        time.sleep(0.2)
    return statistics.median(samples)


def add(api, camera_id, url):
    sent = time.monotonic()
    status, body = api.call("POST", ADD, camera_body(camera_id, url))
    check(status == 200, f"add {camera_id}: {status} {body}")
    return sent, body["source_id"]


def remove(api, camera_id):
    status, body = api.call("POST", REMOVE, camera_body(camera_id, change="camera_remove"))
    check(status == 200, f"remove {camera_id}: {status} {body}")


def test(camsim_bin, slipstream_bin):
    harness.log_dir(slipstream_bin)
    camsim = faultlib.Camsim(camsim_bin, count=5, fps=FPS, auth=f"{faultlib.USER}:{faultlib.PASSWORD}").start()
    api_port = harness.free_port()
    slip = faultlib.Slipstream(slipstream_bin, [camsim.uri(i) for i in range(4)], extra=["--api-port", str(api_port)])
    api = Api(api_port)
    try:
        t0 = time.monotonic()
        for s in range(4):
            slip.wait_frames(s, 10, 30, after=t0, what=f"camera {s}'s frames")
        cameras = api.cameras()
        check(sorted(cameras) == ["0", "1", "2", "3"], f"RTSPINPUT's cameras are not listed as ids 0..3: {sorted(cameras)}")
        time.sleep(2)  # past the start-up

        print("a fifth camera joins")
        before_start = time.monotonic()
        time.sleep(WINDOW)
        sent, source = add(api, "extra", camsim.uri(4))
        before = {s: slip.check_rate(s, FPS, before_start, sent, "before the add", max_gap=MAX_GAP) for s in range(4)}
        first = slip.wait_frames(source, 1, 10, after=sent, what="the new camera's first frame in the metadata")
        print(f"  the new camera (source {source}) is in the metadata {first - sent:.2f} s after the request")
        check(first - sent <= 3.0, f"the new camera took {first - sent:.2f} s to show (limit 3 s)")
        time.sleep(max(0.0, sent + WINDOW - time.monotonic()))
        for s in range(4):
            after = slip.check_rate(s, FPS, sent, sent + WINDOW, "after the add", max_gap=MAX_GAP)
            check(after >= 0.7 * before[s], f"camera {s} slowed from {before[s]:.1f} to {after:.1f} fps when a camera joined")
        remove(api, "extra")

        print("10 add/remove cycles")
        def cycle(i):
            t, src = add(api, "extra", camsim.uri(4))
            slip.wait_frames(src, 3, 15, after=t, what=f"cycle {i}: the camera's frames")
            remove(api, "extra")
        cycle(0)
        time.sleep(1)
        start_rss = rss_mib(slip.proc.proc.pid)
        for i in range(1, 11):
            cycle(i)
        time.sleep(1)
        end_rss = rss_mib(slip.proc.proc.pid)
        print(f"  RSS {start_rss:.1f} MiB before the 10 cycles, {end_rss:.1f} MiB after ({(end_rss / start_rss - 1) * 100:+.1f}%)")
        check(end_rss <= start_rss * 1.05, f"RSS grew from {start_rss:.1f} to {end_rss:.1f} MiB in 10 add/remove cycles")
        check(sorted(api.cameras()) == ["0", "1", "2", "3"], "the cameras after the cycles are not the first four")
        t = time.monotonic()
        for s in range(4):
            slip.wait_frames(s, 10, 10, after=t, what=f"camera {s} still running after the cycles")
    finally:
        slip.stop()
        camsim.stop()


if __name__ == "__main__":
    faultlib.main(test, sys.argv)
