#!/usr/bin/python3
"""Soak test: slipstream's memory stays flat while cameras come and go.

NOT part of CTest (it takes half an hour); run it by hand before a release,
after building (ninja -C build):

    /usr/bin/python3 tests/soak/soak.py [--minutes 30] [--build build]
                                        [--kill-every 120] [--down 5]
                                        [--slipstream BINARY] [--name LOGS]

Runs 4 simulated cameras (H.264 and H.265, 640x360 at 10 fps, login
required), each on its own slipstream-camsim, into one slipstream. Every
--kill-every seconds the next camera in turn is killed (SIGKILL) and
restarted --down seconds later. slipstream's RSS, threads and open files are
sampled every 10 s. At the end it prints a summary and fails (exit 1) if:
  - RSS grew by 5% or more from the first minute's end (median of the
    second minute's samples) to the end (median of the last minute's);
  - threads or open files grew by more than a few;
  - a restarted camera did not come back within 2 s of its camsim's "ready",
    or a camera that was up fell below 70% of its frame rate;
  - slipstream did not exit 0 within 2 s of SIGTERM.
Logs and metadata go to BUILD/test-logs/soak/ (like the tests' logs)."""
import argparse
import os
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
import faultlib  # noqa: E402
from faultlib import check  # noqa: E402

FPS = 10
CODECS = ["h264", "h265", "h264", "h265"]
SAMPLE_EVERY = 10


def soak(args):
    build = os.path.abspath(args.build)
    camsim_bin = os.path.join(build, "app", "camsim", "slipstream-camsim")
    slipstream_bin = args.slipstream or os.path.join(build, "app", "slipstream", "slipstream")
    os.environ.setdefault("SLIPSTREAM_TEST_LOGS", os.path.join(build, "test-logs"))
    os.environ.setdefault("SLIPSTREAM_TEST_NAME", args.name)
    faultlib.harness.log_dir(slipstream_bin)
    cams = [faultlib.Camsim(camsim_bin, count=1, codec=CODECS[i], fps=FPS, name=f"camsim{i}",
                            auth=f"{faultlib.USER}:{faultlib.PASSWORD}") for i in range(4)]
    for c in cams:
        c.start()
    # cam<k>: each camsim serves its one camera as cam0.
    slip = faultlib.Slipstream(slipstream_bin, [c.uri(0) for c in cams],
                               extra=["--width", "960", "--height", "540", "--interval", "4"], name="slipstream")
    pid = slip.proc.proc.pid
    samples = []  # (minutes, RSS KiB, threads, open files)
    outages = []  # (camera, killed at, seconds from ready to the first frame)
    failures = []

    def rate_ok(stream, t0, t1, label):
        try:
            slip.check_rate(stream, FPS, t0, t1, label)
        except AssertionError as e:
            failures.append(str(e))
    try:
        for i in range(4):
            slip.wait_frames(i, 10, 60, what=f"stream {i} starting")
        start = time.monotonic()
        end = start + args.minutes * 60
        next_sample, next_kill, victim = start, start + args.kill_every, 0
        up_since = {i: start for i in range(4)}  # windows for the rate check
        while time.monotonic() < end:
            now = time.monotonic()
            check(slip.proc.proc.poll() is None, "slipstream exited\n" + "\n".join(slip.stderr()[-20:]))
            if now >= next_sample:
                samples.append(((now - start) / 60, faultlib.proc_status(pid, "VmRSS"),
                                faultlib.proc_status(pid, "Threads"), faultlib.open_fds(pid)))
                next_sample += SAMPLE_EVERY
            if now >= next_kill and now + args.down + 5 < end:
                cam = cams[victim]
                killed = time.monotonic()
                if killed - up_since[victim] > 10:
                    rate_ok(victim, up_since[victim] + 2, killed, f"camera {victim} while up")
                cam.kill(signal.SIGKILL)
                time.sleep(args.down)
                cam.start(timeout=60)
                try:
                    back = slip.wait_frames(victim, 1, 30, after=cam.ready_at, what=f"camera {victim} back")
                except AssertionError as e:
                    failures.append(str(e))
                    back = float("nan")
                delay = back - cam.ready_at
                outages.append((victim, killed - start, delay))
                print(f"{(killed - start) / 60:5.1f} min: camera {victim} killed, back {delay:.2f} s after ready; "
                      f"RSS {samples[-1][1] / 1024:.1f} MiB")
                if not delay <= 2.0:
                    failures.append(f"camera {victim} came back {delay:.2f} s after ready (limit 2 s)")
                up_since[victim] = time.monotonic()
                victim = (victim + 1) % 4
                next_kill += args.kill_every
            time.sleep(0.5)
        for i in range(4):
            rate_ok(i, up_since[i] + 2, time.monotonic(), f"camera {i} at the end")
        took = slip.stop(max_seconds=2.0)
    finally:
        slip.kill()
        for c in cams:
            c.stop()

    def median_between(lo, hi, column):
        values = [s[column] for s in samples if lo <= s[0] < hi]
        return statistics.median(values) if values else float("nan")
    minutes = samples[-1][0] if samples else 0
    base = median_between(1, 2, 1)
    final = median_between(max(1, minutes - 1), minutes + 1, 1)
    growth = (final - base) / base * 100
    threads = (median_between(1, 2, 2), max(s[2] for s in samples))
    fds = (median_between(1, 2, 3), max(s[3] for s in samples))
    print("\nsoak summary")
    print(f"  run            {args.minutes} min, 4 cameras, one killed every {args.kill_every} s for {args.down} s")
    print(f"  outages        {len(outages)}; back after ready: "
          + (f"median {statistics.median(d for _, _, d in outages):.2f} s, worst {max(d for _, _, d in outages):.2f} s"
             if outages else "-"))
    print(f"  RSS            {samples[0][1] / 1024:.1f} MiB at start, {base / 1024:.1f} MiB in minute 2, "
          f"{final / 1024:.1f} MiB in the last minute ({growth:+.2f}%), peak {max(s[1] for s in samples) / 1024:.1f} MiB")
    print(f"  threads        {threads[0]:.0f} in minute 2, peak {threads[1]}")
    print(f"  open files     {fds[0]:.0f} in minute 2, peak {fds[1]}")
    print(f"  SIGTERM        exit 0 after {took:.2f} s")
    print("  RSS samples (MiB, every 10 s): " + " ".join(f"{s[1] / 1024:.0f}" for s in samples))
    if growth >= 5:
        failures.append(f"RSS grew {growth:.2f}% after the first minute (limit 5%)")
    if threads[1] > threads[0] + 4:
        failures.append(f"threads grew to {threads[1]} from {threads[0]:.0f}")
    if fds[1] > fds[0] + 4:
        failures.append(f"open files grew to {fds[1]} from {fds[0]:.0f}")
    check(not failures, "\n".join(failures))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="how long to run (default 30)")
    parser.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"), help="the build folder")
    parser.add_argument("--kill-every", type=float, default=120, help="seconds between camera kills (default 120)")
    parser.add_argument("--down", type=float, default=5, help="seconds a killed camera stays down (default 5)")
    parser.add_argument("--slipstream", help="the slipstream binary (default: BUILD/app/slipstream/slipstream)")
    parser.add_argument("--name", default="soak", help="log folder name under BUILD/test-logs (default soak)")
    args = parser.parse_args()
    if args.minutes < 3:
        parser.error("--minutes: at least 3 (the first minute is warm-up, the second the baseline)")
    try:
        soak(args)
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print("soak: passed")


if __name__ == "__main__":
    main()
