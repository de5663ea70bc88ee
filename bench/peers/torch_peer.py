#!/usr/bin/python3
"""torch_peer.py -- a BASELINE FOR COMPARISON ONLY, NOT PART OF SLIPSTREAM.

What a user gets from the same ONNX detector with PyTorch on the same GPU, to
put beside `bench-detector --backend cuda`: the model's graph run by PyTorch's
own kernels (cuDNN convolutions), eager, FP16, channels_last, with
cudnn.benchmark; with --compile through torch.compile as well.

The ONNX file is read and interpreted here -- a small ONNX-to-torch
interpreter written for this peer (no onnx2torch or other converters, and not
even the onnx package: the protobuf is decoded below), covering the operators
of slipstream's model families: NanoDet (the default model) and YOLOv5/v8-style
graphs (Conv, LeakyRelu, Relu, Sigmoid, Mul, Add, Sub, Div, Concat, Split,
Slice, Resize, MaxPool, Transpose, Reshape, Flatten, Softmax, Gather, MatMul,
Gemm, Shape, Constant, Unsqueeze, Squeeze, Cast, ...). An operator it does not
know is an error naming it.

Timing, per precision and batch size, on a batch of real frames pre-processed
as the config says (RGB x net-scale-factor, stretched to infer-dims):
  forward  host float32 input -> GPU -> model -> float32 outputs back on the
           host, as slipstream's InferenceBackend::forward does (the columns
           of bench-detector's table, same JSON keys);
  device   the same with input and outputs left on the GPU (a note per row,
           "device_images_per_s" in the JSON).

Self-check (before timing, and alone with --check): the interpreter in FP32
(TF32 off) against onnxruntime where it is installed, else against the numpy
reference interpreter below: every output's shape equals the graph's declared
one, max |diff| <= 1e-3 x max(range, 1); FP16 against the same reference
within 2e-2 x max(range, 1). Without numpy only the shapes are checked.

Exits 0 printing one line "skipped: PyTorch not available (...)" where torch
or (for timing) a CUDA GPU is absent.

usage: torch_peer.py [--config FILE] [--model FILE.onnx]
           [--frames FILE.bgr [--frame-size WxH] | --video FILE]
           [--batch-sizes 1,8,32,64,128] [--precision fp16[,fp32]] [--seconds S] [--warmup N]
           [--compile] [--gpu N] [--device cpu] [--check] [--no-check] [--json FILE]
"""
import argparse
import configparser
import json
import math
import os
import re
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "..", "..", "configs", "default", "nanodet.txt")
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

FP32_TOL, FP16_TOL = 1e-3, 2e-2

# ---------------------------------------------------------------------------
# ONNX protobuf, decoded by hand (the fields this interpreter reads)
# ---------------------------------------------------------------------------


def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """(field number, wire type, value) of one message; value: int or bytes."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("protobuf wire type %d not supported" % wire)
        yield number, wire, value


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _ints(wire, value):
    """A repeated int64 field's element(s): packed or not."""
    if wire == 0:
        return [_signed(value)]
    out, pos = [], 0
    while pos < len(value):
        v, pos = _varint(value, pos)
        out.append(_signed(v))
    return out


def _floats(wire, value):
    if wire == 5:
        return [struct.unpack("<f", value)[0]]
    return list(struct.unpack("<%df" % (len(value) // 4), value))


# TensorProto.DataType -> (struct format, torch dtype name, numpy dtype name)
DTYPES = {
    1: ("f", "float32", "float32"), 2: ("B", "uint8", "uint8"), 3: ("b", "int8", "int8"),
    5: ("h", "int16", "int16"), 6: ("i", "int32", "int32"), 7: ("q", "int64", "int64"),
    9: ("?", "bool", "bool"), 10: ("e", "float16", "float16"), 11: ("d", "float64", "float64"),
}


class Tensor:
    """An ONNX tensor: dims, data type and its elements as little-endian bytes."""

    def __init__(self, name, dims, dtype, data):
        self.name, self.dims, self.dtype, self.data = name, list(dims), dtype, data

    def to_torch(self, torch):
        if self.dtype not in DTYPES:
            raise ValueError("tensor %s: ONNX data type %d not supported" % (self.name, self.dtype))
        dtype = getattr(torch, DTYPES[self.dtype][1])
        count = math.prod(self.dims)
        if count == 0:
            return torch.zeros(self.dims, dtype=dtype)
        return torch.frombuffer(bytearray(self.data), dtype=dtype).reshape(self.dims).clone()

    def to_numpy(self, np):
        return np.frombuffer(self.data, dtype=DTYPES[self.dtype][2]).reshape(self.dims).copy()


def parse_tensor(buf):
    name, dims, dtype, raw = "", [], 1, None
    floats, int32s, int64s, doubles = [], [], [], []
    for number, wire, value in _fields(buf):
        if number == 1:
            dims += _ints(wire, value)
        elif number == 2:
            dtype = value
        elif number == 4:
            floats += _floats(wire, value)
        elif number == 5:
            int32s += _ints(wire, value)
        elif number == 7:
            int64s += _ints(wire, value)
        elif number == 8:
            name = bytes(value).decode()
        elif number == 9:
            raw = bytes(value)
        elif number == 10:
            doubles += list(struct.unpack("<%dd" % (len(value) // 8), value)) if wire == 2 else [struct.unpack("<d", value)[0]]
        elif number == 13 or (number == 14 and value == 1):
            raise ValueError("tensor %s: external data is not supported" % name)
    if raw is None:
        fmt = DTYPES.get(dtype, ("f",))[0]
        if dtype == 1:
            values = floats
        elif dtype == 7:
            values = int64s
        elif dtype == 11:
            values = doubles
        elif dtype == 10:  # float16 bits in int32_data
            raw = struct.pack("<%dH" % len(int32s), *[v & 0xFFFF for v in int32s])
            values = None
        else:
            values = int32s
        if raw is None:
            raw = struct.pack("<%d%s" % (len(values), fmt), *values)
    return Tensor(name, dims, dtype, raw)


class Node:
    def __init__(self, buf):
        self.inputs, self.outputs, self.name, self.op, self.attrs, self.domain = [], [], "", "", {}, ""
        for number, wire, value in _fields(buf):
            if number == 1:
                self.inputs.append(bytes(value).decode())
            elif number == 2:
                self.outputs.append(bytes(value).decode())
            elif number == 3:
                self.name = bytes(value).decode()
            elif number == 4:
                self.op = bytes(value).decode()
            elif number == 5:
                key, attr = parse_attribute(value)
                self.attrs[key] = attr
            elif number == 7:
                self.domain = bytes(value).decode()

    def attr(self, name, default=None):
        return self.attrs.get(name, default)


def parse_attribute(buf):
    name, kind, scalar = "", 0, {}
    floats, ints, strings = [], [], []
    for number, wire, value in _fields(buf):
        if number == 1:
            name = bytes(value).decode()
        elif number == 2:
            scalar["f"] = struct.unpack("<f", value)[0]
        elif number == 3:
            scalar["i"] = _signed(value)
        elif number == 4:
            scalar["s"] = bytes(value).decode(errors="replace")
        elif number == 5:
            scalar["t"] = parse_tensor(value)
        elif number == 6:
            scalar["g"] = value
        elif number == 7:
            floats += _floats(wire, value)
        elif number == 8:
            ints += _ints(wire, value)
        elif number == 9:
            strings.append(bytes(value).decode(errors="replace"))
        elif number == 20:
            kind = value
    # AttributeProto.AttributeType: 1 FLOAT 2 INT 3 STRING 4 TENSOR 5 GRAPH 6 FLOATS 7 INTS 8 STRINGS
    by_kind = {1: "f", 2: "i", 3: "s", 4: "t", 5: "g"}
    if kind in by_kind:
        return name, scalar.get(by_kind[kind])
    if kind == 6:
        return name, floats
    if kind == 7:
        return name, ints
    if kind == 8:
        return name, strings
    if scalar:  # no type field (old exporters): whichever is set
        return name, next(iter(scalar.values()))
    return name, ints or floats or strings


def parse_value_info(buf):
    """(name, [dim value or dim name or None])"""
    name, dims = "", None
    for number, _, value in _fields(buf):
        if number == 1:
            name = bytes(value).decode()
        elif number == 2:
            for n2, _, tensor_type in _fields(value):
                if n2 != 1:
                    continue
                for n3, _, shape in _fields(tensor_type):
                    if n3 != 2:
                        continue
                    dims = []
                    for n4, _, dim in _fields(shape):
                        if n4 != 1:
                            continue
                        d = None
                        for n5, _, v in _fields(dim):
                            d = v if n5 == 1 else (bytes(v).decode() if n5 == 2 else d)
                        dims.append(d)
    return name, dims


class Graph:
    """The main graph of an ONNX model: nodes in order, initializers, inputs and outputs."""

    def __init__(self, path):
        with open(path, "rb") as f:
            model = memoryview(f.read())
        self.path = path
        self.opset = 1
        graph = None
        for number, _, value in _fields(model):
            if number == 7:
                graph = value
            elif number == 8:
                domain, version = "", 1
                for n2, _, v in _fields(value):
                    domain = bytes(v).decode() if n2 == 1 else domain
                    version = v if n2 == 2 else version
                if domain in ("", "ai.onnx"):
                    self.opset = version
        if graph is None:
            raise ValueError("%s: no graph in this file (not an ONNX model?)" % path)
        self.nodes, self.initializers, inputs, self.outputs = [], {}, [], []
        for number, _, value in _fields(graph):
            if number == 1:
                self.nodes.append(Node(value))
            elif number == 5:
                t = parse_tensor(value)
                self.initializers[t.name] = t
            elif number == 11:
                inputs.append(parse_value_info(value))
            elif number == 12:
                self.outputs.append(parse_value_info(value))
        self.inputs = [(n, d) for n, d in inputs if n not in self.initializers]
        for node in self.nodes:
            if node.domain not in ("", "ai.onnx"):
                raise ValueError("%s: operator %s of domain %s is not supported" % (path, node.op, node.domain))


# ---------------------------------------------------------------------------
# Operators, once for torch and once for numpy (the reference). Shape-like
# values (Shape, Reshape targets, Slice bounds) are small integer tensors.
# ---------------------------------------------------------------------------

def conv_pads(node, spatial, kernel, strides, dilations):
    """[begin..., end...] padding from pads or auto_pad."""
    auto = node.attr("auto_pad", "NOTSET")
    if auto in ("NOTSET", "") or auto is None:
        return list(node.attr("pads", [0] * (2 * len(kernel))))
    if auto == "VALID":
        return [0] * (2 * len(kernel))
    begins, ends = [], []
    for size, k, s, d in zip(spatial, kernel, strides, dilations):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(small if auto == "SAME_UPPER" else large)
        ends.append(large if auto == "SAME_UPPER" else small)
    return begins + ends


def as_ints(v):
    """A small integer tensor (torch or numpy) or list as a list of ints."""
    if v is None:
        return None
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (int, float)):
        return [int(v)]
    return [int(x) for x in v]


def as_floats(v):
    return [float(x) for x in (v.tolist() if hasattr(v, "tolist") else v)]


def count(v):
    """Number of elements of a tensor or list (0 for None)."""
    if v is None:
        return 0
    if hasattr(v, "numel"):
        return v.numel()
    if hasattr(v, "size") and not callable(v.size):
        return v.size
    return len(v) if isinstance(v, (list, tuple)) else 1


def scalar(v):
    if hasattr(v, "item"):
        return v.item()
    return v[0] if isinstance(v, (list, tuple)) else v


# Inputs that are shapes, bounds or scales: the torch module keeps them as
# Python lists (no tensor on the GPU to read back, nothing for torch.compile to trace).
SHAPE_ARGS = {"Reshape": (1,), "Slice": (1, 2, 3, 4), "Split": (1,), "Resize": (1, 2, 3), "Upsample": (1,),
              "Unsqueeze": (1,), "Squeeze": (1,), "Expand": (1,), "Clip": (1, 2), "ConstantOfShape": (0,),
              "Range": (0, 1, 2)}


def reshape_target(shape, target, allowzero=0):
    target = list(target)
    for i, t in enumerate(target):
        if t == 0 and not allowzero:
            target[i] = shape[i]
    return target


def slice_params(rank, dims, starts, ends, axes, steps):
    """Per axis (start, stop, step), clamped like ONNX Slice; steps > 0 only."""
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    out = [(0, d, 1) for d in dims]
    for s, e, a, st in zip(starts, ends, axes, steps):
        a = a + rank if a < 0 else a
        if st <= 0:
            raise NotImplementedError("Slice with step %d" % st)
        d = dims[a]
        s = max(0, min(d, s + d if s < 0 else s))
        e = max(0, min(d, e + d if e < 0 else e))
        out[a] = (s, e, st)
    return out


def resize_plan(node, in_shape, scales, sizes, opset):
    """Output size and the mode the torch and numpy versions support."""
    mode = node.attr("mode", "nearest")
    transform = node.attr("coordinate_transformation_mode", "half_pixel" if opset >= 11 else "asymmetric")
    nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
    if sizes is not None and len(sizes):
        out = list(sizes)
        scales = [o / i for o, i in zip(out, in_shape)]
    else:
        out = [int(math.floor(d * s)) for d, s in zip(in_shape, scales)]
    if out[:2] != list(in_shape[:2]):
        raise NotImplementedError("Resize of the batch or channel dimension")
    if mode == "linear" and transform in ("half_pixel", "pytorch_half_pixel"):
        kind = "linear"
    elif mode == "nearest" and transform == "asymmetric" and nearest_mode == "floor":
        kind = "nearest"
    elif mode == "nearest" and opset < 11:
        kind = "nearest"
    else:
        raise NotImplementedError("Resize mode=%s coordinate_transformation_mode=%s nearest_mode=%s"
                                  % (mode, transform, nearest_mode))
    return kind, out, list(scales)


class TorchOps:
    """Each operator: f(node, inputs, opset) -> list of outputs."""

    def __init__(self, torch):
        self.torch = torch
        self.F = torch.nn.functional

    def run(self, node, inputs, opset):
        fn = getattr(self, "op_" + node.op, None)
        if fn is None:
            raise NotImplementedError("ONNX operator %s (node %s) is not supported by this interpreter" % (node.op, node.name))
        out = fn(node, inputs, opset)
        return out if isinstance(out, list) else [out]

    # -- convolution and pooling
    def op_Conv(self, node, x, opset):
        F = self.F
        data, weight = x[0], x[1]
        bias = x[2] if len(x) > 2 else None
        k = list(weight.shape[2:])
        strides = node.attr("strides", [1] * len(k))
        dilations = node.attr("dilations", [1] * len(k))
        pads = conv_pads(node, list(data.shape[2:]), k, strides, dilations)
        n = len(k)
        if pads[:n] == pads[n:]:
            padding = pads[:n]
        else:  # asymmetric: pad first (F.pad takes the last dimension first)
            data = F.pad(data, [p for i in reversed(range(n)) for p in (pads[i], pads[i + n])])
            padding = [0] * n
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
        return conv(data, weight, bias, strides, padding, dilations, node.attr("group", 1))

    def op_MaxPool(self, node, x, opset):
        F = self.F
        data = x[0]
        k = node.attr("kernel_shape")
        n = len(k)
        strides = node.attr("strides", [1] * n)
        dilations = node.attr("dilations", [1] * n)
        pads = conv_pads(node, list(data.shape[2:]), k, strides, dilations)
        if pads[:n] == pads[n:] and all(p <= kk // 2 for p, kk in zip(pads[:n], k)):
            padding = pads[:n]
        else:
            data = F.pad(data, [p for i in reversed(range(n)) for p in (pads[i], pads[i + n])], value=-math.inf)
            padding = [0] * n
        pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
        return pool(data, k, strides, padding, dilations, ceil_mode=bool(node.attr("ceil_mode", 0)))

    def op_GlobalAveragePool(self, node, x, opset):
        return x[0].mean(dim=list(range(2, x[0].dim())), keepdim=True)

    def op_AveragePool(self, node, x, opset):
        k = node.attr("kernel_shape")
        if len(k) != 2:
            raise NotImplementedError("AveragePool over %d dimensions" % len(k))
        pads = conv_pads(node, list(x[0].shape[2:]), k, node.attr("strides", [1, 1]), [1, 1])
        if pads[:2] != pads[2:]:
            raise NotImplementedError("AveragePool with asymmetric pads")
        return self.F.avg_pool2d(x[0], k, node.attr("strides", [1, 1]), pads[:2],
                                 ceil_mode=bool(node.attr("ceil_mode", 0)),
                                 count_include_pad=bool(node.attr("count_include_pad", 0)))

    # -- activations and arithmetic
    def op_Relu(self, node, x, opset):
        return self.F.relu(x[0])

    def op_LeakyRelu(self, node, x, opset):
        return self.F.leaky_relu(x[0], node.attr("alpha", 0.01))

    def op_Sigmoid(self, node, x, opset):
        return self.torch.sigmoid(x[0])

    def op_HardSigmoid(self, node, x, opset):
        return self.torch.clamp(x[0] * node.attr("alpha", 0.2) + node.attr("beta", 0.5), 0, 1)

    def op_HardSwish(self, node, x, opset):
        return self.F.hardswish(x[0])

    def op_Tanh(self, node, x, opset):
        return self.torch.tanh(x[0])

    def op_Exp(self, node, x, opset):
        return self.torch.exp(x[0])

    def op_Sqrt(self, node, x, opset):
        return self.torch.sqrt(x[0])

    def op_Neg(self, node, x, opset):
        return -x[0]

    def op_Pow(self, node, x, opset):
        return self.torch.pow(x[0], x[1])

    def op_Clip(self, node, x, opset):
        lo = scalar(x[1]) if len(x) > 1 and x[1] is not None else node.attr("min")
        hi = scalar(x[2]) if len(x) > 2 and x[2] is not None else node.attr("max")
        return self.torch.clamp(x[0], lo, hi)

    def _binary(self, a, b, fn):
        # Keep the float tensor's dtype and device when the other is a small constant.
        t = self.torch
        if isinstance(a, t.Tensor) and isinstance(b, t.Tensor) and a.is_floating_point() != b.is_floating_point():
            if a.is_floating_point():
                b = b.to(a.dtype)
            else:
                a = a.to(b.dtype)
        return fn(a, b)

    def op_Add(self, node, x, opset):
        return self._binary(x[0], x[1], lambda a, b: a + b)

    def op_Sub(self, node, x, opset):
        return self._binary(x[0], x[1], lambda a, b: a - b)

    def op_Mul(self, node, x, opset):
        return self._binary(x[0], x[1], lambda a, b: a * b)

    def op_Div(self, node, x, opset):
        if not x[0].is_floating_point() and not x[1].is_floating_point():
            return self.torch.div(x[0], x[1], rounding_mode="trunc")
        return self._binary(x[0], x[1], lambda a, b: a / b)

    def op_MatMul(self, node, x, opset):
        return self.torch.matmul(x[0], x[1])

    def op_Gemm(self, node, x, opset):
        a = x[0].transpose(0, 1) if node.attr("transA", 0) else x[0]
        b = x[1].transpose(0, 1) if node.attr("transB", 0) else x[1]
        y = node.attr("alpha", 1.0) * self.torch.matmul(a, b)
        if len(x) > 2 and x[2] is not None:
            y = y + node.attr("beta", 1.0) * x[2]
        return y

    def op_Softmax(self, node, x, opset):
        axis = node.attr("axis", -1 if opset >= 13 else 1)
        if opset >= 13:
            return self.torch.softmax(x[0], dim=axis)
        shape = x[0].shape  # before 13: flattened to 2-D at axis
        axis = axis + len(shape) if axis < 0 else axis
        flat = x[0].reshape(math.prod(shape[:axis]), -1)
        return self.torch.softmax(flat, dim=1).reshape(shape)

    # -- layout
    def op_Concat(self, node, x, opset):
        return self.torch.cat([v for v in x if v is not None], dim=node.attr("axis"))

    def op_Split(self, node, x, opset):
        axis = node.attr("axis", 0)
        split = as_ints(x[1]) if len(x) > 1 and x[1] is not None else node.attr("split")
        if not split:
            parts = len(node.outputs)
            size = x[0].shape[axis]
            chunk = -(-size // parts)
            split = [min(chunk, size - i * chunk) for i in range(parts)]
        return list(self.torch.split(x[0], list(split), dim=axis))

    def op_Slice(self, node, x, opset):
        if opset < 10:
            starts, ends, axes, steps = node.attr("starts"), node.attr("ends"), node.attr("axes"), None
        else:
            starts, ends = as_ints(x[1]), as_ints(x[2])
            axes = as_ints(x[3]) if len(x) > 3 and x[3] is not None else None
            steps = as_ints(x[4]) if len(x) > 4 and x[4] is not None else None
        params = slice_params(x[0].dim(), list(x[0].shape), starts, ends, axes, steps)
        return x[0][tuple(slice(s, e, st) for s, e, st in params)]

    def op_Transpose(self, node, x, opset):
        perm = node.attr("perm", list(reversed(range(x[0].dim()))))
        return x[0].permute(*perm)

    def op_Reshape(self, node, x, opset):
        return x[0].reshape(reshape_target(list(x[0].shape), as_ints(x[1]), node.attr("allowzero", 0)))

    def op_Flatten(self, node, x, opset):
        axis = node.attr("axis", 1)
        axis = axis + x[0].dim() if axis < 0 else axis
        return x[0].reshape(math.prod(x[0].shape[:axis]), -1)

    def op_Unsqueeze(self, node, x, opset):
        axes = as_ints(x[1]) if opset >= 13 else node.attr("axes")
        y = x[0]
        rank = y.dim() + len(axes)
        for a in sorted(a + rank if a < 0 else a for a in axes):
            y = y.unsqueeze(a)
        return y

    def op_Squeeze(self, node, x, opset):
        axes = (as_ints(x[1]) if len(x) > 1 and x[1] is not None else None) if opset >= 13 else node.attr("axes")
        if axes is None:
            return x[0].squeeze()
        y = x[0]
        for a in sorted((a + y.dim() if a < 0 else a for a in axes), reverse=True):
            y = y.squeeze(a)
        return y

    def op_Gather(self, node, x, opset):
        axis = node.attr("axis", 0)
        data, idx = x[0], x[1].to(self.torch.int64)
        axis = axis + data.dim() if axis < 0 else axis
        idx = self.torch.where(idx < 0, idx + data.shape[axis], idx).to(data.device)
        picked = data.index_select(axis, idx.reshape(-1))
        return picked.reshape(list(data.shape[:axis]) + list(idx.shape) + list(data.shape[axis + 1:]))

    def op_Resize(self, node, x, opset):
        data = x[0]
        if opset < 11:
            scales, sizes = as_floats(x[1]), None
        else:
            scales = as_floats(x[2]) if len(x) > 2 and count(x[2]) else None
            sizes = as_ints(x[3]) if len(x) > 3 and count(x[3]) else None
        kind, out, _ = resize_plan(node, list(data.shape), scales, sizes, opset)
        if kind == "linear":
            mode = {3: "linear", 4: "bilinear", 5: "trilinear"}[data.dim()]
            return self.F.interpolate(data, size=out[2:], mode=mode, align_corners=False)
        return self.F.interpolate(data, size=out[2:], mode="nearest")

    def op_Upsample(self, node, x, opset):
        return self.op_Resize(node, [x[0], x[1]], 9)

    def op_Expand(self, node, x, opset):
        shape = as_ints(x[1])
        rank = max(len(shape), x[0].dim())
        have = [1] * (rank - x[0].dim()) + list(x[0].shape)
        want = [1] * (rank - len(shape)) + shape
        target = [h if w == 1 else w for h, w in zip(have, want)]
        return x[0].reshape(have).expand(target)

    # -- shape arithmetic and constants (small CPU tensors)
    def op_Shape(self, node, x, opset):
        return self.torch.tensor(list(x[0].shape), dtype=self.torch.int64)

    def op_Constant(self, node, x, opset):
        t = self.torch
        if "value" in node.attrs:
            return node.attrs["value"].to_torch(t)
        if "value_float" in node.attrs:
            return t.tensor(node.attrs["value_float"], dtype=t.float32)
        if "value_floats" in node.attrs:
            return t.tensor(node.attrs["value_floats"], dtype=t.float32)
        if "value_int" in node.attrs:
            return t.tensor(node.attrs["value_int"], dtype=t.int64)
        if "value_ints" in node.attrs:
            return t.tensor(node.attrs["value_ints"], dtype=t.int64)
        raise NotImplementedError("Constant without a value this interpreter reads")

    def op_ConstantOfShape(self, node, x, opset):
        value = node.attrs["value"].to_torch(self.torch) if "value" in node.attrs else self.torch.zeros(1)
        return value.reshape(-1)[0].expand(as_ints(x[0])).clone()

    def op_Range(self, node, x, opset):
        start, limit, delta = (scalar(v) for v in x[:3])
        return self.torch.arange(start, limit, delta)

    def op_Cast(self, node, x, opset):
        to = node.attr("to")
        if to not in DTYPES:
            raise NotImplementedError("Cast to ONNX type %d" % to)
        return x[0].to(getattr(self.torch, DTYPES[to][1]))

    def op_Identity(self, node, x, opset):
        return x[0]


class NumpyOps:
    """The reference: the same operators in plain numpy, FP32 (float64 accumulation in convolutions)."""

    def __init__(self, np):
        self.np = np

    def run(self, node, inputs, opset):
        fn = getattr(self, "op_" + node.op, None)
        if fn is None:
            raise NotImplementedError("ONNX operator %s (node %s) is not in the numpy reference" % (node.op, node.name))
        out = fn(node, inputs, opset)
        return out if isinstance(out, list) else [out]

    def _windows(self, data, k, strides, dilations, pads, fill):
        np = self.np
        n = len(k)
        pad_width = [(0, 0), (0, 0)] + [(pads[i], pads[i + n]) for i in range(n)]
        data = np.pad(data, pad_width, constant_values=fill)
        span = [(kk - 1) * d + 1 for kk, d in zip(k, dilations)]
        w = np.lib.stride_tricks.sliding_window_view(data, span, axis=tuple(range(2, 2 + n)))
        index = [slice(None), slice(None)] + [slice(None, None, s) for s in strides] + [slice(None, None, d) for d in dilations]
        return w[tuple(index)]  # N, C, out..., k...

    def op_Conv(self, node, x, opset):
        np = self.np
        data, weight = x[0].astype(np.float32), x[1].astype(np.float32)
        k = list(weight.shape[2:])
        if len(k) != 2:
            raise NotImplementedError("numpy Conv over %d dimensions" % len(k))
        strides = node.attr("strides", [1, 1])
        dilations = node.attr("dilations", [1, 1])
        pads = conv_pads(node, list(data.shape[2:]), k, strides, dilations)
        groups = node.attr("group", 1)
        w = self._windows(data, k, strides, dilations, pads, 0)  # N C Ho Wo kh kw
        nb, c, ho, wo = w.shape[:4]
        m = weight.shape[0]
        w = w.reshape(nb, groups, c // groups, ho, wo, k[0], k[1])
        wt = weight.reshape(groups, m // groups, c // groups, k[0], k[1])
        out = np.einsum("ngchwij,gmcij->ngmhw", w, wt, optimize=True).reshape(nb, m, ho, wo)
        if len(x) > 2 and x[2] is not None:
            out = out + x[2].reshape(1, -1, 1, 1)
        return out.astype(np.float32)

    def op_MaxPool(self, node, x, opset):
        k = node.attr("kernel_shape")
        n = len(k)
        strides = node.attr("strides", [1] * n)
        dilations = node.attr("dilations", [1] * n)
        if node.attr("ceil_mode", 0):
            raise NotImplementedError("numpy MaxPool with ceil_mode")
        pads = conv_pads(node, list(x[0].shape[2:]), k, strides, dilations)
        w = self._windows(x[0], k, strides, dilations, pads, -self.np.inf)
        return w.max(axis=tuple(range(-n, 0)))

    def op_GlobalAveragePool(self, node, x, opset):
        return x[0].mean(axis=tuple(range(2, x[0].ndim)), keepdims=True)

    def op_Relu(self, node, x, opset):
        return self.np.maximum(x[0], 0)

    def op_LeakyRelu(self, node, x, opset):
        return self.np.where(x[0] >= 0, x[0], x[0] * self.np.float32(node.attr("alpha", 0.01)))

    def op_Sigmoid(self, node, x, opset):
        return (1 / (1 + self.np.exp(-x[0].astype(self.np.float64)))).astype(self.np.float32)

    def op_HardSigmoid(self, node, x, opset):
        return self.np.clip(x[0] * node.attr("alpha", 0.2) + node.attr("beta", 0.5), 0, 1).astype(self.np.float32)

    def op_HardSwish(self, node, x, opset):
        return (x[0] * self.np.clip(x[0] / 6 + 0.5, 0, 1)).astype(self.np.float32)

    def op_Tanh(self, node, x, opset):
        return self.np.tanh(x[0])

    def op_Exp(self, node, x, opset):
        return self.np.exp(x[0])

    def op_Sqrt(self, node, x, opset):
        return self.np.sqrt(x[0])

    def op_Neg(self, node, x, opset):
        return -x[0]

    def op_Pow(self, node, x, opset):
        return self.np.power(x[0], x[1]).astype(x[0].dtype)

    def op_Clip(self, node, x, opset):
        lo = x[1] if len(x) > 1 and x[1] is not None else node.attr("min", -self.np.inf)
        hi = x[2] if len(x) > 2 and x[2] is not None else node.attr("max", self.np.inf)
        return self.np.clip(x[0], lo, hi)

    def _cast_like(self, a, b):
        np = self.np
        if np.issubdtype(a.dtype, np.floating) != np.issubdtype(b.dtype, np.floating):
            return (a, b.astype(a.dtype)) if np.issubdtype(a.dtype, np.floating) else (a.astype(b.dtype), b)
        return a, b

    def op_Add(self, node, x, opset):
        a, b = self._cast_like(x[0], x[1])
        return a + b

    def op_Sub(self, node, x, opset):
        a, b = self._cast_like(x[0], x[1])
        return a - b

    def op_Mul(self, node, x, opset):
        a, b = self._cast_like(x[0], x[1])
        return a * b

    def op_Div(self, node, x, opset):
        a, b = self._cast_like(x[0], x[1])
        if self.np.issubdtype(a.dtype, self.np.integer):
            return (a / b).astype(a.dtype)  # truncation toward zero
        return a / b

    def op_MatMul(self, node, x, opset):
        return self.np.matmul(x[0], x[1])

    def op_Gemm(self, node, x, opset):
        a = x[0].T if node.attr("transA", 0) else x[0]
        b = x[1].T if node.attr("transB", 0) else x[1]
        y = node.attr("alpha", 1.0) * (a @ b)
        if len(x) > 2 and x[2] is not None:
            y = y + node.attr("beta", 1.0) * x[2]
        return y.astype(self.np.float32)

    def op_Softmax(self, node, x, opset):
        np = self.np
        axis = node.attr("axis", -1 if opset >= 13 else 1)
        data = x[0]
        if opset < 13:
            axis = axis + data.ndim if axis < 0 else axis
            flat = data.reshape(math.prod(data.shape[:axis]), -1)
            e = np.exp(flat - flat.max(axis=1, keepdims=True))
            return (e / e.sum(axis=1, keepdims=True)).reshape(data.shape)
        e = np.exp(data - data.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def op_Concat(self, node, x, opset):
        return self.np.concatenate([v for v in x if v is not None], axis=node.attr("axis"))

    def op_Split(self, node, x, opset):
        axis = node.attr("axis", 0)
        split = as_ints(x[1]) if len(x) > 1 and x[1] is not None else node.attr("split")
        if not split:
            parts = len(node.outputs)
            size = x[0].shape[axis]
            chunk = -(-size // parts)
            split = [min(chunk, size - i * chunk) for i in range(parts)]
        return self.np.split(x[0], list(self.np.cumsum(split)[:-1]), axis=axis)

    def op_Slice(self, node, x, opset):
        if opset < 10:
            starts, ends, axes, steps = node.attr("starts"), node.attr("ends"), node.attr("axes"), None
        else:
            starts, ends = as_ints(x[1]), as_ints(x[2])
            axes = as_ints(x[3]) if len(x) > 3 and x[3] is not None else None
            steps = as_ints(x[4]) if len(x) > 4 and x[4] is not None else None
        params = slice_params(x[0].ndim, list(x[0].shape), starts, ends, axes, steps)
        return x[0][tuple(slice(s, e, st) for s, e, st in params)]

    def op_Transpose(self, node, x, opset):
        return self.np.transpose(x[0], node.attr("perm", list(reversed(range(x[0].ndim)))))

    def op_Reshape(self, node, x, opset):
        return x[0].reshape(reshape_target(list(x[0].shape), as_ints(x[1]), node.attr("allowzero", 0)))

    def op_Flatten(self, node, x, opset):
        axis = node.attr("axis", 1)
        axis = axis + x[0].ndim if axis < 0 else axis
        return x[0].reshape(math.prod(x[0].shape[:axis]), -1)

    def op_Unsqueeze(self, node, x, opset):
        axes = as_ints(x[1]) if opset >= 13 else node.attr("axes")
        y = x[0]
        rank = y.ndim + len(axes)
        for a in sorted(a + rank if a < 0 else a for a in axes):
            y = self.np.expand_dims(y, a)
        return y

    def op_Squeeze(self, node, x, opset):
        axes = (as_ints(x[1]) if len(x) > 1 and x[1] is not None else None) if opset >= 13 else node.attr("axes")
        return self.np.squeeze(x[0], axis=None if axes is None else tuple(axes))

    def op_Gather(self, node, x, opset):
        return self.np.take(x[0], x[1].astype(self.np.int64), axis=node.attr("axis", 0))

    def op_Resize(self, node, x, opset):
        np = self.np
        data = x[0]
        if opset < 11:
            scales, sizes = as_floats(x[1]), None
        else:
            scales = as_floats(x[2]) if len(x) > 2 and count(x[2]) else None
            sizes = as_ints(x[3]) if len(x) > 3 and count(x[3]) else None
        kind, out, scales = resize_plan(node, list(data.shape), scales, sizes, opset)
        y = data.astype(np.float64)
        for axis in range(2, data.ndim):
            size_in, size_out = data.shape[axis], out[axis]
            # PyTorch (align_corners=False) maps with in/out, as ONNX does with the scale it derives.
            scale = size_out / size_in
            o = np.arange(size_out, dtype=np.float64)
            if kind == "nearest":
                idx = np.minimum(np.floor(o / scale).astype(np.int64), size_in - 1)
                y = np.take(y, idx, axis=axis)
                continue
            src = np.maximum((o + 0.5) / scale - 0.5, 0)
            i0 = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
            i1 = np.minimum(i0 + 1, size_in - 1)
            frac = (src - i0).reshape([-1 if a == axis else 1 for a in range(data.ndim)])
            y = np.take(y, i0, axis=axis) * (1 - frac) + np.take(y, i1, axis=axis) * frac
        return y.astype(data.dtype)

    def op_Upsample(self, node, x, opset):
        return self.op_Resize(node, [x[0], x[1]], 9)

    def op_Expand(self, node, x, opset):
        shape = as_ints(x[1])
        return x[0] * self.np.ones(shape, dtype=x[0].dtype)

    def op_Shape(self, node, x, opset):
        return self.np.array(x[0].shape, dtype=self.np.int64)

    def op_Constant(self, node, x, opset):
        np = self.np
        if "value" in node.attrs:
            return node.attrs["value"].to_numpy(np)
        for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                           ("value_int", np.int64), ("value_ints", np.int64)):
            if key in node.attrs:
                return np.array(node.attrs[key], dtype=dtype)
        raise NotImplementedError("Constant without a value this interpreter reads")

    def op_ConstantOfShape(self, node, x, opset):
        value = node.attrs["value"].to_numpy(self.np).reshape(-1)[0] if "value" in node.attrs else self.np.float32(0)
        return self.np.full(as_ints(x[0]), value)

    def op_Range(self, node, x, opset):
        return self.np.arange(x[0].item(), x[1].item(), x[2].item()).astype(x[0].dtype)

    def op_Cast(self, node, x, opset):
        return x[0].astype(DTYPES[node.attr("to")][2])

    def op_Identity(self, node, x, opset):
        return x[0]


def execute(graph, ops, feeds, constants, nodes=None):
    """Runs the nodes (default: all of the graph's) in order; returns the graph's outputs in order."""
    nodes = graph.nodes if nodes is None else nodes
    values = dict(constants)
    values.update(feeds)
    last_use = {}
    for i, node in enumerate(nodes):
        for name in node.inputs:
            last_use[name] = i
    keep = {name for name, _ in graph.outputs}
    for i, node in enumerate(nodes):
        args = [values[name] if name else None for name in node.inputs]
        for name, value in zip(node.outputs, ops.run(node, args, graph.opset)):
            if name:
                values[name] = value
        for name in node.inputs:  # free intermediates as soon as they are used up
            if last_use.get(name) == i and name not in keep and name not in constants:
                values.pop(name, None)
    return [values[name] for name, _ in graph.outputs]


def make_torch_module(graph, torch, device, half, channels_last):
    """An nn.Module running the graph. Nodes whose inputs are all constant are
    computed once here (on the CPU, FP32); then shape-like constants become
    Python lists, the other float ones go to the device (FP16 when half, 4-D
    ones channels_last), integer ones stay on the CPU."""
    ops = TorchOps(torch)
    constants = {name: tensor.to_torch(torch) for name, tensor in graph.initializers.items()}
    runtime = []
    for node in graph.nodes:
        if node.op != "Shape" and all(not name or name in constants for name in node.inputs):
            for name, value in zip(node.outputs, ops.run(node, [constants[n] if n else None for n in node.inputs],
                                                         graph.opset)):
                constants[name] = value
        else:
            runtime.append(node)
    as_list = {node.inputs[i] for node in runtime for i in SHAPE_ARGS.get(node.op, ()) if i < len(node.inputs)}
    for name, value in list(constants.items()):
        if name in as_list:
            constants[name] = value.tolist()
        elif value.is_floating_point():
            value = value.to(device=device, dtype=torch.float16 if half else torch.float32)
            if channels_last and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
            constants[name] = value
    input_name = graph.inputs[0][0]

    class OnnxGraph(torch.nn.Module):
        def forward(self, x):
            return execute(graph, ops, {input_name: x}, constants, runtime)

    module = OnnxGraph()
    module.folded = len(graph.nodes) - len(runtime)
    return module


# ---------------------------------------------------------------------------
# Config, frames and pre-processing
# ---------------------------------------------------------------------------

def model_cache_dir():
    if os.environ.get("SLIPSTREAM_CACHE"):
        return os.path.join(os.environ["SLIPSTREAM_CACHE"], "models")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "slipstream", "models")


def load_config(path):
    ini = configparser.ConfigParser(inline_comment_prefixes=None, interpolation=None, strict=False)
    ini.optionxform = str
    if not ini.read(path):
        raise SystemExit("torch_peer: %s: cannot read the config" % path)
    prop = ini["property"]
    folder = os.path.dirname(os.path.abspath(path))
    onnx = prop["onnx-file"]
    model = onnx if os.path.isabs(onnx) else os.path.join(folder, onnx)
    if not os.path.exists(model):
        model = os.path.join(model_cache_dir(), onnx)
    channels, h, w = (int(v) for v in prop["infer-dims"].split(";"))
    return {
        "model": model, "width": w, "height": h, "channels": channels,
        "scale": float(prop.get("net-scale-factor", "1")),
        "offsets": [float(v) for v in prop.get("offsets", "0;0;0").split(";") if v.strip()] or [0, 0, 0],
        "rgb": prop.get("model-color-format", "0") == "0",
        "nchw": prop.get("network-input-order", "0") == "0",
        "letterbox": prop.get("maintain-aspect-ratio", "0") == "1",
    }


def read_raw_frames(path, size, limit):
    """Raw BGR frames (bench/detector/raw_frames.hpp) -> list of bytes objects, (w, h)."""
    if not size:
        m = re.findall(r"(\d{1,5})x(\d{1,5})", os.path.basename(path))
        if not m:
            raise SystemExit("torch_peer: %s: frame size unknown (--frame-size WxH or name it ...-WxH.bgr)" % path)
        size = m[-1]
    w, h = int(size[0]), int(size[1])
    stride = (w * 3 + 3) & ~3
    frame_bytes = stride * h
    total = os.path.getsize(path)
    if total == 0 or total % frame_bytes:
        raise SystemExit("torch_peer: %s: %d bytes is not a whole number of %dx%d BGR frames" % (path, total, w, h))
    frames = []
    with open(path, "rb") as f:
        for _ in range(min(limit, total // frame_bytes)):
            frames.append(f.read(frame_bytes))
    return frames, (w, h), stride


def read_video_frames(path, limit, step=20):
    try:
        import cv2
    except ImportError:
        raise SystemExit("torch_peer: no OpenCV (cv2) to read %s: give raw frames with --frames" % path)
    capture = cv2.VideoCapture(path)
    frames, i = [], 0
    while len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        if i % step == 0:
            frames.append(frame)
        i += 1
    if not frames:
        raise SystemExit("torch_peer: %s: no frames" % path)
    h, w = frames[0].shape[:2]
    return [f.tobytes() for f in frames], (w, h), w * 3


def preprocess(torch, frames, size, stride, cfg):
    """float32 [N, C, H, W] (or NHWC) on the CPU: colour order, stretched (or
    letterboxed) bilinear resize, y = scale * (x - offset)."""
    w, h = size
    batch = []
    for raw in frames:
        img = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(h, stride)[:, :w * 3].reshape(h, w, 3)
        if cfg["rgb"]:
            img = img.flip(2)
        img = img.permute(2, 0, 1).unsqueeze(0).float()
        out_w, out_h = cfg["width"], cfg["height"]
        if cfg["letterbox"]:
            s = min(out_w / w, out_h / h)
            rw, rh = max(1, round(w * s)), max(1, round(h * s))
            canvas = torch.zeros(1, 3, out_h, out_w)
            canvas[:, :, :rh, :rw] = torch.nn.functional.interpolate(img, size=(rh, rw), mode="bilinear", align_corners=False)
            img = canvas
        else:
            img = torch.nn.functional.interpolate(img, size=(out_h, out_w), mode="bilinear", align_corners=False)
        offsets = torch.tensor(cfg["offsets"][:3], dtype=torch.float32).reshape(1, 3, 1, 1)
        img = cfg["scale"] * (img.round().clamp(0, 255) - offsets)
        batch.append(img)
    x = torch.cat(batch)
    return x if cfg["nchw"] else x.permute(0, 2, 3, 1).contiguous()


# ---------------------------------------------------------------------------
# Self-check and timing
# ---------------------------------------------------------------------------

def declared_shape_ok(declared, actual, batch):
    if declared is None:
        return True
    if len(declared) != len(actual):
        return False
    for i, (d, a) in enumerate(zip(declared, actual)):
        if isinstance(d, int) and d > 0 and d != a:
            return False
        if i == 0 and not isinstance(d, int) and a != batch:
            return False
    return True


def reference_outputs(graph, x_numpy):
    """(name of the reference, outputs) from onnxruntime, else the numpy interpreter."""
    try:
        import onnxruntime
        session = onnxruntime.InferenceSession(graph.path, providers=["CPUExecutionProvider"])
        return "onnxruntime " + onnxruntime.__version__, session.run(None, {graph.inputs[0][0]: x_numpy})
    except ImportError:
        pass
    import numpy as np
    constants = {name: t.to_numpy(np) for name, t in graph.initializers.items()}
    return "numpy reference", execute(graph, NumpyOps(np), {graph.inputs[0][0]: x_numpy}, constants)


def self_check(torch, graph, x, device, log):
    """Returns (ok, summary dict)."""
    batch = x.shape[0]
    summary = {"batch": batch, "outputs": []}
    ok = True
    was_tf32 = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            fp32 = [o.float().cpu() for o in make_torch_module(graph, torch, device, False, False)(x.to(device))]
            fp16 = None
            if device.type == "cuda":
                m16 = make_torch_module(graph, torch, device, True, True)
                x16 = x.to(device).half().contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x.to(device).half()
                fp16 = [o.float().cpu() for o in m16(x16)]
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = was_tf32
    for (name, declared), out in zip(graph.outputs, fp32):
        good = declared_shape_ok(declared, list(out.shape), batch)
        ok = ok and good
        summary["outputs"].append({"name": name, "shape": list(out.shape), "declared": declared, "shape_ok": good})
        log("check: %s shape %s, graph says %s: %s" % (name, list(out.shape), declared, "ok" if good else "MISMATCH"))
    try:
        import numpy as np  # noqa: F401
    except ImportError:
        summary["reference"] = "none (no numpy): shapes only"
        log("check: no numpy, outputs' shapes checked only")
        return ok, summary
    what, ref = reference_outputs(graph, x.numpy())
    summary["reference"] = what
    for precision, outs, tol in (("fp32", fp32, FP32_TOL), ("fp16", fp16, FP16_TOL)):
        if outs is None:
            continue
        for entry, r, o in zip(summary["outputs"], ref, outs):
            r = np.asarray(r, dtype=np.float32)
            o = o.numpy()
            if r.shape != o.shape:
                ok = False
                log("check: %s %s: shape %s, %s says %s" % (precision, entry["name"], o.shape, what, r.shape))
                continue
            diff = float(np.abs(r - o).max())
            scale = max(float(r.max() - r.min()), 1.0)
            good = diff <= tol * scale
            ok = ok and good
            entry[precision + "_max_abs_diff"] = diff
            entry[precision + "_ok"] = good
            log("check: %s %-8s max |diff| %.3g vs %s (allowed %.3g): %s" % (precision, entry["name"], diff, what,
                                                                          tol * scale, "ok" if good else "FAIL"))
    return ok, summary


def time_points(torch, graph, args, cfg, frames, size, stride, device, precision, results, save):
    """Appends one result per batch size to results, in bench-detector's JSON
    keys, and calls save() after each (a run cut short keeps what it measured)."""
    half = precision == "fp16"
    module = make_torch_module(graph, torch, device, half, True)
    if args.compile:
        module = torch.compile(module)
    dtype = torch.float16 if half else torch.float32
    for batch in args.batch_sizes:
        picked = [frames[i % len(frames)] for i in range(batch)]
        host = preprocess(torch, picked, size, stride, cfg)
        row = {"precision": precision, "batch": batch, "ok": False}
        try:
            def forward_host():
                x = host.to(device).to(dtype)
                if x.dim() == 4:
                    x = x.contiguous(memory_format=torch.channels_last)
                return [o.float().cpu() for o in module(x)]

            gpu_in = host.to(device).to(dtype)
            if gpu_in.dim() == 4:
                gpu_in = gpu_in.contiguous(memory_format=torch.channels_last)

            def forward_device():
                out = module(gpu_in)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                return out

            with torch.no_grad():
                start = time.monotonic()
                for _ in range(args.warmup):
                    forward_host()
                warm_s = time.monotonic() - start
                ms = []
                start = time.monotonic()
                while len(ms) < 2 or time.monotonic() - start < args.seconds:
                    t = time.perf_counter()
                    forward_host()
                    ms.append((time.perf_counter() - t) * 1000)
                dev_ms, start = [], time.monotonic()
                while len(dev_ms) < 2 or time.monotonic() - start < args.seconds / 2:
                    t = time.perf_counter()
                    forward_device()
                    dev_ms.append((time.perf_counter() - t) * 1000)
            ms_sorted = sorted(ms)
            row.update({
                "ok": True,
                "forward_images_per_s": round(1000.0 * batch * len(ms) / sum(ms), 2),
                "forward_ms_median": round(ms_sorted[len(ms) // 2] if len(ms) % 2 else
                                           (ms_sorted[len(ms) // 2 - 1] + ms_sorted[len(ms) // 2]) / 2, 3),
                "forward_ms_p90": round(ms_sorted[min(len(ms) - 1, int(0.9 * (len(ms) - 1) + 0.5))], 3),
                "forward_runs": len(ms),
                "device_images_per_s": round(1000.0 * batch * len(dev_ms) / sum(dev_ms), 2),
                "warmup_s": round(warm_s, 2),
            })
        except Exception as e:  # noqa: BLE001 -- e.g. out of memory at a large batch: report, go on
            row["error"] = ("%s: %s" % (type(e).__name__, e)).splitlines()[0][:300]
            if device.type == "cuda":
                torch.cuda.empty_cache()
        results.append(row)
        print_row(row)
        save()


def print_header():
    print("%9s %6s %12s %9s %9s %13s %10s %8s" % ("precision", "batch", "fwd img/s", "fwd ms", "fwd p90",
                                                  "detect img/s", "detect ms", "objects"))


def print_row(r):
    if not r["ok"]:
        print("%9s %6d   failed: %s" % (r["precision"], r["batch"], r.get("error", "")), flush=True)
        return
    print("%9s %6d %12.1f %9.2f %9.2f %13s %10s %8s" % (r["precision"], r["batch"], r["forward_images_per_s"],
                                                        r["forward_ms_median"], r["forward_ms_p90"], "-", "-", "-"))
    print("%16s note: GPU-resident input and outputs: %.1f img/s (warm-up %.1f s)"
          % ("", r["device_images_per_s"], r["warmup_s"]), flush=True)


def int_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("a list of numbers: %s" % text)
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("positive numbers: %s" % text)
    return values


def main():
    p = argparse.ArgumentParser(description="PyTorch peer of bench-detector --backend (a baseline, not part of slipstream)")
    p.add_argument("--config", default=DEFAULT_CONFIG)
    p.add_argument("--model", help="ONNX file (default: the config's)")
    p.add_argument("--frames", help="raw BGR frames (bench/detector/write_frames.sh)")
    p.add_argument("--frame-size", help="WxH of --frames (default: from the file name)")
    p.add_argument("--video", default=VTEST, help="read with cv2 where --frames is not given")
    p.add_argument("--batch-sizes", type=int_list, default=[1, 8, 32, 64, 128])
    p.add_argument("--precision", default="fp16", help="fp16, fp32 or both (comma-separated)")
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per point")
    p.add_argument("--warmup", type=int, default=3, help="warm-up forwards per point (torch.compile compiles here)")
    p.add_argument("--compile", action="store_true", help="torch.compile the interpreter (default mode)")
    p.add_argument("--gpu", type=int, default=0)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: for testing the interpreter only")
    p.add_argument("--check", action="store_true", help="the self-check alone")
    p.add_argument("--no-check", action="store_true", help="skip the self-check")
    p.add_argument("--check-batch", type=int, default=2)
    p.add_argument("--json")
    args = p.parse_args()
    precisions = [v for v in args.precision.split(",") if v]
    if not precisions or any(v not in ("fp16", "fp32") for v in precisions):
        p.error("--precision takes fp16, fp32 or both")

    def skipped(reason):
        print("skipped: PyTorch not available (%s)" % reason)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"tool": "torch_peer", "skipped": reason}, f, indent=2)
        return 0

    try:
        import torch
    except ImportError as e:
        return skipped(str(e))
    if args.device == "cuda" and not torch.cuda.is_available():
        return skipped("torch %s sees no CUDA GPU" % torch.__version__)
    device = torch.device("cuda", args.gpu) if args.device == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    cfg = load_config(args.config)
    model = args.model or cfg["model"]
    graph = Graph(model)
    most = max(args.batch_sizes + [args.check_batch])
    if args.frames:
        size = tuple(args.frame_size.split("x")) if args.frame_size else None
        frames, size, stride = read_raw_frames(args.frames, size, min(most, 128))
        source = args.frames
    else:
        frames, size, stride = read_video_frames(args.video, min(most, 32))
        source = args.video

    report = {"tool": "torch_peer", "backend": "torch-compile" if args.compile else "torch-eager",
              "torch": torch.__version__, "device": str(device),
              "gpu_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
              "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
              "model": model, "opset": graph.opset, "input": [cfg["width"], cfg["height"]], "frames": source,
              "distinct_frames": len(frames), "frame_size": list(size), "seconds_per_point": args.seconds,
              "warmup": args.warmup, "channels_last": True, "cudnn_benchmark": device.type == "cuda",
              "note": "forward = host float32 in -> GPU -> float32 outputs on the host, as InferenceBackend::forward",
              "results": []}
    def save():
        if args.json:
            with open(args.json + ".part", "w") as f:
                json.dump(report, f, indent=2)
            os.replace(args.json + ".part", args.json)

    status = 0
    if not args.no_check:
        picked = [frames[i % len(frames)] for i in range(args.check_batch)]
        ok, summary = self_check(torch, graph, preprocess(torch, picked, size, stride, cfg), device, log)
        report["check"] = dict(summary, ok=ok)
        print("self-check (%s, batch %d): %s" % (summary.get("reference"), args.check_batch, "ok" if ok else "FAILED"))
        status = 0 if ok else 3
    if not args.check:
        print("%s (torch %s) on %s, model %s at %dx%d, %d frames of %s (%dx%d), %.1f s per point after %d warm-up runs"
              % (report["backend"], torch.__version__, report["gpu_name"] or "cpu", os.path.basename(model),
                 cfg["width"], cfg["height"], len(frames), os.path.basename(source), size[0], size[1],
                 args.seconds, args.warmup))
        print_header()
        save()
        for precision in precisions:
            time_points(torch, graph, args, cfg, frames, size, stride, device, precision, report["results"], save)
        if not all(r["ok"] for r in report["results"]):
            status = status or 1
    save()
    return status


if __name__ == "__main__":
    sys.exit(main())
