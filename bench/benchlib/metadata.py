"""slipstream's --metadata JSON lines: read as they are written, then analysed.

Each line is one camera frame (see README "Metadata"); lines are flushed per
output batch, so the time a line is read here is when the pipeline finished
that frame (to within the polling period)."""
import json
import os
import statistics
import threading
import time


class MetadataTail:
    """Reads a growing metadata file on a thread, stamping each line with the
    monotonic time it was read."""

    def __init__(self, path, poll_s=0.1):
        self.path = path
        self.poll_s = poll_s
        self.records = []  # (time, dict)
        self.bad_lines = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        handle = None
        pending = ""
        while True:
            stopping = self._stop.is_set()
            if handle is None and os.path.exists(self.path):
                handle = open(self.path, "r", errors="replace")
            if handle is not None:
                chunk = handle.read()
                if chunk:
                    now = time.monotonic()
                    pending += chunk
                    *lines, pending = pending.split("\n")
                    for line in lines:
                        if not line.strip():
                            continue
                        try:
                            self.records.append((now, json.loads(line)))
                        except ValueError:
                            self.bad_lines += 1
            if stopping:
                break
            time.sleep(self.poll_s)
        if handle is not None:
            handle.close()

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return self.records


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _r(x, digits=1):
    return None if x is None else round(x, digits)


def window_stats(records, t0, t1, streams, edge_s=10.0):
    """Per-camera frame rate, detected frames and latency in [t0, t1], plus the
    latency of the first and last edge_s seconds (growth check)."""
    inside = [(t, r) for t, r in records if t0 <= t <= t1]
    seconds = t1 - t0
    # One pass to sort the lines by camera (a hundred cameras make tens of
    # thousands of lines a run).
    by_stream = {}
    for _, r in inside:
        by_stream.setdefault(r.get("stream"), []).append(r)
    per_stream = []
    for s in range(streams):
        mine = by_stream.get(s, [])
        numbers = [r["frame"] for r in mine]
        per_stream.append({
            # Frames shown: one metadata line per camera frame that made it into a batch.
            "fps": _r(len(mine) / seconds, 2),
            # Frames that reached the mux: the mux numbers every frame it receives,
            # so gaps are frames replaced by a newer one before an output tick.
            "arrived_fps": _r((max(numbers) - min(numbers) + 1) / seconds, 2) if numbers else 0,
            "detected_per_s": _r(sum(1 for r in mine if r.get("detected")) / seconds, 2),
        })
    lat = [r["latency_ms"] for _, r in inside if r.get("latency_ms", -1) >= 0]
    first = [r["latency_ms"] for t, r in inside if t < t0 + edge_s and r.get("latency_ms", -1) >= 0]
    last = [r["latency_ms"] for t, r in inside if t > t1 - edge_s and r.get("latency_ms", -1) >= 0]
    stages = {}
    for name in ("receive", "mux_wait", "detection", "tracking"):
        values = [r["stages_ms"][name] for _, r in inside if r.get("stages_ms", {}).get(name, -1) >= 0]
        if values:
            stages[name] = {"median": _r(percentile(values, 50)), "p99": _r(percentile(values, 99))}
    return {
        "seconds": round(seconds, 1),
        "per_camera": per_stream,
        "stages_ms": stages,
        "min_camera_fps": min((p["fps"] for p in per_stream), default=0),
        "min_camera_arrived_fps": min((p["arrived_fps"] for p in per_stream), default=0),
        "latency_ms": {
            "median": _r(percentile(lat, 50)), "p99": _r(percentile(lat, 99)), "mean": _r(statistics.fmean(lat) if lat else None),
            "first_10s_median": _r(percentile(first, 50)), "last_10s_median": _r(percentile(last, 50)),
            "first_10s_mean": _r(statistics.fmean(first) if first else None),
            "last_10s_mean": _r(statistics.fmean(last) if last else None),
        },
    }


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


# ID switch heuristic (documented in README "Performance"): on a frame where
# tracks a and b both appear, and both were seen within the last second, they
# swapped when each one's box lies where the other's box was when last seen --
# it overlaps the other's last box more than its own last box, and by at least
# SWAP_MIN_IOU.
SWAP_MIN_IOU = 0.3
# A fragment: a track ends and, within FRAGMENT_GAP_S, a new track starts on
# nearly the same spot (the same object got a new id).
FRAGMENT_GAP_S = 2.0
FRAGMENT_MIN_IOU = 0.3


def tracking_stats(records, t0, t1, streams, camera_fps):
    """Tracks per minute, track lengths, ID swaps and fragments for the frames
    read in [t0, t1]."""
    frames = {s: [] for s in range(streams)}
    for t, r in records:
        if t0 <= t <= t1 and r.get("stream") in frames:
            frames[r["stream"]].append(r)
    minutes = (t1 - t0) / 60.0
    gap_frames = FRAGMENT_GAP_S * camera_fps
    tracks = {}  # (stream, id) -> [first frame, last frame, first pts, last pts, first box, last box, appearances]
    swaps = 0
    pairs_checked = 0
    for s, rows in frames.items():
        rows.sort(key=lambda r: r["frame"])
        for r in rows:
            boxes = {}
            for o in r.get("objects", []):
                tid = o.get("track_id")
                if tid is None or tid < 0:
                    continue
                boxes[tid] = o["bbox"]
            # Each id's previous box: where it was last seen, at most a second ago.
            old = {tid: tracks[(s, tid)][5] for tid in boxes
                   if (s, tid) in tracks and r["frame"] - tracks[(s, tid)][1] <= gap_frames}
            common = list(old)
            for i, a in enumerate(common):
                for b in common[i + 1:]:
                    pairs_checked += 1
                    cross_a = iou(boxes[a], old[b])
                    cross_b = iou(boxes[b], old[a])
                    if (cross_a >= SWAP_MIN_IOU and cross_b >= SWAP_MIN_IOU and
                            cross_a > iou(boxes[a], old[a]) and cross_b > iou(boxes[b], old[b])):
                        swaps += 1
            for tid, box in boxes.items():
                key = (s, tid)
                if key not in tracks:
                    tracks[key] = [r["frame"], r["frame"], r["pts"], r["pts"], box, box, 0]
                tr = tracks[key]
                tr[1], tr[3], tr[5] = r["frame"], r["pts"], box
                tr[6] += 1
    # Track lengths: only tracks that start and end inside the window (not cut by it).
    first_frame = {s: min((r["frame"] for r in rows), default=0) for s, rows in frames.items()}
    last_frame = {s: max((r["frame"] for r in rows), default=0) for s, rows in frames.items()}
    complete = [tr for (s, _), tr in tracks.items() if tr[0] > first_frame[s] and tr[1] < last_frame[s]]
    lengths_frames = [tr[1] - tr[0] + 1 for tr in complete]
    lengths_s = [(tr[1] - tr[0] + 1) / camera_fps for tr in complete]
    # Fragments: a track ending near where a new one starts, soon after.
    fragments = 0
    for s in frames:
        ends = sorted((tr[1], tr[5]) for (ss, _), tr in tracks.items() if ss == s and tr[1] < last_frame[s])
        starts = sorted((tr[0], tr[4]) for (ss, _), tr in tracks.items() if ss == s and tr[0] > first_frame[s])
        used = set()
        for end_frame, end_box in ends:
            for j, (start_frame, start_box) in enumerate(starts):
                if j in used or not (0 < start_frame - end_frame <= gap_frames):
                    continue
                if iou(end_box, start_box) >= FRAGMENT_MIN_IOU:
                    used.add(j)
                    fragments += 1
                    break
    started = sum(1 for (s, _), tr in tracks.items() if tr[0] > first_frame[s])
    return {
        "minutes_per_camera": round(minutes, 2),
        "tracks": len(tracks),
        "tracks_per_minute_per_camera": _r(started / minutes / max(streams, 1)),
        "median_track_frames": _r(percentile(lengths_frames, 50)),
        "median_track_s": _r(percentile(lengths_s, 50), 2),
        "complete_tracks": len(complete),
        "id_swaps": swaps,
        "id_swaps_per_minute_per_camera": _r(swaps / minutes / max(streams, 1), 2),
        "fragments": fragments,
        "fragments_per_minute_per_camera": _r(fragments / minutes / max(streams, 1), 2),
        "track_pairs_checked": pairs_checked,
    }
