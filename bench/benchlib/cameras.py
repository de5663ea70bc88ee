"""slipstream-camsim as the benchmark's cameras."""
import os
import re

from .proc import Child

SAMPLE = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


class Camsim:
    """Starts slipstream-camsim on a free port and waits until it serves (a first
    run encodes and caches each stream, which can take a minute at 1080p)."""

    def __init__(self, binary, count, extra=(), name="camsim", send_log=None, video=SAMPLE, ready_timeout=900, env=None):
        args = [binary, "--port", "0", "--address", "127.0.0.1", "--count", str(count)] + list(extra)
        if send_log:
            if os.path.exists(send_log):
                os.unlink(send_log)
            args += ["--send-log", send_log]
        args.append(video)
        self.child = Child(args, name, env=env)
        self.child.wait_for(lambda l: l.strip() == "ready", ready_timeout, "'ready'")
        self.urls = []
        self.shape = None
        for line in self.child.text("out"):
            m = re.match(r"cam(\d+) (rtsp://\S+) (\S+) (\d+)x(\d+)@(\d+)", line)
            if m:
                self.urls.append(m.group(2))
                self.shape = (int(m.group(4)), int(m.group(5)), int(m.group(6)))
        if len(self.urls) != count:
            raise RuntimeError("camsim served %d cameras, expected %d: %s" % (len(self.urls), count, self.child.text()))

    @property
    def pid(self):
        return self.child.pid

    def stop(self):
        return self.child.stop()
