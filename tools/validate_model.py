#!/usr/bin/python3
"""Check a tfjs2onnx conversion numerically on real video frames.

usage: validate_model.py [--model X.onnx] [--tfjs X.json] [--video V] [--frames N]

Frames spread over the video are decoded by ffmpeg to RGB stretched to the
model size and fed as RGB/255 NCHW (what the shipping library does). The
original TF.js graph runs through tools/tfjs_reference.mjs (node, CPU backend),
the ONNX model through OpenCV DNN, and every output is compared.

Difference metric, per output tensor:  max|onnx - tfjs| / max|tfjs|.
An element-wise |a-b|/|b| is meaningless for logits that cross zero and for
values that are the small difference of large float32 sums, so the error is
scaled by the tensor's own magnitude. Must be <= --tol (1e-4).
The sigmoid score outputs (cls_*) additionally get an element-wise check,
|a-b| / max(|b|, 1e-3), also <= --tol: scores feed thresholds directly.

Also checked: OpenCV batch 4 (blobFromImages) equals the batch-1 results, and
a 320x320 input runs and yields (320/8)^2+(320/16)^2+(320/32)^2 = 2100 anchors.
Prints one PASS/FAIL line and exits non-zero on failure (77 with
--skip-missing when the cached model or npm packages are absent).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi'
SKIP = 77


def cache_dir():
    if os.environ.get('SLIPSTREAM_CACHE'):
        return os.environ['SLIPSTREAM_CACHE']
    xdg = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(xdg, 'slipstream')


class Fail(Exception):
    pass


def frame_count(video):
    out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries',
                          'stream=nb_frames,duration,r_frame_rate', '-of', 'json', video],
                         capture_output=True, text=True, check=True).stdout
    st = json.loads(out)['streams'][0]
    if str(st.get('nb_frames', '')).isdigit():
        return int(st['nb_frames'])
    num, den = st['r_frame_rate'].split('/')
    return int(float(st['duration']) * float(num) / float(den))


def read_frames(video, n, w, h):
    """n RGB uint8 frames [n,h,w,3], spread over the video, stretched to w x h."""
    total = frame_count(video)
    idx = [int((k + 0.5) * total / n) for k in range(n)]
    sel = '+'.join(f'eq(n\\,{i})' for i in idx)
    raw = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', video,
                          '-vf', f"select='{sel}',scale={w}:{h}:flags=bilinear",
                          '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
                         capture_output=True, check=True).stdout
    if len(raw) != n * w * h * 3:
        raise Fail(f'ffmpeg returned {len(raw)} bytes, expected {n} frames of {w}x{h}')
    return np.frombuffer(raw, np.uint8).reshape(n, h, w, 3), idx


def to_nchw(rgb):
    return np.ascontiguousarray((rgb.astype(np.float32) / 255.0).transpose(0, 3, 1, 2))


def elem_rel_diff(a, b, eps=1e-3):
    return float((np.abs(a.astype(np.float64) - b) / np.maximum(np.abs(b), eps)).max())


def rel_diff(a, b):
    scale = float(np.abs(b).max())
    return float(np.abs(a.astype(np.float64) - b).max()) / max(scale, 1e-12)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    cache = cache_dir()
    ap.add_argument('--model', default=os.path.join(cache, 'models', 'nanodet-416.onnx'))
    ap.add_argument('--npm-dir', default=os.environ.get('SLIPSTREAM_NPM_DIR') or os.path.join(cache, 'npm'))
    ap.add_argument('--tfjs', help='TF.js model.json (default: from the npm dir and the ONNX metadata)')
    ap.add_argument('--video', default=VIDEO)
    ap.add_argument('--frames', type=int, default=4)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--node', default=shutil.which('node', path='/usr/bin') or shutil.which('node') or 'node')
    ap.add_argument('--skip-missing', action='store_true',
                    help=f'exit {SKIP} (test skipped) when the model or npm packages are missing')
    ap.add_argument('--keep', help='keep intermediate files in this directory')
    a = ap.parse_args()
    try:
        import cv2
        import onnx
    except ImportError as e:
        print(f'validate_model: FAIL missing python module ({e}); '
              'apt-get install -y python3-opencv python3-onnx and use /usr/bin/python3')
        return 1

    m = onnx.load(a.model) if os.path.exists(a.model) else None
    meta = {p.key: p.value for p in m.metadata_props} if m else {}
    tfjs = a.tfjs or os.path.join(a.npm_dir, 'node_modules', '@vladmandic', 'human-models', 'models',
                                  meta.get('tfjs_model', 'nanodet.json'))
    missing = [p for p in (a.model, tfjs) if not os.path.exists(p)]
    if missing:
        print(f"validate_model: {'SKIP' if a.skip_missing else 'FAIL'} missing {', '.join(missing)} "
              '(run tools/fetch_model.sh)')
        return SKIP if a.skip_missing else 1
    if 'tfjs_outputs' not in meta:
        print(f'validate_model: FAIL {a.model} lacks tfjs_outputs metadata (not made by tfjs2onnx.py)')
        return 1
    out_map = json.loads(meta['tfjs_outputs'])  # onnx output name -> TF.js output name
    names = [o.name for o in m.graph.output]
    dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    size_h, size_w = dims[2], dims[3]

    work = a.keep or tempfile.mkdtemp(prefix='slipstream-validate-')
    os.makedirs(work, exist_ok=True)
    try:
        rgb, idx = read_frames(a.video, a.frames, size_w, size_h)
        x = to_nchw(rgb)
        files = []
        for k in range(a.frames):
            f = os.path.join(work, f'frame{k}.f32')
            x[k:k + 1].tofile(f)
            files.append(f)

        # reference: original TF.js graph
        t0 = time.time()
        r = subprocess.run([a.node, os.path.join(HERE, 'tfjs_reference.mjs'), '--npm-dir', a.npm_dir,
                            tfjs, os.path.join(work, 'ref')] + files, capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail(f"tfjs reference failed: {(r.stderr.strip() or r.stdout.strip()).splitlines()[-1:]}")
        t_ref = time.time() - t0
        ref = []
        for entry in json.load(open(os.path.join(work, 'ref', 'outputs.json'))):
            ref.append({o['name']: np.fromfile(o['file'], '<f4').reshape(o['shape']) for o in entry['outputs']})

        # ONNX through OpenCV, one frame at a time
        net = cv2.dnn.readNetFromONNX(a.model)
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        worst = {}
        cls_elem = 0.0
        b1 = []
        for k in range(a.frames):
            net.setInput(x[k:k + 1])
            outs = net.forward(names)
            b1.append(outs)
            for n, o in zip(names, outs):
                tr = ref[k][out_map[n]]
                if o.shape != tr.shape:
                    raise Fail(f'{n}: shape {o.shape} != TF.js {tr.shape}')
                worst[n] = max(worst.get(n, 0.0), rel_diff(o, tr))
                if n.startswith('cls'):
                    cls_elem = max(cls_elem, elem_rel_diff(o, tr))
        # rough timing at batch 1 (the first forward above was warm-up)
        net.setInput(x[:1])
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            net.forward(names)
            times.append(time.perf_counter() - t0)
        t_fwd = sorted(times)[1] * 1000

        # batch 4 through blobFromImages must match the single-frame runs
        nb = min(4, a.frames)
        blob = cv2.dnn.blobFromImages([np.ascontiguousarray(f) for f in rgb[:nb]], 1.0 / 255,
                                      (size_w, size_h), swapRB=False, crop=False)
        net.setInput(blob)
        outs = net.forward(names)
        batch_diff = 0.0
        for j, (n, o) in enumerate(zip(names, outs)):
            single = np.concatenate([b1[k][j] for k in range(nb)], 0)
            if o.shape != single.shape:
                raise Fail(f'batch {nb}: {n} shape {o.shape} != {single.shape}')
            batch_diff = max(batch_diff, rel_diff(o, single))

        # smaller input: a dense-head model must follow the input size (no baked
        # spatial dims); its cls_<stride> outputs tell which anchor count to expect
        small = cv2.resize(np.ascontiguousarray(rgb[0]), (320, 320), interpolation=cv2.INTER_LINEAR)
        net.setInput(cv2.dnn.blobFromImage(small, 1.0 / 255, (320, 320)))
        outs = net.forward(names)
        cls = [(int(n.split('_')[1]), o) for n, o in zip(names, outs) if n.startswith('cls_')]
        anchors = sum(o.shape[1] for _, o in cls)
        want = sum((320 // s) ** 2 for s, _ in cls)
        finite = all(np.isfinite(o).all() for o in outs)
    except (Fail, subprocess.CalledProcessError, cv2.error, OSError) as e:
        msg = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        print(f'validate_model: FAIL {os.path.basename(a.model)}: {msg}')
        return 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    max_rel = max(worst.values())
    ok = max_rel <= a.tol and cls_elem <= a.tol and batch_diff <= a.tol and anchors == want and finite
    per = ' '.join(f'{n}={worst[n]:.1e}' for n in names)
    print(f"validate_model: {'PASS' if ok else 'FAIL'} {os.path.basename(a.model)} "
          f"frames={','.join(map(str, idx))} max_rel={max_rel:.2e} (tol {a.tol:.0e}; {per}) "
          f"cls_elem_rel={cls_elem:.1e} "
          f"batch{nb}_vs_1={batch_diff:.1e} 320x320_anchors={anchors}/{want if cls else 'n/a'}"
          f"{'' if finite else ' NON-FINITE'} "
          f"opencv_b1={t_fwd:.0f}ms tfjs={t_ref:.0f}s")
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
