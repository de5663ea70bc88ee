// Shape rules and the constant folder: shape arithmetic (Shape, Gather,
// Concat, Range, ...) and anything else whose inputs are all known is computed
// on the host at plan time, once the batch is known.
#include "ops.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ss::engine {

int64_t normalize_axis(const Graph& g, const Node& n, int64_t axis, std::size_t rank) {
    const int64_t r = int64_t(rank);
    if (axis < -r || axis >= r)
        fail_node(g, n, "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
    return axis < 0 ? axis + r : axis;
}

std::vector<int64_t> as_ints(const HostTensor& t) {
    if (t.is_int) return t.ints;
    std::vector<int64_t> v;
    for (float f : t.floats) v.push_back(int64_t(f));
    return v;
}

std::optional<std::vector<int64_t>> axes_of(const Node& n, const HostTensor* input) {
    if (input) return as_ints(*input);
    if (n.has("axes")) return n.ints_attr("axes");
    return std::nullopt;
}

static std::string dims_text(const Dims& d) {
    std::string s = "[";
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(d[i]);
    }
    return s + "]";
}

Dims broadcast_dims(const Graph& g, const Node& n, const Dims& a, const Dims& b) {
    const std::size_t rank = std::max(a.size(), b.size());
    Dims out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
        const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
        if (da != db && da != 1 && db != 1)
            fail_node(g, n, "shapes " + dims_text(a) + " and " + dims_text(b) + " do not broadcast");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

View broadcast_view(const View& v, const Dims& out) {
    View r{out, std::vector<int64_t>(out.size(), 0), v.offset};
    const std::size_t lead = out.size() - v.dims.size();
    for (std::size_t i = 0; i < v.dims.size(); ++i)
        r.strides[lead + i] = (v.dims[i] == 1 && out[lead + i] != 1) ? 0 : v.strides[i];
    return r;
}

Dims reshape_dims(const Graph& g, const Node& n, const Dims& in, const HostTensor& shape) {
    const auto target = as_ints(shape);
    const bool allow_zero = n.int_attr("allowzero", 0) != 0;
    Dims out;
    int infer = -1;
    for (std::size_t i = 0; i < target.size(); ++i) {
        int64_t d = target[i];
        if (d == 0 && !allow_zero) {
            if (i >= in.size()) fail_node(g, n, "shape entry 0 at position " + std::to_string(i) + " has no input dim to copy");
            d = in[i];
        } else if (d == -1) {
            if (infer >= 0) fail_node(g, n, "shape " + dims_text(target) + " has more than one -1");
            infer = int(i);
            d = 1;
        } else if (d <= 0) {
            fail_node(g, n, "shape " + dims_text(target) + " is not supported (empty tensors are not)");
        }
        out.push_back(d);
    }
    const int64_t total = product(in), known = product(out);
    if (infer >= 0) {
        if (known == 0 || total % known) fail_node(g, n, "cannot reshape " + dims_text(in) + " to " + dims_text(target));
        out[infer] = total / known;
    }
    if (product(out) != total) fail_node(g, n, "cannot reshape " + dims_text(in) + " to " + dims_text(target));
    return out;
}

Dims flatten_dims(const Graph& g, const Node& n, const Dims& in) {
    int64_t axis = n.int_attr("axis", 1);
    if (axis < 0) axis += int64_t(in.size());
    if (axis < 0 || axis > int64_t(in.size())) fail_node(g, n, "axis out of range");
    return {product(in, 0, axis), product(in, axis)};
}

Dims squeeze_dims(const Graph& g, const Node& n, const Dims& in, const std::optional<std::vector<int64_t>>& axes) {
    std::vector<bool> drop(in.size(), false);
    if (!axes) {
        for (std::size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
    } else {
        for (int64_t a : *axes) {
            const int64_t axis = normalize_axis(g, n, a, in.size());
            if (in[axis] != 1) fail_node(g, n, "cannot squeeze axis " + std::to_string(a) + " of " + dims_text(in));
            drop[axis] = true;
        }
    }
    Dims out;
    for (std::size_t i = 0; i < in.size(); ++i)
        if (!drop[i]) out.push_back(in[i]);
    return out;
}

Dims unsqueeze_dims(const Graph& g, const Node& n, const Dims& in, const std::vector<int64_t>& axes) {
    const std::size_t rank = in.size() + axes.size();
    std::vector<bool> inserted(rank, false);
    for (int64_t a : axes) {
        const int64_t axis = normalize_axis(g, n, a, rank);
        if (inserted[axis]) fail_node(g, n, "axis " + std::to_string(a) + " repeats");
        inserted[axis] = true;
    }
    Dims out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < rank; ++i) out.push_back(inserted[i] ? 1 : in[next++]);
    return out;
}

Dims concat_dims(const Graph& g, const Node& n, const std::vector<Dims>& inputs, int64_t axis) {
    Dims out = inputs.at(0);
    out[axis] = 0;
    for (const Dims& d : inputs) {
        if (d.size() != out.size()) fail_node(g, n, "inputs differ in rank");
        for (std::size_t i = 0; i < d.size(); ++i)
            if (int64_t(i) != axis && d[i] != out[i])
                fail_node(g, n, "input shapes " + dims_text(inputs[0]) + " and " + dims_text(d) + " differ off the axis");
        out[axis] += d[axis];
    }
    return out;
}

std::vector<int64_t> transpose_perm(const Graph& g, const Node& n, std::size_t rank) {
    std::vector<int64_t> perm = n.ints_attr("perm");
    if (perm.empty())
        for (int64_t i = int64_t(rank) - 1; i >= 0; --i) perm.push_back(i);
    std::vector<bool> seen(rank, false);
    if (perm.size() != rank) fail_node(g, n, "perm does not match the input's rank");
    for (int64_t& p : perm) {
        p = normalize_axis(g, n, p, rank);
        if (seen[p]) fail_node(g, n, "perm is not a permutation");
        seen[p] = true;
    }
    return perm;
}

View transpose_view(const View& v, const std::vector<int64_t>& perm) {
    View r{{}, {}, v.offset};
    for (int64_t p : perm) {
        r.dims.push_back(v.dims[p]);
        r.strides.push_back(v.strides[p]);
    }
    return r;
}

View slice_view(const Graph& g, const Node& n, const View& v, const std::vector<int64_t>& starts,
                const std::vector<int64_t>& ends, std::optional<std::vector<int64_t>> axes,
                std::optional<std::vector<int64_t>> steps) {
    if (starts.size() != ends.size()) fail_node(g, n, "starts and ends differ in length");
    if (!axes) {
        axes.emplace();
        for (std::size_t i = 0; i < starts.size(); ++i) axes->push_back(int64_t(i));
    }
    if (!steps) steps.emplace(starts.size(), 1);
    if (axes->size() != starts.size() || steps->size() != starts.size())
        fail_node(g, n, "starts, ends, axes and steps differ in length");
    View r = v;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const int64_t axis = normalize_axis(g, n, (*axes)[i], v.dims.size());
        const int64_t dim = v.dims[axis], step = (*steps)[i];
        if (step == 0) fail_node(g, n, "step 0");
        // Exports use INT64_MAX/MIN for "to the end"; adding dim to a negative never overflows.
        auto clamp = [](int64_t x, int64_t dim, int64_t lo, int64_t hi) {
            if (x < 0) x += dim;
            return std::clamp<int64_t>(x, lo, hi);
        };
        int64_t start, end, count;
        if (step > 0) {
            start = clamp(starts[i], dim, 0, dim);
            end = clamp(ends[i], dim, 0, dim);
            count = end > start ? (end - start + step - 1) / step : 0;
        } else {
            start = clamp(starts[i], dim, 0, dim - 1);
            end = clamp(ends[i], dim, -1, dim - 1);
            count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
        }
        if (count == 0) fail_node(g, n, "the slice is empty (empty tensors are not supported)");
        r.offset += start * v.strides[axis];
        r.strides[axis] = v.strides[axis] * step;
        r.dims[axis] = count;
    }
    return r;
}

std::vector<int64_t> split_sizes(const Graph& g, const Node& n, int64_t dim, const HostTensor* split_input) {
    std::vector<int64_t> sizes;
    if (split_input) sizes = as_ints(*split_input);
    else if (n.has("split")) sizes = n.ints_attr("split");
    const int64_t parts = int64_t(n.outputs.size());
    if (sizes.empty()) {
        // Equal parts; opset 18's num_outputs lets the last one be smaller.
        const int64_t each = (dim + parts - 1) / parts;
        if (!n.has("num_outputs") && dim % parts)
            fail_node(g, n, "cannot split " + std::to_string(dim) + " into " + std::to_string(parts) + " equal parts");
        for (int64_t i = 0, left = dim; i < parts; ++i, left -= each) sizes.push_back(std::min(each, left));
    }
    int64_t total = 0;
    for (int64_t s : sizes) {
        if (s <= 0) fail_node(g, n, "split sizes must be positive (empty tensors are not supported)");
        total += s;
    }
    if (int64_t(sizes.size()) != parts || total != dim)
        fail_node(g, n, "split sizes do not add up to the axis (" + std::to_string(dim) + ") over " +
                            std::to_string(parts) + " outputs");
    return sizes;
}

View select_view(const View& v, std::size_t axis, int64_t index) {
    View r{{}, {}, v.offset + index * v.strides[axis]};
    for (std::size_t i = 0; i < v.dims.size(); ++i)
        if (i != axis) {
            r.dims.push_back(v.dims[i]);
            r.strides.push_back(v.strides[i]);
        }
    return r;
}

Dims expand_dims(const Graph& g, const Node& n, const Dims& in, const HostTensor& shape) {
    return broadcast_dims(g, n, in, as_ints(shape));
}

HostTensor materialize(const HostTensor& src, const View& v) {
    HostTensor out;
    out.dims = v.dims;
    out.is_int = src.is_int;
    const int64_t count = product(v.dims);
    if (src.is_int) out.ints.resize(count);
    else out.floats.resize(count);
    const auto out_strides = row_major_strides(v.dims);
    for_each_strided(v.dims, v.strides, v.offset, out_strides, 0, [&](int64_t i, int64_t o) {
        if (src.is_int) out.ints[o] = src.ints[i];
        else out.floats[o] = src.floats[i];
    });
    return out;
}

namespace {

HostTensor reshaped(HostTensor t, Dims dims) {
    t.dims = std::move(dims);
    return t;
}

HostTensor elementwise(const Graph& g, const Node& n, const HostTensor& a, const HostTensor& b) {
    if (a.is_int != b.is_int) fail_node(g, n, "operands differ in type");
    const Dims dims = broadcast_dims(g, n, a.dims, b.dims);
    const View va = broadcast_view(row_major_view(a.dims), dims), vb = broadcast_view(row_major_view(b.dims), dims);
    HostTensor ea = materialize(a, va), eb = materialize(b, vb), out;
    out.dims = dims;
    const std::string& op = n.op;
    const int64_t count = product(dims);
    if (a.is_int) {
        out.is_int = true;
        out.ints.resize(count);
        for (int64_t i = 0; i < count; ++i) {
            const int64_t x = ea.ints[i], y = eb.ints[i];
            if (op == "Add") out.ints[i] = x + y;
            else if (op == "Sub") out.ints[i] = x - y;
            else if (op == "Mul") out.ints[i] = x * y;
            else if (op == "Equal") out.ints[i] = x == y;
            else {
                if (y == 0) fail_node(g, n, "integer division by zero in shape arithmetic");
                out.ints[i] = x / y;
            }
        }
    } else if (op == "Equal") {
        out.is_int = true;
        out.ints.resize(count);
        for (int64_t i = 0; i < count; ++i) out.ints[i] = ea.floats[i] == eb.floats[i];
    } else {
        out.floats.resize(count);
        for (int64_t i = 0; i < count; ++i) {
            const float x = ea.floats[i], y = eb.floats[i];
            out.floats[i] = op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y;
        }
    }
    return out;
}

HostTensor cast(const HostTensor& t, int64_t to) {
    // TensorProto: FLOAT=1, INT32=6, INT64=7, BOOL=9, FLOAT16=10, DOUBLE=11.
    const bool to_int = to == 6 || to == 7 || to == 9;
    HostTensor out;
    out.dims = t.dims;
    out.is_int = to_int;
    if (to_int && !t.is_int)
        for (float f : t.floats) out.ints.push_back(to == 9 ? f != 0.f : int64_t(f));
    else if (to_int)
        for (int64_t v : t.ints) out.ints.push_back(to == 9 ? v != 0 : v);
    else if (t.is_int)
        for (int64_t v : t.ints) out.floats.push_back(float(v));
    else
        out.floats = t.floats;
    return out;
}

}  // namespace

std::vector<HostTensor> fold_node(const Graph& g, const Node& n, const std::vector<const HostTensor*>& in) {
    const std::string& op = n.op;
    auto input = [&](std::size_t i) -> const HostTensor& {
        if (i >= in.size() || !in[i]) fail_node(g, n, "input " + std::to_string(i) + " is missing");
        return *in[i];
    };
    auto optional_input = [&](std::size_t i) { return i < in.size() ? in[i] : nullptr; };
    auto floats_only = [&](const HostTensor& t) {
        if (t.is_int) fail_node(g, n, "integer input is not supported");
        return t;
    };

    if (op == "Identity") return {input(0)};
    if (op == "Cast") return {cast(input(0), n.int_attr("to", 1))};
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Equal")
        return {elementwise(g, n, input(0), input(1))};
    if (op == "Neg") {
        HostTensor t = input(0);
        for (auto& v : t.ints) v = -v;
        for (auto& v : t.floats) v = -v;
        return {t};
    }
    if (op == "Relu" || op == "LeakyRelu" || op == "Sigmoid" || op == "Exp") {
        HostTensor t = floats_only(input(0));
        const float alpha = n.float_attr("alpha", 0.01f);
        for (float& v : t.floats) {
            if (op == "Relu") v = std::max(v, 0.f);
            else if (op == "LeakyRelu") v = v < 0 ? v * alpha : v;
            else if (op == "Sigmoid") v = 1.f / (1.f + std::exp(-v));
            else v = std::exp(v);
        }
        return {t};
    }
    if (op == "Where") {
        const HostTensor &c = input(0), &a = input(1), &b = input(2);
        if (a.is_int != b.is_int) fail_node(g, n, "operands differ in type");
        const Dims dims = broadcast_dims(g, n, broadcast_dims(g, n, c.dims, a.dims), b.dims);
        HostTensor ec = materialize(c, broadcast_view(row_major_view(c.dims), dims));
        HostTensor ea = materialize(a, broadcast_view(row_major_view(a.dims), dims));
        HostTensor eb = materialize(b, broadcast_view(row_major_view(b.dims), dims));
        HostTensor out = ea;
        for (int64_t i = 0; i < product(dims); ++i)
            if (ec.at(i) == 0) {
                if (out.is_int) out.ints[i] = eb.ints[i];
                else out.floats[i] = eb.floats[i];
            }
        return {out};
    }
    if (op == "Reshape") return {reshaped(input(0), reshape_dims(g, n, input(0).dims, input(1)))};
    if (op == "Flatten") return {reshaped(input(0), flatten_dims(g, n, input(0).dims))};
    if (op == "Squeeze") return {reshaped(input(0), squeeze_dims(g, n, input(0).dims, axes_of(n, optional_input(1))))};
    if (op == "Unsqueeze") {
        auto axes = axes_of(n, optional_input(1));
        if (!axes) fail_node(g, n, "has no axes");
        return {reshaped(input(0), unsqueeze_dims(g, n, input(0).dims, *axes))};
    }
    if (op == "Transpose") {
        const auto perm = transpose_perm(g, n, input(0).dims.size());
        return {materialize(input(0), transpose_view(row_major_view(input(0).dims), perm))};
    }
    if (op == "Slice") {
        auto steps = optional_input(4) ? std::optional(as_ints(*in[4])) : std::nullopt;
        return {materialize(input(0), slice_view(g, n, row_major_view(input(0).dims), as_ints(input(1)),
                                                 as_ints(input(2)), axes_of(n, optional_input(3)), steps))};
    }
    if (op == "Split") {
        const HostTensor& x = input(0);
        const int64_t axis = normalize_axis(g, n, n.int_attr("axis", 0), x.dims.size());
        const auto sizes = split_sizes(g, n, x.dims[axis], optional_input(1));
        std::vector<HostTensor> outs;
        int64_t start = 0;
        for (int64_t s : sizes) {
            View v = row_major_view(x.dims);
            v.offset += start * v.strides[axis];
            v.dims[axis] = s;
            outs.push_back(materialize(x, v));
            start += s;
        }
        return outs;
    }
    if (op == "Concat") {
        std::vector<Dims> dims;
        for (std::size_t i = 0; i < in.size(); ++i) dims.push_back(input(i).dims);
        const int64_t axis = normalize_axis(g, n, n.int_attr("axis", 0), dims.at(0).size());
        HostTensor out;
        out.dims = concat_dims(g, n, dims, axis);
        out.is_int = input(0).is_int;
        const auto strides = row_major_strides(out.dims);
        const int64_t count = product(out.dims);
        if (out.is_int) out.ints.resize(count);
        else out.floats.resize(count);
        int64_t start = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            const HostTensor& x = input(i);
            if (x.is_int != out.is_int) fail_node(g, n, "inputs differ in type");
            for_each_strided(x.dims, row_major_strides(x.dims), 0, strides, start * strides[axis],
                             [&](int64_t s, int64_t d) {
                                 if (out.is_int) out.ints[d] = x.ints[s];
                                 else out.floats[d] = x.floats[s];
                             });
            start += x.dims[axis];
        }
        return {out};
    }
    if (op == "Gather") {
        const HostTensor &x = input(0), &indices = input(1);
        if (x.dims.empty()) fail_node(g, n, "cannot gather from a scalar");
        const int64_t axis = normalize_axis(g, n, n.int_attr("axis", 0), x.dims.size());
        HostTensor out;
        out.is_int = x.is_int;
        // out = x[:axis] + indices.dims + x[axis+1:]
        out.dims.assign(x.dims.begin(), x.dims.begin() + axis);
        out.dims.insert(out.dims.end(), indices.dims.begin(), indices.dims.end());
        out.dims.insert(out.dims.end(), x.dims.begin() + axis + 1, x.dims.end());
        const int64_t outer = product(x.dims, 0, axis), inner = product(x.dims, axis + 1), dim = x.dims[axis];
        const auto idx = as_ints(indices);
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t k : idx) {
                if (k < -dim || k >= dim) fail_node(g, n, "index " + std::to_string(k) + " is out of range");
                const int64_t base = (o * dim + (k < 0 ? k + dim : k)) * inner;
                for (int64_t i = 0; i < inner; ++i) {
                    if (x.is_int) out.ints.push_back(x.ints[base + i]);
                    else out.floats.push_back(x.floats[base + i]);
                }
            }
        return {out};
    }
    if (op == "Expand") {
        const HostTensor& x = input(0);
        const Dims dims = expand_dims(g, n, x.dims, input(1));
        return {materialize(x, broadcast_view(row_major_view(x.dims), dims))};
    }
    if (op == "Range") {
        const HostTensor &s = input(0), &l = input(1), &d = input(2);
        HostTensor out;
        out.is_int = s.is_int;
        const double start = s.at(0), limit = l.at(0), delta = d.at(0);
        if (delta == 0) fail_node(g, n, "delta 0");
        const int64_t count = std::max<int64_t>(int64_t(std::ceil((limit - start) / delta)), 0);
        out.dims = {count};
        for (int64_t i = 0; i < count; ++i) {
            if (out.is_int) out.ints.push_back(s.ints[0] + i * d.ints[0]);
            else out.floats.push_back(float(start + double(i) * delta));
        }
        return {out};
    }
    if (op == "ConstantOfShape") {
        HostTensor out;
        out.dims = as_ints(input(0));
        for (int64_t d : out.dims)
            if (d <= 0) fail_node(g, n, "empty tensors are not supported");
        HostTensor value;
        if (auto it = n.attributes.find("value"); it != n.attributes.end())
            if (auto* t = std::get_if<HostTensor>(&it->second)) value = *t;
        if (value.floats.empty() && value.ints.empty()) value.floats = {0.f};
        out.is_int = value.is_int;
        if (out.is_int) out.ints.assign(product(out.dims), value.ints.at(0));
        else out.floats.assign(product(out.dims), value.floats.at(0));
        return {out};
    }
    fail_node(g, n, "constant inputs are not supported for this op by the cuda backend; use backend=opencv");
}

}  // namespace ss::engine
