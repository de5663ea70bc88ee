"""Glass-to-glass latency: camera send time to the viewer's decoded picture.

The cameras (slipstream-camsim --stamp --stamp-position bottom --stamp-cell C
--send-log FILE) paint a frame counter into every frame and log when each
frame was sent (CLOCK_REALTIME). A viewer (cv2.VideoCapture decoding the
output to grey frames) reads the counter of every tile of every output
picture the moment the picture is decoded. The latency of a camera frame is
the time from its send to the first output picture that shows it.

Tile geometry follows sstiler: rows = floor(sqrt n), columns = ceil(n/rows),
each camera fitted into its cell keeping its aspect ratio, centred. The stamp
sits along the bottom edge of each camera picture, away from the statistics
bar over the top of each tile. Layout: app/camsim/frame_stamp.hpp.

numpy and cv2 are imported where used, so that bench/gpu.py can import this
module (for glass_to_glass) with only Python's standard library; its own
pure-Python reader is in stamps.py."""
import threading
import time

from .layout import fit_inside, tiles_layout
from .metadata import percentile

STAMP_CELLS = 29
COUNTER_BITS = 24


class StampReader:
    """Where to sample each tile's stamp cells in the output picture."""

    def __init__(self, cameras, camera_size, cell, out_size=(1200, 600)):
        cw, ch = camera_size
        self.points = []
        for tile in tiles_layout(cameras, *out_size):
            px, py, pw, ph = fit_inside(cw, ch, tile)
            sx, sy = pw / cw, ph / ch
            y = py + (ch - cell / 2.0) * sy
            xs = [px + (k + 0.5) * cell * sx for k in range(STAMP_CELLS)]
            r = max(1, int(cell * min(sx, sy) / 4))  # half-width of the sampled patch
            self.points.append((int(round(y)), [int(round(x)) for x in xs], r))

    def read(self, luma):
        """Counter of each tile (None where unreadable: covered, blurred, torn)."""
        import numpy as np

        out = []
        for y, xs, r in self.points:
            band = luma[y - r:y + r + 1].astype(np.float32)
            values = [band[:, x - r:x + r + 1].mean() for x in xs]
            white = (values[0] + values[2]) / 2
            black = (values[1] + values[3]) / 2
            if white - black < 40:
                out.append(None)
                continue
            threshold = (white + black) / 2
            bits = [1 if v >= threshold else 0 for v in values]
            if bits[:4] != [1, 0, 1, 0] or sum(bits[4:]) % 2:
                out.append(None)
                continue
            counter = 0
            for b in bits[4:4 + COUNTER_BITS]:
                counter = counter * 2 + b
            out.append(counter)
        return out


class Viewer:
    """A viewer that adds as little delay as it can: cv2.VideoCapture on a
    GStreamer pipeline (no jitter buffer, one decoding thread) decoding to grey
    frames, the stamps of each picture read as soon as it is decoded; keeps
    (CLOCK_REALTIME ns, [counter per tile]). FFmpeg as the viewer would hold
    two frames back in its decoding (measured: 2 frame periods on a camera
    read directly), which would count against whatever is measured.

    source: "rtsp://..." or "rtp-udp:PORT" (H.264 RTP on a local UDP port)."""

    def __init__(self, source, reader, size=(1200, 600)):
        self.reader = reader
        self.w, self.h = size
        decode = "rtph264depay ! avdec_h264 max-threads=1 ! videoconvert ! video/x-raw,format=GRAY8 ! appsink sync=false"
        if source.startswith("rtsp://"):
            pipeline = "rtspsrc location=%s protocols=tcp latency=0 ! %s" % (source, decode)
        else:
            port = int(source.split(":")[1])
            pipeline = ('udpsrc address=127.0.0.1 port=%d buffer-size=4194304 caps="application/x-rtp,media=video,'
                        'encoding-name=H264,clock-rate=90000,payload=96" ! %s' % (port, decode))
        self.pipeline = pipeline
        self.capture = None
        self.pictures = []
        self.error = None
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def pid(self):
        return None  # runs in this process (its CPU is the bench's own)

    def _run(self):
        import cv2
        self.capture = cv2.VideoCapture(self.pipeline, cv2.CAP_GSTREAMER)
        if not self.capture.isOpened():
            self.error = "cannot open " + self.pipeline
            return
        while not self.stop_flag:
            ok, frame = self.capture.read()
            if not ok:
                break
            now = time.time_ns()
            if frame.ndim == 3:
                frame = frame[:, :, 0]
            if frame.shape[1] != self.w or frame.shape[0] != self.h:
                continue
            self.pictures.append((now, self.reader.read(frame)))
        self.capture.release()

    def stop(self):
        self.stop_flag = True
        self.thread.join(10)
        return self.pictures


def read_send_log(path):
    sends = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3 or not parts[0].startswith("cam"):
                continue
            sends.setdefault((int(parts[0][3:]), int(parts[1])), []).append(int(parts[2]))
    for v in sends.values():
        v.sort()
    return sends


def glass_to_glass(pictures, send_log, t0_ns, t1_ns, edge_s=10.0):
    """Latency samples: a camera frame counts when a tile's counter changes
    between two consecutive readable pictures (so its first showing is seen),
    from the most recent send of that counter before the picture."""
    sends = read_send_log(send_log)
    samples = []  # (picture time ns, latency ms)
    readable = unreadable = unmatched = 0
    previous = None
    for t, counters in pictures:
        if not (t0_ns <= t <= t1_ns):
            previous = counters
            continue
        for cam, c in enumerate(counters):
            if c is None:
                unreadable += 1
                continue
            readable += 1
            if previous is None or previous[cam] is None or previous[cam] == c:
                continue
            times = sends.get((cam, c))
            sent = None
            if times:
                for s in reversed(times):
                    if s <= t:
                        sent = s
                        break
            if sent is None:
                unmatched += 1
                continue
            samples.append((t, (t - sent) / 1e6))
        previous = counters
    lat = [ms for _, ms in samples]
    first = [ms for t, ms in samples if t < t0_ns + edge_s * 1e9]
    last = [ms for t, ms in samples if t > t1_ns - edge_s * 1e9]

    def r(x):
        return None if x is None else round(x, 1)

    return {
        "samples": len(samples),
        "pictures": sum(1 for t, _ in pictures if t0_ns <= t <= t1_ns),
        "tiles_readable_pct": round(100.0 * readable / max(1, readable + unreadable), 1),
        "unmatched": unmatched,
        "median_ms": r(percentile(lat, 50)), "p99_ms": r(percentile(lat, 99)),
        "min_ms": r(min(lat) if lat else None), "max_ms": r(max(lat) if lat else None),
        "first_10s_median_ms": r(percentile(first, 50)), "last_10s_median_ms": r(percentile(last, 50)),
    }
