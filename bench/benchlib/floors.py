"""Floors: the CPU the unavoidable parts of the job cost on their own.

  decode   rtspsrc -> decodebin -> fakesink from the benchmark cameras
           (what slipstream's uridecodebin builds), CPU per decoded frame
  forward  one cv2.dnn forward of the configured model, from bench-detector
  encode   x264enc with slipstream's settings on 1200x600 I420 at 30 fps,
           CPU per encoded frame

All CPU time is process CPU (utime + stime), never wall time.

cv2 and numpy are imported where used: bench/gpu.py imports bench.py, and
with it this module, on machines with only Python's standard library."""
import json
import os
import subprocess
import time

from .layout import fit_inside, tiles_layout
from .proc import Child, CpuWindow, prioritize, sleep_until


def run_rusage(args, timeout):
    """Runs a command to completion; returns (exit code, CPU seconds, stdout, stderr)."""
    proc = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    prioritize(proc.pid)
    deadline = time.monotonic() + timeout
    out, err = b"", b""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, 9)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime, out.decode(errors="replace"), err.decode(errors="replace")


def decode_floor(urls, fps, warmup_s, measure_s):
    """CPU seconds per decoded frame for these live cameras, decoded side by side."""
    args = ["gst-launch-1.0", "-q"]
    for url in urls:
        args += ["rtspsrc", "location=" + url, "protocols=tcp", "latency=200", "drop-on-latency=true", "!",
                 "decodebin", "!", "fakesink", "sync=false"]
    child = Child(args, "gst-launch decode")
    started = time.monotonic()
    window = CpuWindow({"decode": child.pid})
    sleep_until(started + warmup_s)
    if not child.alive():
        raise RuntimeError("decode floor: gst-launch exited: %s" % "\n".join(child.text()[-10:]))
    window.begin()
    sleep_until(started + warmup_s + measure_s)
    cpu = window.finish()
    child.stop()
    frames = len(urls) * fps * cpu["seconds"]  # live cameras deliver exactly fps
    return {
        "cameras": len(urls),
        "fps": fps,
        "cpu_s_per_frame": cpu["cpu_s"]["decode"] / frames,
        "cpu_per_s_per_camera": cpu["cpu_s"]["decode"] / cpu["seconds"] / len(urls),
        "window": cpu,
    }


def forward_floor(bench_detector, config, batches, work_dir, runs=(6, 36)):
    """CPU seconds per forward pass at each batch size.

    bench-detector times raw cv2.dnn forwards and full detections interleaved,
    in wall time. Two runs that differ only in the number of timed iterations
    give, by difference, the CPU of those extra iterations alone (model loading,
    video reading and warm-up cancel out); the raw forward's share of that is
    its share of the wall time (medians reported by bench-detector)."""
    results = {}
    for batch in batches:
        measured = []
        for n in runs:
            path = os.path.join(work_dir, "detector-b%d-r%d.json" % (batch, n))
            args = list(bench_detector) if isinstance(bench_detector, list) else [bench_detector]
            args += ["--sizes", str(config["input"]), "--batches", str(batch), "--warmup", "3",
                    "--runs", str(n), "--max-overhead", "1000", "--json", path]
            if config.get("file"):
                args += ["--config", config["file"]]
            code, cpu, out, err = run_rusage(args, timeout=600)
            if code not in (0, 2):
                raise RuntimeError("bench-detector failed (%s): %s" % (code, err.strip()[-500:]))
            with open(path) as f:
                report = json.load(f)
            measured.append((n, cpu, report))
        (n0, cpu0, _), (n1, cpu1, report) = measured
        row = report["results"][0]
        per_iteration = (cpu1 - cpu0) / (n1 - n0)  # one raw forward + one full detection
        share = row["raw_forward_ms"] / (row["raw_forward_ms"] + row["detect_ms"])
        results[batch] = {
            "batch": batch,
            "threads": report.get("threads"),
            "raw_forward_wall_ms": row["raw_forward_ms"],
            "detect_wall_ms": row["detect_ms"],
            "cpu_s_per_forward": per_iteration * share,
            "cpu_s_per_image": per_iteration * share / batch,
            "cpu_s_per_detection": per_iteration * (1 - share) / batch,
            "cpu_per_wall": per_iteration / ((row["raw_forward_ms"] + row["detect_ms"]) / 1000.0),
        }
    return results


def make_output_frames(path, video, cameras, camera_size, camera_fps, seconds, width=1200, height=600, fps=30):
    """Writes raw I420 frames shaped like slipstream's output for this workload:
    the sample video in each tile (letterboxed to the camera's shape as camsim
    does, repeating frames when the camera rate is below the output rate) and
    a darkened statistics bar with text on each tile."""
    import cv2
    import numpy as np

    capture = cv2.VideoCapture(video)
    source = []
    while len(source) < int(seconds * camera_fps) + 1:
        ok, frame = capture.read()
        if not ok:
            break
        source.append(frame)
    cw, ch = camera_size
    # The camera picture: the video fitted into the camera's shape, black borders.
    sh, sw = source[0].shape[:2]
    fx, fy, fw, fh = fit_inside(sw, sh, (0, 0, cw, ch))
    cells = tiles_layout(cameras, width, height)
    canvas = np.full((height, width, 3), 24, np.uint8)
    count = int(seconds * fps)
    with open(path, "wb") as out:
        for k in range(count):
            src = source[min(int(k * camera_fps / fps), len(source) - 1)]
            camera = np.zeros((ch, cw, 3), np.uint8)
            camera[fy:fy + fh, fx:fx + fw] = cv2.resize(src, (fw, fh), interpolation=cv2.INTER_AREA)
            for i, cell in enumerate(cells):
                # As slipstream scales: once to the working frame (big enough for the
                # tile and the detector's 416 input), then bilinear into the tile.
                working = fit_inside(cw, ch, (0, 0, max(cell[2], 416), max(cell[3], 416)))[2:]
                shrink = cw >= 2 * working[0] and ch >= 2 * working[1]
                frame = cv2.resize(camera, working, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
                px, py, pw, ph = fit_inside(working[0], working[1], cell)
                canvas[py:py + ph, px:px + pw] = cv2.resize(frame, (pw, ph), interpolation=cv2.INTER_LINEAR)
                x, y, w, _ = cell
                canvas[y:y + 24, x:x + w] //= 4
                cv2.putText(canvas, "Stream=%d Frame=%d Vehicles=0 Persons=5" % (i, int(k * camera_fps / fps)),
                            (x + 4, y + 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (240, 240, 240), 1, cv2.LINE_AA)
            out.write(cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes())
    return count


def encoder_args(preset="superfast", bitrate_kbps=4000, fps=30, trellis=None):
    # As app/slipstream/pipeline_command.cpp configures x264enc.
    args = ["x264enc", "bitrate=%d" % bitrate_kbps, "tune=zerolatency", "speed-preset=" + preset,
            "key-int-max=%d" % fps]
    if trellis is not None:
        args.append("trellis=%s" % ("true" if trellis else "false"))
    return args


def encode_cpu(raw_path, frames, width=1200, height=600, fps=30, preset="superfast", out_file=None, trellis=None):
    """CPU seconds per frame for x264enc alone: a real-time paced run with the
    encoder minus the same run without it."""
    source = ["filesrc", "location=" + raw_path, "!", "rawvideoparse", "format=i420", "width=%d" % width,
              "height=%d" % height, "framerate=%d/1" % fps, "!"]
    sink = ["fakesink", "sync=true"] if not out_file else ["filesink", "location=" + out_file, "sync=true"]
    timeout = frames / fps * 3 + 30
    code0, base, _, err0 = run_rusage(["gst-launch-1.0", "-q"] + source + ["fakesink", "sync=true"], timeout)
    code1, total, _, err1 = run_rusage(["gst-launch-1.0", "-q"] + source + encoder_args(preset, fps=fps, trellis=trellis) + ["!"] + sink,
                                       timeout)
    if code0 or code1:
        raise RuntimeError("encode floor: gst-launch failed: %s %s" % (err0.strip()[-300:], err1.strip()[-300:]))
    return {"preset": preset, "frames": frames, "cpu_s_per_frame": (total - base) / frames,
            "cpu_s_with_encoder": round(total, 2), "cpu_s_without": round(base, 2)}


def ssim_of(encoded_h264, raw_path, width=1200, height=600):
    """Mean SSIM of an encoded stream against its raw source (ffmpeg's ssim filter)."""
    args = ["ffmpeg", "-nostdin", "-v", "info", "-i", encoded_h264, "-f", "rawvideo", "-pix_fmt", "yuv420p",
            "-s", "%dx%d" % (width, height), "-i", raw_path, "-lavfi", "ssim", "-f", "null", "-"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    for line in result.stderr.splitlines():
        if "SSIM" in line and "All:" in line:
            return float(line.split("All:")[1].split()[0])
    return None
