#!/usr/bin/python3
"""Writes the tiny ONNX models of the engine tests and their expected outputs.

usage: make_engine_models.py OUTPUT_DIR

For every case in CASES: <case>.onnx, and per batch B listed for it
<case>.b<B>.input.f32 (NCHW float32, seeded random) and <case>.b<B>.out<i>.f32
(the graph's outputs in model order, float32, row major), computed here by a
small numpy evaluator of the ONNX ops (independent of the C++ planner and its
layouts). manifest.txt lists "case batch outputs" per line.
For every model in BROKEN: <name>.onnx (or raw bytes) that the importer or the
planner must refuse; the C++ tests check the messages.
"""

import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = 2**63 - 1


# --- a numpy evaluator of the supported ops -----------------------------------
def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def conv_pads(in_hw, kernel, strides, dilations, auto_pad, pads, ceil_mode=False):
    """-> (out_hw, begin pads, end pads) by the ONNX rules."""
    out, begins, ends = [], [], []
    for a in range(2):
        extent = (kernel[a] - 1) * dilations[a] + 1
        if auto_pad in ('SAME_UPPER', 'SAME_LOWER'):
            size = -(-in_hw[a] // strides[a])
            total = max((size - 1) * strides[a] + extent - in_hw[a], 0)
            b = total // 2 if auto_pad == 'SAME_UPPER' else total - total // 2
            e = total - b
        else:
            b, e = (pads[a], pads[a + 2]) if auto_pad == 'NOTSET' else (0, 0)
            span = in_hw[a] + b + e - extent
            size = (-(-span // strides[a]) if ceil_mode else span // strides[a]) + 1
            if ceil_mode:
                if (size - 1) * strides[a] >= in_hw[a] + b:
                    size -= 1
                e = max(e, (size - 1) * strides[a] + extent - in_hw[a] - b)
        out.append(size)
        begins.append(b)
        ends.append(e)
    return out, begins, ends


def window_op(x, kernel, strides, dilations, pads_b, pads_e, out_hw, fill, fn):
    xp = np.pad(x, ((0, 0), (0, 0), (pads_b[0], pads_e[0]), (pads_b[1], pads_e[1])), constant_values=fill)
    parts = []
    for r in range(kernel[0]):
        for s in range(kernel[1]):
            h0, w0 = r * dilations[0], s * dilations[1]
            parts.append(((r, s), xp[:, :, h0:h0 + strides[0] * (out_hw[0] - 1) + 1:strides[0],
                                     w0:w0 + strides[1] * (out_hw[1] - 1) + 1:strides[1]]))
    return fn(parts)


def np_conv(x, w, b, a):
    kernel = list(w.shape[2:])
    strides, dil = a.get('strides', [1, 1]), a.get('dilations', [1, 1])
    out_hw, pb, pe = conv_pads(x.shape[2:], kernel, strides, dil, a.get('auto_pad', b'NOTSET').decode(),
                               a.get('pads', [0, 0, 0, 0]))
    groups = a.get('group', 1)
    k, cg = w.shape[0], w.shape[1]
    kg = k // groups
    out = np.zeros((x.shape[0], k, out_hw[0], out_hw[1]), np.float64)
    for g in range(groups):
        xs = x[:, g * cg:(g + 1) * cg].astype(np.float64)
        ws = w[g * kg:(g + 1) * kg].astype(np.float64)

        def accumulate(parts):
            acc = 0
            for (r, s), patch in parts:
                acc = acc + np.einsum('nchw,kc->nkhw', patch, ws[:, :, r, s])
            return acc
        out[:, g * kg:(g + 1) * kg] = window_op(xs, kernel, strides, dil, pb, pe, out_hw, 0.0, accumulate)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out.astype(np.float32)


def np_maxpool(x, a):
    kernel = a['kernel_shape']
    strides = a.get('strides', [1, 1])
    out_hw, pb, pe = conv_pads(x.shape[2:], kernel, strides, [1, 1], a.get('auto_pad', b'NOTSET').decode(),
                               a.get('pads', [0, 0, 0, 0]), a.get('ceil_mode', 0) == 1)
    return window_op(x, kernel, strides, [1, 1], pb, pe, out_hw, -np.inf,
                     lambda parts: np.max(np.stack([p for _, p in parts]), axis=0))


def resize_axis(x, axis, out_size, scale, mode, transform):
    size = x.shape[axis]
    o = np.arange(out_size, dtype=np.float64)
    if mode == 'nearest':
        idx = np.minimum(np.floor(o / scale).astype(np.int64), size - 1)
        return np.take(x, idx, axis=axis)
    if transform in ('half_pixel', 'pytorch_half_pixel'):
        src = (o + 0.5) / scale - 0.5
    elif transform == 'align_corners':
        src = o * (size - 1) / (out_size - 1) if out_size > 1 else o * 0
    else:
        src = o / scale
    src = np.clip(src, 0, size - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, size - 1)
    f = (src - i0).reshape([-1 if d == axis else 1 for d in range(x.ndim)])
    return np.take(x, i0, axis=axis) * (1 - f) + np.take(x, i1, axis=axis) * f


def np_resize(x, scales, sizes, mode, transform):
    if sizes is not None:
        scales = [s / d for s, d in zip(sizes, x.shape)]
    else:
        sizes = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
    y = x.astype(np.float64)
    for axis in (2, 3):
        y = resize_axis(y, axis, sizes[axis], scales[axis], mode, transform)
    return y.astype(np.float32)


def np_softmax(x, axis, opset):
    if opset < 13:
        shape = x.shape
        axis = axis if axis >= 0 else axis + x.ndim
        flat = x.reshape(int(np.prod(shape[:axis])), -1)
        e = np.exp(flat - flat.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).reshape(shape)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def evaluate(model, x):
    opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for n in model.graph.node:
        a = attrs_of(n)
        i = [env[name] if name else None for name in n.input]
        op = n.op_type
        if op == 'Constant':
            r = [numpy_helper.to_array(a['value'])] if 'value' in a else [np.array(a['value_floats'], np.float32)]
        elif op == 'Conv':
            r = [np_conv(i[0], i[1], i[2] if len(i) > 2 else None, a)]
        elif op == 'Relu':
            r = [np.maximum(i[0], 0)]
        elif op == 'LeakyRelu':
            r = [np.where(i[0] < 0, i[0] * a.get('alpha', 0.01), i[0]).astype(np.float32)]
        elif op == 'Sigmoid':
            r = [(1 / (1 + np.exp(-i[0]))).astype(np.float32)]
        elif op == 'Exp':
            r = [np.exp(i[0])]
        elif op in ('Add', 'Sub', 'Mul', 'Div'):
            p, q = i
            if op == 'Div' and p.dtype.kind == 'i':
                r = [(p // q).astype(p.dtype)]
            else:
                r = [{'Add': np.add, 'Sub': np.subtract, 'Mul': np.multiply, 'Div': np.divide}[op](p, q)]
        elif op == 'Concat':
            r = [np.concatenate(i, axis=a['axis'])]
        elif op == 'Split':
            axis = a.get('axis', 0)
            sizes = a.get('split') if 'split' in a else (list(i[1]) if len(i) > 1 and i[1] is not None else None)
            if sizes is None:
                each = -(-i[0].shape[axis] // len(n.output))
                sizes = [min(each, i[0].shape[axis] - k * each) for k in range(len(n.output))]
            r = np.split(i[0], np.cumsum(sizes)[:-1], axis=axis)
        elif op == 'Slice':
            starts, ends = i[1], i[2]
            axes = i[3] if len(i) > 3 and i[3] is not None else range(len(starts))
            steps = i[4] if len(i) > 4 and i[4] is not None else [1] * len(starts)
            index = [slice(None)] * i[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                index[ax] = slice(int(s), int(min(e, INT64_MAX)), int(st))
            r = [i[0][tuple(index)]]
        elif op in ('Resize', 'Upsample'):
            if op == 'Upsample':
                scales, sizes, transform = list(i[1]), None, 'asymmetric'
            else:
                scales = list(i[2]) if len(i) > 2 and i[2] is not None and i[2].size else None
                sizes = list(i[3]) if len(i) > 3 and i[3] is not None else None
                transform = a.get('coordinate_transformation_mode', b'half_pixel').decode()
            mode = a.get('mode', b'nearest').decode()
            r = [np_resize(i[0], scales, sizes, 'linear' if mode in ('linear', 'bilinear') else mode, transform)]
        elif op == 'MaxPool':
            r = [np_maxpool(i[0], a)]
        elif op == 'Transpose':
            r = [np.transpose(i[0], a.get('perm'))]
        elif op == 'Reshape':
            shape = [d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1])]
            r = [i[0].reshape(shape)]
        elif op == 'Flatten':
            axis = a.get('axis', 1)
            r = [i[0].reshape(int(np.prod(i[0].shape[:axis])), -1)]
        elif op == 'Squeeze':
            axes = a.get('axes') if 'axes' in a else (list(i[1]) if len(i) > 1 else None)
            r = [np.squeeze(i[0], axis=tuple(axes) if axes is not None else None)]
        elif op == 'Unsqueeze':
            axes = a.get('axes') if 'axes' in a else list(i[1])
            r = [np.expand_dims(i[0], tuple(axes))]
        elif op == 'Softmax':
            r = [np_softmax(i[0], a.get('axis', 1 if opset < 13 else -1), opset)]
        elif op == 'Gather':
            r = [np.take(i[0], i[1], axis=a.get('axis', 0))]
        elif op == 'MatMul':
            r = [np.matmul(i[0], i[1])]
        elif op == 'Identity':
            r = [i[0]]
        elif op == 'Shape':
            r = [np.array(i[0].shape, np.int64)]
        elif op == 'Cast':
            r = [i[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])]
        elif op == 'ConstantOfShape':
            value = numpy_helper.to_array(a['value']) if 'value' in a else np.zeros(1, np.float32)
            r = [np.full(tuple(i[0]), value.reshape(-1)[0], value.dtype)]
        elif op == 'Range':
            r = [np.arange(i[0], i[1], i[2]).astype(i[0].dtype)]
        elif op == 'Expand':
            r = [i[0] * np.ones(tuple(i[1]), i[0].dtype)]
        else:
            raise SystemExit(f'make_engine_models: no numpy evaluator for {op}')
        for name, value in zip(n.output, r):
            env[name] = np.asarray(value)
    return [env[o.name] for o in model.graph.output]


# --- model building -------------------------------------------------------------
def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def make_model(name, nodes, inits, outputs, input_shape, opset=13, check=True, input_name='x'):
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], producer_name='slipstream-tests')
    model.ir_version = 8
    if check:
        # The checker wants output shapes: symbolic dims of the evaluated rank.
        batch = 1 if isinstance(input_shape[0], str) else input_shape[0]
        values = evaluate(model, np.zeros([batch] + list(input_shape[1:]), np.float32))
        for out, value in zip(model.graph.output, values):
            out.CopyFrom(helper.make_tensor_value_info(out.name, TensorProto.FLOAT,
                                                       [f'd{k}' for k in range(value.ndim)]))
        onnx.checker.check_model(model, full_check=True)
    return model


rng = np.random.default_rng(7)


def weights(*shape):
    return (rng.standard_normal(shape) * 0.5).astype(np.float32)


def node(op, inputs, outputs, name=None, **kw):
    return helper.make_node(op, inputs, outputs, name=name or outputs[0], **kw)


CASES = {}  # name -> (model, batches)


def case(name, nodes, inits, outputs, chw, batches=(2,), opset=13, check=True):
    CASES[name] = (make_model(name, nodes, inits, outputs, ['N'] + list(chw), opset, check), batches)


def build_cases():
    # Conv + bias + LeakyRelu: one fused step (NanoDet's pattern).
    case('conv_leaky', [node('Conv', ['x', 'w', 'b'], ['c'], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                        node('LeakyRelu', ['c'], ['y'], alpha=0.1)],
         [init('w', weights(8, 3, 3, 3)), init('b', weights(8))], ['y'], [3, 8, 8], batches=(1, 2))
    # Conv + SiLU as Mul(x, Sigmoid(x)) (YOLOv8's pattern), then a depthwise conv + Relu.
    case('conv_silu', [node('Conv', ['x', 'w', 'b'], ['c'], strides=[2, 2], pads=[1, 1, 1, 1]),
                       node('Sigmoid', ['c'], ['s']), node('Mul', ['c', 's'], ['m']),
                       node('Conv', ['m', 'dw', 'db'], ['d'], group=8, pads=[1, 1, 1, 1]),
                       node('Relu', ['d'], ['y'])],
         [init('w', weights(8, 3, 3, 3)), init('b', weights(8)), init('dw', weights(8, 1, 3, 3)), init('db', weights(8))],
         ['y'], [3, 9, 9])
    # Residual: Relu(Conv(a) + a) fuses; Conv(a) + a where the conv is also an output does not.
    case('conv_residual', [node('Conv', ['x', 'w1', 'b1'], ['c1']), node('Relu', ['c1'], ['a']),
                           node('Conv', ['a', 'w2', 'b2'], ['c2'], pads=[1, 1, 1, 1]), node('Add', ['c2', 'a'], ['s']),
                           node('Relu', ['s'], ['y']),
                           node('Conv', ['a', 'w3'], ['d']), node('Add', ['a', 'd'], ['e'])],
         [init('w1', weights(8, 3, 1, 1)), init('b1', weights(8)), init('w2', weights(8, 8, 3, 3)), init('b2', weights(8)),
          init('w3', weights(8, 8, 1, 1))], ['y', 'd', 'e'], [3, 6, 6])
    # auto_pad, strides, dilations, no bias.
    case('conv_pads', [node('Conv', ['x', 'w'], ['same_upper'], strides=[2, 2], auto_pad='SAME_UPPER'),
                       node('Conv', ['x', 'w'], ['same_lower'], strides=[2, 2], auto_pad='SAME_LOWER'),
                       node('Conv', ['x', 'w'], ['valid'], dilations=[2, 2], auto_pad='VALID'),
                       node('Conv', ['x', 'w2'], ['asym'], pads=[0, 1, 2, 0], strides=[1, 2])],
         [init('w', weights(4, 3, 3, 3)), init('w2', weights(5, 3, 2, 3))],
         ['same_upper', 'same_lower', 'valid', 'asym'], [3, 8, 7])
    # Resize: each supported mode; sizes from shape arithmetic; opset 13 with an empty roi.
    shape_nodes = [node('Shape', ['x'], ['shape']),
                   node('Slice', ['shape', 'zero', 'two'], ['nc']),
                   node('Concat', ['nc', 'hw'], ['sizes'], axis=0)]
    case('resize', shape_nodes + [
        node('Resize', ['x', '', 'scales2'], ['half_pixel'], mode='linear'),
        node('Resize', ['x', '', '', 'sizes'], ['align_corners'], mode='linear',
             coordinate_transformation_mode='align_corners'),
        node('Resize', ['x', '', 'scales23'], ['asymmetric'], mode='linear', coordinate_transformation_mode='asymmetric'),
        node('Resize', ['x', '', 'scales2'], ['nearest'], mode='nearest', coordinate_transformation_mode='asymmetric',
             nearest_mode='floor')],
        [init('scales2', np.array([1, 1, 2, 2], np.float32)), init('scales23', np.array([1, 1, 2, 3], np.float32)),
         init('zero', np.array([0], np.int64)), init('two', np.array([2], np.int64)),
         init('hw', np.array([9, 7], np.int64))],
        ['half_pixel', 'align_corners', 'asymmetric', 'nearest'], [2, 4, 5])
    # Opset 11 Resize (roi input present) and Upsample.
    case('resize11', [node('Resize', ['x', 'roi', 'scales'], ['linear'], mode='linear'),
                      node('Upsample', ['x', 'scales'], ['upsample'], mode='nearest')],
         [init('roi', np.array([], np.float32)), init('scales', np.array([1, 1, 2, 2], np.float32))],
         ['linear', 'upsample'], [2, 3, 4], opset=11, check=False)
    # MaxPool: NanoDet's 3x3/2 pad 1, ceil_mode on an odd size, YOLOv8's SPPF 5x5/1 pad 2.
    case('maxpool', [node('MaxPool', ['x'], ['p3'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
                     node('MaxPool', ['x'], ['ceil'], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
                     node('MaxPool', ['x'], ['p5'], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])],
         [], ['p3', 'ceil', 'p5'], [3, 7, 7])
    # Data movement from an NHWC activation.
    case('movement', [node('Relu', ['x'], ['r']),
                      node('Transpose', ['x'], ['t'], perm=[0, 2, 3, 1]),
                      node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['s']),
                      node('Slice', ['x', 'rs', 're', 'raxes', 'rsteps'], ['rev']),
                      node('Split', ['x', 'split'], ['sp0', 'sp1'], axis=1),
                      node('Concat', ['x', 'r'], ['cat'], axis=1),
                      node('Gather', ['x', 'idx_scalar'], ['g0'], axis=1),
                      node('Gather', ['x', 'idx_list'], ['g1'], axis=1),
                      node('Gather', ['x', 'idx_step'], ['g2'], axis=3),
                      node('Slice', ['x', 'zero', 'one', 'one'], ['ch0']),
                      node('Expand', ['ch0', 'eshape'], ['ex'])],
         [init('starts', np.array([1, 0], np.int64)), init('ends', np.array([4, INT64_MAX], np.int64)),
          init('axes', np.array([1, 3], np.int64)), init('steps', np.array([2, 2], np.int64)),
          init('rs', np.array([-1], np.int64)), init('re', np.array([-INT64_MAX], np.int64)),
          init('raxes', np.array([2], np.int64)), init('rsteps', np.array([-2], np.int64)),
          init('split', np.array([1, 3], np.int64)), init('idx_scalar', np.array(2, np.int64)),
          init('idx_list', np.array([0, 3, 1], np.int64)), init('idx_step', np.array([0, 2, 4], np.int64)),
          init('zero', np.array([0], np.int64)), init('one', np.array([1], np.int64)),
          init('eshape', np.array([1, 3, 1, 1], np.int64))],
         ['t', 's', 'rev', 'sp0', 'sp1', 'cat', 'g0', 'g1', 'g2', 'ex'], [4, 6, 6])
    # Reshape family: of an NHWC tensor a copy, of a row-major one an alias.
    case('reshape', [node('Reshape', ['x', 'shape3'], ['r3']),          # nhwc -> copy
                     node('Transpose', ['r3'], ['t3'], perm=[0, 2, 1]),  # row major
                     node('Reshape', ['t3', 'flat'], ['alias1']),        # alias
                     node('Unsqueeze', ['t3', 'ax1'], ['alias2']),       # alias
                     node('Squeeze', ['alias2', 'ax1'], ['alias3']),     # alias of an alias
                     node('Flatten', ['x'], ['flat_copy']),              # nhwc -> copy
                     node('Sigmoid', ['alias3'], ['sig'])],
         [init('shape3', np.array([0, 4, -1], np.int64)), init('flat', np.array([-1], np.int64)),
          init('ax1', np.array([1], np.int64))], ['alias1', 'sig', 'flat_copy'], [4, 3, 5], batches=(1, 3))
    # Broadcasting binary ops, constants and activations on either side.
    case('binary', [node('Add', ['x', 'per_channel'], ['add']),
                    node('Mul', ['half', 'x'], ['mul']),
                    node('Sub', ['per_w', 'x'], ['sub']),
                    node('Slice', ['x', 'zero', 'one', 'one'], ['ch0']),
                    node('Add', ['ch0', 'two'], ['ch0p2']),
                    node('Div', ['x', 'ch0p2'], ['div']),
                    node('Reshape', ['x', 'shape3'], ['r3']),
                    node('Add', ['r3', 'row'], ['row_add']),
                    node('Mul', ['r3', 'r3'], ['square'])],
         [init('per_channel', weights(1, 3, 1, 1)), init('half', np.array(0.5, np.float32)), init('per_w', weights(5)),
          init('zero', np.array([0], np.int64)), init('one', np.array([1], np.int64)),
          init('two', np.array([2.5], np.float32)), init('shape3', np.array([0, 3, 20], np.int64)),
          init('row', weights(20))],
         ['add', 'mul', 'sub', 'div', 'row_add', 'square'], [3, 4, 5])
    case('softmax11', [node('Softmax', ['x'], ['y'])], [], ['y'], [3, 4, 5], opset=11)
    case('softmax13', [node('Softmax', ['x'], ['last']), node('Softmax', ['x'], ['ch'], axis=1)],
         [], ['last', 'ch'], [3, 4, 5])
    case('matmul', [node('Reshape', ['x', 'shape3'], ['r3']),
                    node('MatMul', ['r3', 'w'], ['by_const']),
                    node('Transpose', ['x'], ['xt'], perm=[0, 1, 3, 2]),
                    node('MatMul', ['x', 'xt'], ['gram'])],
         [init('shape3', np.array([0, 3, 20], np.int64)), init('w', weights(20, 6))], ['by_const', 'gram'], [3, 4, 5])
    # Unary ops outside conv groups, SiLU on a plain activation, Identity, Cast to float.
    case('unary', [node('Add', ['x', 'one'], ['x1']),
                   node('Sigmoid', ['x1'], ['s1']), node('Mul', ['s1', 'x1'], ['silu']),
                   node('Exp', ['x'], ['exp']), node('Relu', ['x'], ['relu']),
                   node('LeakyRelu', ['x'], ['leaky']), node('Sigmoid', ['x'], ['sig']),
                   node('Identity', ['relu'], ['ident']), node('Cast', ['leaky'], ['cast'], to=TensorProto.FLOAT)],
         [init('one', np.array([1.0], np.float32))], ['silu', 'exp', 'ident', 'cast', 'sig'], [2, 3, 3])
    # YOLOv8-style dynamic-batch shape arithmetic, folded at plan time.
    case('dynamic', [node('Shape', ['x'], ['s']),
                     node('Gather', ['s', 'i0'], ['n']), node('Gather', ['s', 'i1'], ['c']),
                     node('Gather', ['s', 'i2'], ['h']), node('Gather', ['s', 'i3'], ['w']),
                     node('Mul', ['h', 'w'], ['hw']), node('Mul', ['c', 'hw'], ['chw']),
                     node('Div', ['chw', 'i2'], ['half']),
                     node('Unsqueeze', ['n', 'i0_list'], ['n1']), node('Unsqueeze', ['half', 'i0_list'], ['half1']),
                     node('Concat', ['n1', 'two_list', 'half1'], ['target'], axis=0),
                     node('Reshape', ['x', 'target'], ['r']),
                     node('Range', ['zero', 'half', 'one'], ['ar']), node('Cast', ['ar'], ['arf'], to=TensorProto.FLOAT),
                     node('Expand', ['arf', 'target'], ['grid']),
                     node('Add', ['r', 'grid'], ['shifted']),
                     node('ConstantOfShape', ['cos_shape'], ['twos'],
                          value=helper.make_tensor('v', TensorProto.FLOAT, [1], [2.0])),
                     node('Mul', ['shifted', 'twos'], ['y'])],
         [init('i0', np.array(0, np.int64)), init('i1', np.array(1, np.int64)), init('i2', np.array(2, np.int64)),
          init('i3', np.array(3, np.int64)), init('i0_list', np.array([0], np.int64)),
          init('two_list', np.array([2], np.int64)), init('zero', np.array(0, np.int64)),
          init('one', np.array(1, np.int64)), init('cos_shape', np.array([1, 2, 1], np.int64))],
         ['y'], [4, 4, 4], batches=(1, 3))
    # Split and Unsqueeze across opsets: attribute (11), input (13), num_outputs (18).
    case('split11', [node('Split', ['x'], ['a', 'b'], axis=1, split=[1, 3]),
                     node('Unsqueeze', ['a'], ['u'], axes=[1]), node('Squeeze', ['u'], ['q'], axes=[1])],
         [], ['q', 'b'], [4, 2, 2], opset=11)
    case('split13', [node('Split', ['x', 'split'], ['a', 'b'], axis=1),
                     node('Unsqueeze', ['a', 'ax'], ['u']), node('Squeeze', ['u', 'ax'], ['q'])],
         [init('split', np.array([3, 1], np.int64)), init('ax', np.array([1], np.int64))], ['q', 'b'], [4, 2, 2])
    case('split18', [node('Split', ['x'], ['a', 'b'], axis=1, num_outputs=2)], [], ['a', 'b'], [4, 2, 2], opset=18, check=False)
    # Constants of other types and Constant nodes.
    case('constants', [node('Constant', [], ['k'], value=helper.make_tensor('k', TensorProto.FLOAT, [3], [1, 2, 3])),
                       node('Cast', ['shape32'], ['shape64'], to=TensorProto.INT64),
                       node('Cast', ['half16'], ['half32'], to=TensorProto.FLOAT),
                       node('Mul', ['x', 'half32'], ['m']), node('Add', ['m', 'k'], ['a']),
                       node('Reshape', ['a', 'shape64'], ['y'])],
         [init('half16', np.array([0.5, 1.5, -2.0], np.float16)), init('shape32', np.array([0, -1], np.int32))],
         ['y'], [2, 2, 3])
    # A YOLOv8-shaped network: SiLU convs, a bottleneck (Add after the activation),
    # C2f's Split/Concat, SPPF, nearest upsampling, the DFL head (Reshape ->
    # Transpose -> Softmax -> Conv) with dynamic-batch shapes and box decoding.
    def silu_conv(x, w, out, **kw):
        return [node('Conv', [x, w, w + '_b'], [out + '_c'], **kw), node('Sigmoid', [out + '_c'], [out + '_s']),
                node('Mul', [out + '_c', out + '_s'], [out])]

    def conv_init(name, k, c, r):
        return [init(name, weights(k, c, r, r) * (1.0 / math.sqrt(c * r * r))), init(name + '_b', weights(k) * 0.1)]
    anchors = np.stack(np.meshgrid(np.arange(8) + 0.5, np.arange(8) + 0.5)[::-1]).reshape(2, 64)[::-1].astype(np.float32)
    yolo = (silu_conv('x', 'w1', 'c1', strides=[2, 2], pads=[1, 1, 1, 1]) +
            silu_conv('c1', 'w2', 'c2', pads=[1, 1, 1, 1]) +
            [node('Add', ['c1', 'c2'], ['res']), node('Split', ['res', 'halves'], ['sp0', 'sp1'], axis=1),
             node('Concat', ['sp0', 'sp1', 'res'], ['cat'], axis=1)] +
            silu_conv('cat', 'w3', 'c3') +
            [node('MaxPool', ['c3'], ['m1'], kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
             node('MaxPool', ['m1'], ['m2'], kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
             node('Concat', ['c3', 'm1', 'm2'], ['cat2'], axis=1)] +
            silu_conv('cat2', 'w4', 'c4') +
            [node('Resize', ['c4', '', 'scales2'], ['up'], mode='nearest', coordinate_transformation_mode='asymmetric',
                  nearest_mode='floor'),
             node('Conv', ['c4', 'wb', 'wb_b'], ['box']), node('Conv', ['c4', 'wc', 'wc_b'], ['cls']),
             node('Shape', ['box'], ['bs']), node('Gather', ['bs', 'i0'], ['n']),
             node('Unsqueeze', ['n', 'ax0'], ['n1']),
             node('Concat', ['n1', 'dfl_shape'], ['dfl_target'], axis=0),
             node('Reshape', ['box', 'dfl_target'], ['dfl_r']),
             node('Transpose', ['dfl_r'], ['dfl_t'], perm=[0, 2, 1, 3]),
             node('Softmax', ['dfl_t'], ['dfl_s'], axis=1),
             node('Conv', ['dfl_s', 'dfl_w'], ['dfl_c']),
             node('Concat', ['n1', 'dist_shape'], ['dist_target'], axis=0),
             node('Reshape', ['dfl_c', 'dist_target'], ['dist']),
             node('Split', ['dist', 'halves2'], ['lt', 'rb'], axis=1),
             node('Sub', ['anchors', 'lt'], ['x1y1']), node('Add', ['anchors', 'rb'], ['x2y2']),
             node('Add', ['x1y1', 'x2y2'], ['xy2']), node('Div', ['xy2', 'two'], ['cxy']),
             node('Sub', ['x2y2', 'x1y1'], ['wh']), node('Concat', ['cxy', 'wh'], ['dbox'], axis=1),
             node('Mul', ['dbox', 'stride'], ['boxes']),
             node('Sigmoid', ['cls'], ['cls_s']),
             node('Concat', ['n1', 'cls_shape'], ['cls_target'], axis=0),
             node('Reshape', ['cls_s', 'cls_target'], ['cls_r']),
             node('Concat', ['boxes', 'cls_r'], ['output0'], axis=1)])
    case('yolo_like', yolo,
         conv_init('w1', 8, 3, 3) + conv_init('w2', 8, 8, 3) + conv_init('w3', 16, 16, 1) + conv_init('w4', 16, 48, 1) +
         conv_init('wb', 64, 16, 1) + conv_init('wc', 5, 16, 1) +
         [init('halves', np.array([4, 4], np.int64)), init('halves2', np.array([2, 2], np.int64)),
          init('scales2', np.array([1, 1, 2, 2], np.float32)), init('i0', np.array(0, np.int64)),
          init('ax0', np.array([0], np.int64)), init('dfl_shape', np.array([4, 16, -1], np.int64)),
          init('dfl_w', np.arange(16, dtype=np.float32).reshape(1, 16, 1, 1)),
          init('dist_shape', np.array([4, -1], np.int64)), init('cls_shape', np.array([5, -1], np.int64)),
          init('anchors', anchors), init('two', np.array(2, np.float32)),
          init('stride', np.full((1, 64), 2.0, np.float32))],
         ['output0', 'up'], [3, 16, 16], batches=(1, 2))

    # A chain whose activations can share bytes (arena reuse).
    chain, inits, prev = [], [], 'x'
    for k in range(6):
        chain.append(node('Conv', [prev, f'w{k}', f'b{k}'], [f'c{k}'], pads=[1, 1, 1, 1]))
        chain.append(node('Relu', [f'c{k}'], [f'r{k}']))
        inits += [init(f'w{k}', weights(4, 4, 3, 3) * 0.5), init(f'b{k}', weights(4))]
        prev = f'r{k}'
    case('chain', chain, inits, [prev], [4, 8, 8])


BROKEN = {}


def broken(name, nodes, inits, outputs, input_shape, opset=13, check=False, extra_inputs=()):
    model = make_model(name, nodes, inits, outputs, input_shape, opset, check)
    for extra in extra_inputs:
        model.graph.input.append(helper.make_tensor_value_info(extra, TensorProto.FLOAT, ['N', 3, 4, 4]))
    BROKEN[name] = model


def build_broken():
    broken('unknown_op', [node('Tanh', ['x'], ['y'], name='Tanh_7')], [], ['y'], ['N', 3, 4, 4])
    broken('resize_cubic', [node('Resize', ['x', '', 's'], ['y'], name='Resize_12', mode='cubic')],
           [init('s', np.array([1, 1, 2, 2], np.float32))], ['y'], ['N', 3, 4, 4])
    broken('resize_nearest_half_pixel', [node('Resize', ['x', '', 's'], ['y'], name='Resize_3', mode='nearest')],
           [init('s', np.array([1, 1, 2, 2], np.float32))], ['y'], ['N', 3, 4, 4])
    broken('resize_fraction', [node('Resize', ['x', '', 's'], ['y'], name='Resize_5', mode='linear')],
           [init('s', np.array([1, 1, 1.5, 1.5], np.float32))], ['y'], ['N', 3, 5, 5])
    broken('maxpool_dilations', [node('MaxPool', ['x'], ['y'], name='pool_1', kernel_shape=[2, 2], dilations=[2, 2])],
           [], ['y'], ['N', 3, 8, 8])
    broken('cast_to_int', [node('Cast', ['x'], ['y'], name='cast_9', to=TensorProto.INT64)], [], ['y'], ['N', 3, 4, 4])
    broken('two_inputs', [node('Add', ['x', 'x2'], ['y'])], [], ['y'], ['N', 3, 4, 4], extra_inputs=['x2'])
    broken('input_3d', [node('Relu', ['x'], ['y'])], [], ['y'], ['N', 3, 16])
    broken('symbolic_h', [node('Relu', ['x'], ['y'])], [], ['y'], ['N', 3, 'H', 16])
    broken('old_opset', [node('Relu', ['x'], ['y'])], [], ['y'], ['N', 3, 4, 4], opset=9)
    broken('fixed_batch', [node('Relu', ['x'], ['y'])], [], ['y'], [1, 3, 4, 4])
    broken('runtime_indices', [node('Gather', ['x', 'x'], ['y'], name='gather_2', axis=1)], [], ['y'], ['N', 3, 4, 4])
    external = make_model('external_data', [node('Mul', ['x', 'w'], ['y'])], [init('w', np.ones(4, np.float32))],
                          ['y'], ['N', 3, 4, 4], check=False)
    w = external.graph.initializer[0]
    w.ClearField('raw_data')
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key='location', value='weights.bin')
    BROKEN['external_data'] = external


def write_raw(path, array):
    np.ascontiguousarray(array, np.float32).tofile(path)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    build_cases()
    build_broken()
    manifest = []
    for name, (model, batches) in CASES.items():
        onnx.save(model, os.path.join(out_dir, name + '.onnx'))
        c, h, w = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
        for b in batches:
            x = np.random.default_rng(b * 1000 + len(name)).uniform(-2, 2, (b, c, h, w)).astype(np.float32)
            outputs = evaluate(model, x)
            write_raw(os.path.join(out_dir, f'{name}.b{b}.input.f32'), x)
            for k, o in enumerate(outputs):
                write_raw(os.path.join(out_dir, f'{name}.b{b}.out{k}.f32'), o)
            manifest.append(f'{name} {b} {len(outputs)}')
    for name, model in BROKEN.items():
        onnx.save(model, os.path.join(out_dir, name + '.onnx'))
    # Bytes that are no model: garbage, a truncated model, a text file.
    with open(os.path.join(out_dir, 'corrupt.onnx'), 'wb') as f:
        f.write(b'\xff' * 64)
    with open(os.path.join(out_dir, 'chain.onnx'), 'rb') as f:
        data = f.read()
    with open(os.path.join(out_dir, 'truncated.onnx'), 'wb') as f:
        f.write(data[:len(data) // 2])
    with open(os.path.join(out_dir, 'text.onnx'), 'w') as f:
        f.write('this is not a model\n')
    with open(os.path.join(out_dir, 'manifest.txt'), 'w') as f:
        f.write('\n'.join(manifest) + '\n')


if __name__ == '__main__':
    main()
