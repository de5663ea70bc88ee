#!/usr/bin/python3
"""Checks torch_peer.py's ONNX reader and interpreters on the CPU (run by hand:
bench/peers/test_torch_peer.py; needs python3-onnx and numpy, and python3-torch
for the torch interpreter, else those parts say they are skipped).

  1. the protobuf reader against the onnx package on a YOLOv8-style graph built
     here (nodes, attributes, initializers) and on the default model if cached;
  2. that graph through the numpy reference and (OpenCV DNN where it imports
     it) against cv2.dnn, and through the torch interpreter against numpy;
  3. the default NanoDet model likewise, where it is in the model cache.
"""
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer as tp  # noqa: E402

rng = np.random.default_rng(7)


def yolov8_like(path, opset=13):
    """A small graph with the operators YOLOv8 exports use: Conv+SiLU (Sigmoid, Mul),
    Split (sizes as input), SPPF (MaxPool), nearest Resize, Concat, the DFL head
    (Reshape, Transpose, Softmax, Conv with fixed weights), Slice, Sub, Add, Div,
    Shape/Gather/Unsqueeze/Concat shape arithmetic, MatMul, Gemm and Flatten."""
    inits, nodes = [], []

    def w(name, *shape, scale=0.3):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def c(name, values, dtype=np.int64):
        inits.append(numpy_helper.from_array(np.array(values, dtype=dtype), name))
        return name

    def conv_silu(x, out, cin, cout, k=3, stride=1, group=1):
        nodes.append(helper.make_node("Conv", [x, w(out + "_w", cout, cin // group, k, k), w(out + "_b", cout)],
                                      [out + "_c"], kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[k // 2] * 4, group=group))
        nodes.append(helper.make_node("Sigmoid", [out + "_c"], [out + "_s"]))
        nodes.append(helper.make_node("Mul", [out + "_c", out + "_s"], [out]))
        return out

    x = conv_silu("images", "c1", 3, 16, stride=2)            # 16 x 16 x 16
    x = conv_silu(x, "c2", 16, 32, stride=2)                   # 32 x 8 x 8
    nodes.append(helper.make_node("Split", [x, c("split", [16, 16])], ["s_a", "s_b"], axis=1))
    y = conv_silu("s_b", "c3", 16, 16, group=4)
    nodes.append(helper.make_node("Concat", ["s_a", y], ["cat1"], axis=1))
    nodes.append(helper.make_node("MaxPool", ["cat1"], ["p1"], kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1]))
    nodes.append(helper.make_node("Relu", ["p1"], ["r1"]))
    nodes.append(helper.make_node("LeakyRelu", ["r1"], ["l1"], alpha=0.1))
    nodes.append(helper.make_node("Resize", ["l1", "", c("scales", [1, 1, 2, 2], np.float32)], ["up"],
                                  mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
    nodes.append(helper.make_node("Resize", ["l1", "", c("scales2", [1, 1, 2, 2], np.float32)], ["up2"],
                                  mode="linear", coordinate_transformation_mode="half_pixel"))
    nodes.append(helper.make_node("Add", ["up", "up2"], ["up3"]))
    head = conv_silu("up3", "h1", 32, 64 + 4, k=1)             # 68 x 16 x 16: 4 x 16 bins + 4 classes
    nodes.append(helper.make_node("Shape", [head], ["hs"]))
    nodes.append(helper.make_node("Gather", ["hs", c("zero", 0)], ["n"], axis=0))
    nodes.append(helper.make_node("Unsqueeze", ["n", c("ax0", [0])], ["n1"]))
    nodes.append(helper.make_node("Concat", ["n1", c("rest", [68, -1])], ["flat_shape"], axis=0))
    nodes.append(helper.make_node("Reshape", [head, "flat_shape"], ["flat"]))  # N, 68, 256
    nodes.append(helper.make_node("Split", ["flat", c("split2", [64, 4])], ["dist", "cls"], axis=1))
    nodes.append(helper.make_node("Reshape", ["dist", c("dfl_shape", [0, 4, 16, 256])], ["d1"]))
    nodes.append(helper.make_node("Transpose", ["d1"], ["d2"], perm=[0, 2, 1, 3]))
    nodes.append(helper.make_node("Softmax", ["d2"], ["d3"], axis=1))
    inits.append(numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(1, 16, 1, 1), "dfl_w"))
    nodes.append(helper.make_node("Conv", ["d3", "dfl_w"], ["d4"], kernel_shape=[1, 1]))
    nodes.append(helper.make_node("Constant", [], ["d5_shape"], value_ints=[0, 4, 256]))  # as YOLOv5 exports do
    nodes.append(helper.make_node("Reshape", ["d4", "d5_shape"], ["d5"]))
    nodes.append(helper.make_node("Slice", ["d5", c("st0", [0]), c("en0", [2]), c("ax1", [1])], ["lt"]))
    nodes.append(helper.make_node("Slice", ["d5", c("st1", [2]), c("en1", [9223372036854775807]), c("ax1b", [1]),
                                            c("step1", [1])], ["rb"]))
    anchors = c("anchors", rng.uniform(0, 16, (1, 2, 256)), np.float32)
    nodes.append(helper.make_node("Sub", [anchors, "lt"], ["x1y1"]))
    nodes.append(helper.make_node("Add", [anchors, "rb"], ["x2y2"]))
    nodes.append(helper.make_node("Add", ["x1y1", "x2y2"], ["sum"]))
    nodes.append(helper.make_node("Constant", [], ["two"], value=numpy_helper.from_array(np.array(2.0, np.float32))))
    nodes.append(helper.make_node("Div", ["sum", "two"], ["cxy"]))
    nodes.append(helper.make_node("Sub", ["x2y2", "x1y1"], ["wh"]))
    nodes.append(helper.make_node("Concat", ["cxy", "wh"], ["box"], axis=1))
    nodes.append(helper.make_node("Mul", ["box", c("stride", 8.0, np.float32)], ["box8"]))
    nodes.append(helper.make_node("Sigmoid", ["cls"], ["score"]))
    nodes.append(helper.make_node("Concat", ["box8", "score"], ["output0"], axis=1))   # N, 8, 256
    # A classifier tail: Flatten, Gemm, MatMul.
    nodes.append(helper.make_node("GlobalAveragePool", ["cat1"], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["gf"], axis=1))
    nodes.append(helper.make_node("Gemm", ["gf", w("fc_w", 10, 32), w("fc_b", 10)], ["fc"], transB=1))
    nodes.append(helper.make_node("MatMul", ["fc", w("mm", 10, 5)], ["logits"]))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=-1))
    graph = helper.make_graph(nodes, "yolov8_like",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 32, 32])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["N", 8, 256]),
                               helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def check_reader(path):
    g = tp.Graph(path)
    m = onnx.load(path)
    assert len(g.nodes) == len(m.graph.node)
    for a, b in zip(g.nodes, m.graph.node):
        assert (a.op, a.inputs, a.outputs) == (b.op_type, list(b.input), list(b.output)), a.op
    for i in m.graph.initializer:
        ref, got = numpy_helper.to_array(i), g.initializers[i.name].to_numpy(np)
        assert ref.dtype == got.dtype and ref.shape == got.shape and np.array_equal(ref, got), i.name
    print("ok: reader matches the onnx package on %s (%d nodes)" % (os.path.basename(path), len(g.nodes)))
    return g


def compare(name, a, b, tol):
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    assert a.shape == b.shape, (name, a.shape, b.shape)
    diff = float(np.abs(a - b).max())
    scale = max(float(a.max() - a.min()), 1.0)
    assert diff <= tol * scale, "%s: max |diff| %g > %g" % (name, diff, tol * scale)
    return diff


def run_graph(g, x):
    constants = {n: t.to_numpy(np) for n, t in g.initializers.items()}
    ref = tp.execute(g, tp.NumpyOps(np), {g.inputs[0][0]: x}, constants)
    try:
        import cv2
        net = cv2.dnn.readNetFromONNX(g.path)
        net.setInput(x)
        outs = net.forward([n for n, _ in g.outputs])
        for (n, _), a, b in zip(g.outputs, ref, outs):
            print("ok: numpy vs cv2.dnn %-8s max |diff| %.3g" % (n, compare(n, a, b, 1e-4)))
    except ImportError:
        print("skipped: cv2 not available")
    except Exception as e:  # noqa: BLE001 -- OpenCV 4.6 lacks some operators
        print("note: cv2.dnn cannot run %s (%s)" % (os.path.basename(g.path), str(e).splitlines()[0][:120]))
    try:
        import torch
    except ImportError:
        print("skipped: torch not available")
        return
    with torch.no_grad():
        # CPU: FP32 only (half-precision convolutions need the GPU)
        module = tp.make_torch_module(g, torch, torch.device("cpu"), False, True)
        out = module(torch.from_numpy(x).contiguous(memory_format=torch.channels_last))
        print("ok: torch module computed %d constant nodes once" % module.folded)
        for (n, declared), a, b in zip(g.outputs, ref, out):
            assert tp.declared_shape_ok(declared, list(b.shape), x.shape[0]), (n, declared, b.shape)
            print("ok: torch vs numpy %-8s %s max |diff| %.3g" % (n, list(b.shape), compare(n, a, b.numpy(), 1e-4)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for opset in (13, 17):  # Split sizes and Unsqueeze axes as inputs: opset 13 on
            path = os.path.join(tmp, "yolov8_like_%d.onnx" % opset)
            yolov8_like(path, opset)
            g = check_reader(path)
            run_graph(g, rng.uniform(0, 1, (3, 3, 32, 32)).astype(np.float32))
    nanodet = os.path.join(tp.model_cache_dir(), "nanodet-416.onnx")
    if os.path.exists(nanodet):
        g = check_reader(nanodet)
        run_graph(g, rng.uniform(0, 1, (1, 3, 416, 416)).astype(np.float32))
    else:
        print("skipped: %s not in the cache" % nanodet)
    print("all checks passed")


if __name__ == "__main__":
    main()
