#!/usr/bin/python3
"""Fault: the network between slipstream and a camera fails while the camera
itself keeps running. Four cameras (one camsim, login required); stream 0 is
direct, streams 1-3 each pass through their own TCP relay (relay.py):

  reset  relay 1 resets every connection and stops listening for 6 s
         (connections dropped, new ones refused), then listens again;
  stall  relay 2 silently stops moving bytes for 12 s (nothing is closed, new
         connections hang), then carries on: slipstream notices the stall
         (no frames for 5 s), keeps retrying, and resumes once it is over;
  blip   relay 3 stalls for 2 s only: no reconnect is needed, the stream
         simply carries on.

Each: the dropped/retry lines where they apply, resume within 2 s of the
network coming back, the other streams keep their 10 fps, exit 0 on SIGTERM."""
import re
import sys
import time

import faultlib
from faultlib import check

FPS = 10


def who(slip, index):
    return re.escape(f"input {index} ({faultlib.masked(slip.inputs[index])})")


def steady_rates(slip, skip, t0, t1, label):
    for i in range(4):
        if i != skip:
            slip.check_rate(i, FPS, t0, t1, label)


def restore(slip, relay, command, index, cut, case):
    """Gives stream `index` its network back (relay `command`): it must resume
    within 2 s with a "back after" line, while the others kept their rate
    since the cut."""
    restored = time.monotonic()
    relay.command(command)
    back = slip.wait_frames(index, 1, 15, after=restored, what=f"{case}: stream {index} back")
    print(f"  stream {index} back {back - restored:.2f} s after the network came back ({command})")
    check(back - restored <= 2.0, f"{case}: resumed {back - restored:.2f} s after the network came back (limit 2 s)")
    slip.wait_stderr(rf"^{who(slip, index)}: back after", 5, after=restored, what=f"{case}: the back line")
    slip.wait_frames(index, 15, 10, after=back)
    steady_rates(slip, index, cut, time.monotonic(), case)


def reset_case(slip, relay):
    print("reset: relay 1 resets its connections and stops listening for 6 s")
    cut = time.monotonic()
    relay.command("reset")
    _, line = slip.wait_stderr(rf"^{who(slip, 1)}: dropped: .+; reconnecting in 1\.0s$", 10, after=cut,
                               what="reset: the dropped line")
    print(f"  {line}")
    _, line = slip.wait_stderr(rf"^error: {who(slip, 1)}: connection refused: .*; retrying in \d+(\.\d)?s$", 10,
                               after=cut, what="reset: a retry line")
    print(f"  {line}")
    time.sleep(max(0.0, cut + 6 - time.monotonic()))
    restore(slip, relay, "listen", 1, cut, "reset")


def stall_case(slip, relay):
    print("stall: relay 2 freezes for 12 s")
    cut = time.monotonic()
    relay.command("freeze")
    t_drop, line = slip.wait_stderr(rf"^{who(slip, 2)}: dropped: no frames for 5 s; reconnecting in 1\.0s$", 12,
                                    after=cut, what="stall: the dropped line")
    print(f"  {line} ({t_drop - cut:.1f} s after the freeze)")
    time.sleep(max(0.0, cut + 12 - time.monotonic()))
    retries = [l for _, l in slip.stderr_since(t_drop) if re.search(rf"^error: {who(slip, 2)}: ", l)]
    print("  " + ("\n  ".join(retries) if retries else "(no retry failed yet: one is waiting for an answer)"))
    stray = slip.frames(2, cut + 1, time.monotonic())
    check(not stray, f"stall: {len(stray)} frames of stream 2 while its network was frozen")
    restore(slip, relay, "thaw", 2, cut, "stall")


def blip_case(slip, relay):
    print("blip: relay 3 freezes for 2 s")
    cut = time.monotonic()
    relay.command("freeze")
    time.sleep(2)
    restored = time.monotonic()
    relay.command("thaw")
    back = slip.wait_frames(3, 1, 10, after=restored + 0.1, what="blip: stream 3 carrying on")
    print(f"  stream 3 carries on {back - restored:.2f} s after the thaw")
    check(back - restored <= 2.0, f"blip: stream 3 took {back - restored:.2f} s to carry on")
    slip.wait_frames(3, 20, 10, after=back)
    end = time.monotonic()
    reconnects = [l for _, l in slip.stderr_since(cut) if re.search(rf"{who(slip, 3)}: (dropped|back)", l)]
    check(not reconnects, "blip: a 2 s stall caused a reconnect:\n" + "\n".join(reconnects))
    steady_rates(slip, 3, cut, end, "blip")
    slip.check_rate(3, FPS, back + 0.5, end, "blip, after the thaw")


def test(camsim_bin, slipstream_bin):
    faultlib.harness.log_dir(slipstream_bin)
    camsim = faultlib.Camsim(camsim_bin, count=4, fps=FPS, auth=f"{faultlib.USER}:{faultlib.PASSWORD}").start()
    relays = [faultlib.Relay(camsim.port, name=f"relay{i}") for i in (1, 2, 3)]
    slip = None
    try:
        inputs = [camsim.uri(0)] + [faultlib.camera_uri(r.port, i + 1) for i, r in enumerate(relays)]
        slip = faultlib.Slipstream(slipstream_bin, inputs)
        for i in range(4):
            slip.wait_frames(i, 10, 60, what=f"stream {i} starting")
        reset_case(slip, relays[0])
        stall_case(slip, relays[1])
        blip_case(slip, relays[2])
        slip.stop(max_seconds=2.0)
    finally:
        if slip:
            slip.kill()
        for r in relays:
            r.stop()
        camsim.stop()


if __name__ == "__main__":
    faultlib.main(test, sys.argv)
