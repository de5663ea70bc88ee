#!/usr/bin/python3
"""Fault: a camera's server dies and comes back (slipstream's default retry
settings: first retry after 1 s, doubling up to 10 s, TCP probe every second).

Two steady cameras on one camsim, a third ("the victim", login required) on a
camsim of its own, which is killed and restarted twice:
  1. SIGKILL, down 12 s (the backoff has grown to 8 s), then restarted;
  2. SIGTERM, down 3 s, then restarted.
Each time: the "dropped" line with its reason, "connection refused" retry
lines, the victim's frames pause and its tile turns grey (NO SIGNAL), it
resumes within 2 s of the new camsim's "ready", "back after" is printed, the
steady cameras keep their 10 fps throughout, and SIGTERM ends it all with exit 0."""
import re
import signal
import sys
import time

import faultlib
from faultlib import check

FPS = 10


def outage(slip, victim, victim_index, down_seconds, sig, label):
    who = re.escape(f"input {victim_index} ({faultlib.masked(victim.uri(0))})")
    print(f"{label}: camsim {'SIGKILL' if sig == signal.SIGKILL else 'SIGTERM'}, down {down_seconds} s")
    killed = time.monotonic()
    victim.kill(sig)
    t_drop, line = slip.wait_stderr(rf"^{who}: dropped: .+; reconnecting in 1\.0s$", 15, after=killed,
                                    what=f"{label}: the dropped line")
    print(f"  {line}")
    _, line = slip.wait_stderr(rf"^error: {who}: connection refused: nothing listens at 127\.0\.0\.1:{victim.port}; "
                               rf"retrying in \d+(\.\d)?s$", 10, after=killed, what=f"{label}: a retry line")
    print(f"  {line}")
    # The tile shows the last frame greyed once the mux's 2 s no-signal timeout passed.
    time.sleep(max(0.0, t_drop + 2.5 - time.monotonic()))
    if down_seconds > 5:
        frame = faultlib.grab_output(f"rtsp://127.0.0.1:{slip.port}/ds", 480, 270)
        grey = faultlib.tile_colourfulness(frame, victim_index, 3)
        print(f"  victim tile colourfulness during the outage: {grey:.1f}")
        check(grey < 3, f"{label}: the victim's tile is not greyed out ({grey:.1f})")
    time.sleep(max(0.0, killed + down_seconds - time.monotonic()))
    # Its per-frame lines paused (frames already on their way may land just after the kill).
    stray = slip.frames(victim_index, t_drop + 0.5, time.monotonic())
    check(not stray, f"{label}: {len(stray)} frames of the dropped camera during the outage")
    restarted = time.monotonic()
    victim.start(timeout=60)
    back = slip.wait_frames(victim_index, 1, 20, after=victim.ready_at, what=f"{label}: the victim's first frame back")
    print(f"  first frame {back - victim.ready_at:.2f} s after camsim's ready")
    check(back - victim.ready_at <= 2.0, f"{label}: resumed {back - victim.ready_at:.2f} s after camsim was ready (limit 2 s)")
    _, line = slip.wait_stderr(rf"^{who}: back after \d+(\.\d)?s$", 5, after=restarted, what=f"{label}: the back line")
    print(f"  {line}")
    slip.wait_frames(victim_index, 20, 15, after=back, what=f"{label}: the victim's frames after its return")
    end = time.monotonic()
    for steady in (0, 1):
        slip.check_rate(steady, FPS, killed, end, label)
    slip.check_rate(victim_index, FPS, back + 0.5, end, f"{label}, victim after its return")


def test(camsim_bin, slipstream_bin):
    faultlib.harness.log_dir(slipstream_bin)
    media = faultlib.make_media(slipstream_bin)
    steady = faultlib.Camsim(camsim_bin, count=2, fps=FPS, name="camsim-steady").start()
    victim = faultlib.Camsim(camsim_bin, count=1, fps=FPS, auth=f"{faultlib.USER}:{faultlib.PASSWORD}",
                             name="camsim-victim", file=media["colour.ts"]).start()
    slip = None
    try:
        # The steady camsim has no login: real cameras get URIs with one anyway.
        slip = faultlib.Slipstream(slipstream_bin, [steady.uri(0), steady.uri(1), victim.uri(0)])
        for i in range(3):
            slip.wait_frames(i, 10, 60, what=f"stream {i} starting")
        lines = slip.proc.stdout()
        check(any(l == f"Input 2: {faultlib.masked(victim.uri(0))}" for l in lines), "no masked Input 2 line")
        frame = faultlib.grab_output(f"rtsp://127.0.0.1:{slip.port}/ds", 480, 270)
        colour = faultlib.tile_colourfulness(frame, 2, 3)
        print(f"victim tile colourfulness while live: {colour:.1f}")
        check(colour > 15, f"the live victim tile looks grey ({colour:.1f}): the check below would prove nothing")

        outage(slip, victim, 2, 12, signal.SIGKILL, "long outage")
        outage(slip, victim, 2, 3, signal.SIGTERM, "short outage")
        slip.stop(max_seconds=2.0)
        steady_lines = [l for l in slip.stderr() if re.search(r"input [01] \(", l)]
        check(not steady_lines, "a steady camera was reported:\n" + "\n".join(steady_lines))
    finally:
        if slip:
            slip.kill()
        victim.stop()
        steady.stop()


if __name__ == "__main__":
    faultlib.main(test, sys.argv)
