#!/usr/bin/python3
"""Shutdown at any moment, and bounded resources while inputs keep failing.

  mid-retry     SIGTERM at random moments while an input waits to retry
                (nothing listens on its port): exit 0 within 2 s, each time;
  mid-connect   SIGTERM while an input's connection hangs unanswered (a
                frozen relay: TCP connected, RTSP never answered): exit 0
                within 2 s;
  limits        three inputs failing three ways (refused; connection that
                hangs; 404) for 40 s with a short backoff, next to a good
                camera: at most one connection in flight per input at any
                time, threads, open files and memory flat, the good camera
                at its rate throughout."""
import random
import statistics
import sys
import time

import faultlib
from faultlib import check

FPS = 10


def mid_retry(slipstream_bin, camsim):
    rng = random.Random()
    for attempt in range(4):
        slip = faultlib.Slipstream(slipstream_bin, [camsim.uri(0), faultlib.camera_uri(faultlib.free_port(), 0)],
                                   name="slipstream-mid-retry")
        try:
            t, _ = slip.wait_stderr(r"^error: input 1 .*; retrying in", 20, what="the first retry line")
            # Somewhere in the retry cycle: waiting, probing, retrying, diagnosing.
            time.sleep(rng.uniform(0.0, 3.5))
            took = slip.stop(max_seconds=2.0)
            print(f"  mid-retry {attempt + 1}: SIGTERM {time.monotonic() - took - t:.2f} s after the first retry "
                  f"line: stopped in {took:.2f} s")
        finally:
            slip.kill()


def mid_connect(slipstream_bin, camsim):
    relay = faultlib.Relay(camsim.port, frozen=True, name="relay-frozen")
    try:
        for attempt in range(2):
            slip = faultlib.Slipstream(slipstream_bin, [camsim.uri(0), faultlib.camera_uri(relay.port, 1)],
                                       name="slipstream-mid-connect")
            try:
                slip.wait_frames(0, 5, 30, what="the good camera")
                # The hanging input's TCP connection is up; its RTSP request waits for an answer.
                deadline = time.monotonic() + 10
                while faultlib.tcp_connections(slip.proc.proc.pid, relay.port) < 1:
                    check(time.monotonic() < deadline, "mid-connect: no connection to the frozen relay")
                    time.sleep(0.1)
                time.sleep(random.uniform(0.0, 2.0))
                slip.stop(max_seconds=2.0)
            finally:
                slip.kill()
    finally:
        relay.stop()


def limits(slipstream_bin, camsim):
    relay = faultlib.Relay(camsim.port, frozen=True, name="relay-hang")
    dead_port = faultlib.free_port()
    inputs = [camsim.uri(0), faultlib.camera_uri(dead_port, 0), faultlib.camera_uri(relay.port, 1),
              faultlib.camera_uri(camsim.port, 0, path="nosuchcam")]
    slip = faultlib.Slipstream(slipstream_bin, inputs, extra=["--reconnect-max", "1"], name="slipstream-limits")
    try:
        slip.wait_frames(0, 10, 30, what="the good camera")
        pid = slip.proc.proc.pid
        start = time.monotonic()
        samples = []  # (t, rss KiB, threads, fds)
        most = {dead_port: 0, relay.port: 0, camsim.port: 0}
        hanging = []  # connections to the hanging input, per sample
        while time.monotonic() - start < 40:
            check(slip.proc.proc.poll() is None, "slipstream exited\n" + "\n".join(slip.stderr()[-20:]))
            for port in most:
                n = faultlib.tcp_connections(pid, port)
                most[port] = max(most[port], n)
                if port == relay.port:
                    hanging.append(n)
            samples.append((time.monotonic() - start, faultlib.proc_status(pid, "VmRSS"),
                            faultlib.proc_status(pid, "Threads"), faultlib.open_fds(pid)))
            time.sleep(0.1)
        slip.check_rate(0, FPS, start, time.monotonic(), "next to three failing inputs")
        retries = {i: sum(1 for l in slip.stderr() if l.startswith(f"error: input {i} ")) for i in (1, 2, 3)}
        print(f"  failed attempts in 40 s: {retries}")
        check(all(n >= 5 for n in retries.values()), f"too few retries to say anything: {retries}")
        # Connections: the good camera's one, and one per failing input: its
        # attempt, or the probe that checks whether it is reachable. An attempt
        # torn down while its request hangs may close its socket a moment
        # after the next probe opened one, so two at once are possible, briefly;
        # never a pile-up.
        single = sum(1 for n in hanging if n <= 1) / len(hanging)
        print(f"  most connections at once: refused port {most[dead_port]}, hanging relay {most[relay.port]} "
              f"(at most one in {single * 100:.0f}% of samples), camsim (good + 404 input) {most[camsim.port]}")
        check(most[relay.port] <= 2, f"{most[relay.port]} connections at once to the hanging input")
        check(single >= 0.9, f"two connections to the hanging input in {(1 - single) * 100:.0f}% of samples")
        check(most[camsim.port] <= 3, f"{most[camsim.port]} connections at once to camsim (good + 404 input)")

        def window(lo, hi, column):
            return [s[column] for s in samples if lo <= s[0] < hi]
        early, late = statistics.median(window(5, 15, 1)), statistics.median(window(30, 40, 1))
        threads_early, threads_late = max(window(5, 15, 2)), max(window(30, 40, 2))
        fds_early, fds_late = max(window(5, 15, 3)), max(window(30, 40, 3))
        print(f"  RSS {early / 1024:.1f} -> {late / 1024:.1f} MiB ({(late - early) / early * 100:+.1f}%), "
              f"threads {threads_early} -> {threads_late}, open files {fds_early} -> {fds_late}")
        check(late <= early * 1.05, f"memory grew {(late - early) / early * 100:.1f}% in 25 s of retries")
        # An attempt in flight has a few threads and sockets of its own, so the
        # peaks vary by that much; a leak of even one per attempt (40 attempts
        # per input here) would be far more.
        check(threads_late <= threads_early + 8, f"threads grew from {threads_early} to {threads_late}")
        check(fds_late <= fds_early + 8, f"open files grew from {fds_early} to {fds_late}")
        slip.stop(max_seconds=2.0)
    finally:
        slip.kill()
        relay.stop()


def test(camsim_bin, slipstream_bin):
    faultlib.run_with_camsim(camsim_bin, slipstream_bin, {
        "limits": lambda camsim: limits(slipstream_bin, camsim),
        "shutdown": lambda camsim: (mid_retry(slipstream_bin, camsim), mid_connect(slipstream_bin, camsim)),
    }, fps=FPS)


if __name__ == "__main__":
    faultlib.main(test, sys.argv)
