"""Shared pieces of slipstream's fault-injection tests (tests/faults/).

Builds on tests/e2e/harness.py (processes with bounded waits, logs saved under
build/test-logs/<test>/): simulated cameras, a TCP relay that cuts the network,
slipstream with its metadata followed live, and frame-rate checks per stream.
Everything runs on 127.0.0.1."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402

SAMPLE = harness.SAMPLE
free_port = harness.free_port

# The test cameras' login. The passwords must never show up in any log or
# metadata file (checked by check_logs.py after all tests ran), so keep them
# distinctive and never print a URI that holds them.
USER = "viewer"
PASSWORD = "S3cretPass"
WRONG_PASSWORD = "Wr0ngPass"
SECRETS = (PASSWORD, WRONG_PASSWORD)

# A light pipeline: small output, detection on one frame in 30, no per-frame
# lines (the metadata has them), output server on loopback only.
LIGHT = ["--bind", "127.0.0.1", "--width", "480", "--height", "270", "--bitrate", "500000", "--interval", "30",
         "--show-frames", "no"]


def camera_uri(port, index, user=USER, password=PASSWORD, path=None):
    login = f"{user}:{password}@" if user else ""
    return f"rtsp://{login}127.0.0.1:{port}/{path or f'cam{index}'}"


def masked(uri):
    """How slipstream shows a URI: credentials as ***."""
    return re.sub(r"://[^/@\s]*@", "://***@", uri)


def fail(message):
    raise AssertionError(message)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Camsim:
    """slipstream-camsim on a fixed port, restartable: kill() and start() again."""

    def __init__(self, binary, port=None, count=1, codec="h264", width=640, height=360, fps=10, auth=None,
                 duration=10, name="camsim", file=SAMPLE):
        self.binary, self.port, self.name = binary, port or free_port(), name
        self.args = [binary, "--port", str(self.port), "--count", str(count), "--codec", codec, "--width", str(width),
                     "--height", str(height), "--fps", str(fps), "--duration", str(duration)]
        if auth:
            self.args += ["--auth", auth]
        self.args.append(file)
        self.proc = None
        self.ready_at = None

    def start(self, timeout=600):
        self.proc = harness.Process(self.args, name=self.name)
        # The first run ever encodes the sample once per format (cached afterwards).
        self.proc.wait_for(lambda p: any(l == "ready" for l in p.stdout()), timeout, f"{self.name} ready")
        with self.proc.lock:
            self.ready_at = next(t for t, l in self.proc.lines if l == "ready")
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc:
            if sig == signal.SIGKILL:
                self.proc.kill()
            else:
                self.proc.stop(sig)

    def stop(self):
        if self.proc:
            self.proc.stop()

    def uri(self, index, **kw):
        return camera_uri(self.port, index, **kw)


class Relay:
    """tests/faults/relay.py as a child process; command() waits for its "ok"."""

    def __init__(self, target_port, frozen=False, name="relay"):
        self.port = free_port()
        args = [sys.executable, os.path.join(HERE, "relay.py"), str(self.port), str(target_port)]
        if frozen:
            args.append("--frozen")
        self.proc = harness.Process(args, name=name, stdin=subprocess.PIPE)
        self.proc.wait_for(lambda p: any(l.startswith("ready") for l in p.stdout()), 20, "relay ready")

    def command(self, word, timeout=10):
        before = len(self.proc.stdout())
        self.proc.proc.stdin.write(word + "\n")
        self.proc.proc.stdin.flush()
        self.proc.wait_for(lambda p: any(l.startswith(f"ok {word}") for l in p.stdout()[before:]), timeout,
                           f"relay to {word}")
        return next(l for l in self.proc.stdout()[before:] if l.startswith(f"ok {word}"))

    def stop(self):
        if self.proc.proc.poll() is None:
            try:
                self.proc.proc.stdin.write("quit\n")
                self.proc.proc.stdin.flush()
            except OSError:
                pass
        self.proc.stop(timeout=5)


class Slipstream:
    """slipstream with its inputs from RTSPINPUT (never on the command line,
    where credentials would be visible) and its metadata followed as it is
    written: every record gets the monotonic time it was read."""

    def __init__(self, binary, inputs, extra=(), name="slipstream", wait_output=True):
        self.metadata_path = harness.artifact(f"{name}.metadata.jsonl", binary)
        self.inputs = list(inputs)
        env = dict(os.environ)
        env["RTSPINPUT"] = ",".join(self.inputs)
        # Tests run side by side: no HTTP API on the default port unless a test asks (--api-port).
        env.setdefault("API_PORT", "0")
        self.port = free_port()
        args = [binary, "--port", str(self.port), "--ip", "127.0.0.1", *LIGHT, "--metadata", self.metadata_path,
                *extra]
        self.records = []  # (arrival, record)
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.proc = harness.Process(args, env=env, name=name)
        self.following = True
        self.follower = threading.Thread(target=self._follow, daemon=True)
        self.follower.start()
        if wait_output:
            self.proc.wait_for(lambda p: any(l.startswith("Output:") for l in p.stdout()), 60, "the Output: line")

    def _follow(self):
        deadline = time.monotonic() + 30
        while not os.path.exists(self.metadata_path):
            if time.monotonic() > deadline or not self.following:
                return
            time.sleep(0.05)
        with open(self.metadata_path) as f:
            partial = ""
            while True:
                chunk = f.read()
                if chunk:
                    now = time.monotonic()
                    partial += chunk
                    *lines, partial = partial.split("\n")
                    parsed = []
                    for line in lines:
                        try:
                            parsed.append((now, json.loads(line)))
                        except ValueError:
                            pass
                    with self.lock:
                        self.records.extend(parsed)
                elif not self.following:
                    return
                else:
                    time.sleep(0.05)

    # --- what it said --------------------------------------------------------
    def stderr(self):
        return self.proc.stderr()

    def stderr_since(self, t):
        with self.proc.lock:
            return [(ts, l) for ts, l in self.proc.err_lines if ts >= t]

    def expect_first_errors(self, expected, shown):
        """Waits for each failing input's first error line, "error: input N
        (shown(N)): <expected[N]>; retrying in 1.0s" (reasons are regexes)."""
        for index, reason in expected.items():
            _, line = self.wait_stderr(rf"^error: input {index} \({re.escape(shown(index))}\): {reason}; "
                                       rf"retrying in 1\.0s$", 20, what=f"input {index}'s error line")
            print(f"  {line}")

    def wait_stderr(self, pattern, timeout, after=0.0, what=None):
        """Waits for a stderr line matching `pattern` (regex) read at or after
        monotonic time `after`; returns (time, line)."""
        rx = re.compile(pattern)
        found = []

        def seen(_):
            for ts, line in self.stderr_since(after):
                if rx.search(line):
                    found.append((ts, line))
                    return True
            return False
        self.proc.wait_for(seen, timeout, what or f"stderr line /{pattern}/")
        return found[0]

    # --- frames --------------------------------------------------------------
    def frames(self, stream, t0=0.0, t1=float("inf")):
        with self.lock:
            return [(t, r) for t, r in self.records if r["stream"] == stream and t0 <= t < t1]

    def wait_frames(self, stream, count, timeout, after=0.0, what=None):
        """Waits until `count` frames of `stream` arrived after `after`; returns the first one's time."""
        self.proc.wait_for(lambda _: len(self.frames(stream, after)) >= count, timeout,
                           what or f"{count} frames of stream {stream}")
        return self.frames(stream, after)[0][0]

    def check_rate(self, stream, fps, t0, t1, label, min_ratio=0.6, max_gap=2.5):
        """Stream `stream` delivered frames at about `fps` during [t0, t1):
        at least min_ratio of them, and never stopped for max_gap seconds.
        Loose enough for a machine loaded by others (a starved live stream
        loses packets and waits for the next key frame, up to a second); a
        stream held up by another's fault stops for 5 s or more."""
        got = self.frames(stream, t0, t1)
        seconds = t1 - t0
        rate = len(got) / seconds if seconds > 0 else 0
        times = [t0] + [t for t, _ in got] + [t1]
        gap = max(b - a for a, b in zip(times, times[1:]))
        print(f"  {label}: stream {stream}: {rate:.1f} fps over {seconds:.1f} s (nominal {fps}), "
              f"longest gap {gap:.2f} s")
        check(rate >= min_ratio * fps, f"{label}: stream {stream} fell to {rate:.1f} fps (nominal {fps})")
        check(gap <= max_gap, f"{label}: stream {stream} stopped for {gap:.2f} s")
        return rate

    # --- the end -------------------------------------------------------------
    def stop(self, max_seconds=None):
        """SIGTERM; checks exit 0 (and the time it took, if max_seconds)."""
        code, took = self.proc.stop()
        self.following = False
        self.follower.join(5)
        print(f"  {self.proc.name}: SIGTERM -> exit {code} after {took:.2f} s")
        check(code == 0, f"{self.proc.name}: exit code {code} on SIGTERM\n" + "\n".join(self.stderr()[-20:]))
        if max_seconds is not None:
            check(took <= max_seconds, f"{self.proc.name}: took {took:.2f} s to stop (limit {max_seconds} s)")
        return took

    def kill(self):
        self.following = False
        self.proc.kill()


def run_cases(cases):
    """Runs independent cases (name -> callable) on threads; fails with every
    failing case's message after all finished."""
    errors = {}

    def run(name, fn):
        try:
            fn()
        except AssertionError as e:
            errors[name] = str(e)
        except Exception as e:  # a bug in the test itself: report it the same way
            errors[name] = f"{type(e).__name__}: {e}"
    threads = [threading.Thread(target=run, args=item, daemon=True) for item in cases.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail("\n".join(f"[{name}] {message}" for name, message in errors.items()))


def run_with_camsim(camsim_bin, slipstream_bin, cases, count=2, fps=10):
    """The shape of most fault tests: logs under the build, one camsim (login
    required) serving `count` cameras, and the cases (name -> fn(camsim)) run
    side by side against it."""
    harness.log_dir(slipstream_bin)
    camsim = Camsim(camsim_bin, count=count, fps=fps, auth=f"{USER}:{PASSWORD}").start()
    try:
        run_cases({name: (lambda fn=fn: fn(camsim)) for name, fn in cases.items()})
    finally:
        camsim.stop()


def main(test, argv):
    """Runs test(*argv[1:]) and turns an AssertionError into exit 1 with FAIL."""
    start = time.monotonic()
    try:
        test(*argv[1:])
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"{os.path.basename(argv[0])}: all checks passed in {time.monotonic() - start:.0f} s")


# --- media files -------------------------------------------------------------

def media_dir(binary):
    """Generated test media, cached in the build tree between runs."""
    build = harness._build_tree(binary)
    folder = os.path.join(build or HERE, "tests", "faults", "media")
    os.makedirs(folder, exist_ok=True)
    return folder


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=300)


def make_media(binary):
    """Writes (once) the bad and the awkward inputs; returns name -> path."""
    folder = media_dir(binary)
    paths = {}

    def make(name, build):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            tmp = path + ".part" + os.path.splitext(name)[1]
            build(tmp)
            os.replace(tmp, path)
        paths[name] = path

    def ts_part(out, size, fps, seconds, codec="libx264", extra=()):
        # A moving test picture, key frame every second, MPEG-TS.
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}", "-pix_fmt", "yuv420p",
               "-c:v", codec, "-g", str(fps), "-bf", "0", *(["-preset", "ultrafast"] if codec == "libx264" else []),
               *(["-x265-params", "log-level=error"] if codec == "libx265" else []), *extra, "-f", "mpegts", out)

    def concat(out, parts):
        with open(out, "wb") as f:
            for p in parts:
                with open(p, "rb") as part:
                    f.write(part.read())
                os.remove(p)

    def garbage(path):
        rng = random.Random(7)
        with open(path, "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(300_000)))

    def text(path):
        with open(path, "w") as f:
            for i in range(3000):
                f.write(f"line {i}: this is a text file, not a video\n")

    def audio(path):
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=10", "-c:a", "aac", path)

    def corrupt(path):
        # H.264 elementary stream with random bytes spliced into the middle.
        ts_part(path + ".ts", "640x360", 10, 8)
        ffmpeg("-i", path + ".ts", "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", path + ".h264")
        os.remove(path + ".ts")
        with open(path + ".h264", "rb") as f:
            data = f.read()
        os.remove(path + ".h264")
        rng = random.Random(11)
        middle = len(data) // 2
        junk = bytes(rng.getrandbits(8) for _ in range(40_000))
        with open(path, "wb") as f:
            f.write(data[:middle] + junk + data[middle + 20_000:])

    def truncated(path):
        # A TS cut at an odd byte in the middle of a frame.
        ts_part(path + ".ts", "640x360", 10, 8)
        with open(path + ".ts", "rb") as f:
            data = f.read()
        os.remove(path + ".ts")
        with open(path, "wb") as f:
            f.write(data[:int(len(data) * 0.6) + 101])

    def resolution_change(path):
        ts_part(path + ".a", "768x576", 10, 4)
        ts_part(path + ".b", "640x360", 10, 4)
        concat(path, [path + ".a", path + ".b"])

    def codec_change(path):
        # H.264 then H.265: the second part announces a new program version,
        # as a camera switching codec would.
        ts_part(path + ".a", "640x360", 10, 4)
        ts_part(path + ".b", "480x270", 10, 4, codec="libx265",
                extra=("-tables_version", "1", "-mpegts_start_pid", "0x200"))
        concat(path, [path + ".a", path + ".b"])

    def rate_change(path):
        ts_part(path + ".a", "640x360", 10, 4)
        ts_part(path + ".b", "640x360", 25, 4)
        concat(path, [path + ".a", path + ".b"])

    def clock_jump(path):
        # Timestamps jump 1000 s ahead, then back to where they started.
        ts_part(path + ".a", "640x360", 10, 3)
        ts_part(path + ".b", "640x360", 10, 3, extra=("-output_ts_offset", "1000"))
        ts_part(path + ".c", "640x360", 10, 3)
        concat(path, [path + ".a", path + ".b", path + ".c"])

    def colour(path):
        # A colourful moving picture for a camera whose tile is checked for
        # greying out (the pedestrian sample is nearly grey already).
        ts_part(path, "640x360", 10, 10)

    make("colour.ts", colour)
    make("garbage.bin", garbage)
    make("text.txt", text)
    make("audio_only.m4a", audio)
    make("corrupt.h264", corrupt)
    make("truncated.ts", truncated)
    make("resolution_change.ts", resolution_change)
    make("codec_change.ts", codec_change)
    make("rate_change.ts", rate_change)
    make("clock_jump.ts", clock_jump)
    return paths


# --- the output picture ---------------------------------------------------------

def grab_output(url, width, height, attempts=3):
    """One decoded frame of slipstream's RTSP output as rows of RGB bytes (numpy
    array). A viewer that gets nothing in 10 s tries again (a loaded machine);
    what ffmpeg said is kept in the test's log folder."""
    import numpy
    said = []
    for attempt in range(attempts):
        try:
            out = subprocess.run(["ffmpeg", "-v", "warning", "-nostdin", "-rtsp_transport", "tcp", "-timeout", "5000000",
                                  "-i", url, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                                 capture_output=True, timeout=10)
            said.append(out.stderr.decode(errors="replace"))
            if len(out.stdout) >= width * height * 3:
                return numpy.frombuffer(out.stdout[:width * height * 3], dtype=numpy.uint8).reshape(height, width, 3)
        except subprocess.TimeoutExpired as e:
            said.append(f"(no frame within 10 s) {(e.stderr or b'').decode(errors='replace')}")
        with open(harness.artifact("ffmpeg-grab.log"), "a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} attempt {attempt + 1}: {said[-1]}\n")
    fail(f"no frame from {url} in {attempts} attempts: {said[-1][-300:]}")


def tile_colourfulness(frame, index, sources, aspect=16 / 9):
    """Mean |R-G| + |G-B| over the lower half of tile `index`'s picture
    (the statistics bar sits on top, NO SIGNAL in the middle): about 0 when
    the tile is greyed out."""
    import math
    height, width = frame.shape[:2]
    rows = max(1, int(math.floor(math.sqrt(sources))))
    columns = (sources + rows - 1) // rows
    row, column = index // columns, index % columns
    x0, x1 = column * width // columns, (column + 1) * width // columns
    y0, y1 = row * height // rows, (row + 1) * height // rows
    w, h = x1 - x0, y1 - y0
    scale = min(w / aspect, h) / h
    pw, ph = int(w * scale if w / h > aspect else w), int(h * scale if w / h > aspect else w / aspect)
    px, py = x0 + (w - pw) // 2, y0 + (h - ph) // 2
    part = frame[py + ph * 6 // 10: py + ph * 9 // 10, px + pw // 10: px + pw * 9 // 10].astype(int)
    return float((abs(part[:, :, 0] - part[:, :, 1]) + abs(part[:, :, 1] - part[:, :, 2])).mean())


# --- process resources ---------------------------------------------------------

def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def tcp_connections(pid, port):
    """TCP sockets of process `pid` connected (or connecting) to 127.0.0.1:`port`."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    with open(f"/proc/{pid}/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            # 01 established, 02 SYN sent
            if inode in inodes and state in ("01", "02") and int(remote.split(":")[1], 16) == port:
                count += 1
    return count
