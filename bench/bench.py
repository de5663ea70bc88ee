#!/usr/bin/python3
"""slipstream's performance benchmark; run it through bench/run.sh.

Everything runs on loopback (127.0.0.1) on this machine: slipstream-camsim
plays the cameras, slipstream (and the OpenCV-only peer in bench/peers) does
the job, and the CPU time of every process is read from /proc. Sections:

  floors      decode, forward and encode alone: the least CPU the job can take
  efficiency  slipstream's CPU per second over the floor of the same workload
  tracking    track statistics and CPU per second at several intervals
  capacity    most 1080p30 cameras carried in real time (slipstream and peer)
  latency     glass to glass, camera send to viewer decode (slipstream and peer)

Full numbers go to bench/results/latest.json; one table is printed last."""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import floors  # noqa: E402
from benchlib.cameras import SAMPLE, Camsim  # noqa: E402
from benchlib.latency import StampReader, Viewer, glass_to_glass  # noqa: E402
from benchlib.metadata import MetadataTail, tracking_stats, window_stats  # noqa: E402
from benchlib.table import render  # noqa: E402
from benchlib.proc import Child, CpuWindow, free_port, machine_busy, sleep_until  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT_W, OUT_H, OUT_FPS = 1200, 600, 30
STAMP_CELL = 24  # camsim --stamp-cell for 768-wide cameras: ~12 px cells in a 2x2 output tile

# Durations in seconds: (full, quick).
PLAN = {
    "decode": (20, 6), "decode_check": (8, 4), "encode": (8, 4),
    "efficiency": (45, 20), "efficiency_warmup": (12, 8),
    "tracking": (92, 20),  # full: one whole loop of the 79.5 s sample in every run, so intervals compare
    "capacity_probe": (25, 16), "capacity_confirm": (60, 0), "capacity_warmup": (10, 8),
    "latency": (60, 20), "latency_warmup": (10, 6),
}


def measure_window(child, trees, start, end, wait_s, threads_of=None):
    """CPU of the process trees between two monotonic times; then lets the
    child finish its --duration (stopped if it has not after wait_s).
    Returns the CpuWindow, its result and the window in wall-clock ns."""
    window = CpuWindow(trees, threads_of=threads_of)
    sleep_until(start)
    window.begin()
    real_start = time.time_ns()
    sleep_until(end)
    cpu = window.finish()
    real_end = time.time_ns()
    if child.wait(wait_s) is None:
        child.stop()
    return window, cpu, (real_start, real_end)


class Bench:
    def __init__(self, args):
        self.a = args
        self.quick = args.quick
        self.build = args.build
        self.slipstream = args.slipstream or os.path.join(self.build, "app", "slipstream", "slipstream")
        self.camsim_bin = os.path.join(self.build, "app", "camsim", "slipstream-camsim")
        self.bench_detector = os.path.join(self.build, "bench", "detector", "bench-detector")
        self.peer = os.path.join(HERE, "peers", "opencv_peer.py")
        self.work = tempfile.mkdtemp(prefix="slipstream-bench-")
        self.results = {"started": datetime.datetime.now().isoformat(timespec="seconds"), "quick": self.quick,
                        "machine": machine_info(), "errors": []}
        self.t_start = time.monotonic()
        self.quiet_budget = args.quiet_wait
        self.results["quiet_waits"] = []
        self.output_frames = None  # (raw I420 file, frames) for the encode floor checks

    def wait_quiet(self, what):
        """Other programs on this machine skew real-time results (capacity,
        latency): before a measured run, wait -- within a total budget -- until
        the machine is nearly idle, and record what was seen."""
        started = time.monotonic()
        while True:
            b0, t0 = machine_busy(), time.monotonic()
            time.sleep(2.0)
            load = (machine_busy() - b0) / (time.monotonic() - t0)
            waited = time.monotonic() - started
            if load < self.a.quiet_level or self.quiet_budget - waited <= 0:
                break
        self.quiet_budget -= waited
        self.results["quiet_waits"].append({"before": what, "waited_s": round(waited, 1), "busy_cores": round(load, 2)})
        if waited > 3:
            self.log("  waited %.0f s for other programs (now %.2f cores busy)" % (waited, load))

    def d(self, key):
        return PLAN[key][1 if self.quick else 0]

    def log(self, text):
        print("[%5.0f s] %s" % (time.monotonic() - self.t_start, text), file=sys.stderr, flush=True)

    # ---------------------------------------------------------------- floors
    def floors(self):
        r = self.results.setdefault("floors", {})
        self.log("floors: decode 768x576@10 (4 cameras)")
        cam = Camsim(self.camsim_bin, 4)
        try:
            r["decode_768x576_10"] = floors.decode_floor(cam.urls, 10, 5, self.d("decode"))
        finally:
            cam.stop()
        self.log("floors: decode 1920x1080@30 4 Mbit/s (2 cameras; first run encodes the stream, ~1-2 min)")
        cam = self.camsim_1080p(2)
        try:
            r["decode_1920x1080_30"] = floors.decode_floor(cam.urls, 30, 5, self.d("decode"))
        finally:
            cam.stop()
        self.log("floors: forward (bench-detector, OpenCV default threads and 1 thread)")
        config = {"input": 416}
        batches = [1] if self.quick else [1, 4]
        runs = (4, 14) if self.quick else (6, 36)
        default = floors.forward_floor(self.bench_detector, config, batches, self.work, runs)
        single = floors.forward_floor(["taskset", "-c", "0", self.bench_detector], config, [1], self.work, runs)
        r["forward"] = {"default_threads": {str(k): v for k, v in default.items()},
                        "one_thread": {str(k): v for k, v in single.items()}}
        # The floor is the cheapest way to run the pipeline's batch (1).
        r["forward_cpu_s"] = min(default[1]["cpu_s_per_forward"], single[1]["cpu_s_per_forward"])
        r["forward_one_thread_cpu_s"] = single[1]["cpu_s_per_forward"]
        self.log("floors: encode 1200x600 I420 @30 (x264enc as slipstream sets it)")
        r["encode"] = {}
        for name, cameras, size, fps in (("4x768x576_10", 4, (768, 576), 10), ("1x768x576_10", 1, (768, 576), 10)):
            r["encode"][name] = self.encode_floor(cameras, size, fps)
        if not self.quick and self.a.presets:
            r["encode_presets"] = self.encoder_presets()

    def encode_floor(self, cameras, size, fps, preset=None):
        raw = os.path.join(self.work, "out-%d-%dx%d-%d.yuv" % (cameras, size[0], size[1], fps))
        frames = floors.make_output_frames(raw, SAMPLE, cameras, size, fps, self.d("encode"))
        try:
            return floors.encode_cpu(raw, frames, preset=preset or "superfast")
        finally:
            os.unlink(raw)

    def encoder_presets(self):
        """x264 settings by measurement: CPU per frame and SSIM at 4 Mbit/s."""
        raw = os.path.join(self.work, "presets.yuv")
        frames = floors.make_output_frames(raw, SAMPLE, 4, (768, 576), 10, self.d("encode"))
        out = []
        try:
            for preset in ("ultrafast", "superfast", "veryfast"):
                enc = os.path.join(self.work, "enc.h264")
                row = floors.encode_cpu(raw, frames, preset=preset, out_file=enc)
                row["ssim"] = floors.ssim_of(enc, raw)
                out.append(row)
                self.log("  %s: %.2f ms CPU/frame, SSIM %s" % (preset, row["cpu_s_per_frame"] * 1000, row["ssim"]))
        finally:
            os.unlink(raw)
        return out

    def camsim_1080p(self, count, extra=()):
        return Camsim(self.camsim_bin, count, ["--width", "1920", "--height", "1080", "--fps", "30", "--bitrate", "4M",
                                               "--duration", "20"] + list(extra))

    # --------------------------------------------------- slipstream, one run
    def run_slipstream(self, urls, interval, duration, warmup, tag, camera_fps, extra_trees=None, viewer=None,
                       extra_args=()):
        self.wait_quiet(tag)
        port = free_port()
        metadata = os.path.join(self.work, tag + ".jsonl")
        if os.path.exists(metadata):
            os.unlink(metadata)
        args = [self.slipstream, "--input", ",".join(urls), "--port", port, "--bind", "127.0.0.1",
                "--ip", "127.0.0.1", "--show-frames", "no", "--metadata", metadata, "--duration", duration]
        if interval is not None:
            args += ["--interval", interval]
        args += list(extra_args)
        child = Child(args, "slipstream " + tag)
        tail = MetadataTail(metadata)
        view = None
        try:
            t_out, _ = child.wait_for(lambda l: l.startswith("Output:"), 60, "its Output line")
            if viewer:
                time.sleep(1.0)
                view = viewer("rtsp://127.0.0.1:%d/ds" % port)
            trees = {"slipstream": child.pid}
            trees.update(extra_trees or {})
            window, cpu, real_window = measure_window(child, trees, t_out + warmup, t_out + duration - 1.5,
                                                      duration + 30, threads_of=child.pid)
        finally:
            pictures = view.stop() if view else None
            records = tail.stop()
            if child.alive():
                child.stop()
        summary = parse_summary(child.text("err"))
        if summary is None:
            raise RuntimeError("slipstream %s printed no summary:\n%s" % (tag, "\n".join(child.text()[-20:])))
        first = next((t for t, _ in records), None)
        startup = (first - t_out) if first else 0.0
        # Detections per second once frames flow: the summary counts from the
        # moment the pipeline plays, before the cameras delivered anything.
        detections = summary["detection_fps"] * duration
        steady = detections / max(1.0, duration - startup)
        n = len(urls)
        result = {
            "tag": tag, "cameras": n, "interval": interval, "duration_s": duration,
            "summary": summary, "startup_s": round(startup, 2), "stages_ms": parse_stages(child.text("err")),
            "detections_per_s": round(steady, 2), "detections_per_s_per_camera": round(steady / n, 2),
            "cpu": cpu, "cpu_per_s": cpu["cpu_per_s"]["slipstream"],
            "window": window_stats(records, window.t0, window.t1, n, edge_s=min(10.0, (window.t1 - window.t0) / 3)),
            "warnings": [l for l in child.text("err") if l.startswith(("warning", "error"))][:10],
        }
        # The picture first: the share of each camera's frames that reached the output.
        result["shown_share_min"] = round(min(c["fps"] for c in result["window"]["per_camera"]) / camera_fps, 3)
        result["_records"] = records
        result["_window"] = (window.t0, window.t1)
        result["_real_window"] = real_window
        result["_pictures"] = pictures
        return result

    # ------------------------------------------------------------ efficiency
    def forward_now(self):
        """The one-thread forward floor again, in a few seconds."""
        runs = (3, 11) if self.quick else (4, 24)
        single = floors.forward_floor(["taskset", "-c", "0", self.bench_detector], {"input": 416}, [1], self.work, runs)
        f = self.results["floors"]
        # As the main floor: the cheaper of one thread and OpenCV's default.
        scale = f["forward_cpu_s"] / f.get("forward_one_thread_cpu_s", f["forward_cpu_s"])
        return single[1]["cpu_s_per_forward"] * scale

    def floors_now(self, urls):
        """All three floors again, in about half a minute, for the run beside
        them, so that a run is divided by floors of the machine as it was
        then. (Before bench-detector had slipstream's aligned operator new, its
        forward took 42 ms in one process and 57 ms in the next, depending on
        where the heap put OpenCV's buffers; see core/src/aligned_new.cpp.)"""
        if not self.output_frames:
            raw = os.path.join(self.work, "efficiency-output.yuv")
            frames = floors.make_output_frames(raw, SAMPLE, 4, (768, 576), 10, self.d("encode"))
            self.output_frames = (raw, frames)
        now = {"forward": self.forward_now(),
               "decode": floors.decode_floor(urls, 10, 3, self.d("decode_check"))["cpu_s_per_frame"],
               "encode": floors.encode_cpu(*self.output_frames)["cpu_s_per_frame"]}
        self.log("  floors now: forward %.1f ms, decode %.2f ms, encode %.2f ms" %
                 tuple(now[k] * 1000 for k in ("forward", "decode", "encode")))
        return now

    def between_floors(self, urls, measures):
        """Runs each measure() with the floors measured before, between and after
        them; each run is divided by the mean of the floors on its two sides."""
        checks = [self.floors_now(urls)]
        runs = []
        for measure in measures:
            run = measure()
            checks.append(self.floors_now(urls))
            before, after = checks[-2], checks[-1]
            run["floor_checks_ms"] = {side: {k: round(v * 1000, 2) for k, v in c.items()}
                                      for side, c in (("before", before), ("after", after))}
            now = {k: (before[k] + after[k]) / 2 for k in before}
            run["floor_per_s"] = self.floor_per_s(len(urls), "decode_768x576_10", 10, run["detections_per_s"],
                                                  "4x768x576_10", now)
            run["efficiency"] = round(run["cpu_per_s"] / run["floor_per_s"]["total"], 3)
            # The detection workers' own CPU per detected frame, beside the forward
            # floor: tells detection's share of a miss from everything else's.
            detect_cpu = (run["cpu"].get("threads_cpu_s") or {}).get("ss-detectN")
            # The steady detection rate the floor uses too (the metadata would miss
            # detections that finished after their batch's deadline).
            detected = run["detections_per_s"] * run["cpu"]["seconds"]
            if detect_cpu and detected:
                run["detect_cpu_ms_per_frame"] = round(detect_cpu / detected * 1000, 1)
                run["rest_cpu_per_s"] = round(run["cpu_per_s"] - detect_cpu / run["cpu"]["seconds"], 3)
            self.log("  CPU %.2f/s, floor %.2f/s, ratio %.3f, %.1f detections/s, detection threads %s ms per frame" %
                     (run["cpu_per_s"], run["floor_per_s"]["total"], run["efficiency"], run["detections_per_s"],
                      run.get("detect_cpu_ms_per_frame")))
            runs.append(run)
        return runs

    def floor_per_s(self, cameras, camera_key, camera_fps, detections_per_s, encode_key, now=None):
        """The floor CPU per second of a workload: from the floors section, or
        from `now` (per-frame CPU seconds of forward, decode and encode)."""
        f = self.results["floors"]
        now = now or {"forward": f["forward_cpu_s"], "decode": f[camera_key]["cpu_s_per_frame"],
                      "encode": f["encode"][encode_key]["cpu_s_per_frame"]}
        decode = now["decode"] * camera_fps * cameras
        forward = now["forward"] * detections_per_s
        encode = now["encode"] * OUT_FPS
        return {"decode": round(decode, 3), "forward": round(forward, 3), "encode": round(encode, 3),
                "total": round(decode + forward + encode, 3)}

    def efficiency(self):
        r = self.results.setdefault("efficiency", [])
        intervals = [2] if self.quick else [0, 2]
        repeats = 1 if self.quick else 2
        cam = Camsim(self.camsim_bin, 4)
        try:
            for k in intervals:
                self.log("efficiency: 4 cameras 768x576@10, interval %d, %d runs" % (k, repeats))

                def measure(i, k=k):
                    return self.run_slipstream(cam.urls, k, self.d("efficiency"), self.d("efficiency_warmup"),
                                               "eff-4-k%d-%d" % (k, i + 1), 10, extra_trees={"camsim": cam.pid})
                runs = self.between_floors(cam.urls, [lambda i=i: measure(i) for i in range(repeats)])
                for run in runs:
                    run["tracking"] = tracking_stats(run["_records"], *run["_window"], 4, 10)
                    r.append(strip(run))
        finally:
            cam.stop()

    # -------------------------------------------------------------- tracking
    def tracking(self):
        r = self.results.setdefault("tracking", [])
        intervals = [0, 2] if self.quick else [0, 2, 5]
        cam = Camsim(self.camsim_bin, 1)
        try:
            for k in intervals:
                self.log("tracking: 1 camera 768x576@10 (pedestrians), interval %d" % k)
                run = self.run_slipstream(cam.urls, k, self.d("tracking"), 5, "track-1-k%d" % k, 10,
                                          extra_trees={"camsim": cam.pid})
                run["tracking"] = tracking_stats(run["_records"], *run["_window"], 1, 10)
                run["floor_per_s"] = self.floor_per_s(1, "decode_768x576_10", 10, run["detections_per_s"], "1x768x576_10")
                run["efficiency"] = round(run["cpu_per_s"] / run["floor_per_s"]["total"], 3)
                r.append(strip(run))
                t = run["tracking"]
                self.log("  CPU %.2f/s, %.1f detections/s, %s tracks/min, median %s frames, %d swaps, %d fragments" %
                         (run["cpu_per_s"], run["detections_per_s"], t["tracks_per_minute_per_camera"],
                          t["median_track_frames"], t["id_swaps"], t["fragments"]))
        finally:
            cam.stop()
        base = next((x["cpu_per_s"] for x in r if x["interval"] == 0), None)
        for x in r:
            x["cpu_saved_vs_interval_0_pct"] = round(100 * (1 - x["cpu_per_s"] / base), 1) if base else None

    # -------------------------------------------------------------- capacity
    def capacity_estimate(self):
        """A starting point for the search from the floors: cameras whose decode,
        detection at the target rate and share of the encode fit in 2 cores."""
        f = self.results.get("floors")
        if not f or "decode_1920x1080_30" not in f:
            return 2
        cores = os.cpu_count() or 2
        per_camera = f["decode_1920x1080_30"]["cpu_s_per_frame"] * 30 + f["forward_cpu_s"] * self.a.min_detection_fps
        encode = f["encode"]["4x768x576_10"]["cpu_s_per_frame"] * OUT_FPS
        # The floor leaves out scaling, drawing and threads: assume 1.4x of it.
        return max(1, int((cores * 0.9 - encode * 1.4) / (per_camera * 1.4)))

    def max_probes(self):
        return 2 if self.quick else 6

    def capacity_ok(self, run):
        w = run["window"]
        det = run["detections_per_s_per_camera"]
        lat = w["latency_ms"]
        growth = (lat["last_10s_mean"] or 0) - (lat["first_10s_mean"] or 0)
        checks = {
            "output_fps": run["summary"]["output_fps"] >= OUT_FPS - 1,
            # Frames each camera delivered into the pipeline (the metadata's
            # per-camera frame counter); the share shown is reported beside it.
            "every_camera_fps": w["min_camera_arrived_fps"] >= 0.95 * 30,
            "detection_fps_per_camera": det >= self.a.min_detection_fps,
            "latency_growth_ms": growth <= 50,
        }
        run["capacity_checks"] = checks
        run["latency_growth_ms"] = round(growth, 1)
        return all(checks.values())

    def capacity_search(self, section, who, tag, start, seconds, measure, passed, report):
        """The most 1080p30 cameras `who` carries in real time, into
        results[section]. Probes go up one camera after a pass and down one
        while nothing has passed yet, from `start`, never the same count twice
        and at most max_probes(); then the best count runs again for
        capacity_confirm seconds, one camera fewer after each failure.
        seconds(n, confirming): how long a run of n cameras lasts;
        measure(cam, n, seconds, tag, confirming): that run, on cam's first n cameras;
        passed(run): records the run's capacity checks, True when all hold;
        report(run, ok, confirming): the log line after a run."""
        r = self.results.setdefault(section, {"runs": []})
        k = self.a.capacity_interval
        r["interval"] = k
        top = self.a.max_cameras
        cam = self.camsim_1080p(top)
        best, n, tried = 0, start, set()
        try:
            while 1 <= n <= top and n not in tried and len(tried) < self.max_probes():
                tried.add(n)
                self.log("capacity: %s, %d x 1080p30 cameras, interval %d (%d s)" % (who, n, k, seconds(n, False)))
                run = measure(cam, n, seconds(n, False), "%s-%d" % (tag, n), False)
                ok = passed(run)
                r["runs"].append(strip(run))
                self.log(report(run, ok, False))
                if ok:
                    best = n
                    n += 1
                elif best == 0:
                    n -= 1  # the estimate was too high: step down
                else:
                    break
            confirm = self.d("capacity_confirm")
            while confirm and best > 0:
                self.log("capacity: %s, confirming %d cameras for %d s" % (who, best, confirm))
                run = measure(cam, best, seconds(best, True), "%s-confirm-%d" % (tag, best), True)
                ok = passed(run)
                run["confirm"] = True
                r["runs"].append(strip(run))
                self.log(report(run, ok, True))
                if ok:
                    r["confirmed"] = strip(run)
                    break
                best -= 1
            r["cameras"] = best
        finally:
            cam.stop()

    def capacity(self):
        def seconds(n, confirming):
            return self.d("capacity_confirm") + 12 if confirming else self.d("capacity_probe")

        def measure(cam, n, duration, tag, confirming):
            return self.run_slipstream(cam.urls[:n], self.a.capacity_interval, duration,
                                       10 if confirming else self.d("capacity_warmup"), tag, 30,
                                       extra_trees={"camsim": cam.pid})

        def report(run, ok, confirming):
            if confirming:
                verdict, last = "confirmed" if ok else "not confirmed", "latency growth %s ms" % run["latency_growth_ms"]
            else:
                verdict = "ok" if ok else "FAIL " + ",".join(c for c, v in run["capacity_checks"].items() if not v)
                last = "CPU %.2f/s" % run["cpu_per_s"]
            return "  %s: output %.1f fps, slowest camera %.1f fps in (%.1f shown), %.2f detections/s per camera, %s" % (
                verdict, run["summary"]["output_fps"], run["window"]["min_camera_arrived_fps"],
                run["window"]["min_camera_fps"], run["detections_per_s_per_camera"], last)

        start = min(self.a.max_cameras, max(1, self.capacity_estimate() - 1))
        self.capacity_search("capacity", "slipstream", "cap", start, seconds, measure, self.capacity_ok, report)

    # ------------------------------------------------------------------ peer
    def run_peer(self, urls, interval, duration, tag, output="null", viewer=None, extra_trees=None):
        self.wait_quiet(tag)
        stats = os.path.join(self.work, tag + ".stats.jsonl")
        args = ["/usr/bin/python3", self.peer, "--input", ",".join(urls), "--output", output,
                "--interval", interval, "--duration", duration, "--stats", stats]
        child = Child(args, "peer " + tag)
        view = None
        try:
            t_out, _ = child.wait_for(lambda l: l.startswith("Output:"), 60, "its Output line")
            if viewer:
                time.sleep(0.5)
                view = viewer()
            # Capture opens are slow and one at a time in OpenCV: wait for every
            # camera's first frame (and a few seconds more) before measuring.
            deadline = t_out + duration - 10
            while time.monotonic() < deadline:
                rows = read_jsonl(stats)
                if rows and all(f is not None for f in rows[-1]["first"]):
                    break
                time.sleep(0.5)
            trees = {"peer": child.pid}
            trees.update(extra_trees or {})
            window, cpu, real_window = measure_window(child, trees, time.monotonic() + 5, t_out + duration - 1.5,
                                                      duration + 30)
        finally:
            pictures = view.stop() if view else None
            if child.alive():
                child.stop()
        rows = [row for row in read_jsonl(stats) if window.t0 - 1 <= row["t"] <= window.t1 + 1]
        summary = next((l for l in child.text("err") if l.startswith("summary:")), None)
        n = len(urls)
        result = {"tag": tag, "cameras": n, "interval": interval, "summary_line": summary, "cpu": cpu,
                  "cpu_per_s": cpu["cpu_per_s"]["peer"], "warmup_s": round(window.t0 - t_out, 1)}
        if len(rows) >= 2:
            a, b = rows[0], rows[-1]
            dt = b["t"] - a["t"]
            result["output_fps"] = round((b["output"] - a["output"]) / dt, 2)
            # As slipstream's metadata: camera frames that reached the output
            # (the newest frame per output tick); frames read are kept beside.
            result["camera_fps"] = [round((y - x) / dt, 2) for x, y in zip(a["shown"], b["shown"])]
            result["camera_read_fps"] = [round((y - x) / dt, 2) for x, y in zip(a["frames"], b["frames"])]
            result["min_camera_fps"] = min(result["camera_fps"])
            per_cam = [(y - x) / dt for x, y in zip(a["detections"], b["detections"])]
            result["detections_per_s"] = round(sum(per_cam), 2)
            result["detections_per_s_per_camera"] = round(sum(per_cam) / n, 2)
            result["min_detections_per_s_camera"] = round(min(per_cam), 2)
            # How far each camera's stream position falls behind the wall clock:
            # growth means frames queue up somewhere (the latency grows).
            third = max(1, len(rows) // 3)
            growth = []
            for i in range(n):
                def lag(row):
                    t0, ms0 = row["first"][i]
                    return (row["t"] - t0) - ((row["stream_ms"][i] or 0) - ms0) / 1000.0
                early = sum(lag(x) for x in rows[:third]) / third
                late = sum(lag(x) for x in rows[-third:]) / third
                growth.append(round((late - early) * 1000, 1))
            result["lag_growth_ms"] = growth
        result["_pictures"] = pictures
        result["_real_window"] = real_window
        return result

    def peer_capacity(self):
        def seconds(n, confirming):
            # Capture opens take ~1-3 s per camera.
            return (self.d("capacity_confirm") + 10 if confirming else self.d("capacity_probe")) + 4 * n

        def measure(cam, n, duration, tag, confirming):
            return self.run_peer(cam.urls[:n], self.a.capacity_interval, duration, tag, extra_trees={"camsim": cam.pid})

        def report(run, ok, confirming):
            if confirming:
                return "  %s" % ("confirmed" if ok else "not confirmed")
            return ("  %s: output %s fps, slowest camera %s fps read (%s shown), %s detections/s per camera, "
                    "lag growth %s ms" % ("ok" if ok else "FAIL", run.get("output_fps"),
                                          min(run.get("camera_read_fps") or [0]), run.get("min_camera_fps"),
                                          run.get("detections_per_s_per_camera"), run.get("lag_growth_ms")))

        ours = self.results.get("capacity", {}).get("cameras")
        start = max(1, ours - 2) if ours else 1
        self.capacity_search("peer_capacity", "peer", "peer-cap", start, seconds, measure, self.peer_ok, report)

    def peer_ok(self, run):
        checks = {
            "output_fps": (run.get("output_fps") or 0) >= OUT_FPS - 1,
            "every_camera_fps": min(run.get("camera_read_fps") or [0]) >= 0.95 * 30,
            "detection_fps_per_camera": (run.get("min_detections_per_s_camera") or 0) >= self.a.min_detection_fps,
            "latency_growth_ms": max(run.get("lag_growth_ms") or [1e9]) <= 50,
        }
        run["capacity_checks"] = checks
        return all(checks.values())

    # --------------------------------------------------------------- latency
    def latency(self):
        r = self.results.setdefault("latency", {})
        duration = self.d("latency") + self.d("latency_warmup") + 3
        send_log = os.path.join(self.work, "send.log")
        cam = Camsim(self.camsim_bin, 4, ["--stamp-position", "bottom", "--stamp-cell", str(STAMP_CELL)],
                     send_log=send_log)
        try:
            reader = StampReader(4, cam.shape[:2], STAMP_CELL)
            self.log("latency: slipstream, 4 stamped cameras 768x576@10, default interval, %d s measured" %
                     self.d("latency"))
            run, = self.between_floors(cam.urls, [lambda: self.run_slipstream(
                cam.urls, None, duration, self.d("latency_warmup"), "latency-4", 10,
                extra_trees={"camsim": cam.pid}, viewer=lambda url: Viewer(url, reader))])
            run["glass_to_glass"] = glass_to_glass(run["_pictures"], send_log, *run["_real_window"],
                                                   edge_s=min(10.0, self.d("latency") / 3))
            r["slipstream"] = strip(run)
            g = run["glass_to_glass"]
            self.log("  glass to glass median %s ms, p99 %s ms (first %s, last %s); pipeline median %s ms" %
                     (g["median_ms"], g["p99_ms"], g["first_10s_median_ms"], g["last_10s_median_ms"],
                      run["window"]["latency_ms"]["median"]))
            if self.a.peer:
                self.log("latency: peer, the same 4 cameras, %d s measured" % self.d("latency"))
                port = free_port(udp=True)
                run = self.run_peer(cam.urls, 0, duration + 10, "peer-latency-4",
                                    output="rtp://127.0.0.1:%d" % port, extra_trees={"camsim": cam.pid},
                                    viewer=lambda: Viewer("rtp-udp:%d" % port, reader))
                run["glass_to_glass"] = glass_to_glass(run["_pictures"], send_log, *run["_real_window"],
                                                       edge_s=min(10.0, self.d("latency") / 3))
                r["peer"] = strip(run)
                g = run["glass_to_glass"]
                self.log("  glass to glass median %s ms, p99 %s ms (first %s, last %s)" %
                         (g["median_ms"], g["p99_ms"], g["first_10s_median_ms"], g["last_10s_median_ms"]))
        finally:
            cam.stop()

    # ------------------------------------------------------------------ all
    def run(self):
        sections = [("floors", self.floors), ("efficiency", self.efficiency), ("tracking", self.tracking),
                    ("latency", self.latency), ("capacity", self.capacity)]
        if self.a.peer:
            sections.append(("peer_capacity", self.peer_capacity))
        only = set(self.a.only.split(",")) if self.a.only else None
        for name, fn in sections:
            if only and name not in only:
                continue
            if name != "floors" and "floors" not in self.results:
                self.load_previous_floors()
            try:
                fn()
            except Exception as e:  # one broken section must not lose the others
                self.log("%s failed: %s" % (name, e))
                self.results["errors"].append({"section": name, "error": str(e),
                                               "trace": traceback.format_exc()[-2000:]})
        self.results["runtime_s"] = round(time.monotonic() - self.t_start, 1)
        shutil.rmtree(self.work, ignore_errors=True)

    def load_previous_floors(self):
        """For --only runs without floors: reuse the last full run's floors."""
        try:
            with open(self.a.json) as f:
                self.results["floors"] = json.load(f)["floors"]
                self.results["floors_from_previous_run"] = True
        except (OSError, KeyError, ValueError):
            pass


def strip(run):
    return {k: v for k, v in run.items() if not k.startswith("_")}


def read_jsonl(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return rows


def parse_stages(lines):
    """The last "summary latency by stage" line: {stage: {"median", "p99"}} in ms."""
    stages = {}
    for line in lines:
        if line.startswith("summary latency by stage"):
            stages = {}
            # A stage without samples reads "n/a" and is left out.
            for name, median, p99 in re.findall(r"([a-z ]+) ([\d.]+) / ([\d.]+)", line.split(": ", 1)[1]):
                stages[name.strip().replace(" ", "_")] = {"median": float(median), "p99": float(p99)}
    return stages


def parse_summary(lines):
    for line in lines:
        m = re.match(r"summary: (\d+) s, output ([\d.]+) fps, detection ([\d.]+) frames/s \(([\d.]+) per camera\)", line)
        if m:
            out = {"seconds": int(m.group(1)), "output_fps": float(m.group(2)), "detection_fps": float(m.group(3)),
                   "detection_fps_per_camera": float(m.group(4)), "line": line}
            # Detections that went out with their own frame, and the detection deadline in force at the end.
            own = re.search(r"(\d+) of (\d+) on their own frame, deadline (\d+) ms( \(auto\))?", line)
            if own:
                on_time, detected = int(own.group(1)), int(own.group(2))
                out.update({"on_own_frame": on_time, "detected": detected,
                            "on_own_frame_share": round(on_time / detected, 3) if detected else None,
                            "deadline_ms": int(own.group(3)), "deadline_auto": bool(own.group(4))})
            # The GPU path: of the detected frames, those detected from their copy in GPU memory.
            gpu = re.search(r"(\d+) from GPU frames", line)
            if gpu:
                out["from_gpu_frames"] = int(gpu.group(1))
            return out
    return None


def machine_info():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    debian = ""
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    return {"nproc": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "debian": debian, "load_average_at_start": load}


# ------------------------------------------------------------------- table
def fmt(x, digits=2, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float):
        return ("%." + str(digits) + "f%s") % (x, unit)
    return "%s%s" % (x, unit)


def table(results):
    """The printed table: one row per measure, sections in the order they are read."""
    lat = results.get("latency", {})
    rows = (floor_rows(results.get("floors") or {})
            + efficiency_by_interval_rows(results.get("efficiency", []))
            + latency_rows(lat.get("slipstream"), lat.get("peer"))
            + capacity_rows(results.get("capacity"), results.get("peer_capacity"))
            + tracking_rows(results.get("tracking", []))
            + machine_rows(results))
    return render(HEADER, rows)


HEADER = ("section", "measure", "slipstream", "peer", "ratio", "target", "status")


def row(section, measure, ours, peer="", ratio="", target="", status=""):
    return (section, measure, ours, peer, ratio, target, status)


def floor_rows(f):
    """Decode, forward and encode alone, and the x264 presets compared."""
    rows = []
    if "decode_768x576_10" in f:
        rows.append(row("floor", "decode 768x576 H.264, CPU ms/frame", fmt(f["decode_768x576_10"]["cpu_s_per_frame"] * 1000)))
    if "decode_1920x1080_30" in f:
        rows.append(row("floor", "decode 1080p30 H.264 4M, CPU ms/frame",
                        fmt(f["decode_1920x1080_30"]["cpu_s_per_frame"] * 1000)))
    fw = f.get("forward", {})
    for b, v in fw.get("default_threads", {}).items():
        rows.append(row("floor", "forward 416 batch %s, %s threads, CPU ms/image" % (b, v["threads"]),
                        fmt(v["cpu_s_per_image"] * 1000, 1)))
    for b, v in fw.get("one_thread", {}).items():
        rows.append(row("floor", "forward 416 batch %s, 1 thread, CPU ms/image" % b, fmt(v["cpu_s_per_image"] * 1000, 1)))
    for k, v in f.get("encode", {}).items():
        rows.append(row("floor", "encode 1200x600@30 (%s tiles), CPU ms/frame" % k, fmt(v["cpu_s_per_frame"] * 1000)))
    presets = f.get("encode_presets")
    if presets:
        rows.append(row("encoder", "x264 preset: CPU ms/frame (SSIM)", ", ".join(
            "%s %.2f (%.4f)" % (p["preset"], p["cpu_s_per_frame"] * 1000, p["ssim"] or 0) for p in presets)))
    return rows


def picture_first_row(section, run):
    """Camera frames shown (the slowest camera), detections on their own frame, the deadline."""
    sm = run["summary"]
    return row(section, "frames shown (slowest camera) / detections on own frame / deadline ms",
               "%s / %s / %s%s" % (fmt(run.get("shown_share_min"), 3), fmt(sm.get("on_own_frame_share"), 3),
                                   fmt(sm.get("deadline_ms")), " auto" if sm.get("deadline_auto") else ""),
               "", "", ">= 0.95 / >= 0.80")


def efficiency_by_interval_rows(runs):
    """The efficiency section's runs, grouped by their interval."""
    by_interval = {}
    for run in runs:
        by_interval.setdefault(run["interval"], []).append(run)
    return [r for k, group in by_interval.items() for r in efficiency_rows("4 cams 768x576@10 k=%s" % k, group)]


def efficiency_rows(setting, runs):
    """One row per run; the target applies to the setting: all its runs' CPU
    over all their floors."""
    cpu, floor = sum(r["cpu_per_s"] for r in runs), sum(r["floor_per_s"]["total"] for r in runs)
    together = round(cpu / floor, 3) if floor else float("inf")
    rows = []
    for i, run in enumerate(runs):
        rows.append(row("efficiency", "%s%s: CPU/s vs floor/s (%.1f det/s)" % (
            setting, " run %d" % (i + 1) if len(runs) > 1 else "", run["detections_per_s"]),
            "%.2f / %.2f" % (run["cpu_per_s"], run["floor_per_s"]["total"]), "", fmt(run["efficiency"], 3),
            "<= 1.10" if len(runs) == 1 else "", status(together <= 1.10) if len(runs) == 1 else ""))
        rows += efficiency_detail_rows(run)
    if len(runs) > 1:
        rows.append(row("efficiency", "%s, %d runs together" % (setting, len(runs)),
                        "%.2f / %.2f" % (cpu / len(runs), floor / len(runs)), "", fmt(together, 3), "<= 1.10",
                        status(together <= 1.10)))
    return rows


def efficiency_detail_rows(run):
    """Under a run: the floors measured beside it, and the detection threads' CPU against the rest."""
    rows = []
    fl = run["floor_per_s"]
    fc = run.get("floor_checks_ms")
    if fc:
        rows.append(row("efficiency", "  floors before / after: forward, decode, encode ms",
                        ", ".join("%s / %s" % (fc["before"][k], fc["after"][k]) for k in ("forward", "decode", "encode"))))
    if run.get("detect_cpu_ms_per_frame"):
        rows.append(row("efficiency", "  detection threads CPU ms/frame, rest CPU/s (their floors)", "%s, %.2f (%.1f, %.2f)" % (
            run["detect_cpu_ms_per_frame"], run["rest_cpu_per_s"], fl["forward"] / run["detections_per_s"] * 1000,
            fl["decode"] + fl["encode"])))
        # Not the target's measure: the forward at what it cost in this run
        # instead of its floor, which shows what everything else adds
        # whatever the forward cost at the moment.
        beside = run["detect_cpu_ms_per_frame"] / 1000 * run["detections_per_s"] + fl["decode"] + fl["encode"]
        rows.append(row("efficiency", "  CPU/s vs detection threads + decode and encode floors",
                        "%.2f / %.2f" % (run["cpu_per_s"], beside), "", fmt(run["cpu_per_s"] / beside, 3)))
    return rows


def latency_rows(s, p):
    """The latency run: its efficiency, glass to glass and the pipeline's own
    latency, then its CPU, picture and detections beside the peer's."""
    if not s:
        return []
    rows = efficiency_rows("4 cams latency run (default k)", [s]) + glass_to_glass_rows(s, p) + pipeline_latency_rows(s)
    rows.append(row("latency", "CPU/s at 4 cams (camera + viewer not counted)", fmt(s["cpu_per_s"]),
                    fmt(p["cpu_per_s"]) if p else "", ratio(s["cpu_per_s"], p["cpu_per_s"] if p else None)))
    rows.append(picture_first_row("4 cams latency run", s))
    rows.append(row("latency", "detections/s per camera at 4 cams", fmt(s["detections_per_s_per_camera"]),
                    fmt(p.get("detections_per_s_per_camera")) if p else "",
                    ratio(s["detections_per_s_per_camera"], p.get("detections_per_s_per_camera") if p else None)))
    return rows


def glass_to_glass_rows(s, p):
    """Camera send to viewer decode: median, p99 and growth, slipstream beside the peer."""
    gs = s["glass_to_glass"]
    gp = p["glass_to_glass"] if p else {}
    growth = (gs["last_10s_median_ms"] or 0) - (gs["first_10s_median_ms"] or 0)
    pgrowth = ((gp.get("last_10s_median_ms") or 0) - (gp.get("first_10s_median_ms") or 0)) if gp else None
    return [
        row("latency", "glass to glass median, 4 cams, ms", fmt(gs["median_ms"], 0), fmt(gp.get("median_ms"), 0),
            ratio(gs["median_ms"], gp.get("median_ms")), "< 250", status((gs["median_ms"] or 1e9) < 250)),
        row("latency", "glass to glass p99, 4 cams, ms", fmt(gs["p99_ms"], 0), fmt(gp.get("p99_ms"), 0),
            ratio(gs["p99_ms"], gp.get("p99_ms")), "< 400", status((gs["p99_ms"] or 1e9) < 400)),
        row("latency", "g2g median last 10 s - first 10 s, ms", fmt(growth, 0), fmt(pgrowth, 0), "", "~0 (< 20)",
            status(abs(growth) < 20)),
    ]


def pipeline_latency_rows(s):
    """slipstream's own latency from its metadata, and by stage."""
    wl = s["window"]["latency_ms"]
    rows = [row("latency", "pipeline (metadata) latency median / p99, ms", "%s / %s" % (fmt(wl["median"], 0), fmt(wl["p99"], 0)))]
    # Per stage: the camera-frame stages from the metadata in the window; the
    # encoder's from slipstream's own summary line (the whole run).
    stages = dict(s["window"].get("stages_ms") or {})
    if "tiling_and_encoding" in s.get("stages_ms", {}):
        stages["tiling_and_encoding"] = s["stages_ms"]["tiling_and_encoding"]
    if stages:
        rows.append(row("latency", "  by stage, median / p99 ms", ", ".join(
            "%s %s / %s" % (k.replace("_", " "), fmt(v["median"], 1), fmt(v["p99"], 1)) for k, v in stages.items())))
    return rows


def capacity_rows(cap, pcap):
    """Cameras carried in real time, and the confirming run's detection, picture, CPU and slowest camera."""
    if not cap:
        return []
    conf = cap.get("confirmed") or {}
    pconf = (pcap or {}).get("confirmed") or {}
    rows = [
        row("capacity", "1080p30 cameras in real time (k=%s, 60 s)" % cap.get("interval"), fmt(cap.get("cameras")),
            fmt(pcap.get("cameras")) if pcap else "",
            ratio(cap.get("cameras"), pcap.get("cameras") if pcap else None, higher_better=True), "",
            "confirmed" if conf else "not confirmed"),
        row("capacity", "detection fps per camera at that load", fmt(conf.get("detections_per_s_per_camera")),
            fmt(pconf.get("detections_per_s_per_camera")) if pconf else "", "", ">= 2",
            status((conf.get("detections_per_s_per_camera") or 0) >= 2) if conf else ""),
    ]
    if conf:
        rows.append(picture_first_row("capacity", conf))
        rows.append(row("capacity", "CPU/s at that load", fmt(conf["cpu_per_s"]), fmt(pconf.get("cpu_per_s")) if pconf else ""))
        rows.append(row("capacity", "slowest camera: fps in / fps shown / latency growth ms", "%s / %s / %s" % (
            fmt(conf["window"]["min_camera_arrived_fps"], 1), fmt(conf["window"]["min_camera_fps"], 1),
            fmt(conf.get("latency_growth_ms"), 0)),
            "%s / %s / %s" % (fmt(min(pconf.get("camera_read_fps") or [0]), 1), fmt(pconf.get("min_camera_fps"), 1),
                              fmt(max(pconf.get("lag_growth_ms") or [0]), 0)) if pconf else "", "", ">= 28.5 in"))
    return rows


def tracking_rows(runs):
    """Per interval: tracks and their length, ID swaps and fragments, CPU."""
    rows = []
    for run in runs:
        t = run["tracking"]
        rows.append(row("tracking", "1 cam k=%s: tracks/min, median len frames (s)" % run["interval"],
                        "%s, %s (%s s)" % (t["tracks_per_minute_per_camera"], fmt(t["median_track_frames"], 0),
                                           t["median_track_s"])))
        rows.append(row("tracking", "1 cam k=%s: ID swaps/min, fragments/min" % run["interval"],
                        "%s, %s" % (t["id_swaps_per_minute_per_camera"], t["fragments_per_minute_per_camera"])))
        rows.append(row("tracking", "1 cam k=%s: CPU/s (saved vs k=0), det/s" % run["interval"],
                        "%.2f (%s%%), %.1f" % (run["cpu_per_s"], run.get("cpu_saved_vs_interval_0_pct"),
                                               run["detections_per_s"])))
    return rows


def machine_rows(results):
    """Other programs' CPU during the measured runs, and the machine itself."""
    rows = []
    foreign = foreign_cpu_per_s(results)
    if foreign:
        rows.append(row("machine", "other programs' CPU/s during runs (median, max)",
                        "%s, %s" % (fmt(sorted(foreign)[len(foreign) // 2]), fmt(max(foreign))), "", "", "~0",
                        status(max(foreign) < 0.1)))
    m = results.get("machine", {})
    rows.append(row("machine", "cores, CPU, memory, niceness, runtime", "%s, %s, %s GiB, nice %s, %s s" % (
        m.get("nproc"), m.get("cpu_model"), m.get("memory_gib"), results.get("nice", 0), results.get("runtime_s"))))
    return rows


def foreign_cpu_per_s(results):
    """Every measured run's CPU per second of other programs."""
    foreign = []
    for key in ("efficiency", "tracking"):
        foreign += [x["cpu"]["foreign_per_s"] for x in results.get(key, [])]
    for key in ("capacity", "peer_capacity"):
        foreign += [x["cpu"]["foreign_per_s"] for x in (results.get(key) or {}).get("runs", [])]
    for x in (results.get("latency") or {}).values():
        foreign.append(x["cpu"]["foreign_per_s"])
    return foreign


def status(ok):
    return "met" if ok else "MISSED"


def ratio(ours, peer, higher_better=False):
    if ours is None or peer in (None, 0) or ours == 0:
        return ""
    return "%.2fx" % (ours / peer)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a few-minute smoke run with short measurements")
    p.add_argument("--only", help="comma list of sections: floors,efficiency,tracking,latency,capacity,peer_capacity")
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--slipstream", help="the slipstream binary to measure (default: the build's)")
    p.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    p.add_argument("--no-peer", dest="peer", action="store_false", help="skip the OpenCV-only peer")
    p.add_argument("--no-presets", dest="presets", action="store_false", help="skip the x264 settings comparison")
    p.add_argument("--capacity-interval", type=int, default=12,
                   help="interval for the capacity runs (12: 30/13 = 2.3 detections/s per camera)")
    p.add_argument("--min-detection-fps", type=float, default=2.0)
    p.add_argument("--max-cameras", type=int, default=12)
    p.add_argument("--quiet-wait", type=float, default=None,
                   help="seconds, in all, to wait for other programs to go quiet before runs (default 300; quick 0)")
    p.add_argument("--quiet-level", type=float, default=0.3, help="cores busy that count as quiet")
    p.add_argument("--nice", type=int, default=None,
                   help="run the benchmark and everything it starts at this niceness (e.g. -10 as root, so "
                        "background jobs on a shared machine disturb the real-time results less)")
    a = p.parse_args()
    if a.quiet_wait is None:
        a.quiet_wait = 0 if a.quick else 300
    if a.nice is not None:
        from benchlib import proc
        proc.NICE = a.nice
        proc.prioritize(os.getpid())  # this process runs the viewers
    bench = Bench(a)
    bench.results["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
    bench.run()
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(bench.results, f, indent=1)
    text = table(bench.results)
    with open(os.path.splitext(a.json)[0] + ".txt", "w") as f:
        f.write(text + "\n")
    print("", file=sys.stderr)
    print("full numbers: %s (runtime %.0f s%s)" % (a.json, bench.results["runtime_s"],
                                                   ", %d section(s) failed" % len(bench.results["errors"])
                                                   if bench.results["errors"] else ""), file=sys.stderr, flush=True)
    print(text, flush=True)
    return 1 if bench.results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
