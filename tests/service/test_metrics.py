#!/usr/bin/python3
"""GET /metrics against a running slipstream with two camsim cameras (login
required), scraped with a real HTTP client (http.client), all on 127.0.0.1.

Camera 0 comes from RTSPINPUT; the second is added through the API under a
name that needs escaping. Checked:
  - /metrics needs the token (401 without it or with a wrong one);
  - the answer is Prometheus text format 0.0.4, parsed strictly: every sample
    line is `name{labels} value`, every family has one HELP and one TYPE
    before its samples, counters end in _total, no series twice, histogram
    buckets cumulative with +Inf equal to _count;
  - between scrapes no counter (nor histogram bucket, sum or count) decreases;
  - frames shown per camera agree with the metadata lines of its stream at
    the time of the scrape; frames detected and detections by group agree with
    the metadata's detected frames and their objects (detections that went
    out late, on a later frame, are allowed for from the on-time counters);
  - with a broker (Debian's mosquitto), the MQTT families: connected, messages
    published, none dropped; the broker killed, connected goes to 0;
  - camsim stopped, the cameras go down (up 0, a reconnect each) and, once
    the metadata stops growing, frames shown equal its lines exactly (and
    detections equal its objects by group, when none went out late);
  - the cameras are up while they play, the stages' histograms and the pipeline's gauges and
    process figures are there and plausible;
  - no camera password appears in any scrape or output line; SIGTERM, exit 0."""
import http.client
import math
import os
import re
import shutil
import tempfile
import time

import apilib
import faultlib
import harness
import mqttlib
from apilib import ADD, Api, camera_body
from faultlib import check

TOKEN = "metrics-test-token-51c9"
MQTT_USER, MQTT_PASSWORD = "metrics", "mq-m3trics-4410"
NAME = 'Door "A" \\ west'  # quotes and a backslash: escaped in the label value
SCRAPES = 3
# A metadata line reaches the file through its writer thread and our follower
# (polling every 50 ms): on a busy machine that may take a while.
LINE_LAG_S = 3.0

FAMILIES = {
    "slipstream_camera_frames_received_total": "counter",
    "slipstream_camera_frames_shown_total": "counter",
    "slipstream_camera_frames_detected_total": "counter",
    "slipstream_camera_detections_total": "counter",
    "slipstream_camera_reconnects_total": "counter",
    "slipstream_camera_up": "gauge",
    "slipstream_output_frames_total": "counter",
    "slipstream_output_fps": "gauge",
    "slipstream_detected_frames_total": "counter",
    "slipstream_detected_frames_on_time_total": "counter",
    "slipstream_detection_rate": "gauge",
    "slipstream_detection_deadline_seconds": "gauge",
    "slipstream_stage_latency_seconds": "histogram",
    "slipstream_dropped_lines_total": "counter",
    "process_cpu_seconds_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "slipstream_mqtt_messages_published_total": "counter",
    "slipstream_mqtt_messages_dropped_total": "counter",
    "slipstream_mqtt_connected": "gauge",
}
STAGES = {"receive", "mux_wait", "detection", "tracking", "tiling_encoding"}

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
VALUE_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN")


def parse_labels(text, pos, where):
    """Parses `{name="value",...}` from text[pos] == '{'; returns (labels, position after '}')."""
    labels = {}
    pos += 1
    while True:
        if text[pos] == "}":
            return labels, pos + 1
        m = LABEL_NAME_RE.match(text, pos)
        check(m is not None, f"{where}: bad label name at {text[pos:]!r}")
        name = m.group(0)
        pos = m.end()
        check(text.startswith('="', pos), f"{where}: label {name} without =\"")
        pos += 2
        value = []
        while True:
            check(pos < len(text), f"{where}: label {name}'s value never ends")
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1]
                check(nxt in '\\"n', f"{where}: bad escape \\{nxt} in label {name}")
                value.append("\n" if nxt == "n" else nxt)
                pos += 2
            elif c == '"':
                pos += 1
                break
            else:
                check(c != "\n", f"{where}: raw newline in label {name}")
                value.append(c)
                pos += 1
        check(name not in labels, f"{where}: label {name} twice")
        labels[name] = "".join(value)
        if text[pos] == ",":
            pos += 1
        else:
            check(text[pos] == "}", f"{where}: expected , or }} after label {name}")


def parse_exposition(text):
    """{family: {"type", "help", "samples": {(name, labels tuple): value}}}, checked strictly."""
    check(text.endswith("\n"), "the exposition does not end with a newline")
    families, current = {}, None
    seen = set()
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number} {line!r}"
        check(line.strip() != "" and line == line.strip(), f"{where}: empty line or stray whitespace")
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            check(NAME_RE.fullmatch(name) and help_text, f"{where}: bad HELP")
            check(name not in families, f"{where}: family {name} declared twice")
            families[name] = {"help": help_text, "type": None, "samples": {}}
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            check(name == current and families[name]["type"] is None, f"{where}: TYPE not right after its HELP")
            check(kind in ("counter", "gauge", "histogram"), f"{where}: unknown type {kind}")
            check(kind != "counter" or name.endswith("_total"), f"{where}: a counter's name must end in _total")
            families[name]["type"] = kind
            continue
        check(not line.startswith("#"), f"{where}: a comment that is neither HELP nor TYPE")
        m = NAME_RE.match(line)
        check(m is not None, f"{where}: no metric name")
        name, pos = m.group(0), m.end()
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line, pos, where)
        check(line[pos:pos + 1] == " ", f"{where}: no single space before the value")
        value_text = line[pos + 1:]
        check(VALUE_RE.fullmatch(value_text), f"{where}: bad value {value_text!r}")
        check(current is not None and families[current]["type"], f"{where}: sample before any HELP and TYPE")
        kind = families[current]["type"]
        allowed = {current} if kind != "histogram" else {current + s for s in ("_bucket", "_sum", "_count")}
        check(name in allowed, f"{where}: sample of another family than {current} (or families interleaved)")
        key = (name, tuple(sorted(labels.items())))
        check(key not in seen, f"{where}: series twice")
        seen.add(key)
        families[current]["samples"][key] = float(value_text)
    for name, family in families.items():
        if family["type"] == "histogram":
            check_histogram(name, family["samples"])
    return families


def check_histogram(name, samples):
    series = {}
    for (sample, labels), value in samples.items():
        base = tuple(kv for kv in labels if kv[0] != "le")
        entry = series.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if sample.endswith("_bucket"):
            le = dict(labels).get("le")
            check(le is not None, f"{name}: a bucket without le")
            entry["buckets"].append((math.inf if le == "+Inf" else float(le), value))
        elif sample.endswith("_sum"):
            entry["sum"] = value
        else:
            entry["count"] = value
    for base, entry in series.items():
        buckets = entry["buckets"]
        check(buckets and buckets[-1][0] == math.inf, f"{name}{base}: no +Inf bucket last")
        check(all(a[0] < b[0] for a, b in zip(buckets, buckets[1:])), f"{name}{base}: bounds not increasing")
        check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), f"{name}{base}: buckets not cumulative: {buckets}")
        check(entry["count"] == buckets[-1][1], f"{name}{base}: _count {entry['count']} != +Inf bucket {buckets[-1][1]}")
        check(entry["sum"] is not None and entry["sum"] >= 0, f"{name}{base}: no _sum")


def fetch(port, token):
    """(status, content type, text) of GET /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read().decode()
    finally:
        conn.close()


def value(families, family, sample=None, **labels):
    """One sample's value: the family's sample `sample` (default: the family itself) with exactly these labels."""
    key = (sample or family, tuple(sorted(labels.items())))
    samples = families[family]["samples"]
    check(key in samples, f"no {key} in {family}: {sorted(samples)[:8]}")
    return samples[key]


def camera_series(families, family, camera_id):
    return {dict(labels).get("group"): v for (_, labels), v in families[family]["samples"].items()
            if dict(labels).get("camera_id") == camera_id}


def metadata_figures(slip, stream, before):
    """(lines, detected lines, objects by group on detected lines) of a stream, read before `before`."""
    lines = [r for t, r in slip.frames(stream) if t < before]
    detected = [r for r in lines if r["detected"]]
    groups = {}
    for r in detected:
        for o in r["objects"]:
            if o["group"] is not None:
                groups[o["group"]] = groups.get(o["group"], 0) + 1
    return len(lines), len(detected), groups


def quiet_for(slip, seconds):
    """No metadata line arrived for `seconds`."""
    with slip.lock:
        last = slip.records[-1][0] if slip.records else 0
    return time.monotonic() - last >= seconds


def test(camsim_bin, slipstream_bin):
    harness.log_dir(slipstream_bin)
    # The sample at its own size and detection on every third frame: people are found.
    camsim = faultlib.Camsim(camsim_bin, count=2, fps=10, width=768, height=576,
                             auth=f"{faultlib.USER}:{faultlib.PASSWORD}").start()
    api_port, broker_port = harness.free_port(), harness.free_port()
    private = tempfile.mkdtemp(prefix="slipstream-metrics-")
    broker = mqttlib.Broker(harness.log_dir(slipstream_bin), private, broker_port, MQTT_USER, MQTT_PASSWORD)
    broker.start()
    # The broker's login through the environment, as users give it, never on a command line.
    os.environ["MQTT_URL"] = f"mqtt://{MQTT_USER}:{MQTT_PASSWORD}@127.0.0.1:{broker_port}"
    try:
        slip = faultlib.Slipstream(slipstream_bin, [camsim.uri(0)],
                                   extra=["--api-port", str(api_port), "--api-token", TOKEN, "--interval", "3"])
    finally:
        del os.environ["MQTT_URL"]
    api = Api(api_port, TOKEN)
    scrapes = []  # (time before, time after, text, parsed)
    try:
        print("the token")
        for label, token in (("no token", None), ("wrong token", "not-the-token")):
            status, _, text = fetch(api_port, token)
            check(status == 401, f"/metrics with {label}: {status} {text[:200]}")
            print(f"  {label}: {status}")

        print("a second camera through the API, named with quotes and a backslash")
        status, body = api.call("POST", ADD, camera_body("entrance", camsim.uri(1), name=NAME))
        check(status == 200, f"add: {status} {body}")
        streams = {"0": 0, "entrance": body["source_id"]}
        t = time.monotonic()
        for stream in streams.values():
            slip.wait_frames(stream, 10, 30, after=t, what=f"frames of stream {stream} in the metadata")

        print("scrapes")
        for n in range(SCRAPES):
            time.sleep(3)
            before = time.monotonic()
            status, content_type, text = fetch(api_port, TOKEN)
            after = time.monotonic()
            check(status == 200, f"/metrics: {status} {text[:200]}")
            check(content_type.startswith("text/plain; version=0.0.4"), f"content type {content_type!r}")
            families = parse_exposition(text)
            scrapes.append((before, after, text, families))
            print(f"  scrape {n + 1}: {len(text)} bytes, {len(families)} families, "
                  f"{sum(len(f['samples']) for f in families.values())} samples")

        print("the cameras stop: down, and every frame counted is a metadata line")
        camsim.stop()
        slip.proc.wait_for(lambda _: quiet_for(slip, 2.0), 30, "the metadata to stop growing")
        deadline = time.monotonic() + 30
        while True:
            status, _, text = fetch(api_port, TOKEN)
            check(status == 200, f"/metrics: {status}")
            stopped = parse_exposition(text)
            up = {dict(labels)["camera_id"]: v for (_, labels), v in stopped["slipstream_camera_up"]["samples"].items()}
            if up == {"0": 0, "entrance": 0}:
                break
            check(time.monotonic() < deadline, f"cameras still up 30 s after camsim stopped: {up}")
            time.sleep(0.5)
        scrapes.append((math.inf, math.inf, text, stopped))

        print("the broker goes away: MQTT not connected")
        broker.kill()
        deadline = time.monotonic() + 30
        while True:
            status, _, text = fetch(api_port, TOKEN)
            check(status == 200, f"/metrics: {status}")
            if value(parse_exposition(text), "slipstream_mqtt_connected") == 0:
                break
            check(time.monotonic() < deadline, "slipstream_mqtt_connected still 1 30 s after the broker was killed")
            time.sleep(0.5)
        print("  slipstream_mqtt_connected 0")
    finally:
        slip.stop()
        camsim.stop()
        broker.kill()
        shutil.rmtree(private, ignore_errors=True)
    # Every metadata line is in now: compare each scrape with the lines read around it.
    with open(harness.artifact("metrics-scrapes.txt", slipstream_bin), "w") as f:
        f.write("\n".join(s[2] for s in scrapes))  # for a person looking into a failure

    first = scrapes[0][3]
    for name, kind in FAMILIES.items():
        check(name in first and first[name]["type"] == kind, f"family {name} ({kind}) missing or of another type")

    print("counters never decrease")
    for (_, _, _, older), (_, _, _, newer) in zip(scrapes, scrapes[1:]):
        for name, family in older.items():
            if family["type"] == "gauge":
                continue
            for key, old in family["samples"].items():
                check(key in newer[name]["samples"], f"{key} went away between scrapes")
                new = newer[name]["samples"][key]
                check(new >= old, f"{key} decreased between scrapes: {old} -> {new}")

    print("against the metadata")
    for before, after, text, families in scrapes[:-1]:
        late = (value(families, "slipstream_detected_frames_total")
                - value(families, "slipstream_detected_frames_on_time_total"))
        for camera_id, stream in streams.items():
            shown = value(families, "slipstream_camera_frames_shown_total", camera_id=camera_id,
                          camera_name=NAME if camera_id == "entrance" else "")
            detected = camera_series(families, "slipstream_camera_frames_detected_total", camera_id)[None]
            groups = {g: v for g, v in camera_series(families, "slipstream_camera_detections_total", camera_id).items()
                      if v > 0}
            lines_lo, detected_lo, groups_lo = metadata_figures(slip, stream, before)
            lines_hi, detected_hi, groups_hi = metadata_figures(slip, stream, after + LINE_LAG_S)
            most = max([sum(1 for o in r["objects"] if o["group"]) for _, r in slip.frames(stream)] + [0])
            print(f"  camera {camera_id}: shown {shown:.0f} (metadata {lines_lo}..{lines_hi}), "
                  f"detected {detected:.0f} ({detected_lo}..{detected_hi}, {late:.0f} late in all), "
                  f"detections {groups} ({groups_lo}..{groups_hi})")
            # The counter and the line come from the same batch on the same pad: a frame or two either way.
            check(lines_lo - 2 <= shown <= lines_hi + 2,
                  f"camera {camera_id}: {shown} frames shown, the metadata had {lines_lo}..{lines_hi} lines")
            check(detected_lo - 1 <= detected <= detected_hi + late + 1,
                  f"camera {camera_id}: {detected} frames detected, the metadata {detected_lo}..{detected_hi} (+{late} late)")
            for group in set(groups) | set(groups_lo):
                got = groups.get(group, 0)
                check(groups_lo.get(group, 0) - most <= got <= groups_hi.get(group, 0) + (late + 1) * most,
                      f"camera {camera_id}: {got} {group} detections, the metadata {groups_lo.get(group, 0)}.."
                      f"{groups_hi.get(group, 0)} (+{late} late frames of up to {most})")

    print("after the cameras stopped: exact")
    stopped = scrapes[-1][3]
    late = (value(stopped, "slipstream_detected_frames_total")
            - value(stopped, "slipstream_detected_frames_on_time_total"))
    total_groups = {}
    for camera_id, stream in streams.items():
        lines, detected_lines, groups_meta = metadata_figures(slip, stream, math.inf)
        shown = camera_series(stopped, "slipstream_camera_frames_shown_total", camera_id)[None]
        detected = camera_series(stopped, "slipstream_camera_frames_detected_total", camera_id)[None]
        groups = {g: v for g, v in camera_series(stopped, "slipstream_camera_detections_total", camera_id).items() if v > 0}
        print(f"  camera {camera_id}: shown {shown:.0f} (metadata {lines}), detected {detected:.0f} "
              f"(metadata {detected_lines}, {late:.0f} late in all), detections {groups} (metadata {groups_meta})")
        check(shown == lines, f"camera {camera_id}: {shown} frames shown, {lines} metadata lines")
        if late == 0:
            check(detected == detected_lines and groups == groups_meta,
                  f"camera {camera_id}: detected {detected} / {groups}, the metadata {detected_lines} / {groups_meta}")
        reconnects = camera_series(stopped, "slipstream_camera_reconnects_total", camera_id)[None]
        check(reconnects >= 1, f"camera {camera_id}: its camera stopped, yet {reconnects} reconnects")
        for group, n in groups.items():
            total_groups[group] = total_groups.get(group, 0) + n
    if not total_groups:
        print("NOTE: nothing was detected (the machine left detection no time): the group checks had nothing to compare")

    print("cameras, stages, pipeline, process")
    last = scrapes[-2][3]  # the last one while the cameras played
    for camera_id, name in (("0", ""), ("entrance", NAME)):
        check(value(last, "slipstream_camera_up", camera_id=camera_id, camera_name=name) == 1, f"camera {camera_id} not up")
        received = value(last, "slipstream_camera_frames_received_total", camera_id=camera_id, camera_name=name)
        check(received > 0, f"camera {camera_id}: no frame received")
    stages = {dict(labels)["stage"] for (sample, labels) in last["slipstream_stage_latency_seconds"]["samples"]
              if sample.endswith("_count")}
    check(stages == STAGES, f"stages {stages}, expected {STAGES}")
    receive_count = value(last, "slipstream_stage_latency_seconds", "slipstream_stage_latency_seconds_count", stage="receive")
    check(receive_count > 20, f"only {receive_count} receive latencies observed")
    check(value(last, "slipstream_output_fps") > 1, "output fps gauge near 0")
    check(value(last, "slipstream_detection_deadline_seconds") >= 0, "negative deadline")
    check(value(last, "process_cpu_seconds_total") > 0, "no CPU time")
    check(value(last, "process_resident_memory_bytes") > 10e6, "resident memory under 10 MB")
    check(value(last, "slipstream_dropped_lines_total", output="the metadata output") == 0, "metadata lines dropped")
    published = value(last, "slipstream_mqtt_messages_published_total")
    print(f"  mqtt: connected {value(last, 'slipstream_mqtt_connected'):.0f}, {published:.0f} published, "
          f"{value(last, 'slipstream_mqtt_messages_dropped_total'):.0f} dropped")
    check(value(last, "slipstream_mqtt_connected") == 1 and published > 0, "MQTT not connected, or nothing published")
    check(value(last, "slipstream_mqtt_messages_dropped_total") == 0, "MQTT messages dropped with the broker there")

    texts = [s[2] for s in scrapes]
    check(not apilib.leaked_secrets(slip, texts + api.answers, extra=[MQTT_PASSWORD]),
          "a camera password appeared in /metrics, an API answer or slipstream's output")
    check(not any(faultlib.USER in t for t in texts), "a camera URL's login appeared in /metrics")


if __name__ == "__main__":
    import sys
    faultlib.main(test, sys.argv)
