#!/usr/bin/python3
"""OpenCV DNN must take its buffers from slipstream's cache-line-aligned
operator new (core/src/aligned_new.cpp), not libstdc++'s: in the slipstream
command, and in gst-launch tools that load the plugin.

  test_aligned_new.py EXPECTED_DEFINER COMMAND...

runs COMMAND with every symbol bound at load and the dynamic linker's binding
log on, and requires each binding of OpenCV DNN's operator new and new[], in
every process COMMAND starts, to name EXPECTED_DEFINER."""
import os
import re
import subprocess
import sys


def main(expected, command):
    env = dict(os.environ, LD_BIND_NOW="1", LD_DEBUG="bindings")
    env.pop("LD_DEBUG_OUTPUT", None)  # the log must come on stderr
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    for symbol in ("_Znam", "_Znwm"):
        # "binding file <user> [0] to <definer> [0]: normal symbol `_Znam' [GLIBCXX_3.4]"
        definers = [re.search(r" to (.*?) \[\d+\]: ", l).group(1) for l in result.stderr.splitlines()
                    if "libopencv_dnn" in l and re.search(r"symbol [`']%s'" % symbol, l)]
        assert definers, f"no binding of OpenCV DNN's {symbol} logged by {command}"
        assert all(d == expected for d in definers), f"OpenCV DNN's {symbol} binds to {sorted(set(definers))}, not {expected}"
    print(f"test_aligned_new: OpenCV DNN's operator new and new[] are {expected}'s")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_aligned_new.py EXPECTED_DEFINER COMMAND...")
    main(sys.argv[1], sys.argv[2:])
