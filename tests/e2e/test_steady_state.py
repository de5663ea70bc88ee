#!/usr/bin/python3
"""Two minutes at 4 cameras: latency and memory stay flat.

Samples slipstream's RSS every 5 s and reads the per-frame pipeline latency
(from buffer timestamps) in the JSON metadata. After a 30 s warm-up, latency
in the last 20 s must not exceed the first 20 s by more than 50 ms, RSS must
not grow by more than 5%, and every stream keeps delivering frames at its rate."""
import statistics
import time

import harness

CAMERAS = [("h264", 768, 576, 10), ("h265", 640, 360, 15), ("h264", 768, 576, 10), ("h265", 640, 360, 15)]
RUN_SECONDS = 120
WARMUP = 30


def main(camsim_bin, slipstream_bin):
    cam_port, out_port = harness.free_port(), harness.free_port()
    camsim = harness.start_camsim(camsim_bin, cam_port, [c[0] for c in CAMERAS], [c[1] for c in CAMERAS],
                                  [c[2] for c in CAMERAS], [c[3] for c in CAMERAS], len(CAMERAS))
    metadata = harness.artifact("metadata.jsonl", slipstream_bin)  # kept with the logs for the credentials check
    inputs = [f"rtsp://127.0.0.1:{cam_port}/cam{i}" for i in range(len(CAMERAS))]
    slip = None
    try:
        slip = harness.start_slipstream(slipstream_bin, inputs, out_port,
                                        ["--metadata", metadata, "--show-frames", "no"])
        start = time.monotonic()
        rss = []  # (seconds since start, KiB)
        while time.monotonic() - start < RUN_SECONDS:
            assert slip.proc.poll() is None, "slipstream exited\n" + "\n".join(slip.stderr()[-20:])
            rss.append((time.monotonic() - start, harness.rss_kib(slip.proc.pid)))
            time.sleep(5)
        code, _ = slip.stop()
        assert code == 0, f"exit code {code}"

        records = harness.metadata_lines(metadata)
        assert records, "no metadata"
        # Frame times relative to the first record, from the sources' own timestamps.
        first_pts = {}
        for r in records:
            first_pts.setdefault(r["stream"], r["pts"])

        def window(lo, hi):
            return [r for r in records if lo <= r["pts"] - first_pts[r["stream"]] < hi]

        early = [r["latency_ms"] for r in window(WARMUP, WARMUP + 20)]
        late = [r["latency_ms"] for r in window(RUN_SECONDS - 25, RUN_SECONDS - 5)]
        assert early and late, "not enough metadata to compare latency"
        early_median, late_median = statistics.median(early), statistics.median(late)
        print(f"latency: median {early_median:.1f} ms at {WARMUP}-{WARMUP + 20} s, "
              f"{late_median:.1f} ms at {RUN_SECONDS - 25}-{RUN_SECONDS - 5} s, max {max(r['latency_ms'] for r in records):.0f} ms")
        assert late_median <= early_median + 50, "latency grew"

        for i, (_, _, _, fps) in enumerate(CAMERAS):
            n = len([r for r in window(WARMUP, RUN_SECONDS - 5) if r["stream"] == i])
            expected = fps * (RUN_SECONDS - 5 - WARMUP)
            print(f"stream {i}: {n} frames after warm-up, {expected} expected")
            assert n >= 0.9 * expected, f"stream {i} fell behind: {n} of {expected} frames"

        base = statistics.median(k for t, k in rss if WARMUP <= t < WARMUP + 20)
        end = max(k for t, k in rss if t >= RUN_SECONDS - 20)
        growth = (end - base) / base
        print(f"RSS: {base / 1024:.1f} MiB after warm-up, {end / 1024:.1f} MiB at the end ({growth * 100:+.1f}%)")
        assert growth < 0.05, f"memory grew by {growth * 100:.1f}%"
        print("test_steady_state: all checks passed")
    finally:
        if slip:
            slip.kill()
        camsim.stop()


if __name__ == "__main__":
    harness.run_test(main)
