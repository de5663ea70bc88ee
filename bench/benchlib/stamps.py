"""Frame stamps read in pure Python, and a viewer that needs only gst-launch-1.0.

bench/gpu.py runs where there is no numpy, OpenCV or FFmpeg (a GPU server
with only the portable bundle): the output is decoded by the bundle's
gst-launch-1.0 into raw GRAY8 pictures on a pipe, and the stamp of the tiles
asked for is read here from those bytes.

Stamp layout (both shapes, --stamp-shape row|block): app/camsim/frame_stamp.hpp.
Tile geometry: layout.py (as sstiler lays the cameras out). A cell's centre
in camera pixels maps into the output picture by the tile's scale; the
output pixel that holds that point is sampled with a small square patch
(half of the shrunk cell's width across), the threshold is halfway between
the marker's white and black cells, and a reading counts only when the
marker reads white, black, white, black and the parity holds."""
import fcntl
import math
import os
import shlex
import subprocess
import threading
import time

from .layout import fit_inside, tiles_layout

STAMP_CELLS = 29
COUNTER_BITS = 24
SHAPES = {"row": (STAMP_CELLS, 1), "block": (8, 4)}  # cells across, cells down


def default_cell(shape, width):
    """camsim's cell size for this shape and frame width (frame_stamp.hpp)."""
    return max(8, 2 * (width // (40 if shape == "block" else 128)))


class TileStamps:
    """Reads the stamp of some tiles of an output picture (GRAY8 bytes)."""

    def __init__(self, cameras, camera_size, cell=0, shape="block", bottom=True, out_size=(1200, 600), tiles=None):
        cw, ch = camera_size
        cell = cell or default_cell(shape, cw)
        across, down = SHAPES[shape]
        top = ((ch - down * cell) & ~1) if bottom else 0
        self.width, self.height = out_size
        self.tiles = list(range(cameras)) if tiles is None else list(tiles)
        layout = tiles_layout(cameras, *out_size)
        self.points = []  # per tile read: (patch half-width, [(x, y) per cell])
        self.cell_px = []  # a cell's size in the output, per tile read
        for t in self.tiles:
            px, py, pw, ph = fit_inside(cw, ch, layout[t])
            sx, sy = pw / cw, ph / ch
            centres = []
            for k in range(STAMP_CELLS):
                x = px + ((k % across) + 0.5) * cell * sx
                y = py + (top + ((k // across) + 0.5) * cell) * sy
                centres.append((min(self.width - 1, int(math.floor(x))), min(self.height - 1, int(math.floor(y)))))
            shrunk = cell * min(sx, sy)
            self.cell_px.append(round(shrunk, 2))
            self.points.append((max(0, int(shrunk / 4)), centres))

    def read(self, luma, stride=None):
        """Counter of each tile read (None where unreadable: covered, blurred, torn)."""
        stride = stride or self.width
        out = []
        for r, centres in self.points:
            values = []
            for x, y in centres:
                total = n = 0
                for yy in range(max(0, y - r), min(self.height, y + r + 1)):
                    row = yy * stride
                    for xx in range(max(0, x - r), min(self.width, x + r + 1)):
                        total += luma[row + xx]
                        n += 1
                values.append(total / n)
            out.append(decode_cells(values))
        return out


def decode_cells(values):
    """The counter from the 29 cells' luma values, or None."""
    white = (values[0] + values[2]) / 2
    black = (values[1] + values[3]) / 2
    if white - black < 40:
        return None
    threshold = (white + black) / 2
    bits = [1 if v >= threshold else 0 for v in values]
    if bits[:4] != [1, 0, 1, 0] or sum(bits[4:STAMP_CELLS]) % 2:
        return None
    counter = 0
    for b in bits[4:4 + COUNTER_BITS]:
        counter = counter * 2 + b
    return counter


def gray_stride(width):
    """GStreamer's default row stride of a GRAY8 picture."""
    return (width + 3) & ~3


class GstViewer:
    """A viewer of slipstream's RTSP output made of the bundle's gst-launch-1.0:
    rtspsrc (no jitter buffer) -> depay -> parse -> decoder (openh264dec,
    which returns each picture as soon as its access unit is in) -> GRAY8 on
    stdout. Each picture's stamps are read the moment its last byte arrives,
    as (CLOCK_REALTIME ns, [counter per tile read]), like latency.Viewer.
    The pictures' bytes are not kept. decoder: an element and its
    properties, e.g. "avdec_h264 max-threads=1".

    What the viewer itself adds differs by decoder: on a 1080p30 camera read
    directly (2 cores, Debian 12), openh264dec showed frames 51 ms after
    they were sent, avdec_h264 10 ms (OpenH264 holds a picture back in
    streams above Baseline profile); bench/gpu.py measures it in each run."""

    def __init__(self, gst_launch, url, reader, size=(1200, 600), decoder="openh264dec", env=None):
        self.reader = reader
        self.w, self.h = size
        self.stride = gray_stride(self.w)
        self.frame_bytes = self.stride * self.h
        self.args = ([gst_launch, "-q", "rtspsrc", "location=" + url, "protocols=tcp", "latency=0", "!",
                      "rtph264depay", "!", "h264parse", "!"] + shlex.split(decoder) +
                     ["!", "videoconvert", "!", "video/x-raw,format=GRAY8,width=%d,height=%d" % size, "!",
                      "fdsink", "fd=1", "sync=false"])
        self.pictures = []
        self.errors = []
        self.read_s = 0.0  # this process's time spent reading stamps
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     env=env, bufsize=0, start_new_session=True)
        try:  # a larger pipe: the viewer never waits for this process
            fcntl.fcntl(self.proc.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.err_thread = threading.Thread(target=self._errors, daemon=True)
        self.thread.start()
        self.err_thread.start()

    @property
    def pid(self):
        return self.proc.pid

    def _errors(self):
        for line in self.proc.stderr:
            text = line.decode(errors="replace").rstrip()
            if text and len(self.errors) < 50:
                self.errors.append(text)

    def _run(self):
        buf = bytearray(self.frame_bytes)
        view = memoryview(buf)
        fd = self.proc.stdout.fileno()
        while True:
            got = 0
            while got < self.frame_bytes:
                n = os.readv(fd, [view[got:]])
                if n <= 0:
                    return
                got += n
            now = time.time_ns()
            c0 = time.thread_time()
            counters = self.reader.read(buf, self.stride)
            self.read_s += time.thread_time() - c0
            self.pictures.append((now, counters))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.thread.join(5)
        self.err_thread.join(2)
        return self.pictures
