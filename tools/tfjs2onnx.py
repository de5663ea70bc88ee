#!/usr/bin/python3
"""Convert a TensorFlow.js graph model (model.json + .bin shards) to ONNX.

usage: tfjs2onnx.py [--opset 11|12] [--outputs NODE,...] MODEL.json OUT.onnx

The result is an NCHW model meant for OpenCV 4.6 DNN: the converter keeps
track of the layout of every tensor (as a permutation relative to the tensor
that is actually emitted) instead of emitting the NHWC<->NCHW Transposes of
the TF graph, folds explicit Pad ops into Conv/MaxPool, folds constant adds
into conv biases and constant-folds shape arithmetic. Any TF op it does not
know fails with a one-line error naming the op.

Run with Debian's /usr/bin/python3 (needs python3-onnx and numpy).
"""

import argparse
import base64
import collections
import json
import math
import os
import sys

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover - environment problem, keep it to one line
    sys.exit("tfjs2onnx: error: python module 'onnx' missing (use /usr/bin/python3 with python3-onnx)")


class ConvertError(Exception):
    pass


# ---------------------------------------------------------------- loading ---

_DTYPES = {'float32': np.float32, 'int32': np.int32, 'bool': np.bool_,
           'float16': np.float16, 'uint8': np.uint8, 'uint16': np.uint16, 'int8': np.int8}


def load_weights(model_path, model):
    """Return {name: ndarray} decoded from the weight shards."""
    base = os.path.dirname(os.path.abspath(model_path))
    out = {}
    for group in model.get('weightsManifest', []):
        data = b''.join(open(os.path.join(base, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            shape = [int(d) for d in w['shape']]
            count = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            if w['dtype'] == 'string':
                raise ConvertError(f"string weight '{w['name']}' not supported")
            src = q['dtype'] if q else w['dtype']
            if src not in _DTYPES:
                raise ConvertError(f"weight '{w['name']}' has unsupported dtype {src}")
            dt = np.dtype(_DTYPES[src]).newbyteorder('<')
            nbytes = count * dt.itemsize
            if off + nbytes > len(data):
                raise ConvertError(f"weight '{w['name']}' runs past the end of {group['paths']}")
            a = np.frombuffer(data, dt, count, off).reshape(shape)
            off += nbytes
            if q and src == 'float16':
                a = a.astype(np.float32)
            elif q:
                # affine uint8/uint16: value = q * scale + min, in double like tfjs-core
                a = (a.astype(np.float64) * float(q['scale']) + float(q['min'])).astype(np.float32)
                if w['dtype'] == 'int32':
                    a = np.floor(a + 0.5).astype(np.int32)  # Math.round
            else:
                a = a.astype(_DTYPES[w['dtype']])
            out[w['name']] = a
    return out


def parse_attr(v):
    """Decode one TF.js JSON attr value into a python value."""
    if 's' in v:
        return base64.b64decode(v['s']).decode('utf-8', 'replace')
    if 'i' in v:
        return int(v['i'])
    if 'f' in v:
        return float(v['f'])
    if 'b' in v:
        return bool(v['b'])
    if 'type' in v:
        return v['type']
    if 'list' in v:
        lst = v['list']
        if 'i' in lst:
            return [int(x) for x in lst['i']]
        if 's' in lst:
            return [base64.b64decode(x).decode() for x in lst['s']]
        if 'f' in lst:
            return [float(x) for x in lst['f']]
        return []
    if 'shape' in v:
        return [int(d.get('size', -1)) for d in v['shape'].get('dim', [])]
    if 'tensor' in v:
        return v['tensor']
    return None


def split_ref(ref):
    """'node:1' -> ('node', 1); control inputs '^x' -> (None, None)."""
    if ref.startswith('^'):
        return None, None
    if ':' in ref:
        n, i = ref.rsplit(':', 1)
        if i.isdigit():
            return n, int(i)
    return ref, 0


# ----------------------------------------------------------------- layout ---

def inv_perm(p):
    r = [0] * len(p)
    for i, x in enumerate(p):
        r[x] = i
    return tuple(r)


def ident(n):
    return tuple(range(n))


NHWC = (0, 2, 3, 1)  # tf NHWC tensor viewed from an emitted NCHW tensor


class Val:
    """A dynamic tensor of the TF graph.

    name  - emitted ONNX tensor E
    perm  - tf_tensor == np.transpose(E, perm)
    shape - static TF shape (batch 1), used for sizes/scales only
    pad   - pending pad not yet emitted: (pads per E axis [(b, e)...], value)
    conv  - the Conv node that produced E (for bias folding), else None
    sig   - produced by a Sigmoid through layout-only ops (output naming)
    """

    def __init__(self, name, perm, shape, pad=None, conv=None, sig=False):
        self.name, self.perm, self.shape = name, tuple(perm), list(shape)
        self.pad, self.conv, self.sig = pad, conv, sig


# -------------------------------------------------------------- converter ---

class Converter:
    def __init__(self, model, weights, outputs=None):
        self.want_outputs = outputs
        self.model = model
        self.topo = model['modelTopology']
        self.nodes = {n['name']: n for n in self.topo['node']}
        self.weights = weights
        self.onnx_nodes = []
        self.inits = []
        self.vals = {}      # (node, idx) -> Val
        self.consts = {}    # (node, idx) -> ndarray
        self.used = set()
        self.consumers = collections.Counter()
        self.inputs = []
        self.tf_inputs = []

    # -- emission helpers --
    def uname(self, base):
        base = ''.join(c if c.isalnum() or c in '_.' else '_' for c in base) or 't'
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f'{base}_{k}'
        self.used.add(name)
        return name

    def init(self, base, arr):
        name = self.uname(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def emit(self, op, inputs, base, n_out=1, **attrs):
        outs = [self.uname(base if n_out == 1 else f'{base}_{i}') for i in range(n_out)]
        node = helper.make_node(op, inputs, outs, name=outs[0], **attrs)
        self.onnx_nodes.append(node)
        return node

    # -- layout helpers --
    def flush_pad(self, v):
        """Emit a pending Pad; returns a Val without pending pad."""
        if v.pad is None:
            return v
        pads, value = v.pad
        rank = len(pads)
        p = self.init(v.name + '_pads', np.array([b for b, _ in pads] + [e for _, e in pads], np.int64))
        c = self.init(v.name + '_padval', np.array(value, np.float32))
        n = self.emit('Pad', [v.name, p, c], v.name + '_pad', mode='constant')
        assert rank == len(v.perm)
        return Val(n.output[0], v.perm, v.shape, sig=v.sig)

    def as_layout(self, v, want):
        """ONNX name of v laid out so that tf == transpose(E', want)."""
        v = self.flush_pad(v)
        want = tuple(want)
        if v.perm == want:
            return v.name
        # E' = transpose(tf, inv(want)) = transpose(E, perm[inv(want)])
        t = tuple(v.perm[i] for i in inv_perm(want))
        return self.emit('Transpose', [v.name], v.name + '_t', perm=list(t)).output[0]

    def const_in_layout(self, c, perm, base):
        """Constant operand for an elementwise op on a tensor with layout perm."""
        c = np.asarray(c, np.float32)
        rank = len(perm)
        if c.ndim > rank:
            raise ConvertError('broadcast constant has higher rank than tensor')
        c = c.reshape((1,) * (rank - c.ndim) + c.shape)
        return self.init(base, np.transpose(c, inv_perm(perm)))

    # -- graph walk --
    def outputs(self):
        if self.want_outputs:
            return list(self.want_outputs)
        sig = self.model.get('signature', {}).get('outputs')
        if sig:
            # the JSON object order is arbitrary; sort Identity, Identity_1, ...
            names = [v.get('name', k) for k, v in sig.items()]

            def key(n):
                base = n.split(':')[0]
                head, _, tail = base.rpartition('_')
                return (head, int(tail)) if tail.isdigit() and head else (base, -1)
            return sorted(names, key=key)
        fed = {split_ref(i)[0] for n in self.topo['node'] for i in n.get('input', [])}
        return [n['name'] for n in self.topo['node'] if n['name'] not in fed and n['op'] != 'Const']

    def order(self, outs):
        """Topological order of the nodes the outputs depend on."""
        seen, order = set(), []
        for o in outs:
            stack = [(split_ref(o)[0], False)]
            while stack:
                n, done = stack.pop()
                if done:
                    order.append(n)
                    continue
                if n in seen:
                    continue
                if n not in self.nodes:
                    raise ConvertError(f"graph refers to missing node '{n}'")
                seen.add(n)
                stack.append((n, True))
                for i in self.nodes[n].get('input', []):
                    src = split_ref(i)[0]
                    if src is not None and src not in seen:
                        stack.append((src, False))
        return order

    def get(self, ref):
        n, i = split_ref(ref)
        if (n, i) in self.consts:
            return self.consts[(n, i)]
        return self.vals[(n, i)]

    def is_const(self, ref):
        return split_ref(ref) in self.consts

    def const(self, ref, what='operand'):
        k = split_ref(ref)
        if k not in self.consts:
            raise ConvertError(f"{what} '{ref}' must be constant")
        return self.consts[k]

    def run(self):
        outs = self.outputs()
        order = self.order(outs)
        for n in order:
            for i in self.nodes[n].get('input', []):
                src = split_ref(i)
                if src[0] is not None:
                    self.consumers[src] += 1
        for o in outs:
            self.consumers[split_ref(o)] += 1
        for n in order:
            self.convert_node(self.nodes[n])
        return outs

    # -- ops --
    def convert_node(self, node):
        op, name = node['op'], node['name']
        attrs = {k: parse_attr(v) for k, v in node.get('attr', {}).items()}
        ins = [i for i in node.get('input', []) if not i.startswith('^')]
        if op == 'Const':
            if name in self.weights:
                self.consts[(name, 0)] = self.weights[name]
                return
            raise ConvertError(f"constant '{name}' has no data in the weights manifest")
        if op == 'Placeholder':
            return self.op_placeholder(name, attrs)
        if ins and all(self.is_const(i) for i in ins) and op in FOLDABLE:
            vals = [self.const(i) for i in ins]
            res = FOLDABLE[op](vals, attrs)
            for k, r in enumerate(res if isinstance(res, list) else [res]):
                self.consts[(name, k)] = np.asarray(r)
            return
        fn = getattr(self, 'op_' + op, None)
        if fn is None:
            raise ConvertError(f"unsupported TF op '{op}' (node {name})")
        fn(name, ins, attrs)

    def op_placeholder(self, name, attrs):
        shape = attrs.get('shape') or []
        if len(shape) != 4:
            raise ConvertError(f"input '{name}' must be rank 4, got {shape}")
        shape = [1 if d < 0 else d for d in shape]
        # NCHW graphs (ONNX->TF exports) keep their layout; NHWC images get an NCHW input.
        nhwc = shape[3] in (1, 3, 4) and shape[1] not in (1, 3, 4)
        chw = [shape[3], shape[1], shape[2]] if nhwc else shape[1:]
        in_name = 'input' if not self.inputs else self.uname('input')
        self.used.add(in_name)
        self.inputs.append(helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ['N'] + chw))
        self.tf_inputs.append(name)
        self.vals[(name, 0)] = Val(in_name, NHWC if nhwc else ident(4), shape)
        self.input_hw = chw[1:]

    def _conv_of(self, ref, v):
        # a conv bias may only absorb an Add if nothing else reads the conv
        return v.conv if self.consumers[split_ref(ref)] == 1 else None

    def op_Identity(self, name, ins, attrs):
        v = self.get(ins[0])
        self.vals[(name, 0)] = Val(v.name, v.perm, v.shape, pad=v.pad,
                                   conv=self._conv_of(ins[0], v), sig=v.sig)
    op_StopGradient = op_Snapshot = op_Identity

    def op_Transpose(self, name, ins, attrs):
        v = self.get(ins[0])
        p = [int(x) for x in self.const(ins[1], 'Transpose perm')]
        self.vals[(name, 0)] = Val(v.name, [v.perm[i] for i in p], [v.shape[i] for i in p],
                                   pad=v.pad, conv=self._conv_of(ins[0], v), sig=v.sig)

    def _pad(self, name, v, pads_tf, value):
        v = self.flush_pad(v)
        pads = [(0, 0)] * len(v.perm)
        for i, (b, e) in enumerate(pads_tf):
            pads[v.perm[i]] = (int(b), int(e))
        shape = [s + int(b) + int(e) for s, (b, e) in zip(v.shape, pads_tf)]
        self.vals[(name, 0)] = Val(v.name, v.perm, shape, pad=(pads, float(value)), sig=v.sig)

    def op_Pad(self, name, ins, attrs):
        self._pad(name, self.get(ins[0]), self.const(ins[1], 'Pad paddings'), 0.0)

    def op_PadV2(self, name, ins, attrs):
        self._pad(name, self.get(ins[0]), self.const(ins[1], 'Pad paddings'),
                  float(np.asarray(self.const(ins[2], 'Pad value')).reshape(())))

    def _spatial_input(self, v, fmt, pad_value):
        """Input name in NCHW plus spatial pads [t, l, b, r] folded from a pending Pad."""
        want = NHWC if fmt == 'NHWC' else ident(4)
        if v.pad is not None and v.perm == want:
            pads, value = v.pad
            if pads[0] == (0, 0) and pads[1] == (0, 0) and value == pad_value:
                return v.name, [pads[2][0], pads[3][0], pads[2][1], pads[3][1]]
        return self.as_layout(v, want), [0, 0, 0, 0]

    @staticmethod
    def _hw(lst, fmt):
        return (lst[1], lst[2]) if fmt == 'NHWC' else (lst[2], lst[3])

    def _window(self, attrs, in_hw, k_hw, s_hw, d_hw):
        """Extra pads [t, l, b, r] for the TF padding mode."""
        mode = attrs.get('padding', 'VALID')
        if mode == 'VALID':
            return [0, 0, 0, 0]
        if mode == 'SAME':
            pb = []
            for n, k, s, d in zip(in_hw, k_hw, s_hw, d_hw):
                total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
                pb.append((total // 2, total - total // 2))
            return [pb[0][0], pb[1][0], pb[0][1], pb[1][1]]
        if mode == 'EXPLICIT':
            e = attrs.get('explicit_paddings') or [0] * 8
            fmt = attrs.get('data_format', 'NHWC')
            hi = (1, 2) if fmt == 'NHWC' else (2, 3)
            return [e[2 * hi[0]], e[2 * hi[1]], e[2 * hi[0] + 1], e[2 * hi[1] + 1]]
        raise ConvertError(f'unsupported padding mode {mode}')

    @staticmethod
    def _out_hw(in_hw, pads, k_hw, s_hw, d_hw):
        return [(n + pads[i] + pads[i + 2] - (k - 1) * d - 1) // s + 1
                for i, (n, k, s, d) in enumerate(zip(in_hw, k_hw, s_hw, d_hw))]

    def _conv(self, name, ins, attrs, depthwise, fused):
        fmt = attrs.get('data_format', 'NHWC')
        if fmt not in ('NHWC', 'NCHW'):
            raise ConvertError(f'{name}: unsupported data_format {fmt}')
        v = self.get(ins[0])
        w = np.asarray(self.const(ins[1], 'conv filter'), np.float32)  # HWIO / HW,I,M
        x, fp = self._spatial_input(v, fmt, 0.0)
        in_hw = list(self._hw(v.shape, fmt))  # size of the TF conv input (after its Pad)
        s_hw = self._hw(attrs.get('strides', [1, 1, 1, 1]), fmt)
        d_hw = self._hw(attrs.get('dilations', [1, 1, 1, 1]), fmt)
        kh, kw = w.shape[0], w.shape[1]
        # TF derives SAME padding from its (already padded) input; folded pads add on top
        unpadded = [in_hw[0] - fp[0] - fp[2], in_hw[1] - fp[1] - fp[3]]
        extra = self._window(attrs, in_hw, (kh, kw), s_hw, d_hw)
        pads = [a + b for a, b in zip(fp, extra)]
        if depthwise:
            cin, mult = w.shape[2], w.shape[3]
            wt = w.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            group, cout = cin, cin * mult
        else:
            cin, cout = w.shape[2], w.shape[3]
            wt = w.transpose(3, 2, 0, 1)
            group = 1
            chan_in = v.shape[3] if fmt == 'NHWC' else v.shape[1]
            if chan_in != cin:
                group = chan_in // cin
        bias = np.zeros(cout, np.float32)
        ops = attrs.get('fused_ops', []) if fused else []
        if ops and ops[0] == 'BiasAdd':
            bias = bias + np.asarray(self.const(ins[2], 'conv bias'), np.float32).reshape(-1)
            ops = ops[1:]
        elif ops:
            raise ConvertError(f"unsupported fused op sequence {attrs.get('fused_ops')} (node {name})")
        base = name.split('/')[-1] if '/' in name else name
        node = self.emit('Conv', [x, self.init(base + '_w', wt), self.init(base + '_b', bias)], base,
                         kernel_shape=[kh, kw], strides=list(s_hw), dilations=list(d_hw),
                         pads=pads, group=group)
        out_hw = self._out_hw(unpadded, pads, (kh, kw), s_hw, d_hw)
        shape = [v.shape[0]] + (out_hw + [cout] if fmt == 'NHWC' else [cout] + out_hw)
        out = Val(node.output[0], NHWC if fmt == 'NHWC' else ident(4), shape, conv=node)
        for a in ops:
            out = self._activation(name + '_' + a, a, out, attrs)
        self.vals[(name, 0)] = out

    def op_Conv2D(self, name, ins, attrs):
        self._conv(name, ins, attrs, False, False)

    def op_DepthwiseConv2dNative(self, name, ins, attrs):
        self._conv(name, ins, attrs, True, False)

    def op__FusedConv2D(self, name, ins, attrs):
        self._conv(name, ins, attrs, False, True)

    def op_FusedDepthwiseConv2dNative(self, name, ins, attrs):
        self._conv(name, ins, attrs, True, True)

    def _pool(self, name, ins, attrs, op):
        fmt = attrs.get('data_format', 'NHWC')
        v = self.get(ins[0])
        # MaxPool pads with -inf, so only a -inf Pad can be folded into it
        x, fp = self._spatial_input(v, fmt, -np.inf if op == 'MaxPool' else 0.0)
        in_hw = list(self._hw(v.shape, fmt))
        k_hw = self._hw(attrs['ksize'], fmt)
        s_hw = self._hw(attrs['strides'], fmt)
        unpadded = [in_hw[0] - fp[0] - fp[2], in_hw[1] - fp[1] - fp[3]]
        extra = self._window(attrs, in_hw, k_hw, s_hw, (1, 1))
        kw = {}
        if op == 'AveragePool':
            # TF SAME averages exclude the border, an explicit zero Pad counts
            if any(fp) and any(extra):
                raise ConvertError(f'{name}: cannot mix explicit Pad and SAME for AvgPool')
            kw['count_include_pad'] = 1 if any(fp) else 0
        pads = [a + b for a, b in zip(fp, extra)]
        node = self.emit(op, [x], name.split('/')[-1], kernel_shape=list(k_hw),
                         strides=list(s_hw), pads=pads, **kw)
        out_hw = self._out_hw(unpadded, pads, k_hw, s_hw, (1, 1))
        c = v.shape[3] if fmt == 'NHWC' else v.shape[1]
        shape = [v.shape[0]] + (out_hw + [c] if fmt == 'NHWC' else [c] + out_hw)
        self.vals[(name, 0)] = Val(node.output[0], NHWC if fmt == 'NHWC' else ident(4), shape)

    def op_MaxPool(self, name, ins, attrs):
        self._pool(name, ins, attrs, 'MaxPool')

    def op_AvgPool(self, name, ins, attrs):
        self._pool(name, ins, attrs, 'AveragePool')

    def _activation(self, name, kind, v, attrs):
        v = self.flush_pad(v)
        base = name.split('/')[-1]
        if kind == 'Relu':
            n = self.emit('Relu', [v.name], base)
        elif kind == 'LeakyRelu':
            alpha = attrs.get('alpha', attrs.get('leakyrelu_alpha', 0.2))
            n = self.emit('LeakyRelu', [v.name], base, alpha=float(alpha))
        elif kind == 'Sigmoid':
            n = self.emit('Sigmoid', [v.name], base)
        elif kind == 'Tanh':
            n = self.emit('Tanh', [v.name], base)
        elif kind == 'Elu':
            n = self.emit('Elu', [v.name], base, alpha=1.0)
        elif kind == 'Relu6':
            # OpenCV 4.6 rejects opset-11 Clip (min/max as inputs):
            # relu6(x) = relu(x) - relu(x - 6) uses only plain ops.
            r1 = self.emit('Relu', [v.name], base + '_a').output[0]
            six = self.init(base + '_six', np.array(6.0, np.float32))
            sh = self.emit('Sub', [v.name, six], base + '_s').output[0]
            r2 = self.emit('Relu', [sh], base + '_b').output[0]
            n = self.emit('Sub', [r1, r2], base)
        else:
            raise ConvertError(f"unsupported TF op '{kind}' (node {name})")
        return Val(n.output[0], v.perm, v.shape, sig=(kind == 'Sigmoid'))

    def _unary(self, name, ins, attrs, kind):
        self.vals[(name, 0)] = self._activation(name, kind, self.get(ins[0]), attrs)

    def op_Relu(self, name, ins, attrs):
        self._unary(name, ins, attrs, 'Relu')

    def op_Relu6(self, name, ins, attrs):
        self._unary(name, ins, attrs, 'Relu6')

    def op_LeakyRelu(self, name, ins, attrs):
        self._unary(name, ins, attrs, 'LeakyRelu')

    def op_Sigmoid(self, name, ins, attrs):
        self._unary(name, ins, attrs, 'Sigmoid')

    def op_Tanh(self, name, ins, attrs):
        self._unary(name, ins, attrs, 'Tanh')

    def op_Elu(self, name, ins, attrs):
        self._unary(name, ins, attrs, 'Elu')

    def _binary(self, name, ins, attrs, onnx_op):
        a, b = ins[0], ins[1]
        base = name.split('/')[-1]
        if self.is_const(a) or self.is_const(b):
            cref, vref = (a, b) if self.is_const(a) else (b, a)
            c, v = np.asarray(self.const(cref), np.float32), self.get(vref)
            # a per-channel constant added to a conv output becomes its bias
            if (onnx_op == 'Add' and v.conv is not None and v.pad is None and c.ndim <= 4
                    and self.consumers[split_ref(vref)] == 1):
                chan = v.perm.index(1)  # tf axis holding the conv's output channels
                c4 = c.reshape((1,) * (4 - c.ndim) + c.shape)
                per_channel = all(d == 1 for i, d in enumerate(c4.shape) if i != chan)
            else:
                per_channel = False
            if per_channel:
                binit = next(t for t in self.inits if t.name == v.conv.input[2])
                newb = numpy_helper.to_array(binit) + c.reshape(-1)
                binit.CopyFrom(numpy_helper.from_array(newb.astype(np.float32), binit.name))
                self.vals[(name, 0)] = Val(v.name, v.perm, v.shape, conv=v.conv)
                return
            v2 = self.flush_pad(v)
            cn = self.const_in_layout(c, v2.perm, base + '_c')
            order = [cn, v2.name] if cref == a else [v2.name, cn]
            n = self.emit(onnx_op, order, base)
            shape = list(np.broadcast_shapes(tuple(v.shape), c.shape))
            self.vals[(name, 0)] = Val(n.output[0], v2.perm, shape)
            return
        va, vb = self.get(a), self.get(b)
        if len(va.perm) != len(vb.perm):
            xa, xb, perm = self.as_layout(va, ident(len(va.perm))), self.as_layout(vb, ident(len(vb.perm))), None
        else:
            perm = va.perm
            xa, xb = self.as_layout(va, perm), self.as_layout(vb, perm)
        n = self.emit(onnx_op, [xa, xb], base)
        shape = list(np.broadcast_shapes(tuple(va.shape), tuple(vb.shape)))
        self.vals[(name, 0)] = Val(n.output[0], perm or ident(len(shape)), shape)

    def op_Add(self, name, ins, attrs):
        self._binary(name, ins, attrs, 'Add')
    op_AddV2 = op_BiasAdd = op_Add

    def op_Sub(self, name, ins, attrs):
        self._binary(name, ins, attrs, 'Sub')

    def op_Mul(self, name, ins, attrs):
        self._binary(name, ins, attrs, 'Mul')

    def op_RealDiv(self, name, ins, attrs):
        self._binary(name, ins, attrs, 'Div')

    def op_ConcatV2(self, name, ins, attrs):
        axis = int(np.asarray(self.const(ins[-1], 'Concat axis')).reshape(()))
        parts = ins[:-1]
        dyn = [self.get(p) for p in parts if not self.is_const(p)]
        rank = len(dyn[0].perm)
        axis %= rank
        perm = dyn[0].perm
        names, shape = [], None
        for p in parts:
            if self.is_const(p):
                c = np.asarray(self.const(p), np.float32)
                names.append(self.init(name.split('/')[-1] + '_c', np.transpose(c, inv_perm(perm))))
                s = list(c.shape)
            else:
                v = self.get(p)
                names.append(self.as_layout(v, perm))
                s = v.shape
            if shape is None:
                shape = list(s)
            else:
                shape[axis] += s[axis]
        n = self.emit('Concat', names, name.split('/')[-1], axis=perm[axis])
        self.vals[(name, 0)] = Val(n.output[0], perm, shape)

    def _split(self, name, v, sizes, axis):
        v = self.flush_pad(v)
        axis %= len(v.perm)
        sizes = [int(s) for s in sizes]
        if -1 in sizes:
            sizes[sizes.index(-1)] = v.shape[axis] - (sum(sizes) + 1)
        n = self.emit('Split', [v.name], name.split('/')[-1], n_out=len(sizes),
                      axis=v.perm[axis], split=sizes)
        for k, (o, s) in enumerate(zip(n.output, sizes)):
            shape = list(v.shape)
            shape[axis] = s
            self.vals[(name, k)] = Val(o, v.perm, shape)

    def op_SplitV(self, name, ins, attrs):
        self._split(name, self.get(ins[0]), self.const(ins[1], 'split sizes'),
                    int(np.asarray(self.const(ins[2], 'split axis')).reshape(())))

    def op_Split(self, name, ins, attrs):
        v = self.get(ins[1])
        axis = int(np.asarray(self.const(ins[0], 'split axis')).reshape(()))
        k = attrs['num_split']
        self._split(name, v, [v.shape[axis % len(v.shape)] // k] * k, axis)

    def op_Reshape(self, name, ins, attrs):
        v = self.get(ins[0])
        shape = [int(s) for s in np.asarray(self.const(ins[1], 'Reshape shape')).reshape(-1)]
        x = self.as_layout(v, ident(len(v.perm)))
        # resolve the static result first (for later scale/size computations)
        total = int(np.prod(v.shape))
        known = int(np.prod([s for s in shape if s != -1])) or 1
        static = [total // known if s == -1 else s for s in shape]
        emitted = list(shape)
        # batch: copy it from the input (0) so that N > 1 is not merged into -1
        if len(emitted) >= 2 and emitted[0] == 1 and v.shape[0] == 1:
            emitted[0] = 0
        n = self.emit('Reshape', [x, self.init(name.split('/')[-1] + '_shape', np.array(emitted, np.int64))],
                      name.split('/')[-1])
        self.vals[(name, 0)] = Val(n.output[0], ident(len(static)), static, sig=v.sig)

    def _resize(self, name, ins, attrs, mode):
        v = self.get(ins[0])
        size = [int(s) for s in np.asarray(self.const(ins[1], 'resize size')).reshape(-1)]
        x = self.as_layout(v, NHWC)
        ih, iw = v.shape[1], v.shape[2]
        if attrs.get('align_corners'):
            ctm = 'align_corners'
        elif attrs.get('half_pixel_centers'):
            ctm = 'half_pixel' if mode == 'linear' else 'tf_half_pixel_for_nn'
        else:
            ctm = 'asymmetric'
        # constant scales (not sizes) keep the model usable at other input sizes
        scales = self.init(name.split('/')[-1] + '_scales',
                           np.array([1, 1, size[0] / ih, size[1] / iw], np.float32))
        roi = self.init(name.split('/')[-1] + '_roi', np.zeros(0, np.float32))
        kw = {'nearest_mode': 'floor'} if mode == 'nearest' else {}
        n = self.emit('Resize', [x, roi, scales], name.split('/')[-1],
                      mode=mode, coordinate_transformation_mode=ctm, **kw)
        self.vals[(name, 0)] = Val(n.output[0], NHWC, [v.shape[0], size[0], size[1], v.shape[3]])

    def op_ResizeBilinear(self, name, ins, attrs):
        self._resize(name, ins, attrs, 'linear')

    def op_ResizeNearestNeighbor(self, name, ins, attrs):
        self._resize(name, ins, attrs, 'nearest')

    def op_Mean(self, name, ins, attrs):
        v = self.flush_pad(self.get(ins[0]))
        axes = sorted(int(a) % len(v.perm) for a in np.asarray(self.const(ins[1], 'Mean axes')).reshape(-1))
        keep = attrs.get('keep_dims', False)
        e_axes = sorted(v.perm[a] for a in axes)
        base = name.split('/')[-1]
        if len(v.perm) == 4 and e_axes == [2, 3] and keep:
            n = self.emit('GlobalAveragePool', [v.name], base)
            perm = v.perm
        else:
            n = self.emit('ReduceMean', [v.name], base, axes=e_axes, keepdims=int(keep))
            if keep:
                perm = v.perm
            else:  # renumber the surviving E axes
                rem = [p for i, p in enumerate(v.perm) if i not in axes]
                perm = tuple(sorted(rem).index(p) for p in rem)
        shape = [1 if i in axes else s for i, s in enumerate(v.shape)] if keep else \
            [s for i, s in enumerate(v.shape) if i not in axes]
        self.vals[(name, 0)] = Val(n.output[0], perm, shape)


# ---------------------------------------------------------- constant folding

def _sparse_to_dense(v, attrs):
    idx, shape, values, default = v
    out = np.full([int(s) for s in np.asarray(shape).reshape(-1)], default, dtype=np.asarray(values).dtype)
    idx = np.asarray(idx).reshape(-1, max(out.ndim, 1))
    vals = np.broadcast_to(np.asarray(values), (idx.shape[0],))
    for row, val in zip(idx, vals):
        out[tuple(row)] = val
    return out


def _strided_slice(v, attrs):
    x, begin, end, strides = v
    if attrs.get('ellipsis_mask') or attrs.get('new_axis_mask'):
        raise ConvertError('constant StridedSlice with ellipsis/new_axis masks unsupported')
    sl = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if attrs.get('shrink_axis_mask', 0) >> i & 1:
            sl.append(int(b))
            continue
        sl.append(slice(None if attrs.get('begin_mask', 0) >> i & 1 else int(b),
                        None if attrs.get('end_mask', 0) >> i & 1 else int(e), int(s)))
    return np.asarray(x)[tuple(sl)]


FOLDABLE = {
    'SparseToDense': _sparse_to_dense,
    'Add': lambda v, a: np.add(v[0], v[1]),
    'AddV2': lambda v, a: np.add(v[0], v[1]),
    'Sub': lambda v, a: np.subtract(v[0], v[1]),
    'Mul': lambda v, a: np.multiply(v[0], v[1]),
    'RealDiv': lambda v, a: np.divide(v[0], v[1]),
    'FloorDiv': lambda v, a: np.floor_divide(v[0], v[1]),
    'FloorMod': lambda v, a: np.mod(v[0], v[1]),
    'Maximum': lambda v, a: np.maximum(v[0], v[1]),
    'Minimum': lambda v, a: np.minimum(v[0], v[1]),
    'Identity': lambda v, a: v[0],
    'Cast': lambda v, a: np.asarray(v[0]).astype(
        {'DT_FLOAT': np.float32, 'DT_INT32': np.int32, 'DT_INT64': np.int64,
         'DT_BOOL': np.bool_}.get(a.get('DstT'), np.float32)),
    'Reshape': lambda v, a: np.reshape(v[0], [int(s) for s in np.asarray(v[1]).reshape(-1)]),
    'Transpose': lambda v, a: np.transpose(v[0], [int(s) for s in v[1]]),
    'ConcatV2': lambda v, a: np.concatenate([np.atleast_1d(x) for x in v[:-1]], int(v[-1])),
    'Pack': lambda v, a: np.stack(v, a.get('axis', 0)),
    'ExpandDims': lambda v, a: np.expand_dims(v[0], int(v[1])),
    'Squeeze': lambda v, a: np.squeeze(v[0], tuple(a.get('squeeze_dims') or []) or None),
    'StridedSlice': _strided_slice,
}


# ------------------------------------------------------------------- main ---

def output_names(conv, outs):
    """TF output ref -> ONNX output name (cls_<stride>/box_<stride> for dense heads)."""
    names, taken = {}, set()
    ih, iw = conv.input_hw
    for o in outs:
        v = conv.get(o)
        name = None
        if not isinstance(v, np.ndarray) and len(v.shape) == 3:
            hw = v.shape[1]
            stride = math.sqrt(ih * iw / hw) if hw else 0
            if stride and abs(stride - round(stride)) < 1e-9:
                name = f"{'cls' if v.sig else 'box'}_{int(round(stride))}"
        if not name or name in taken:
            name = ''.join(c if c.isalnum() or c == '_' else '_' for c in o.split(':')[0])
        taken.add(name)
        names[o] = name
    return names


def convert(model_path, opset=11, outputs=None):
    with open(model_path) as f:
        model = json.load(f)
    if model.get('format') not in (None, 'graph-model') or 'node' not in model.get('modelTopology', {}):
        raise ConvertError('not a TF.js graph model')
    conv = Converter(model, load_weights(model_path, model), outputs)
    outs = conv.run()
    names = output_names(conv, outs)
    # dense heads: order outputs cls_8, box_8, cls_16, box_16, ... (stride-major)
    heads = [names[o].split('_') for o in outs]
    if all(len(h) == 2 and h[0] in ('cls', 'box') and h[1].isdigit() for h in heads):
        outs = sorted(outs, key=lambda o: (int(names[o].split('_')[1]), names[o].startswith('box')))
    rename, graph_outs, mapping = {}, [], {}
    for o in outs:
        v = conv.get(o)
        if isinstance(v, np.ndarray):
            raise ConvertError(f"output '{o}' is constant")
        x = conv.as_layout(v, ident(len(v.perm)))
        if x in rename or any(x == i.name for i in conv.inputs):
            x = conv.emit('Identity', [x], names[o] + '_id').output[0]
        rename[x] = names[o]
        mapping[names[o]] = o.split(':')[0] if o.endswith(':0') else o
        dims = ['N'] + [int(s) for s in v.shape[1:]]
        graph_outs.append(helper.make_tensor_value_info(names[o], TensorProto.FLOAT, dims))
    for n in conv.onnx_nodes:
        for lst in (n.input, n.output):
            for i, x in enumerate(lst):
                if x in rename:
                    lst[i] = rename[x]
        if n.name in rename:
            n.name = rename[n.name]
    graph = helper.make_graph(conv.onnx_nodes, os.path.splitext(os.path.basename(model_path))[0],
                              conv.inputs, graph_outs, conv.inits)
    m = helper.make_model(graph, producer_name='slipstream-tfjs2onnx',
                          opset_imports=[helper.make_opsetid('', opset)])
    m.ir_version = 7  # readable by onnx 1.12 and OpenCV 4.6
    meta = {'tfjs_model': os.path.basename(model_path),
            'tfjs_outputs': json.dumps(mapping), 'tfjs_inputs': json.dumps(conv.tf_inputs)}
    for k, val in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, val
    onnx.checker.check_model(m)
    return m


def main():
    ap = argparse.ArgumentParser(description='Convert a TF.js graph model to an NCHW ONNX model.')
    ap.add_argument('model', help='TF.js model.json (weight shards next to it)')
    ap.add_argument('out', help='output .onnx path')
    # Resize needs >= 11; Split keeps its 'split' attribute (OpenCV 4.6) only <= 12
    ap.add_argument('--opset', type=int, default=11, choices=(11, 12))
    ap.add_argument('--outputs', help='comma-separated TF node names to export instead of the '
                    'signature outputs (e.g. to stop before unsupported post-processing)')
    ap.add_argument('-q', '--quiet', action='store_true', help='no summary line')
    a = ap.parse_args()
    try:
        m = convert(a.model, a.opset, a.outputs.split(',') if a.outputs else None)
    except ConvertError as e:
        sys.exit(f'tfjs2onnx: error: {e}')
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f'tfjs2onnx: error: {type(e).__name__}: {e}')
    tmp = a.out + '.tmp'
    onnx.save(m, tmp)
    os.replace(tmp, a.out)  # never leave a half-written model behind
    if not a.quiet:
        counts = collections.Counter(n.op_type for n in m.graph.node)
        ops = ', '.join(f'{c} {op}' for op, c in sorted(counts.items(), key=lambda t: (-t[1], t[0])))
        print(f'tfjs2onnx: {a.out}: {len(m.graph.node)} nodes: {ops}')


if __name__ == '__main__':
    main()
