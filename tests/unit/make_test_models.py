#!/usr/bin/python3
"""Writes the tiny ONNX models the parser tests run through OpenCV DNN.

usage: make_test_models.py OUTPUT_DIR

Every model computes, for each output element k,
    out[n, k] = base[k] + gain[k] * mean(input[n])
with GlobalAveragePool -> 1x1 Conv (weights gain/3 per input channel, bias
base) -> Reshape to [-1, <per-image shape>]. So the outputs are exactly the
numbers written below, the batch dimension follows the input's, and a test can
make the images of one batch produce different outputs by giving them
different grey levels (mean = grey / 255 with net-scale-factor = 1/255).
Input: `input` [N, 3, H, W], any H and W. The expected detections are derived
by hand next to each model in tests/unit/test_parsers.cpp; keep them in step.
"""

import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 11


def build(path, heads, fixed_batch=False):
    """heads: list of (output name, base array, gain array) with per-image shapes.

    fixed_batch: reshape to [1, -1, ...] as static-batch exports do, so a batch
    of N images comes out as one image with N times the rows.
    """
    nodes = [helper.make_node('GlobalAveragePool', ['input'], ['pooled'])]
    inits, outputs = [], []
    for name, base, gain in heads:
        base = np.asarray(base, np.float32)
        gain = np.broadcast_to(np.asarray(gain, np.float32), base.shape)
        k = base.size
        weight = np.repeat(gain.reshape(k, 1) / 3.0, 3, axis=1).reshape(k, 3, 1, 1).astype(np.float32)
        inits += [numpy_helper.from_array(weight, name + '_w'),
                  numpy_helper.from_array(base.reshape(k), name + '_b'),
                  numpy_helper.from_array(np.array(([1, -1] + list(base.shape[1:])) if fixed_batch else
                                                   ([-1] + list(base.shape)), np.int64), name + '_shape')]
        nodes += [helper.make_node('Conv', ['pooled', name + '_w', name + '_b'], [name + '_flat'], kernel_shape=[1, 1]),
                  helper.make_node('Reshape', [name + '_flat', name + '_shape'], [name])]
        dims = [1, 'M'] + list(base.shape[1:]) if fixed_batch else ['N'] + list(base.shape)
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
    graph = helper.make_graph(nodes, os.path.basename(path),
                              [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 3, 'H', 'W'])],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='slipstream-tests')
    onnx.checker.check_model(model)
    onnx.save(model, path)


def nanodet():
    """64x64 input, 3 classes, 8 bins (distances 0..7): strides 8, 16, 32 with 64, 16, 4 anchors."""
    classes, bins = 3, 8
    heads = []
    for stride in (8, 16, 32):
        grid = 64 // stride
        anchors = grid * grid
        cls_base = np.full((anchors, classes), 0.01)
        cls_gain = np.zeros((anchors, classes))
        box = np.zeros((anchors, 4 * bins))
        if stride == 8:
            # Anchor (x=2, y=3): class 1 with confidence 0.2 + 0.6 * mean.
            a = 3 * grid + 2
            cls_base[a, 1], cls_gain[a, 1] = 0.2, 0.6
            # Two neighbouring bins with weights 1:3 (logits 0 and ln 3, the rest
            # negligible) give the expectation k + 0.75: left 1.75, top 0.75,
            # right 2.75, bottom 3.75 bins.
            for side, k in enumerate((1, 0, 2, 3)):
                logits = np.full(bins, -30.0)
                logits[k], logits[k + 1] = 0.0, math.log(3.0)
                box[a, side * bins:(side + 1) * bins] = logits
        elif stride == 16:
            # Anchor (x=2, y=1): class 2 with confidence 0.9 - 0.6 * mean, 0.75 bins each side.
            a = 1 * grid + 2
            cls_base[a, 2], cls_gain[a, 2] = 0.9, -0.6
            for side in range(4):
                logits = np.full(bins, -30.0)
                logits[0], logits[1] = 0.0, math.log(3.0)
                box[a, side * bins:(side + 1) * bins] = logits
        heads += [('cls_%d' % stride, cls_base, cls_gain), ('box_%d' % stride, box, 0.0)]
    return heads


def yolov5():
    """2 classes, rows of (cx, cy, w, h, objectness, score0, score1)."""
    base = np.array([
        [32, 20, 16, 8, 0.9, 0.2, 0.8],   # class 1, confidence 0.72
        [10, 10, 4, 4, 0.1, 0.9, 0.9],    # objectness below every threshold
        [48, 48, 8, 8, 0.5, 0.9, 0.1],    # class 0, width and objectness grow with the mean
    ])
    gain = np.zeros_like(base)
    gain[2, 2], gain[2, 4] = 16, 0.4
    return [('output0', base, gain)]


def yolov8():
    """2 classes, columns of (cx, cy, w, h, score0, score1), 5 boxes."""
    rows = np.array([
        [16, 40, 8, 24, 0.3, 0.6],  # class 1, 0.6
        [50, 12, 12, 8, 0.85, 0.1],  # class 0, 0.85
        [30, 30, 10, 10, 0.05, 0.1],  # below threshold
        [5, 5, 2, 2, 0.0, 0.0],
        [60, 60, 2, 2, 0.0, 0.01],
    ])
    return [('output0', rows.T, 0.0)]


def ssd():
    """2 classes plus background (column 0), boxes normalised (x1, y1, x2, y2)."""
    boxes = np.array([[0.1, 0.2, 0.5, 0.6], [0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.9, 0.8], [0.2, 0.2, 0.3, 0.3]])
    scores = np.array([[0.1, 0.2, 0.7], [0.9, 0.05, 0.05], [0.2, 0.6, 0.2], [0.8, 0.1, 0.1]])
    return [('boxes', boxes, 0.0), ('scores', scores, 0.0)]


def detectnet_v2():
    """64x64 input, 2 classes, 4x4 grid (stride 16)."""
    coverage = np.zeros((2, 4, 4))
    bbox = np.zeros((8, 4, 4))
    # Cell (x=1, y=2), class 1: offsets 0.2, 0.3, 0.4, 0.5 (in units of 35 pixels).
    coverage[1, 2, 1] = 0.8
    bbox[4:8, 2, 1] = [0.2, 0.3, 0.4, 0.5]
    return [('output_cov', coverage, 0.0), ('output_bbox', bbox, 0.0)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, heads in [('nanodet', nanodet()), ('yolov5', yolov5()), ('yolov8', yolov8()), ('ssd', ssd()),
                        ('detectnet_v2', detectnet_v2())]:
        build(os.path.join(out, name + '.onnx'), heads)
    build(os.path.join(out, 'yolov5_fixed_batch.onnx'), yolov5(), fixed_batch=True)


if __name__ == '__main__':
    main()
