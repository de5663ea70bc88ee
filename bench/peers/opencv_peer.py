#!/usr/bin/python3
"""opencv_peer.py -- a BASELINE FOR COMPARISON ONLY, NOT PART OF SLIPSTREAM.

The job slipstream does, written the way a user would write it without
slipstream, so bench/run.sh can measure both the same way:

  * one thread per camera reading RTSP with cv2.VideoCapture (FFmpeg backend),
  * a detection thread running cv2.dnn on the same ONNX model with the same
    pre- and post-processing as slipstream's default config (RGB / 255
    stretched to the input size, NanoDet GFL decode, cv2.dnn.NMSBoxes),
    cameras served round-robin, newest frame first, `--interval` frames
    skipped between detections of a camera,
  * the main thread drawing boxes and a statistics bar and tiling all cameras
    into one picture (same grid as slipstream) at a fixed frame rate,
  * an ffmpeg subprocess encoding that (libx264 superfast, zerolatency) and
    sending it as RTP to a viewer's UDP port (or MPEG-TS to any ffmpeg URL;
    ffmpeg's RTSP output cannot act as a server: `-rtsp_flags listen` is for
    input only).

No tracking: a user reproducing the original example would not write one.

Run with Debian's /usr/bin/python3 (python3-opencv, python3-numpy):
  opencv_peer.py --input rtsp://127.0.0.1:8555/cam0,rtsp://... \
      [--output rtp://127.0.0.1:5004 | tcp://127.0.0.1:8556?listen=1 | null] [--interval N] [--duration S]
A summary line like slipstream's goes to stderr at the end; --stats FILE
writes one JSON line per second with cumulative counters (for the benchmark).
"""
import argparse
import configparser
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

# Before cv2 opens any stream: RTSP over TCP, as slipstream does.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

# The output's grid as slipstream lays it out, the same code the benchmark's floors use.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib.layout import fit_inside, tiles_layout  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "..", "..", "configs", "default", "nanodet.txt")


def model_cache_dir():
    if os.environ.get("SLIPSTREAM_CACHE"):
        return os.path.join(os.environ["SLIPSTREAM_CACHE"], "models")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "slipstream", "models")


def load_config(path):
    """The few keys of slipstream's nvinfer-style config that this job needs."""
    ini = configparser.ConfigParser(inline_comment_prefixes=None, interpolation=None)
    ini.optionxform = str
    ini.read(path)
    prop = ini["property"]
    folder = os.path.dirname(os.path.abspath(path))
    onnx = prop["onnx-file"]
    model = onnx if os.path.isabs(onnx) else os.path.join(folder, onnx)
    if not os.path.exists(model):
        model = os.path.join(model_cache_dir(), onnx)
    labels_file = os.path.join(folder, prop.get("labelfile-path", "coco-labels.txt"))
    with open(labels_file) as f:
        labels = [line.strip() for line in f]
    _, h, w = (int(v) for v in prop["infer-dims"].split(";"))
    attrs = ini["class-attrs-all"] if ini.has_section("class-attrs-all") else {}
    groups = {}
    if ini.has_section("class-groups"):
        for name, members in ini["class-groups"].items():
            for label in members.split(";"):
                if label in labels:
                    groups[labels.index(label)] = name
    return {
        "model": model, "labels": labels, "width": w, "height": h,
        "classes": int(prop.get("num-detected-classes", len(labels))),
        "threshold": float(attrs.get("pre-cluster-threshold", 0.35)),
        "nms": float(attrs.get("nms-iou-threshold", 0.5)),
        "topk": int(attrs.get("topk", 100)),
        "groups": groups,
        "group_names": list(ini["class-groups"].keys()) if ini.has_section("class-groups") else [],
    }


class Detector:
    """cv2.dnn with NanoDet's GFL decode (one score and one box-distribution
    output per stride) and per-class NMS."""

    def __init__(self, config):
        self.c = config
        self.net = cv2.dnn.readNetFromONNX(config["model"])
        self.names = self.net.getUnconnectedOutLayersNames()

    def detect(self, frame):
        c = self.c
        h, w = frame.shape[:2]
        blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, (c["width"], c["height"]), swapRB=True, crop=False)
        self.net.setInput(blob)
        outputs = [o.reshape(o.shape[-2], o.shape[-1]) for o in self.net.forward(self.names)]
        scores = [o for o in outputs if o.shape[1] == c["classes"]]
        boxes = {o.shape[0]: o for o in outputs if o.shape[1] != c["classes"]}
        found_boxes, found_scores, found_classes = [], [], []
        for s in scores:
            anchors = s.shape[0]
            stride = next(st for st in (8, 16, 32, 64, 128)
                          if math.ceil(c["width"] / st) * math.ceil(c["height"] / st) == anchors)
            grid_w = math.ceil(c["width"] / stride)
            best = s.max(axis=1)
            keep = np.nonzero(best >= c["threshold"])[0]
            if keep.size == 0:
                continue
            logits = boxes[anchors][keep].reshape(keep.size, 4, -1)
            e = np.exp(logits - logits.max(axis=2, keepdims=True))
            bins = np.arange(logits.shape[2], dtype=np.float32)
            distance = (e * bins).sum(axis=2) / e.sum(axis=2) * stride
            cx = (keep % grid_w + 0.5) * stride
            cy = (keep // grid_w + 0.5) * stride
            sx, sy = w / c["width"], h / c["height"]
            x1 = np.clip((cx - distance[:, 0]) * sx, 0, w)
            y1 = np.clip((cy - distance[:, 1]) * sy, 0, h)
            x2 = np.clip((cx + distance[:, 2]) * sx, 0, w)
            y2 = np.clip((cy + distance[:, 3]) * sy, 0, h)
            for i in range(keep.size):
                if x2[i] > x1[i] and y2[i] > y1[i]:
                    found_boxes.append([float(x1[i]), float(y1[i]), float(x2[i] - x1[i]), float(y2[i] - y1[i])])
                    found_scores.append(float(best[keep[i]]))
                    found_classes.append(int(s[keep[i]].argmax()))
        result = []
        for cls in set(found_classes):
            idx = [i for i, k in enumerate(found_classes) if k == cls]
            kept = cv2.dnn.NMSBoxes([found_boxes[i] for i in idx], [found_scores[i] for i in idx],
                                    c["threshold"], c["nms"], top_k=c["topk"])
            for k in np.array(kept).reshape(-1)[:c["topk"]]:
                i = idx[int(k)]
                result.append((cls, found_scores[i], found_boxes[i]))
        return result


class Camera(threading.Thread):
    """Reads one camera as fast as it delivers; keeps only the newest frame."""

    def __init__(self, index, url, running):
        super().__init__(daemon=True)
        self.index, self.url, self.running = index, url, running
        self.lock = threading.Lock()
        self.frame = None
        self.number = 0         # frames read so far
        self.stream_ms = None   # position of the newest frame in the stream
        self.first = None       # (monotonic, stream ms) of the first frame

    def run(self):
        while self.running.is_set():
            capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG)
            while self.running.is_set() and capture.isOpened():
                ok, frame = capture.read()
                if not ok:
                    break
                position = capture.get(cv2.CAP_PROP_POS_MSEC)
                with self.lock:
                    self.frame = frame
                    self.number += 1
                    self.stream_ms = position
                    if self.first is None:
                        self.first = (time.monotonic(), position)
            capture.release()
            if self.running.is_set():
                time.sleep(1.0)  # camera gone: retry

    def latest(self):
        with self.lock:
            return self.frame, self.number


class DetectionLoop(threading.Thread):
    """Detects on the newest frame of the camera waiting longest, round-robin."""

    def __init__(self, detector, cameras, interval, running):
        super().__init__(daemon=True)
        self.detector, self.cameras, self.interval, self.running = detector, cameras, interval, running
        self.lock = threading.Lock()
        self.results = [None] * len(cameras)  # (frame number, frame size, objects)
        self.done = [0] * len(cameras)
        self.last_number = [0] * len(cameras)
        self.served_at = [0] * len(cameras)

    def run(self):
        turn = 0
        while self.running.is_set():
            choice = None
            for i in sorted(range(len(self.cameras)), key=lambda i: self.served_at[i]):
                frame, number = self.cameras[i].latest()
                if frame is None or number <= self.last_number[i]:
                    continue
                if self.last_number[i] and number < self.last_number[i] + self.interval + 1:
                    continue
                choice = (i, frame, number)
                break
            if choice is None:
                time.sleep(0.002)
                continue
            i, frame, number = choice
            objects = self.detector.detect(frame)
            turn += 1
            with self.lock:
                self.results[i] = (number, frame.shape[1::-1], objects)
                self.done[i] += 1
            self.last_number[i] = number
            self.served_at[i] = turn

    def result(self, i):
        with self.lock:
            return self.results[i]


COLOURS = [(60, 200, 255), (255, 160, 60), (90, 230, 90), (80, 80, 255), (230, 90, 230), (230, 230, 80)]


def draw(canvas, cell, index, frame, number, result, config):
    x, y, cw, ch = cell
    canvas[y:y + ch, x:x + cw] = 24
    counts = {name: 0 for name in config["group_names"]}
    if frame is not None:
        px, py, pw, ph = fit_inside(frame.shape[1], frame.shape[0], cell)
        canvas[py:py + ph, px:px + pw] = cv2.resize(frame, (pw, ph))
        if result is not None:
            _, (fw, fh), objects = result
            sx, sy = pw / fw, ph / fh
            for cls, score, (bx, by, bw, bh) in objects:
                group = config["groups"].get(cls)
                if group is not None:
                    counts[group] += 1
                colour = COLOURS[config["group_names"].index(group) % len(COLOURS)] if group else (200, 200, 200)
                p1 = (px + int(bx * sx), py + int(by * sy))
                p2 = (px + int((bx + bw) * sx), py + int((by + bh) * sy))
                cv2.rectangle(canvas, p1, p2, colour, 2)
                cv2.putText(canvas, "%s %.2f" % (config["labels"][cls], score), (p1[0], max(p1[1] - 3, 10)),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
    text = "Stream=%d Frame=%d Objects=%d %s" % (index, number, sum(counts.values()),
                                                 " ".join("%ss=%d" % (k, v) for k, v in counts.items()))
    bar = canvas[y:y + 22, x:x + cw]
    bar //= 4
    cv2.putText(canvas, text, (x + 4, y + 15), cv2.FONT_HERSHEY_SIMPLEX, min(0.45, cw / 1300), (240, 240, 240), 1,
                cv2.LINE_AA)


def encoder(output, width, height, fps, bitrate):
    args = ["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "%dx%d" % (width, height),
            "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "superfast", "-tune", "zerolatency",
            "-g", str(fps), "-b:v", str(bitrate), "-pix_fmt", "yuv420p"]
    if output == "null":
        args += ["-f", "null", "-"]
    elif output.startswith("rtp://"):
        # RTP to a viewer on that port; parameter sets in-band, so no SDP is needed.
        args += ["-x264-params", "repeat-headers=1", "-f", "rtp", output]
    else:
        args += ["-f", "mpegts", "-flush_packets", "1", output]
    return subprocess.Popen(args, stdin=subprocess.PIPE)


def main():
    p = argparse.ArgumentParser(description="OpenCV-only baseline of slipstream's job (for benchmarks)")
    p.add_argument("--input", required=True, help="comma-separated RTSP URLs")
    p.add_argument("--output", default="rtp://127.0.0.1:5004", help="rtp://HOST:PORT, another ffmpeg URL (MPEG-TS), or null")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--interval", type=int, default=0, help="frames skipped between detections of a camera")
    p.add_argument("--width", type=int, default=1200)
    p.add_argument("--height", type=int, default=600)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--bitrate", type=int, default=4000000)
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)")
    p.add_argument("--stats", help="write one JSON line per second with cumulative counters")
    a = p.parse_args()

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)

    config = load_config(a.config)
    urls = [u for u in a.input.split(",") if u]
    running = threading.Event()
    running.set()
    cameras = [Camera(i, u, running) for i, u in enumerate(urls)]
    for c in cameras:
        c.start()
    detection = DetectionLoop(Detector(config), cameras, a.interval, running)
    detection.start()
    cells = tiles_layout(len(urls), a.width, a.height)
    canvas = np.zeros((a.height, a.width, 3), np.uint8)
    ffmpeg = encoder(a.output, a.width, a.height, a.fps, a.bitrate)
    stats = open(a.stats, "w") if a.stats else None
    print("Output: %s" % a.output, flush=True)

    period = 1.0 / a.fps
    started = time.monotonic()
    next_frame = started
    next_stats = started
    written = 0
    shown = [0] * len(cameras)
    last_number = [0] * len(cameras)
    try:
        while not a.duration or time.monotonic() - started < a.duration:
            now = time.monotonic()
            if now < next_frame:
                time.sleep(next_frame - now)
            next_frame += period
            if time.monotonic() > next_frame + period:
                next_frame = time.monotonic()  # fell behind: do not burst to catch up
            for i, c in enumerate(cameras):
                frame, number = c.latest()
                if number != last_number[i]:
                    shown[i] += 1  # a camera frame that made it into the output
                    last_number[i] = number
                draw(canvas, cells[i], i, frame, number, detection.result(i), config)
            ffmpeg.stdin.write(canvas.tobytes())
            written += 1
            if stats and time.monotonic() >= next_stats:
                next_stats += 1.0
                row = {"t": time.monotonic(), "output": written, "detections": list(detection.done),
                       "frames": [c.number for c in cameras], "shown": list(shown), "stream_ms": [c.stream_ms for c in cameras],
                       "first": [c.first for c in cameras]}
                stats.write(json.dumps(row) + "\n")
                stats.flush()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    elapsed = time.monotonic() - started
    running.clear()
    # Let the threads leave OpenCV before the interpreter goes away.
    for t in cameras + [detection]:
        t.join(5)
    detected = sum(detection.done)
    print("summary: %.0f s, output %.1f fps, detection %.1f frames/s (%.2f per camera), camera fps %s" %
          (elapsed, written / elapsed, detected / elapsed, detected / elapsed / len(urls),
           ",".join("%.1f" % (c.number / elapsed) for c in cameras)), file=sys.stderr, flush=True)
    try:
        ffmpeg.stdin.close()
    except BrokenPipeError:
        pass
    try:
        ffmpeg.wait(5)
    except subprocess.TimeoutExpired:
        ffmpeg.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
