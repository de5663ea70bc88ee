"""Helpers for slipstream's end-to-end tests: real processes on loopback only.

Starts slipstream-camsim (RTSP cameras) and slipstream, reads the output with
Debian's ffprobe, and always cleans up. Every wait is bounded.

Every process's stdout and stderr is also saved, as it arrives, under one
folder per test: $SLIPSTREAM_TEST_LOGS/<test>/ (default: test-logs/ in the
build tree of the binaries run; <test> is $SLIPSTREAM_TEST_NAME or the
script's name). Put files the test writes there too: artifact(name). The
faults_no_credentials test greps that whole folder for the test cameras'
passwords, so write URIs with credentials into nothing else."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SAMPLE = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_log_dir = None
_log_names = {}
_log_lock = threading.Lock()


def _build_tree(path):
    """The CMake build folder holding `path`, or None."""
    here = os.path.dirname(os.path.abspath(path)) if path else ""
    while here and here != os.path.dirname(here):
        if os.path.exists(os.path.join(here, "CMakeCache.txt")):
            return here
        here = os.path.dirname(here)
    return None


def log_dir(binary=None):
    """This test's log folder, emptied on first use in this process."""
    global _log_dir
    with _log_lock:
        if _log_dir is None:
            root = os.environ.get("SLIPSTREAM_TEST_LOGS")
            if not root:
                build = _build_tree(binary)
                root = os.path.join(build, "test-logs") if build else os.path.join(tempfile.gettempdir(), "slipstream-test-logs")
            name = os.environ.get("SLIPSTREAM_TEST_NAME") or os.path.splitext(os.path.basename(sys.argv[0]))[0] or "test"
            _log_dir = os.path.join(root, name)
            shutil.rmtree(_log_dir, ignore_errors=True)
            os.makedirs(_log_dir, exist_ok=True)
        return _log_dir


def artifact(name, binary=None):
    """A path for a file the test writes (metadata, ...) in its log folder."""
    return os.path.join(log_dir(binary), name)


def _log_base(name, binary):
    """A fresh file name stem per process: camsim, camsim-2, ..."""
    folder = log_dir(binary)
    with _log_lock:
        _log_names[name] = _log_names.get(name, 0) + 1
        n = _log_names[name]
    return os.path.join(folder, name if n == 1 else f"{name}-{n}")


def mask_args(args):
    """The command line for the log: credentials in URIs and password values masked."""
    out, hide = [], False
    for a in map(str, args):
        out.append("***" if hide else re.sub(r"://[^/@\s]*@", "://***@", a))
        hide = a in ("--auth", "--rtsp-password")
    return out


class Process:
    """A child process whose stdout/stderr lines are collected by threads and
    saved to <log folder>/<name>.stdout / .stderr as they arrive."""

    def __init__(self, args, env=None, name="process", stdin=None):
        self.name = name
        self.args = args
        self.lines = []
        self.err_lines = []
        self.lock = threading.Lock()
        base = _log_base(name, args[0])
        self.log_paths = (base + ".stdout", base + ".stderr")
        with open(base + ".cmd", "w") as f:
            f.write(" ".join(mask_args(args)) + "\n")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL if stdin is None else stdin,
                                     env=env, text=True, errors="replace", bufsize=1)
        self.threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines, self.log_paths[0]),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err_lines, self.log_paths[1]),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self, stream, into, path):
        with open(path, "w") as log:
            for line in stream:
                with self.lock:
                    into.append((time.monotonic(), line.rstrip("\n")))
                log.write(line)
                log.flush()

    def stdout(self):
        with self.lock:
            return [l for _, l in self.lines]

    def stderr(self):
        with self.lock:
            return [l for _, l in self.err_lines]

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the readers drain
                if predicate(self):
                    return
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} while waiting for {what}\n"
                                     + "\n".join(self.stderr()[-30:]))
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} from {self.name}\n"
                             + "\n".join(self.stderr()[-30:]))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and returns (exit code, seconds it took)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.threads:
            t.join(2)
        return self.proc.returncode, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_camsim(camsim, port, codecs, widths, heights, fps, count, files=(SAMPLE,), extra=()):
    args = [camsim, "--port", str(port), "--count", str(count), "--codec", ",".join(codecs),
            "--width", ",".join(map(str, widths)), "--height", ",".join(map(str, heights)),
            "--fps", ",".join(map(str, fps)), *extra, *files]
    p = Process(args, name="camsim")
    # The first run encodes the sample once per camera format (cached afterwards).
    p.wait_for(lambda p: any(l.startswith("ready") for l in p.stdout()), 600, "camsim ready")
    return p


def start_slipstream(slipstream, inputs, port, extra=(), env_extra=None):
    env = dict(os.environ)
    env["RTSPINPUT"] = ",".join(inputs)
    # Tests run side by side: no HTTP API on the default port unless a test asks (--api-port).
    env.setdefault("API_PORT", "0")
    env.update(env_extra or {})
    p = Process([slipstream, "--port", str(port), "--ip", "127.0.0.1", *extra], env=env, name="slipstream")
    p.wait_for(lambda p: any(l.startswith("Output:") for l in p.stdout()), 60, "the Output: line")
    return p


def probe_frames(url, seconds, timeout=None):
    """Reads the stream with ffprobe; returns (stream info, [(arrival, pts_time)])."""
    timeout = timeout or seconds + 20
    info = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height", "-of", "json", url],
        capture_output=True, text=True, timeout=timeout, check=True).stdout)["streams"][0]
    return info, read_frame_times(url, seconds, timeout)[1]


def read_frame_times(url, seconds, timeout=None, extra=()):
    """[(arrival monotonic, pts_time)] of the frames ffprobe decodes during `seconds`
    after the first one; also returns when `timeout` passes without that."""
    timeout = timeout or seconds + 20
    args = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", *extra, "-select_streams", "v:0",
            "-show_entries", "frame=pts_time", "-of", "csv=p=0", url]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    frames = []
    start = time.monotonic()
    done = threading.Event()

    def read():
        for line in p.stdout:
            line = line.strip().rstrip(",")
            try:
                frames.append((time.monotonic(), float(line)))
            except ValueError:
                continue
            if time.monotonic() - frames[0][0] >= seconds:
                break
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    done.wait(timeout)
    if p.poll() is None:
        p.kill()
    p.wait()
    reader.join(2)
    return start, list(frames)


def metadata_lines(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_test(main):
    """Runs main(*the script's arguments); a failed check exits 1 with one FAIL line."""
    try:
        main(*sys.argv[1:])
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
