#!/usr/bin/python3
"""`slipstream detect`: JSON per image on real frames of the pedestrian video,
and a one-line error naming the file (and line) with a non-zero exit for
each kind of bad input, while the good images are still processed."""
import json
import os
import shutil
import subprocess
import tempfile

import harness

DEFAULT_CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "default", "nanodet.txt")


def run(slipstream, *args):
    return subprocess.run([slipstream, "detect", *args], capture_output=True, text=True, timeout=120)


def one_error_line(result, *must_contain):
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert result.returncode != 0, f"exit 0 for bad input: {result.stderr}"
    assert len(lines) == 1, f"expected one error line, got: {lines}"
    for text in must_contain:
        assert text in lines[0], f"'{text}' missing from: {lines[0]}"
    return lines[0]


def main(slipstream):
    work = tempfile.mkdtemp(prefix="slipstream-detect-")
    try:
        frames = []
        for i, second in enumerate((10, 30, 50)):
            path = os.path.join(work, f"frame{i}.png")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(second), "-i", harness.SAMPLE, "-frames:v", "1", path], check=True)
            frames.append(path)

        # Real frames: one JSON object each, people found, boxes inside the image.
        result = run(slipstream, *frames)
        assert result.returncode == 0, result.stderr
        records = [json.loads(l) for l in result.stdout.splitlines()]
        assert [r["image"] for r in records] == frames
        for r in records:
            assert (r["width"], r["height"]) == (768, 576)
            persons = [d for d in r["detections"] if d["label"] == "person"]
            assert len(persons) >= 3, f"{r['image']}: {len(persons)} persons"
            for d in r["detections"]:
                assert set(d) >= {"class_id", "label", "group", "confidence", "bbox"}, d
                x, y, w, h = d["bbox"]
                assert 0 <= x and 0 <= y and x + w <= 768.5 and y + h <= 576.5, d
                assert d["group"] in ("Vehicle", "Cycle", "Person", "Sign", None)
            print(f"{os.path.basename(r['image'])}: {len(persons)} persons")

        # An unreadable image: named, exit 1, the good image still processed.
        bad = os.path.join(work, "broken.jpg")
        with open(bad, "wb") as f:
            f.write(b"\x00garbage" * 100)
        result = run(slipstream, bad, frames[0])
        assert result.returncode == 1
        assert len(result.stdout.splitlines()) == 1, "the good image was not processed"
        one_error_line(result, "broken.jpg", "cannot read image")

        def config_with(replace=None, extra="", name="bad.txt"):
            text = open(DEFAULT_CONFIG).read()
            for old, new in (replace or {}).items():
                assert old in text, old
                text = text.replace(old, new)
            path = os.path.join(work, name)
            with open(path, "w") as f:
                f.write(text + extra)
            shutil.copy(os.path.join(os.path.dirname(DEFAULT_CONFIG), "coco-labels.txt"), work)
            return path

        # Malformed INI: file and line.
        cfg = config_with({"[class-attrs-all]": "[class-attrs-all\nthis is not a key"})
        line = one_error_line(run(slipstream, "--config", cfg, frames[0]), "bad.txt:")
        print("malformed INI ->", line)
        # Unknown parser: file, line, the known ones.
        cfg = config_with({"parse-bbox-func-name=nanodet": "parse-bbox-func-name=magic"})
        line = one_error_line(run(slipstream, "--config", cfg, frames[0]), "bad.txt:", "magic", "nanodet")
        print("unknown parser ->", line)
        # A bad number.
        cfg = config_with({"net-scale-factor=0.00392156862745098": "net-scale-factor=lots"})
        one_error_line(run(slipstream, "--config", cfg, frames[0]), "bad.txt:", "net-scale-factor")
        # Labels that disagree with num-detected-classes: names the label file.
        cfg = config_with({"num-detected-classes=80": "num-detected-classes=81"})
        line = one_error_line(run(slipstream, "--config", cfg, frames[0]), "coco-labels.txt", "81")
        print("label count ->", line)
        # Not an ONNX model.
        fake = os.path.join(work, "fake.onnx")
        with open(fake, "w") as f:
            f.write("this is not a model\n")
        cfg = config_with({"onnx-file=nanodet-416.onnx": f"onnx-file={fake}"})
        line = one_error_line(run(slipstream, "--config", cfg, frames[0]), "fake.onnx")
        print("not ONNX ->", line)
        # A real model whose outputs do not fit the chosen parser.
        cfg = config_with({"parse-bbox-func-name=nanodet": "parse-bbox-func-name=yolo"})
        line = one_error_line(run(slipstream, "--config", cfg, frames[0]), "nanodet-416.onnx", "yolo")
        print("wrong parser for the model ->", line)
        # An unsupported key is a warning, not silence, and not an error.
        cfg = config_with(extra="", replace={"[property]": "[property]\nint8-calib-file=calib.table"})
        result = run(slipstream, "--config", cfg, frames[0])
        assert result.returncode == 0, result.stderr
        assert "int8-calib-file" in result.stderr and "warning" in result.stderr, result.stderr
        print("test_detect_cli: all checks passed")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    harness.run_test(main)
