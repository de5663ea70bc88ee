#!/usr/bin/env python3
"""Joins what bench/device/detector_bench.sh measured into one markdown table
(OUT/detector_bench.md, also printed) and one JSON (OUT/detector_bench.json).
Standard library only. Reads, where present, from OUT:
  agreement.json / agreement.log    the agreement test (GoogleTest JSON, its log)
  bench-cuda.json, bench-opencv.json  bench-detector --backend ... --json
  torch-eager.json, torch-compile.json  bench/peers/torch_peer.py --json

usage: detector_report.py OUT [--gpu-file FILE] [--elapsed S]
"""
import argparse
import json
import os
import re


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def points(report):
    """{(precision, batch): row} of a bench-detector or torch_peer report."""
    if not report or "results" not in report:
        return {}
    return {(r["precision"], r["batch"]): r for r in report["results"]}


def num(row, key, fmt="%.1f"):
    if not row:
        return ""
    if not row.get("ok"):
        return "failed"
    v = row.get(key)
    return fmt % v if isinstance(v, (int, float)) else ""


def first_message(failure):
    """What a GoogleTest failure says in words: its last line (the test's own
    message after the values compared), not its file:line."""
    for line in reversed(failure.splitlines()):
        line = line.strip()
        if line and not re.match(r"^\S+:\d+$", line):
            return line[:300]
    return failure.strip()[:300]


def agreement_summary(out):
    report = load(os.path.join(out, "agreement.json"))
    summary = {"ran": report is not None}
    lines = []
    try:
        with open(os.path.join(out, "agreement.log")) as f:
            lines = [line.rstrip() for line in f if line.startswith("[ agreement]")]
    except OSError:
        pass
    summary["lines"] = [line[len("[ agreement] "):] for line in lines]
    if report:
        tests = [t for suite in report.get("testsuites", []) for t in suite.get("testsuite", [])]
        summary["tests"] = len(tests)
        summary["failed"] = [t["name"] + ": " + " / ".join(first_message(f.get("failure", ""))
                                                           for f in t.get("failures", []))
                             for t in tests if t.get("failures")]
        summary["skipped"] = [t["name"] for t in tests if t.get("result") == "SKIPPED"]
        summary["passed"] = summary["tests"] - len(summary["failed"]) - len(summary["skipped"])
    return summary


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--gpu-file")
    p.add_argument("--elapsed", type=int)
    args = p.parse_args()
    out = args.out
    gpu = ""
    if args.gpu_file and os.path.exists(args.gpu_file):
        gpu = open(args.gpu_file).read().strip()
    reports = {name: load(os.path.join(out, name + ".json"))
               for name in ("bench-cuda", "bench-opencv", "torch-eager", "torch-compile")}
    cuda, opencv = points(reports["bench-cuda"]), points(reports["bench-opencv"])
    eager, compiled = points(reports["torch-eager"]), points(reports["torch-compile"])
    agreement = agreement_summary(out)

    keys = sorted(set(cuda) | set(eager) | set(compiled) | set(opencv), key=lambda k: (k[0] != "fp16", k[1]))
    header = ["precision", "batch", "cuda fwd img/s", "cuda fwd ms", "cuda detect img/s", "cuda, GPU frames img/s",
              "cuda, GPU frames, parsed on the GPU", "torch eager img/s", "torch eager, GPU-resident",
              "torch.compile img/s", "cuda / torch eager", "opencv CPU img/s"]
    rows = []
    for key in keys:
        c, e, t = cuda.get(key), eager.get(key), compiled.get(key)
        ratio = ""
        if c and e and c.get("ok") and e.get("ok") and e.get("forward_images_per_s"):
            ratio = "%.2fx" % (c["forward_images_per_s"] / e["forward_images_per_s"])
        detect = num(c, "detect_images_per_s") if c and c.get("ok") and "detect_images_per_s" in c else (
            "failed" if c and not c.get("ok") else "")
        rows.append([key[0], str(key[1]), num(c, "forward_images_per_s"), num(c, "forward_ms_median", "%.2f"),
                     detect, num(c, "frames_images_per_s"), num(c, "parsed_images_per_s"),
                     num(e, "forward_images_per_s"), num(e, "device_images_per_s"),
                     num(t, "forward_images_per_s"), ratio,
                     num(opencv.get(("fp32", key[1])), "forward_images_per_s") if key[0] == "fp32" else ""])

    md = ["# GPU detector: agreement and throughput", ""]
    if gpu:
        md.append("GPU: %s." % gpu)
    for name in ("bench-cuda", "torch-eager"):
        r = reports[name]
        if r and r.get("model"):
            md.append("Model %s at %s, %s distinct frames of %s (%s), %s s per point." % (
                os.path.basename(r["model"]), "x".join(map(str, r.get("input", []))), r.get("distinct_frames"),
                os.path.basename(str(r.get("frames"))), "x".join(map(str, r.get("frame_size", []))),
                r.get("seconds_per_point")))
            break
    md.append("")
    md.append("## Agreement (OpenCV DNN FP32 on the CPU against cuda)")
    md.append("")
    if not agreement["ran"]:
        md.append("not run (no agreement.json)")
    else:
        md.append("%d tests: %d passed, %d failed, %d skipped" % (agreement["tests"], agreement["passed"],
                                                                len(agreement["failed"]), len(agreement["skipped"])))
        for f in agreement["failed"]:
            md.append("- FAILED %s" % f)
        if agreement["lines"]:
            md += ["", "```"] + agreement["lines"] + ["```"]
    md += ["", "## Throughput, images/s", ""]
    md.append("cuda = `bench-detector --backend cuda` (InferenceBackend::forward: host float32 in, host float32 out; "
              "detect = ss::Detector end to end; GPU frames: the pipeline's way in, the frames as NV12 in GPU memory "
              "at the size sscudascale hands them over (the network's input, or within it keeping the aspect), "
              "pre-processed there, outputs back to host memory, or parsed on the GPU with only candidates back). torch = bench/peers/torch_peer.py, the same ONNX graph through "
              "PyTorch's kernels, channels_last, cudnn.benchmark, the same host-to-host forward; GPU-resident: input "
              "and outputs left on the GPU. torch fp32 uses PyTorch's defaults (TF32 convolutions allowed).")
    md.append("")
    if rows:
        md.append("| " + " | ".join(header) + " |")
        md.append("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            md.append("| " + " | ".join(r) + " |")
    else:
        md.append("no measurements")
    for name in ("bench-cuda", "torch-eager", "torch-compile"):
        r = reports[name]
        if r is None:
            md.append("")
            md.append("- %s: no results" % name)
            continue
        if r.get("skipped"):
            md.append("- %s: skipped (%s)" % (name, r["skipped"]))
        for row in r.get("results", []):
            if not row.get("ok"):
                md.append("- %s %s batch %s failed: %s" % (name, row["precision"], row["batch"], row.get("error")))
            elif row.get("detector_note"):
                md.append("- %s %s batch %s: %s" % (name, row["precision"], row["batch"], row["detector_note"]))
    check = (reports["torch-eager"] or {}).get("check")
    if check:
        diffs = ", ".join("%s %s/%s" % (o["name"], "%.2g" % o["fp32_max_abs_diff"] if "fp32_max_abs_diff" in o else "-",
                                        "%.2g" % o["fp16_max_abs_diff"] if "fp16_max_abs_diff" in o else "-")
                          for o in check.get("outputs", []))
        md.append("- torch peer self-check against %s: %s (max |diff| fp32/fp16: %s)" % (
            check.get("reference"), "ok" if check.get("ok") else "FAILED", diffs))
    if args.elapsed is not None:
        md.append("- the whole run took %d s" % args.elapsed)
    text = "\n".join(md) + "\n"
    with open(os.path.join(out, "detector_bench.md"), "w") as f:
        f.write(text)
    combined = {"gpu": gpu, "agreement": agreement, "table": {"header": header, "rows": rows}}
    combined.update({name.replace("-", "_"): r for name, r in reports.items()})
    with open(os.path.join(out, "detector_bench.json"), "w") as f:
        json.dump(combined, f, indent=2)
    print(text, end="")


if __name__ == "__main__":
    main()
