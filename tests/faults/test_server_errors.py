#!/usr/bin/python3
"""Fault: cameras that answer with an error, or do not answer at all.

One camsim (login required) and one slipstream with six inputs:
  0, 5  good cameras (the control: they must keep 10 fps throughout);
  1     a wrong path             -> "not found (404): ..."
  2     a wrong password         -> "unauthorized (401): check the user name and password"
  3     no login at all          -> "unauthorized (401): the camera wants a login ..."
  4     a port nobody listens on -> "connection refused: nothing listens at ..."
Each failing input is named once per attempt with its masked URI and its
reason, and retried with a doubling wait (1, 2, 4 s); a camera that answered
(404, 401) is not retried early by the reachability probe.

Alongside, --require-all: a run with a wrong password exits non-zero at once
with the error line; a run where every input works keeps running and ends
with exit 0 on SIGTERM."""
import re
import sys
import time

import faultlib
from faultlib import check

FPS = 10


def retry_lines(slip, index):
    """[(time, wait)] of input `index`'s "error: ...; retrying in Xs" lines."""
    out = []
    for t, line in slip.stderr_since(0):
        m = re.match(rf"^error: input {index} \(.*; retrying in (\d+(?:\.\d)?)s$", line)
        if m:
            out.append((t, float(m.group(1))))
    return out


def many_inputs(camsim_bin, slipstream_bin, camsim):
    dead_port = faultlib.free_port()  # nothing listens here
    inputs = [
        camsim.uri(0),
        faultlib.camera_uri(camsim.port, 0, path="nosuchcam"),
        camsim.uri(1, password=faultlib.WRONG_PASSWORD),
        camsim.uri(1, user=None),
        faultlib.camera_uri(dead_port, 0),
        camsim.uri(1),
    ]
    expected = {
        1: r"not found \(404\): check the path in the URI",
        2: r"unauthorized \(401\): check the user name and password",
        3: r"unauthorized \(401\): the camera needs a login: add USER:PASSWORD@ before the host in the URI",
        4: rf"connection refused: nothing listens at 127\.0\.0\.1:{dead_port}",
    }
    slip = faultlib.Slipstream(slipstream_bin, inputs, name="slipstream-errors")
    try:
        start = time.monotonic()
        slip.expect_first_errors(expected, lambda index: faultlib.masked(inputs[index]))
        for good in (0, 5):
            slip.wait_frames(good, 10, 30, what=f"stream {good} starting")
        # Long enough for the third attempt of each (after 1 + 2 s) and the fourth's line.
        measured_from = time.monotonic()
        time.sleep(max(0.0, start + 9 - time.monotonic()))
        for good in (0, 5):
            slip.check_rate(good, FPS, measured_from, time.monotonic(), "next to failing inputs")
        for index in expected:
            check(not slip.frames(index), f"input {index} produced frames")
            tries = retry_lines(slip, index)
            waits = [w for _, w in tries]
            print(f"  input {index}: retry waits {waits}")
            check(waits[:3] == [1.0, 2.0, 4.0], f"input {index}: retry waits {waits}, expected 1, 2, 4 s first")
            # The camera answered: it waits its full backoff (give or take a tick), no early probe retry.
            if index in (1, 2, 3):
                for (t0, w), (t1, _) in zip(tries, tries[1:]):
                    check(t1 - t0 >= w - 0.3, f"input {index}: retried {t1 - t0:.2f} s after a {w} s wait")
        slip.stop(max_seconds=2.0)
    finally:
        slip.kill()


def require_all_fails(camsim_bin, slipstream_bin, camsim):
    inputs = [camsim.uri(0), camsim.uri(1, password=faultlib.WRONG_PASSWORD)]
    slip = faultlib.Slipstream(slipstream_bin, inputs, extra=["--require-all"], name="slipstream-require-all",
                               wait_output=False)
    try:
        slip.proc.proc.wait(30)
    except Exception:
        faultlib.fail("--require-all: still running 30 s after an input failed at start")
    finally:
        slip.kill()
    time.sleep(0.3)  # the readers drain
    code = slip.proc.proc.returncode
    err = slip.stderr()
    print(f"  --require-all with a wrong password: exit {code}; " + (err[-1] if err else "(no stderr)"))
    check(code not in (0, None) and code > 0, f"--require-all: exit {code}, expected a failure code")
    want = f"error: input 1 ({faultlib.masked(inputs[1])}): unauthorized (401): check the user name and password"
    check(want in err, "--require-all: the error line is missing:\n" + "\n".join(err))
    check(not any("retrying" in l for l in err), "--require-all: it retried instead of exiting")


def require_all_fine(camsim_bin, slipstream_bin, camsim):
    slip = faultlib.Slipstream(slipstream_bin, [camsim.uri(0), camsim.uri(1)], extra=["--require-all"],
                               name="slipstream-require-all-ok")
    try:
        for i in (0, 1):
            slip.wait_frames(i, 20, 30, what=f"--require-all, stream {i}")
        slip.stop()
    finally:
        slip.kill()


def test(camsim_bin, slipstream_bin):
    faultlib.run_with_camsim(camsim_bin, slipstream_bin, {
        "errors": lambda camsim: many_inputs(camsim_bin, slipstream_bin, camsim),
        "require-all fails": lambda camsim: require_all_fails(camsim_bin, slipstream_bin, camsim),
        "require-all fine": lambda camsim: require_all_fine(camsim_bin, slipstream_bin, camsim),
    }, fps=FPS)


if __name__ == "__main__":
    faultlib.main(test, sys.argv)
