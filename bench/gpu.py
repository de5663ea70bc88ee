#!/usr/bin/python3
"""slipstream's GPU benchmark; run it through bench/gpu.sh (or the bundle's
bin/slipstream-bench-gpu). Needs only Python 3's standard library, the
bundle (or a build and Debian's gst-launch-1.0) and a video file.

Everything runs on 127.0.0.1 on this machine, on free ports. Sections:

  decode  the decode ceiling: one 1080p30 H.264 4 Mbit/s file (camsim's
          cached encode of the video) decoded by gst-launch-1.0 pipelines
          filesrc ! h264parse ! nvh264dec ! video/x-raw(memory:CUDAMemory) !
          fakesink, K streams per process over P processes; frames counted
          at the sinks in a common window once every stream decodes.
          The ceiling is the best total, in 30 fps cameras.
  cpu     the CPU path for comparison: slipstream --gpu none carrying a few
          cameras (default 4), and the same cameras with --gpu: CPU cores
          per camera of both at equal N.
  carry   slipstream carrying N camsim cameras (1920x1080@30 H.264 4 Mbit/s)
          into a 1200x600@30 tiled output with --gpu, detection on the CPU
          at a fixed interval, for rising N: the first N is 0.9 x the decode
          ceiling (or --start-cameras), then up while runs pass and down
          while they fail, then halving the gap, within the time budget.
          A run passes as in bench/run.sh's capacity section (capacity_ok):
          output >= 29 fps, every camera's frames into the pipeline >= 28.5
          fps, >= 2 detections/s per camera, pipeline latency growth <= 50 ms.

Each run reports cameras' shown fps, detections per camera, CPU cores of
slipstream, camsim and the viewer, GPU use (nvidia-smi), the pipeline's own
latency (metadata) and glass-to-glass latency: camsim paints a frame counter
(the block stamp, app/camsim/frame_stamp.hpp) and logs each frame's send
time; the output is decoded by gst-launch-1.0 to GRAY8 and camera 0's tile
read in Python (benchlib/stamps.py). What that viewer adds by itself is
measured once, on camera 0 read directly ("the viewer alone"); it is part
of every glass-to-glass figure, not taken off.

Progress goes to stderr with timestamps; the JSON (and the table) are
written after every measurement, so a killed run leaves what it measured."""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (bench.py: capacity criteria, summary parsing; imports no numpy/cv2)
from benchlib.cameras import SAMPLE, Camsim  # noqa: E402
from benchlib.latency import glass_to_glass  # noqa: E402
from benchlib.metadata import MetadataTail, percentile, window_stats  # noqa: E402
from benchlib.proc import Child, CpuWindow, free_port, sleep_until  # noqa: E402
from benchlib.stamps import GstViewer, TileStamps  # noqa: E402
from benchlib.table import render  # noqa: E402

OUT_W, OUT_H, OUT_FPS = 1200, 600, 30
CAM_W, CAM_H, CAM_FPS, CAM_BITRATE = 1920, 1080, 30, "4M"
CAM_LOOP_S = 20  # camsim --duration: the encoded loop (600 frames), encoded once and cached
STAMP_CELL = 96  # block stamp cells of 96 px: 5 px in a 107x60 tile (10x10 grid)
CAMERAS_PER_CAMSIM = 32
TARGET_RATIO = 0.9

# (full, quick), seconds unless said.
PLAN = {
    "decode_measure": (8, 4), "decode_warmup": (2, 1),
    "carry_measure": (15, 8), "carry_warmup": (5, 3),
    "budget": (420, 180),
}
NV_SWEEP = {False: "1x1,16x1,16x4,16x8", True: "1x1,16x4,16x8"}


class OutOfTime(Exception):
    pass


def now_s():
    return time.monotonic()


class GpuSampler:
    """nvidia-smi sampling GPU, decoder and memory use every 500 ms in the
    background; window() summarises the samples between two monotonic times."""

    QUERY = "utilization.gpu,utilization.decoder,memory.used"

    def __init__(self, index, skipped=None):
        self.child = None
        self.skipped = skipped
        if skipped:
            return
        if not shutil.which("nvidia-smi"):
            self.skipped = "nvidia-smi not found: no NVIDIA driver on this machine"
            return
        try:
            self.child = Child(["nvidia-smi", "--query-gpu=" + self.QUERY, "--format=csv,noheader,nounits",
                                "-lms", "500", "-i", str(index)], "nvidia-smi")
        except OSError as e:
            self.skipped = "nvidia-smi failed to start: %s" % e
            return
        time.sleep(1.5)
        if not self.child.alive() and not self._samples(0, 1e18):
            self.skipped = "nvidia-smi: %s" % " ".join(self.child.text()[-3:])
            self.child = None

    def _samples(self, t0, t1):
        out = []
        with self.child.lock:
            lines = [(t, l) for t, w, l in self.child.lines if w == "out" and t0 <= t <= t1]
        for t, line in lines:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 3:
                continue
            values = []
            for p in parts:
                try:
                    values.append(float(p))
                except ValueError:
                    values.append(None)  # [N/A], [Not Supported]
            out.append(values)
        return out

    def window(self, t0, t1):
        if self.skipped:
            return {"skipped": self.skipped}
        samples = self._samples(t0, t1)
        if not samples:
            return {"skipped": "no nvidia-smi samples in the window"}
        result = {"samples": len(samples)}
        for i, key in enumerate(("gpu_util_pct", "decoder_util_pct", "memory_used_mib")):
            values = [s[i] for s in samples if s[i] is not None]
            result[key] = ({"mean": round(statistics.fmean(values), 1), "max": max(values)} if values
                           else None)
        return result

    def stop(self):
        if self.child:
            self.child.stop()


def read_camsim_cache(cache_dir, video, frames):
    """The access units of camsim's cached 1920x1080@30 H.264 encode of `video`
    (app/camsim/encoded_stream.cpp's cache format: a 32-byte header, then per
    unit its size, flags and bytes), as one Annex B byte string, and how many
    frames it holds. Picks, among this bench's cache files for the video, the
    newest with this shape and at most this length."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", os.path.splitext(os.path.basename(video))[0])[:40]
    candidates = []
    folder = os.path.join(cache_dir, "camsim")
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        if not (name.startswith(stem + "-h264-") and name.endswith(".camsim")):
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            head = f.read(32)
        if len(head) < 32 or head[:8] != b"SLIPCAMS":
            continue
        version, codec, width, height, fps, units = (int.from_bytes(head[8 + 4 * i:12 + 4 * i], sys.byteorder)
                                                     for i in range(6))
        # camsim encodes `frames` (its --duration), fewer where the video is shorter.
        if (version, codec, width, height, fps) == (1, 0, CAM_W, CAM_H, CAM_FPS) and 0 < units <= frames:
            candidates.append((os.path.getmtime(path), path))
    if not candidates:
        raise RuntimeError("no camsim cache file for %s (%dx%d@%d, %d frames) in %s" %
                           (video, CAM_W, CAM_H, CAM_FPS, frames, folder))
    path = max(candidates)[1]
    with open(path, "rb") as f:
        data = f.read()
    out = bytearray()
    offset, count = 32, 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], sys.byteorder)
        offset += 8
        out += data[offset:offset + size]
        offset += size
        count += 1
    return bytes(out), count, path


class GpuBench:
    def __init__(self, a):
        self.a = a
        self.quick = a.quick
        self.t_start = now_s()
        self.budget = a.budget if a.budget else PLAN["budget"][1 if a.quick else 0]
        self.hard_deadline = self.t_start + self.budget + a.overrun
        self.work = tempfile.mkdtemp(prefix="slipstream-gpu-bench-")
        self.children = []  # everything started, stopped on the way out
        self.find_programs()
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        os.makedirs(a.out, exist_ok=True)
        self.json_path = os.path.join(a.out, "gpu-%s.json" % stamp)
        self.results = {
            "started": datetime.datetime.now().isoformat(timespec="seconds"), "quick": self.quick,
            "complete": False, "command": sys.argv, "settings": {}, "machine": {}, "errors": [],
        }

    # ------------------------------------------------------------ plumbing
    def d(self, key):
        if key == "carry_measure" and self.a.carry_seconds:
            return self.a.carry_seconds
        return PLAN[key][1 if self.quick else 0]

    def log(self, text):
        print("[%5.0f s %s] %s" % (now_s() - self.t_start, time.strftime("%H:%M:%S"), text),
              file=sys.stderr, flush=True)

    def left(self):
        """Seconds left of the time budget."""
        return self.t_start + self.budget - now_s()

    def check_deadline(self, what):
        if now_s() > self.hard_deadline:
            raise OutOfTime("out of time (budget %d s + %d s) during %s" % (self.budget, self.a.overrun, what))

    def save(self):
        self.results["runtime_s"] = round(now_s() - self.t_start, 1)
        text = table(self.results)
        for path, body in ((self.json_path, json.dumps(self.results, indent=1)),
                           (os.path.splitext(self.json_path)[0] + ".txt", text + "\n")):
            tmp = path + ".part"
            with open(tmp, "w") as f:
                f.write(body)
            os.replace(tmp, path)
        for ext in (".json", ".txt"):
            latest = os.path.join(self.a.out, "gpu-latest" + ext)
            try:
                shutil.copyfile(os.path.splitext(self.json_path)[0] + ext, latest + ".part")
                os.replace(latest + ".part", latest)
            except OSError:
                pass
        return text

    def find_programs(self):
        a = self.a
        top = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
        bundle = os.path.isfile(os.path.join(top, "bin", "slipstream")) and os.path.isdir(os.path.join(top, "libexec"))
        if a.build:
            build = os.path.abspath(a.build)
            self.mode = "source tree, build %s" % build
            slipstream = os.path.join(build, "app", "slipstream", "slipstream")
            camsim = os.path.join(build, "app", "camsim", "slipstream-camsim")
            gst_launch = shutil.which("gst-launch-1.0")
        elif bundle:
            self.mode = "bundle %s" % top
            slipstream = os.path.join(top, "bin", "slipstream")
            camsim = os.path.join(top, "bin", "slipstream-camsim")
            gst_launch = os.path.join(top, "bin", "gst-launch-1.0")
        else:
            build = os.path.join(os.path.dirname(HERE), "build")
            self.mode = "source tree, build %s" % build
            slipstream = os.path.join(build, "app", "slipstream", "slipstream")
            camsim = os.path.join(build, "app", "camsim", "slipstream-camsim")
            gst_launch = shutil.which("gst-launch-1.0")
        self.bundle_top = top if bundle and not a.build else None
        self.slipstream = a.slipstream or slipstream
        self.camsim_bin = a.camsim or camsim
        self.gst_launch = a.gst_launch or gst_launch
        missing = [p for p in (self.slipstream, self.camsim_bin) if not (p and os.access(p, os.X_OK))]
        if not self.gst_launch or not os.access(self.gst_launch, os.X_OK):
            missing.append("gst-launch-1.0 (%s)" % (self.gst_launch or "not on PATH"))
        if missing:
            raise SystemExit("gpu.sh: missing: %s (build first, or pass --build DIR)" % ", ".join(missing))

    def start(self, child):
        self.children.append(child)
        return child

    # -------------------------------------------------------- machine info
    def machine(self):
        m = bench.machine_info()
        try:
            with open("/etc/os-release") as f:
                m["os"] = next((l.split("=", 1)[1].strip().strip('"') for l in f if l.startswith("PRETTY_NAME=")), "")
        except OSError:
            pass
        m["python"] = platform.python_version()
        m["gpus"] = []
        if shutil.which("nvidia-smi"):
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=index,name,driver_version,memory.total,pci.bus_id",
                                      "--format=csv,noheader"], capture_output=True, text=True, timeout=30).stdout
                for line in out.splitlines():
                    parts = [p.strip() for p in line.split(",")]
                    if len(parts) == 5:
                        m["gpus"].append({"index": int(parts[0]), "name": parts[1], "driver": parts[2],
                                          "memory": parts[3], "bus_id": parts[4]})
            except (OSError, subprocess.SubprocessError, ValueError) as e:
                m["gpus_error"] = str(e)
        else:
            m["gpus_error"] = "nvidia-smi not found"
        versions = {"mode": self.mode}
        try:
            out = subprocess.run([self.gst_launch, "--version"], capture_output=True, text=True, timeout=60).stdout
            versions["gst_launch"] = " / ".join(l.strip() for l in out.splitlines() if l.strip())
        except (OSError, subprocess.SubprocessError) as e:
            versions["gst_launch"] = "failed: %s" % e
        if self.bundle_top:
            try:
                with open(os.path.join(self.bundle_top, "share", "slipstream", "VERSION")) as f:
                    versions["slipstream"] = f.read().strip()
            except OSError:
                versions["slipstream"] = "unknown (no share/slipstream/VERSION in the bundle)"
        else:
            root = os.path.dirname(HERE)
            try:
                rev = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True,
                                     text=True, timeout=30).stdout.strip()
                versions["slipstream"] = rev or "unknown"
            except (OSError, subprocess.SubprocessError):
                versions["slipstream"] = "unknown"
        m["versions"] = versions
        return m

    # ------------------------------------------------------------- cameras
    def camsim_env(self):
        base = (os.environ.get("SLIPSTREAM_CACHE") or
                os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                             "slipstream"))
        self.camsim_cache = os.path.join(base, "bench-gpu")
        env = dict(os.environ)
        env["SLIPSTREAM_CACHE"] = self.camsim_cache
        return env

    def start_cameras(self, total):
        """camsim instances of up to 32 cameras each, all serving the same stamped
        1080p30 stream (encoded by the first, loaded from the cache by the rest).
        Camera 0 (the viewer's tile) is the first instance's, with its send log."""
        env = self.camsim_env()
        extra = ["--width", str(CAM_W), "--height", str(CAM_H), "--fps", str(CAM_FPS), "--bitrate", CAM_BITRATE,
                 "--duration", str(CAM_LOOP_S), "--stamp-shape", "block", "--stamp-position", "bottom",
                 "--stamp-cell", str(STAMP_CELL)]
        self.cams = []
        self.send_log = os.path.join(self.work, "send-0.log")
        remaining, i = total, 0
        while remaining > 0:
            count = min(CAMERAS_PER_CAMSIM, remaining)
            t = now_s()
            if i == 0:
                self.log("cameras: camsim, %d x %dx%d@%d H.264 %s with the block stamp (the first run encodes %d s "
                         "of %s once, cached in %s)" % (total, CAM_W, CAM_H, CAM_FPS, CAM_BITRATE, CAM_LOOP_S,
                                                        os.path.basename(self.a.video), self.camsim_cache))
            cam = Camsim(self.camsim_bin, count, extra, name="camsim%d" % i,
                         send_log=os.path.join(self.work, "send-%d.log" % i), video=self.a.video,
                         ready_timeout=max(60, min(600, self.hard_deadline - now_s())), env=env)
            self.children.append(cam.child)
            self.cams.append(cam)
            if i == 0:
                self.results["settings"]["camsim_ready_s"] = round(now_s() - t, 1)
            remaining -= count
            i += 1
        self.urls = [u for cam in self.cams for u in cam.urls]
        self.log("cameras: %d served by %d camsim process(es)" % (len(self.urls), len(self.cams)))

    # -------------------------------------------------------------- decode
    def decoder_element(self):
        if self.a.decoder:
            return self.a.decoder
        g = self.a.gpu
        if g.isdigit() and int(g) > 0:
            return "nvh264device%ddec" % int(g)
        return "nvh264dec"

    def decode(self):
        r = self.results["decode"] = {"decoder": self.decoder_element(), "configs": []}
        decoder = r["decoder"]
        nv = decoder.startswith("nv")
        sweep = self.a.decode_sweep or (NV_SWEEP[self.quick] if nv else "1x1,%dx1" % max(2, os.cpu_count() or 2))
        configs = []
        for item in sweep.split(","):
            k, p = item.lower().split("x")
            configs.append((int(k), int(p)))
        stream, frames, source = read_camsim_cache(self.camsim_cache, self.a.video, CAM_LOOP_S * CAM_FPS)
        loops = 8
        path = os.path.join(self.work, "decode.h264")
        with open(path, "wb") as f:
            for _ in range(loops):
                f.write(stream)
        r.update({"file": {"from_camsim_cache": source, "frames": frames * loops, "loops": loops,
                           "megabytes": round(len(stream) * loops / 1e6, 1),
                           "bitrate_mbps": round(len(stream) * 8 / (frames / CAM_FPS) / 1e6, 2)},
                  "measure_s": self.d("decode_measure"), "warmup_s": self.d("decode_warmup")})
        # Frames stay in CUDA memory: the decoder's output is held to it by caps.
        caps = "video/x-raw(memory:CUDAMemory)" if nv and not self.a.decode_system_memory else None
        r["output_memory"] = "CUDA" if caps else "system"
        for k, p in configs:
            self.check_deadline("decode")
            self.log("decode: %d stream(s) x %d process(es), %s, %s memory" % (k, p, decoder, r["output_memory"]))
            row = self.decode_run(path, frames * loops, decoder, caps, k, p)
            failure = (row.get("error", "") + " " + row.get("detail", "")).lower()
            if row.get("error") and caps and re.search(r"not-negotiated|could not link|can't handle caps", failure):
                self.log("  CUDA memory caps not negotiated; again with the decoder's own output")
                caps = None
                r["output_memory"] = "system"
                r["cuda_memory_caps_failed"] = row["error"]
                row = self.decode_run(path, frames * loops, decoder, caps, k, p)
            if row.get("error") and not r["configs"] and re.search(r'no element "', row["error"] + row.get("detail", "")):
                r["skipped"] = "%s is not available here: %s" % (decoder, row["error"])
                self.log("decode: skipped: " + r["skipped"])
                r["configs"].append(row)
                self.save()
                return
            r["configs"].append(row)
            if row.get("fps"):
                self.log("  %.0f fps = %.1f cameras at 30 fps; CPU %.2f cores; GPU %s" % (
                    row["fps"], row["cameras"], row["cpu_cores"], gpu_text(row.get("gpu"))))
            else:
                self.log("  failed: %s" % row.get("error"))
            best = max((c for c in r["configs"] if c.get("fps")), key=lambda c: c["fps"], default=None)
            if best:
                r["ceiling_fps"] = best["fps"]
                r["ceiling_cameras"] = round(best["fps"] / CAM_FPS, 1)
                r["ceiling_config"] = "%dx%d" % (best["streams_per_process"], best["processes"])
            self.save()

    def decode_run(self, path, file_frames, decoder, caps, k, p):
        """K streams in each of P gst-launch processes. Every decoded frame shows
        up as one 'last-message = chain' line of its fakesink (-v, silent=false);
        the rate is the frames whose lines arrive in a window that starts once
        every stream has delivered, over the window's length (cut short at the
        first stream to run out, if any)."""
        row = {"streams_per_process": k, "processes": p, "streams": k * p}
        procs = []
        for i in range(p):
            args = [self.gst_launch, "-v"]
            for j in range(k):
                args += ["filesrc", "location=" + path, "!", "h264parse", "!", decoder, "!"]
                if caps:
                    args += [caps, "!"]
                args += ["fakesink", "name=s%d" % j, "sync=false", "silent=false", "async=false"]
            procs.append(self.start(Child(args, "decode %d" % i)))
        pattern = re.compile(r"/GstFakeSink:(s\d+): last-message = chain")
        counts = [dict() for _ in procs]  # per process: sink -> list of arrival times
        scanned = [0] * p

        def scan():
            for i, c in enumerate(procs):
                with c.lock:
                    new = c.lines[scanned[i]:]
                    scanned[i] = len(c.lines)
                for t, which, line in new:
                    m = pattern.search(line) if which == "out" else None
                    if m:
                        counts[i].setdefault(m.group(1), []).append(t)

        measure, warm = self.d("decode_measure"), self.d("decode_warmup")
        try:
            ready_deadline = min(now_s() + 60, self.hard_deadline)
            t_ready = None
            while now_s() < ready_deadline:
                scan()
                if all(len(c) == k for c in counts):
                    t_ready = now_s()
                    break
                if any(not c.alive() for c in procs):
                    time.sleep(0.3)
                    scan()
                    if all(len(c) == k for c in counts):
                        t_ready = now_s()
                    break
                time.sleep(0.1)
            if t_ready is None:
                bad = next((c for c in procs if not c.alive()), procs[0])
                text = bad.text()
                errors = [l for l in text if l.startswith(("ERROR", "WARNING: erroneous", "WARNING"))]
                row["error"] = (errors[0] if errors else "no frames within 60 s")
                row["detail"] = "\n".join(errors[1:4] + text[-6:])[-1500:]
                return row
            t0 = t_ready + warm
            t1 = t0 + measure
            trees = {"decode%d" % i: c.pid for i, c in enumerate(procs)}
            window = CpuWindow(trees)
            sleep_until(t0)
            window.begin()
            while now_s() < t1 and all(c.alive() for c in procs):
                time.sleep(0.1)
            end = min(now_s(), t1)
            cpu = window.finish()
            scan()
            # A process that ended (its file ran out) ends the window at its last frame.
            for i, c in enumerate(procs):
                if not c.alive():
                    end = min(end, min(times[-1] for times in counts[i].values()))
            frames = sum(sum(1 for t in times if t0 <= t <= end) for c in counts for times in c.values())
            per_stream = [sum(1 for t in times if t0 <= t <= end) for c in counts for times in c.values()]
            seconds = end - t0
            if seconds <= 0.5:
                row["error"] = "streams ran out before the window (%.1f s)" % seconds
                return row
            row.update({
                "startup_s": round(t_ready - min(c.started for c in procs), 2),
                "seconds": round(seconds, 2), "frames": frames, "fps": round(frames / seconds, 1),
                "cameras": round(frames / seconds / CAM_FPS, 1),
                "per_stream_fps": {"min": round(min(per_stream) / seconds, 1),
                                   "median": round(percentile(per_stream, 50) / seconds, 1)},
                "cpu_cores": round(sum(cpu["cpu_per_s"][n] for n in trees), 2),
                "cpu": cpu, "gpu": self.gpu.window(t0, end),
                "file_frames_per_stream": file_frames,
            })
            return row
        finally:
            for c in procs:
                c.stop(timeout=5, sig=signal.SIGINT)
                self.children.remove(c)

    # --------------------------------------------------------------- carry
    def slipstream_args(self, n, gpu, port, metadata):
        a = self.a
        args = [self.slipstream, "--input", ",".join(self.urls[:n]), "--port", port, "--bind", "127.0.0.1",
                "--ip", "127.0.0.1", "--show-frames", "no", "--metadata", metadata,
                "--width", OUT_W, "--height", OUT_H, "--fps", OUT_FPS, "--gpu", gpu, "--interval", a.interval]
        workers = self.workers(gpu)
        if workers:
            args += ["--workers", workers, "--threads", a.threads]
        return [str(x) for x in args + shlex.split(a.slipstream_args or "")]

    def workers(self, gpu):
        if self.a.workers == "auto":
            if gpu != "none":
                return None  # detection on the GPU: slipstream's two workers keep it busy
            cores = os.cpu_count() or 2
            return cores - 4 if cores > 8 else None  # small machines: slipstream's own default
        return None if self.a.workers in ("default", "0") else self.a.workers

    def carry_run(self, n, gpu, tag):
        """One slipstream run of n cameras: warm-up from the moment every camera's
        frames flow, then the measured window; SIGTERM after it (slipstream
        prints its summary)."""
        measure, warm = self.d("carry_measure"), self.d("carry_warmup")
        port = free_port()
        metadata = os.path.join(self.work, tag + ".jsonl")
        if os.path.exists(metadata):
            os.unlink(metadata)
        args = self.slipstream_args(n, gpu, port, metadata)
        started = now_s()
        child = self.start(Child(args, "slipstream " + tag))
        tail = MetadataTail(metadata)
        viewer = None
        run = {"tag": tag, "cameras": n, "gpu": gpu, "interval": self.a.interval,
               "workers": self.workers(gpu) or "slipstream default", "measure_s": measure}
        run["command"] = [("<%d camsim URLs>" % n if a.startswith("rtsp://") else a) for a in args]
        reader = TileStamps(n, (CAM_W, CAM_H), STAMP_CELL, "block", True, (OUT_W, OUT_H), tiles=[0])
        run["stamp_cell_px_in_output"] = reader.cell_px[0]
        try:
            t_out, _ = child.wait_for(lambda l: l.startswith("Output:"), max(5, min(90, self.hard_deadline - now_s())),
                                      "its Output line")
            if self.a.latency:
                time.sleep(0.5)
                viewer = GstViewer(self.gst_launch, "rtsp://127.0.0.1:%d/ds" % port, reader, (OUT_W, OUT_H),
                                   self.a.viewer_decoder)
            # Every camera's frames flowing (a metadata line from each), within a bound.
            seen, index = set(), 0
            flow_deadline = min(now_s() + 20 + 0.3 * n, self.hard_deadline)
            while len(seen) < n and now_s() < flow_deadline and child.alive():
                records = tail.records
                for _, rec in records[index:]:
                    seen.add(rec.get("stream"))
                index = len(records)
                time.sleep(0.2)
            if viewer and not viewer.alive():  # the output's server was not up yet: once more
                run["viewer_restarted"] = " | ".join(viewer.errors[-2:])
                viewer.stop()
                viewer = GstViewer(self.gst_launch, "rtsp://127.0.0.1:%d/ds" % port, reader, (OUT_W, OUT_H),
                                   self.a.viewer_decoder)
                time.sleep(1.0)
            t_flow = now_s()
            run["cameras_flowing_before_window"] = len(seen)
            run["startup_s"] = round(t_flow - t_out, 1)
            if not child.alive():
                raise RuntimeError("slipstream exited (%s):\n%s" % (child.proc.returncode, "\n".join(child.text()[-15:])))
            t0 = t_flow + warm
            t1 = t0 + measure
            if t1 > self.hard_deadline:
                raise OutOfTime("out of time before the window of %s" % tag)
            trees = {"slipstream": child.pid}
            for i, cam in enumerate(self.cams):
                trees["camsim%d" % i] = cam.pid
            if viewer:
                trees["viewer"] = viewer.pid
            window = CpuWindow(trees, threads_of=child.pid)
            sleep_until(t0)
            window.begin()
            real0 = time.time_ns()
            sleep_until(t1)
            cpu = window.finish()
            real1 = time.time_ns()
        finally:
            stopped = now_s()
            code = child.stop(timeout=20)
            self.children.remove(child)
            pictures = viewer.stop() if viewer else None
            records = tail.stop()
        run["exit_code"] = code
        run["run_s"] = round(now_s() - started, 1)
        summary = bench.parse_summary(child.text("err"))
        if summary is None:
            # Killed before its summary: what the metadata says is still the run's.
            summary = {"output_fps": 0.0, "detection_fps": None, "missing": "no summary line (exit %s): %s" % (
                code, " | ".join(child.text("err")[-5:]))}
            self.log("  slipstream printed no summary (exit %s)" % code)
        first = next((t for t, _ in records), None)
        flowing = max(0.5, stopped - (first if first is not None else t_out))
        detected = summary.get("detected")
        if detected is None:
            detected = (summary["detection_fps"] or 0) * summary.get("seconds", 0)
        run["summary"] = summary
        if pictures is not None:  # the output's rate as the viewer saw it
            shown = [t for t, _ in pictures if real0 <= t <= real1]
            run["viewer_fps"] = round(len(shown) / ((real1 - real0) / 1e9), 2)
        run["stages_ms"] = bench.parse_stages(child.text("err"))
        run["detections_per_s"] = round(detected / flowing, 2)
        run["detections_per_s_per_camera"] = round(detected / flowing / n, 2)
        w = window_stats(records, window.t0, window.t1, n, edge_s=min(10.0, measure / 3))
        run["window"] = w
        shown = [c["fps"] for c in w["per_camera"]]
        detected_meta = [c["detected_per_s"] for c in w["per_camera"]]
        run["shown_fps"] = {"min": min(shown), "median": round(percentile(shown, 50), 2)}
        run["shown_share_min"] = round(min(shown) / CAM_FPS, 3)
        run["detections_metadata_per_camera"] = {"min": min(detected_meta),
                                                  "median": round(percentile(detected_meta, 50), 2)}
        run["cpu"] = cpu
        cps = cpu["cpu_per_s"]
        run["cpu_cores"] = {"slipstream": cps["slipstream"],
                            "camsim": round(sum(v for k, v in cps.items() if k.startswith("camsim")), 3),
                            "viewer": cps.get("viewer"), "machine": cpu["machine_busy_per_s"]}
        run["cpu_cores_per_camera"] = round(cps["slipstream"] / n, 4)
        run["gpu_use"] = self.gpu.window(window.t0, window.t1)
        lat = w["latency_ms"]
        run["pipeline_latency_ms"] = {"median": lat["median"], "p99": lat["p99"],
                                      "growth": _diff(lat["last_10s_mean"], lat["first_10s_mean"]),
                                      "growth_is": "mean of the window's last third (at most 10 s) - its first third"}
        run["glass_to_glass_ms"] = self.latency_of(pictures, viewer, real0, real1, measure)
        said = [l for l in child.text("err") if l.startswith(("warning", "error"))]
        run["warnings"] = said[:10]
        run["warnings_total"] = len(said)
        run["connections_lost"] = sum("connection lost" in l for l in said)
        run["decoder_failures"] = sum("video decoder failed" in l for l in said)
        # GStreamer's own debug lines when GST_DEBUG asks for them (e.g. the CUDA
        # error behind a decoder's "Failed to configure the buffer pool").
        gst_lines = [l for l in child.text("err") if " WARN " in l or " ERROR " in l]
        run["gst_debug"] = {"warn_or_error_lines": len(gst_lines), "first": [one_line(l, 300) for l in gst_lines[:12]]}
        # slipstream says which path decodes ("Decoding on the CPU ...", "Decoding and scaling on GPU 0 ...").
        run["decode_path"] = next((l for l in child.text() if l.startswith("Decoding")), None)
        bench.Bench.capacity_ok(self, run)
        # Detections are judged like the frame rates: per camera, in the measured
        # window (the summary's count runs from the start, while the network loads).
        run["capacity_checks"]["detection_fps_per_camera"] = \
            run["detections_metadata_per_camera"]["min"] >= self.a.min_detection_fps
        run["real_time"] = all(run["capacity_checks"].values())
        return run

    def latency_of(self, pictures, viewer, real0, real1, measure):
        if not self.a.latency:
            return {"median": None, "p99": None, "growth": None, "why_none": "--no-latency"}
        if not pictures:
            why = "the viewer decoded no pictures: %s" % " | ".join(viewer.errors[-3:] if viewer else [])
            return {"median": None, "p99": None, "growth": None, "why_none": why}
        third = measure / 3.0
        g = glass_to_glass(pictures, self.send_log, real0, real1, edge_s=third)
        out = {"median": g["median_ms"], "p99": g["p99_ms"],
               "growth": _diff(g["last_10s_median_ms"], g["first_10s_median_ms"]),
               "growth_is": "median of the window's last third - median of its first third",
               "first_third_median": g["first_10s_median_ms"], "last_third_median": g["last_10s_median_ms"],
               "samples": g["samples"], "pictures": g["pictures"], "camera0_readable_pct": g["tiles_readable_pct"],
               "unmatched": g["unmatched"], "viewer_read_cpu_s": round(viewer.read_s, 2)}
        if not g["samples"]:
            out["why_none"] = ("camera 0's stamp was readable in %s%% of %d pictures; no frame matched the send log"
                               % (g["tiles_readable_pct"], g["pictures"]))
        return out

    def report(self, run):
        if run.get("error"):
            return "  BROKE: %s" % run["error"].strip().replace("\n", " | ")[:600]
        checks = run["capacity_checks"]
        verdict = "ok" if run["real_time"] else "FAIL " + ",".join(c for c, v in checks.items() if not v)
        g = run["glass_to_glass_ms"]
        return ("  %s: output %.1f fps, slowest camera %.1f fps in (%.1f shown), detections/s of the slowest camera "
                "%.2f (%.2f per camera over the whole run), "
                "slipstream %.2f cores (%.3f per camera), camsim %.2f, GPU %s, latency %s / %s ms (growth %s)" % (
                    verdict, run["summary"]["output_fps"], run["window"]["min_camera_arrived_fps"],
                    run["shown_fps"]["min"], run["detections_metadata_per_camera"]["min"],
                    run["detections_per_s_per_camera"], run["cpu_cores"]["slipstream"],
                    run["cpu_cores_per_camera"], run["cpu_cores"]["camsim"], gpu_text(run["gpu_use"]),
                    g.get("median"), g.get("p99"), g.get("growth"))) + (
                    ", %d of %d detected from GPU frames" % (run["summary"]["from_gpu_frames"], run["summary"]["detected"])
                    if "from_gpu_frames" in run["summary"] else "")

    def safe_run(self, n, gpu, tag):
        """carry_run, or a record of how it broke (which counts as not real time)."""
        t = now_s()
        try:
            return self.carry_run(n, gpu, tag)
        except (RuntimeError, OSError) as e:
            return {"tag": tag, "cameras": n, "gpu": gpu, "real_time": False, "error": str(e)[-3000:],
                    "run_s": round(now_s() - t, 1)}

    def viewer_floor(self):
        """What the latency viewer adds by itself: camera 0 read directly (camsim
        -> RTSP -> the viewer's decoder), its send-to-picture latency."""
        measure = 6 if self.quick else 8
        self.log("latency: the viewer alone on camera 0 (%s, %d s)" % (self.a.viewer_decoder, measure))
        reader = TileStamps(1, (CAM_W, CAM_H), STAMP_CELL, "block", True, (CAM_W, CAM_H))
        viewer = GstViewer(self.gst_launch, self.urls[0], reader, (CAM_W, CAM_H), self.a.viewer_decoder)
        try:
            time.sleep(2.5)
            t0 = time.time_ns()
            time.sleep(measure)
            t1 = time.time_ns()
        finally:
            pictures = viewer.stop()
        g = glass_to_glass(pictures, self.send_log, t0, t1, edge_s=measure / 3.0)
        r = self.results["viewer_floor"] = {
            "what": "camsim camera 0 (%dx%d@%d) read directly by the latency viewer" % (CAM_W, CAM_H, CAM_FPS),
            "decoder": self.a.viewer_decoder, "median_ms": g["median_ms"], "p99_ms": g["p99_ms"],
            "samples": g["samples"], "readable_pct": g["tiles_readable_pct"]}
        if not g["samples"]:
            r["why_none"] = "no picture matched the send log: %s" % " | ".join(viewer.errors[-3:])
        self.log("  %s / %s ms (median / p99)" % (g["median_ms"], g["p99_ms"]))
        self.save()

    def cpu_path(self):
        """The CPU path at a few cameras, and the carry's own path at the same
        count: CPU per camera at equal N, so the output's fixed cost (encode,
        tiling) weighs the same on both."""
        n = min(self.a.cpu_cameras, len(self.urls))
        r = self.results["cpu_path"] = {"cameras": n, "runs": []}
        for gpu in ["none"] + ([self.a.gpu] if self.a.gpu != "none" else []):
            self.check_deadline("cpu")
            self.log("cpu: %d cameras, --gpu %s%s (%d s measured)" % (
                n, gpu, ": the CPU path for comparison" if gpu == "none" else ": the same cameras on the GPU path",
                self.d("carry_measure")))
            run = self.safe_run(n, gpu, "cpu-%s-%d" % (gpu, n))
            r["runs"].append(run)
            self.log(self.report(run))
            key = "cpu_path" if gpu == "none" else "gpu_path"
            r[key] = {"real_time": run["real_time"], "cpu_cores_per_camera": run.get("cpu_cores_per_camera")}
            self.summarise()
            self.save()

    def carry(self):
        top = min(self.a.max_cameras, len(self.urls))
        r = self.results["carry"] = {"gpu": self.a.gpu, "runs": [], "max_cameras": top}
        ceiling = (self.results.get("decode") or {}).get("ceiling_cameras")
        if self.a.start_cameras:
            n = self.a.start_cameras
            r["start"] = "--start-cameras"
        elif ceiling:
            n = math.ceil(TARGET_RATIO * ceiling)
            r["start"] = "0.9 x the decode ceiling (%.1f cameras)" % ceiling
        else:
            n = 8 if self.a.gpu != "none" else 2
            r["start"] = "a guess (no decode ceiling measured)"
        n = max(1, min(top, n))
        passed, failed = 0, None  # largest N that passed, smallest that failed
        crashes = 0
        expected = self.d("carry_measure") + self.d("carry_warmup") + 15
        while n and n not in [x["cameras"] for x in r["runs"]]:
            if self.left() < expected:
                r["stopped"] = "time budget: %.0f s left, a run takes about %.0f s" % (self.left(), expected)
                self.log("carry: stopping the search (%s)" % r["stopped"])
                break
            self.log("carry: %d x 1080p30 cameras, --gpu %s, interval %s (%d s measured)" %
                     (n, self.a.gpu, self.a.interval, self.d("carry_measure")))
            run = self.safe_run(n, self.a.gpu, "carry-%d" % n)
            crashes = crashes + 1 if run.get("error") else 0
            expected = max(expected, run["run_s"] + 5)
            r["runs"].append(run)
            self.log(self.report(run))
            if crashes >= 2:
                r["stopped"] = "two runs in a row broke: %s" % one_line(run["error"], 160)
                break
            if run["real_time"]:
                passed = max(passed, n)
            else:
                failed = n if failed is None else min(failed, n)
            r["largest_real_time"] = passed
            self.summarise()
            self.save()
            n = self.next_n(passed, failed, top, ceiling)
        r["largest_real_time"] = passed
        if passed and passed >= top and not r.get("stopped"):
            r["capped"] = "passed at --max-cameras (%d); more may be carried" % top
        self.summarise()

    def next_n(self, passed, failed, top, ceiling):
        """Up while runs pass (by 10% of the ceiling, or x1.5 without one), down
        while nothing passed (to 60%), then halving the gap between the largest
        pass and the smallest failure until it is 1 camera (or 3% of it)."""
        if failed is None:
            if passed >= top:
                return None
            step = max(1, round(0.1 * ceiling)) if ceiling else max(1, passed // 2)
            return min(top, passed + step)
        if passed == 0:
            if failed <= 1:
                return None
            return max(1, int(failed * 0.6))
        if failed - passed <= max(1, int(0.03 * passed)):
            return None
        return (passed + failed) // 2

    def summarise(self):
        """The verdicts: largest N in real time against 0.9 x the ceiling, and the
        CPU per camera of the GPU path against the CPU path's."""
        s = self.results.setdefault("result", {})
        carry = self.results.get("carry") or {}
        decode = self.results.get("decode") or {}
        n = carry.get("largest_real_time")
        s["largest_real_time"] = n
        ceiling = decode.get("ceiling_cameras")
        s["decode_ceiling_cameras"] = ceiling
        if n is not None and ceiling:
            s["ratio_to_ceiling"] = round(n / ceiling, 3)
            s["target_ratio"] = TARGET_RATIO
            s["target_met"] = n >= TARGET_RATIO * ceiling
        best = next((x for x in carry.get("runs", []) if x["cameras"] == n and x["real_time"]), None)
        s["cpu_cores_per_camera_gpu_path"] = best["cpu_cores_per_camera"] if best else None
        cp = self.results.get("cpu_path") or {}
        cpu = cp.get("cpu_path") or {}
        gpu = cp.get("gpu_path") or {}
        s["cpu_path_cameras"] = cp.get("cameras")
        s["cpu_cores_per_camera_cpu_path"] = cpu.get("cpu_cores_per_camera")
        s["cpu_path_real_time"] = cpu.get("real_time")
        s["cpu_cores_per_camera_gpu_path_same_n"] = gpu.get("cpu_cores_per_camera")
        s["gpu_path_same_n_real_time"] = gpu.get("real_time")
        if s["cpu_cores_per_camera_gpu_path_same_n"] and s["cpu_cores_per_camera_cpu_path"]:
            s["cpu_per_camera_same_n_gpu_vs_cpu_path"] = round(s["cpu_cores_per_camera_gpu_path_same_n"] /
                                                              s["cpu_cores_per_camera_cpu_path"], 3)
        if s["cpu_cores_per_camera_gpu_path"] and s["cpu_cores_per_camera_cpu_path"]:
            s["cpu_per_camera_at_largest_n_vs_cpu_path"] = round(s["cpu_cores_per_camera_gpu_path"] /
                                                                s["cpu_cores_per_camera_cpu_path"], 3)

    # ------------------------------------------------------------------ all
    def run(self):
        a = self.a
        self.results["machine"] = self.machine()
        gpus = self.results["machine"].get("gpus") or []
        index = int(a.gpu) if a.gpu.isdigit() else 0
        self.gpu = GpuSampler(index, None if gpus else "no NVIDIA GPU listed by nvidia-smi (%s)" % (
            self.results["machine"].get("gpus_error") or "none found"))
        sections = [s.strip() for s in a.sections.split(",") if s.strip()]
        self.results["settings"].update({
            "sections": sections, "gpu": a.gpu, "video": os.path.abspath(a.video), "interval": a.interval,
            "workers": self.workers(a.gpu) or "slipstream default", "threads": a.threads if self.workers(a.gpu) else None,
            "cameras": "%dx%d@%d H.264 %s, %d s loop, block stamp %d px bottom-left" % (
                CAM_W, CAM_H, CAM_FPS, CAM_BITRATE, CAM_LOOP_S, STAMP_CELL),
            "output": "%dx%d@%d" % (OUT_W, OUT_H, OUT_FPS), "budget_s": self.budget, "max_cameras": a.max_cameras,
            "plan": {k: v[1 if self.quick else 0] for k, v in PLAN.items()}, "viewer_decoder": a.viewer_decoder,
            "slipstream_args": a.slipstream_args,
        })
        self.log("slipstream GPU benchmark (%s), %s, GPU: %s, sections %s, budget %d s" % (
            "quick" if self.quick else "full", self.mode,
            ", ".join("%s %s (driver %s)" % (g["index"], g["name"], g["driver"]) for g in gpus) or "none",
            ",".join(sections), self.budget))
        self.save()
        try:
            self.start_cameras(max(a.max_cameras, a.cpu_cameras if "cpu" in sections else 1))
            steps = [("decode", self.decode)]
            if self.a.latency and ("cpu" in sections or "carry" in sections):
                steps.append(("viewer", self.viewer_floor))
            for name, fn in steps + [("cpu", self.cpu_path), ("carry", self.carry)]:
                if name not in sections and name != "viewer":
                    continue
                try:
                    fn()
                except OutOfTime as e:
                    self.log("%s: %s" % (name, e))
                    self.results["errors"].append({"section": name, "error": str(e)})
                    break
                except Exception as e:  # one broken section must not lose the others
                    self.log("%s failed: %s" % (name, e))
                    self.results["errors"].append({"section": name, "error": str(e),
                                                   "trace": traceback.format_exc()[-2000:]})
                self.save()
        finally:
            self.summarise()
            self.results["complete"] = not self.results["errors"]
            self.stop_all()
            text = self.save()
            shutil.rmtree(self.work, ignore_errors=True)
        return text

    def stop_all(self):
        for c in reversed(self.children):
            try:
                c.stop(timeout=5)
            except Exception:  # noqa: BLE001 -- stopping the rest matters more
                pass
        self.children = []
        if getattr(self, "gpu", None) and getattr(self.gpu, "child", None):
            self.gpu.stop()


def one_line(text, limit):
    """A message's lines joined into one, cut at limit characters."""
    joined = " | ".join(l.strip() for l in str(text).splitlines() if l.strip())
    return joined if len(joined) <= limit else joined[:limit - 3] + "..."


def _diff(a, b):
    return None if a is None or b is None else round(a - b, 1)


# --------------------------------------------------------------------- table
def fmt(x, digits=2):
    return bench.fmt(x, digits)


def gpu_text(g):
    if not g:
        return "-"
    if g.get("skipped"):
        return "n/a (%s)" % g["skipped"]

    def m(key, unit):
        v = g.get(key)
        return "%s%s" % (fmt(v["mean"], 0), unit) if v else "-"
    return "%s, NVDEC %s, %s" % (m("gpu_util_pct", "%"), m("decoder_util_pct", "%"), m("memory_used_mib", " MiB"))


HEADER = ("section", "measure", "value", "target", "status")


def status(ok):
    return "met" if ok else "MISSED"


def run_rows(section, run):
    if run.get("error"):
        return [(section, "%d cams --gpu %s: the run broke" % (run["cameras"], run["gpu"]),
                 one_line(run["error"], 220), "", "MISSED")]
    g = run["glass_to_glass_ms"]
    pl = run["pipeline_latency_ms"]
    failed = [c for c, v in run["capacity_checks"].items() if not v]
    lat = ("%s / %s ms, growth %s" % (fmt(g.get("median"), 0), fmt(g.get("p99"), 0), fmt(g.get("growth"), 0))
           if g.get("median") is not None else "- (%s)" % g.get("why_none", "not measured"))
    return [
        (section, "%d cams --gpu %s: real time; out fps, shown fps min/median, det/s per cam (slowest)" % (
            run["cameras"], run["gpu"]),
         "%s; %s, %s / %s, %s (%s)" % ("yes" if run["real_time"] else "no: " + ",".join(failed),
                                       fmt(run["summary"]["output_fps"], 1), fmt(run["shown_fps"]["min"], 1),
                                       fmt(run["shown_fps"]["median"], 1), fmt(run["detections_per_s_per_camera"]),
                                       fmt(run["detections_metadata_per_camera"]["min"])),
         ">= 29, in >= 28.5, >= 2", status(run["real_time"])),
        (section, "  CPU cores slipstream / camsim / per camera; GPU, NVDEC, memory; decode path",
         "%s / %s / %s; %s; %s" % (fmt(run["cpu_cores"]["slipstream"]), fmt(run["cpu_cores"]["camsim"]),
                                   fmt(run["cpu_cores_per_camera"], 3), gpu_text(run.get("gpu_use")),
                                   run.get("decode_path") or "-"), "", ""),
        (section, "  latency glass to glass median / p99; pipeline median / p99, growth",
         "%s; %s / %s ms, growth %s" % (lat, fmt(pl["median"], 0), fmt(pl["p99"], 0), fmt(pl["growth"], 0)),
         "growth <= 50", ""),
    ]


def table(results):
    rows = []
    d = results.get("decode")
    if d:
        if d.get("skipped"):
            rows.append(("decode", "ceiling (%s)" % d["decoder"], "skipped: " + d["skipped"], "", ""))
        for c in d.get("configs", []):
            name = "%d stream(s) x %d process(es), %s, fps (cameras at 30 fps)" % (
                c["streams_per_process"], c["processes"], d["decoder"])
            if c.get("fps"):
                rows.append(("decode", name, "%s (%s); CPU %s cores; GPU %s" % (
                    fmt(c["fps"], 0), fmt(c["cameras"], 1), fmt(c["cpu_cores"]), gpu_text(c.get("gpu"))), "", ""))
            elif not d.get("skipped"):
                rows.append(("decode", name, "failed: %s" % c.get("error"), "", ""))
        if d.get("ceiling_cameras"):
            rows.append(("decode", "ceiling: 1080p30 cameras decoded (%s memory)" % d.get("output_memory"),
                         "%s (%s fps, %s)" % (fmt(d["ceiling_cameras"], 1), fmt(d["ceiling_fps"], 0),
                                              d["ceiling_config"]), "", ""))
    vf = results.get("viewer_floor")
    if vf:
        rows.append(("latency", "the viewer alone: camera 0 read directly (%s), median / p99 ms" % vf["decoder"],
                     "%s / %s" % (fmt(vf["median_ms"], 0), fmt(vf["p99_ms"], 0)) if vf["samples"]
                     else "- (%s)" % vf.get("why_none"), "", "included in glass to glass"))
    for run in (results.get("cpu_path") or {}).get("runs", []):
        rows += run_rows("same N", run)
    carry = results.get("carry") or {}
    for run in carry.get("runs", []):
        rows += run_rows("carry", run)
    s = results.get("result") or {}
    if carry:
        note = carry.get("capped") or carry.get("stopped") or ""
        rows.append(("result", "largest N carried in real time (--gpu %s)" % carry.get("gpu"),
                     "%s%s" % (fmt(s.get("largest_real_time")), " (%s)" % note if note else ""),
                     ">= %s" % fmt(TARGET_RATIO * s["decode_ceiling_cameras"], 1) if s.get("decode_ceiling_cameras")
                     else "", status(s["target_met"]) if "target_met" in s else ""))
        if s.get("ratio_to_ceiling") is not None:
            rows.append(("result", "carried / decode ceiling", fmt(s["ratio_to_ceiling"], 3), ">= %.2f" % TARGET_RATIO,
                         status(s["target_met"])))
        rows.append(("result", "CPU cores per camera at that N (--gpu %s)" % carry.get("gpu"),
                     fmt(s.get("cpu_cores_per_camera_gpu_path"), 3), "", ""))
    if results.get("cpu_path"):
        n = s.get("cpu_path_cameras")

        def rt(ok):
            return "real time" if ok else "NOT real time"
        rows.append(("result", "CPU cores per camera, CPU path (--gpu none), %s cameras" % n,
                     "%s (%s)" % (fmt(s.get("cpu_cores_per_camera_cpu_path"), 3), rt(s.get("cpu_path_real_time"))),
                     "", ""))
        if results["cpu_path"].get("gpu_path"):
            ratio = s.get("cpu_per_camera_same_n_gpu_vs_cpu_path")
            rows.append(("result", "CPU cores per camera, --gpu %s, the same %s cameras" % (carry.get("gpu") or
                                                                                           results["settings"]["gpu"], n),
                         "%s (%s)" % (fmt(s.get("cpu_cores_per_camera_gpu_path_same_n"), 3),
                                      rt(s.get("gpu_path_same_n_real_time"))),
                         "", "%sx the CPU path's" % fmt(ratio, 2) if ratio else ""))
        if s.get("cpu_per_camera_at_largest_n_vs_cpu_path"):
            rows.append(("result", "CPU per camera at the largest N / the CPU path's",
                         fmt(s["cpu_per_camera_at_largest_n_vs_cpu_path"], 3), "", ""))
    m = results.get("machine") or {}
    gpus = "; ".join("%s, driver %s, %s" % (g["name"], g["driver"], g["memory"]) for g in m.get("gpus", [])) or \
        m.get("gpus_error", "-")
    rows.append(("machine", "CPU, cores, memory; GPU", "%s, %s cores, %s GiB; %s" % (
        m.get("cpu_model"), m.get("nproc"), m.get("memory_gib"), gpus), "", ""))
    rows.append(("machine", "versions, runtime", "%s; %s; %s s%s" % (
        (m.get("versions") or {}).get("slipstream"), (m.get("versions") or {}).get("gst_launch"),
        results.get("runtime_s"), "" if results.get("complete") else " (incomplete)"), "", ""))
    for e in results.get("errors", []):
        rows.append(("error", e["section"], one_line(e["error"], 220), "", ""))
    return render(HEADER, rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", default=SAMPLE if os.path.exists(SAMPLE) else None,
                   help="the cameras' video: MP4 or Matroska with H.264 (the bundle decodes H.264 with OpenH264; "
                        "H.265 needs NVDEC) (default: %s when present)" % SAMPLE)
    p.add_argument("--gpu", default=None, help="passed to slipstream as --gpu: N, auto or none (the CPU path); "
                   "default 0 when nvidia-smi lists a GPU, else none")
    p.add_argument("--quick", action="store_true", help="short measurements: about 3 minutes")
    p.add_argument("--sections", default="decode,cpu,carry", help="comma list of decode, cpu, carry (default all)")
    p.add_argument("--max-cameras", type=int, default=None,
                   help="most cameras for the carry search (default 128 with a GPU, 16 on the CPU path)")
    p.add_argument("--start-cameras", type=int, default=None,
                   help="first N of the carry search (default: 0.9 x the decode ceiling, else 8; 2 on the CPU path)")
    p.add_argument("--carry-seconds", type=float, default=None,
                   help="seconds measured per carry run, e.g. 60 for the no-growth check (default %d, --quick %d)"
                   % PLAN["carry_measure"])
    p.add_argument("--cpu-cameras", type=int, default=4, help="cameras of the CPU-path comparison run (default 4)")
    p.add_argument("--out", default=None, help="folder for gpu-<time>.json/.txt and gpu-latest.json/.txt "
                   "(default: bench/results in a source tree, ./slipstream-bench-results from the bundle)")
    p.add_argument("--build", help="run a source tree's build (its slipstream and camsim, Debian's gst-launch-1.0) "
                   "instead of the bundle this script sits in")
    p.add_argument("--slipstream", help="the slipstream program to run")
    p.add_argument("--camsim", help="the slipstream-camsim program to run")
    p.add_argument("--gst-launch", help="the gst-launch-1.0 program to run")
    p.add_argument("--decoder", help="the decode section's decoder (default nvh264dec, nvh264deviceNdec for --gpu N "
                   "> 0); e.g. openh264dec or avdec_h264 to try the section without a GPU")
    p.add_argument("--decode-sweep", help="streams x processes per decode run, e.g. 1x1,16x1,16x4,16x8 (default "
                   "that with NVDEC, %s with --quick; 1x1,<cores>x1 with a CPU decoder)" % NV_SWEEP[True])
    p.add_argument("--decode-system-memory", action="store_true",
                   help="let NVDEC's frames leave CUDA memory (no CUDAMemory caps after the decoder)")
    p.add_argument("--interval", default="12", help="slipstream --interval for every run (default 12: at most "
                   "30/13 = 2.3 detections/s per camera, as bench/run.sh's capacity section)")
    p.add_argument("--workers", default="auto", help="slipstream --workers (with --threads): auto = cores - 4 for "
                   "the CPU path on machines with more than 8 cores, else slipstream's default; 'default' leaves it to slipstream")
    p.add_argument("--threads", default="1", help="slipstream --threads when --workers is passed (default 1)")
    p.add_argument("--slipstream-args", help="more slipstream options for every run, one string")
    p.add_argument("--min-detection-fps", type=float, default=2.0)
    p.add_argument("--viewer-decoder", default="openh264dec",
                   help="decoder of the latency viewer, an element and its properties (default openh264dec; "
                        "e.g. \"avdec_h264 max-threads=1\" where gst-libav is installed)")
    p.add_argument("--no-latency", dest="latency", action="store_false", help="no viewer, no glass-to-glass latency")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds the whole run should take: no carry run starts that would end later "
                        "(default %d, --quick %d)" % PLAN["budget"])
    p.add_argument("--overrun", type=float, default=60,
                   help="seconds past the budget after which a run in progress is abandoned (default 60)")
    a = p.parse_args()
    if not a.video:
        p.error("--video FILE is required (the sample %s is not here)" % SAMPLE)
    if not os.path.isfile(a.video):
        p.error("--video %s: no such file" % a.video)
    gpus_listed = False
    if shutil.which("nvidia-smi"):
        try:
            gpus_listed = bool(subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                              timeout=30).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    if a.gpu is None:
        a.gpu = "0" if gpus_listed else "none"
    if a.max_cameras is None:
        a.max_cameras = 128 if a.gpu != "none" else 16
    if a.out is None:
        in_bundle = os.path.isfile(os.path.join(HERE, "..", "..", "..", "bin", "slipstream"))
        a.out = os.path.join(os.getcwd(), "slipstream-bench-results") if in_bundle and not a.build else \
            os.path.join(HERE, "results")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)

    b = GpuBench(a)
    try:
        text = b.run()
    except KeyboardInterrupt as e:
        b.results["errors"].append({"section": "run", "error": "interrupted (%s)" % (e or "SIGINT")})
        b.stop_all()
        text = b.save()
    print("", file=sys.stderr)
    print("full numbers: %s (runtime %.0f s%s)" % (b.json_path, b.results["runtime_s"],
                                                   ", %d error(s)" % len(b.results["errors"])
                                                   if b.results["errors"] else ""), file=sys.stderr, flush=True)
    print(text, flush=True)
    return 1 if b.results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
