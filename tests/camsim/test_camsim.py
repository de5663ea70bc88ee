#!/usr/bin/python3
"""End-to-end checks of slipstream-camsim over real RTSP, read with ffprobe/ffmpeg.

Usage: test_camsim.py CAMSIM_BINARY serve|bad-input|stamp-block

serve:     two cameras (h264 768x576@10, h265 640x360@15, frame stamps and a
           send log on), checks codec, size and frame rate of each, two
           clients on one camera at once, the frame stamps against the send
           log, and a fast clean exit on SIGTERM.
bad-input: bad files and options end with exit status 2 and a one-line
           message naming the problem.
stamp-block: a 1080p camera with the block stamp (--stamp-shape block) at
           the bottom, read by the benchmark's pure-Python reader
           (bench/benchlib/stamps.py) at full size and shrunk as slipstream
           shows it as one of 100 tiles in 1200x600 (107x60 pixels): the
           counters follow each other and match the send log.

Every wait has a timeout, and camsim is killed whatever happens (also if this
script is killed), so a hang fails the test instead of blocking it. Checks
are loose on timing so they hold on a loaded 2-core machine.
"""
import ctypes
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

SAMPLE = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
READY_TIMEOUT_S = 300  # a first run encodes before serving; slow under load
CLIENT_TIMEOUT_S = 60
READ_SECONDS = 3
LOOP_SECONDS = 2.5  # shorter than READ_SECONDS, so every read crosses a loop


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def die_with_parent():
    # PR_SET_PDEATHSIG: if this script dies (e.g. killed by a CTest timeout),
    # the kernel kills camsim too.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


class Camsim:
    """A running camsim whose stdout lines are collected by a thread."""

    def __init__(self, binary, args, env):
        self.stderr_file = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                        text=True, env=env, preexec_fn=die_with_parent)
        self.lines = []
        self.ready = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stdout(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == "ready":
                self.ready.set()
        self.ready.set()  # stdout closed: wake the waiter, which then sees no "ready"

    def stderr_text(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read()

    def wait_ready(self):
        if not self.ready.wait(READY_TIMEOUT_S) or "ready" not in self.lines:
            fail("camsim did not print 'ready' within %d s (exit status %s)\nstdout: %s\nstderr: %s" %
                 (READY_TIMEOUT_S, self.process.poll(), self.lines, self.stderr_text()))

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def parse_camera_lines(lines):
    cameras = {}
    pattern = re.compile(r"^cam(\d+) (rtsp://127\.0\.0\.1:(\d+)/cam\1) (h264|h265) (\d+)x(\d+)@(\d+) from (.+)$")
    for line in lines:
        if line == "ready":
            break
        match = pattern.match(line)
        check(match, "unexpected camera line: %r" % line)
        cameras[int(match.group(1))] = {
            "url": match.group(2), "codec": match.group(4), "width": int(match.group(5)),
            "height": int(match.group(6)), "fps": int(match.group(7)), "file": match.group(8)}
    return cameras


def start_probe(url):
    """ffprobe reading READ_SECONDS of the stream: stream info plus packet times."""
    command = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-timeout", "10000000",
               "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height:packet=pts_time",
               "-read_intervals", "%%+%d" % READ_SECONDS, "-of", "json", url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, time.monotonic()


def finish_probe(probe, name, codec, width, height, fps):
    process, started = probe
    try:
        out, err = process.communicate(timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        fail("%s: ffprobe did not finish within %d s" % (name, CLIENT_TIMEOUT_S))
    wall_s = time.monotonic() - started
    check(process.returncode == 0, "%s: ffprobe failed (%d): %s" % (name, process.returncode, err.strip()))
    result = json.loads(out)
    stream = result["streams"][0]
    check(stream["codec_name"] == codec, "%s: codec %s, expected %s" % (name, stream["codec_name"], codec))
    check((stream["width"], stream["height"]) == (width, height),
          "%s: size %dx%d, expected %dx%d" % (name, stream["width"], stream["height"], width, height))

    times = [float(p["pts_time"]) for p in result.get("packets", []) if p.get("pts_time") not in (None, "N/A")]
    check(len(times) >= fps * READ_SECONDS * 0.6,
          "%s: only %d frames in %d s at %d fps" % (name, len(times), READ_SECONDS, fps))
    check(all(b > a for a, b in zip(times, times[1:])),
          "%s: timestamps do not keep increasing across the loop: %s" % (name, times))
    measured_fps = (len(times) - 1) / (times[-1] - times[0])
    check(abs(measured_fps - fps) <= 0.2 * fps, "%s: %.2f fps, expected %d" % (name, measured_fps, fps))
    # A live source cannot deliver READ_SECONDS of video much faster than that.
    check(wall_s >= READ_SECONDS * 0.6,
          "%s: read %d s of video in %.2f s; not paced in real time" % (name, READ_SECONDS, wall_s))
    print("ok %s: %s %dx%d %.2f fps, %d frames in %.1f s" % (name, codec, width, height, measured_fps,
                                                            len(times), wall_s), flush=True)


def decode_stamps(url, width, height, frames):
    """Frame counters painted by --stamp (layout in app/camsim/frame_stamp.hpp)."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-timeout", "10000000", "-i", url,
               "-frames:v", str(frames), "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        fail("stamp: ffmpeg did not finish within %d s" % CLIENT_TIMEOUT_S)
    check(result.returncode == 0, "stamp: ffmpeg failed: %s" % result.stderr.decode(errors="replace").strip())
    cell = max(8, 2 * (width // 128))
    counters = []
    frame_size = width * height
    for index in range(len(result.stdout) // frame_size):
        luma = result.stdout[index * frame_size:(index + 1) * frame_size]
        bits = [1 if luma[(cell // 2) * width + k * cell + cell // 2] >= 128 else 0 for k in range(29)]
        valid = bits[:4] == [1, 0, 1, 0] and sum(bits[4:29]) % 2 == 0
        counters.append(int("".join(map(str, bits[4:28])), 2) if valid else None)
    return counters


def check_stamps(camera_index, camera, send_log_path):
    loop_frames = math.ceil(LOOP_SECONDS * camera["fps"])  # as camsim --duration cuts it
    counters = decode_stamps(camera["url"], camera["width"], camera["height"], 12)
    valid = [c for c in counters if c is not None]
    check(len(valid) >= 8, "stamp: only %d of %d frames carry a readable stamp: %s" %
          (len(valid), len(counters), counters))
    for a, b in zip(valid, valid[1:]):
        check(1 <= (b - a) % loop_frames <= 3, "stamp: counters out of sequence: %s" % counters)
    with open(send_log_path) as log:
        sent = {int(parts[1]) for parts in (line.split() for line in log)
                if len(parts) == 3 and parts[0] == "cam%d" % camera_index}
    missing = [c for c in valid if c not in sent]
    check(not missing, "stamp: counters %s not in the send log (sent: %s)" % (missing, sorted(sent)))
    print("ok stamp: cam%d counters %s match the send log" % (camera_index, valid), flush=True)


def decode_block_stamps(url, frames, filters, reader, size):
    """Counters read by bench/benchlib/stamps.py from ffmpeg's grey pictures."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-timeout", "10000000", "-i", url,
               "-frames:v", str(frames), "-fps_mode", "passthrough"]
    if filters:
        command += ["-vf", filters]
    command += ["-f", "rawvideo", "-pix_fmt", "gray", "-"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        fail("stamp: ffmpeg did not finish within %d s" % CLIENT_TIMEOUT_S)
    check(result.returncode == 0, "stamp: ffmpeg failed: %s" % result.stderr.decode(errors="replace").strip())
    frame_size = size[0] * size[1]
    return [reader.read(result.stdout[i * frame_size:(i + 1) * frame_size], size[0])[0]
            for i in range(len(result.stdout) // frame_size)]


def test_stamp_block(binary):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
    from benchlib.layout import fit_inside, tiles_layout
    from benchlib.stamps import TileStamps

    env = dict(os.environ)
    fps = 15
    with tempfile.TemporaryDirectory(prefix="camsim-test-") as scratch:
        env.setdefault("SLIPSTREAM_CACHE", os.path.join(scratch, "cache"))
        send_log = os.path.join(scratch, "send.log")
        camsim = Camsim(binary, ["--port", "0", "--width", "1920", "--height", "1080", "--fps", str(fps),
                                 "--bitrate", "4M", "--duration", str(LOOP_SECONDS), "--stamp-shape", "block",
                                 "--stamp-position", "bottom", "--send-log", send_log, SAMPLE], env)
        try:
            camsim.wait_ready()
            camera = parse_camera_lines(camsim.lines)[0]
            check((camera["width"], camera["height"]) == (1920, 1080), "camera line: %s" % camera)
            # As slipstream shows camera 0 of 100 in 1200x600: scaled down by area
            # to its working size, then bilinear into the tile (sstiler).
            px, py, pw, ph = fit_inside(1920, 1080, tiles_layout(100, 1200, 600)[0])
            shrink = ("scale=416:234:flags=area,scale=%d:%d:flags=bilinear,pad=1200:600:%d:%d" % (pw, ph, px, py))
            readings = [
                ("full size", None, TileStamps(1, (1920, 1080), shape="block", bottom=True, out_size=(1920, 1080)),
                 (1920, 1080)),
                ("a %dx%d tile of 100" % (pw, ph), shrink,
                 TileStamps(100, (1920, 1080), shape="block", bottom=True, tiles=[0]), (1200, 600)),
            ]
            loop_frames = math.ceil(LOOP_SECONDS * fps)
            for name, filters, reader, size in readings:
                counters = decode_block_stamps(camera["url"], 12, filters, reader, size)
                valid = [c for c in counters if c is not None]
                check(len(valid) >= 10, "block stamp, %s: only %d of %d frames readable: %s" %
                      (name, len(valid), len(counters), counters))
                for a, b in zip(valid, valid[1:]):
                    check(1 <= (b - a) % loop_frames <= 3, "block stamp, %s: out of sequence: %s" % (name, counters))
                with open(send_log) as log:
                    sent = {int(p[1]) for p in (line.split() for line in log) if len(p) == 3 and p[0] == "cam0"}
                missing = [c for c in valid if c not in sent]
                check(not missing, "block stamp, %s: counters %s not in the send log" % (name, missing))
                print("ok block stamp, %s (cells %s px): %s" % (name, reader.cell_px[0], valid), flush=True)
        finally:
            camsim.kill()


def test_serve(binary):
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="camsim-test-") as scratch:
        env.setdefault("SLIPSTREAM_CACHE", os.path.join(scratch, "cache"))
        send_log = os.path.join(scratch, "send.log")
        camsim = Camsim(binary, ["--port", "0", "--codec", "h264,h265", "--width", "768,640", "--height", "576,360",
                                 "--fps", "10,15", "--duration", str(LOOP_SECONDS), "--stamp",
                                 "--send-log", send_log, SAMPLE, SAMPLE], env)
        try:
            started = time.monotonic()
            camsim.wait_ready()
            print("ok ready after %.1f s" % (time.monotonic() - started), flush=True)
            cameras = parse_camera_lines(camsim.lines)
            check(sorted(cameras) == [0, 1], "expected cam0 and cam1, got %s" % camsim.lines)
            check((cameras[0]["codec"], cameras[0]["width"], cameras[0]["height"], cameras[0]["fps"]) ==
                  ("h264", 768, 576, 10), "cam0 line: %s" % cameras[0])
            check((cameras[1]["codec"], cameras[1]["width"], cameras[1]["height"], cameras[1]["fps"]) ==
                  ("h265", 640, 360, 15), "cam1 line: %s" % cameras[1])

            # Both cameras at once.
            probe0 = start_probe(cameras[0]["url"])
            probe1 = start_probe(cameras[1]["url"])
            finish_probe(probe0, "cam0", "h264", 768, 576, 10)
            finish_probe(probe1, "cam1", "hevc", 640, 360, 15)

            # Two clients sharing one camera (its media is created afresh too,
            # since the previous clients left).
            first = start_probe(cameras[0]["url"])
            time.sleep(0.5)
            second = start_probe(cameras[0]["url"])
            finish_probe(first, "cam0 client A", "h264", 768, 576, 10)
            finish_probe(second, "cam0 client B", "h264", 768, 576, 10)

            check_stamps(1, cameras[1], send_log)

            check(camsim.process.poll() is None, "camsim exited early: %s" % camsim.stderr_text())
            camsim.process.send_signal(signal.SIGTERM)
            stop_requested = time.monotonic()
            try:
                status = camsim.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                fail("camsim did not exit within 10 s of SIGTERM")
            took_s = time.monotonic() - stop_requested
            check(status == 0, "camsim exited with %d after SIGTERM: %s" % (status, camsim.stderr_text()))
            check(took_s < 3, "camsim took %.2f s to exit after SIGTERM" % took_s)
            print("ok SIGTERM: exit 0 after %.2f s" % took_s, flush=True)
        finally:
            camsim.kill()


def run_bad(binary, args, expect_in_message, env):
    try:
        result = subprocess.run([binary] + args, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        fail("%s: camsim did not exit within %d s" % (args, CLIENT_TIMEOUT_S))
    message = result.stderr.strip()
    check(result.returncode == 2, "%s: exit status %d, expected 2 (stderr: %s)" % (args, result.returncode, message))
    check(len(message.splitlines()) == 1, "%s: expected a one-line message, got: %r" % (args, message))
    check(expect_in_message in message, "%s: message does not mention %r: %r" % (args, expect_in_message, message))
    print("ok %s -> %s" % (" ".join(args), message), flush=True)


def test_bad_input(binary):
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="camsim-test-") as scratch:
        env["SLIPSTREAM_CACHE"] = os.path.join(scratch, "cache")
        not_video = os.path.join(scratch, "notes.txt")
        with open(not_video, "w") as f:
            f.write("not a video\n")
        missing = os.path.join(scratch, "missing.mp4")
        run_bad(binary, ["--port", "0", missing], missing, env)
        run_bad(binary, ["--port", "0", not_video], not_video, env)
        run_bad(binary, ["--port", "0", "--codec", "vp9", SAMPLE], "--codec", env)
        run_bad(binary, ["--port", "0", "--width", "641", SAMPLE], "--width", env)
        run_bad(binary, ["--port", "0", "--fps", "ten", SAMPLE], "--fps", env)
        run_bad(binary, ["--port", "0", "--frobnicate", SAMPLE], "--frobnicate", env)
        run_bad(binary, ["--port", "0"], "FILE", env)

        result = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S)
        check(result.returncode == 0 and "--codec" in result.stdout and "--stamp" in result.stdout,
              "--help: status %d, output %r" % (result.returncode, result.stdout[:200]))
        print("ok --help", flush=True)


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("serve", "bad-input", "stamp-block"):
        print(__doc__)
        return 2
    binary = sys.argv[1]
    check(os.access(binary, os.X_OK), "not an executable: %s" % binary)
    check(os.path.exists(SAMPLE), "sample video missing: %s (install opencv-doc)" % SAMPLE)
    if sys.argv[2] == "serve":
        test_serve(binary)
    elif sys.argv[2] == "stamp-block":
        test_stamp_block(binary)
    else:
        test_bad_input(binary)
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
