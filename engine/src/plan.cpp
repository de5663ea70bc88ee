// Graph + batch -> Plan. One walk over the nodes in topological order:
// values whose inputs are all known are folded on the host (that is where
// dynamic-batch shape arithmetic disappears); the rest become steps over
// planned tensors. A Conv is held back ("pending") while the nodes that may
// fuse into it (residual Add, activation, SiLU's Sigmoid and Mul) follow, and
// emitted as one ConvStep when its group ends. Arena offsets come last.
#include "graph.hpp"
#include "ops.hpp"

#include <slipstream/error.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace ss::engine {

std::vector<int> step_reads(const Step& step) {
    return std::visit(
        [](const auto& s) -> std::vector<int> {
            using T = std::decay_t<decltype(s)>;
            std::vector<int> r;
            if constexpr (std::is_same_v<T, ConvStep>) r = {s.x, s.w, s.bias, s.residual};
            else if constexpr (std::is_same_v<T, BinaryStep> || std::is_same_v<T, MatMulStep>) r = {s.a, s.b};
            else r = {s.in};
            r.erase(std::remove(r.begin(), r.end(), -1), r.end());
            return r;
        },
        step.params);
}

int step_writes(const Step& step) {
    return std::visit(
        [](const auto& s) -> int {
            if constexpr (std::is_same_v<std::decay_t<decltype(s)>, ConvStep>) return s.y;
            else return s.out;
        },
        step.params);
}

namespace {

constexpr std::size_t arena_alignment = 256;

std::size_t element_size(DType t) { return t == DType::f16 ? 2 : 4; }

// Physical strides per logical dim.
std::vector<int64_t> logical_strides(const PlannedTensor& t) {
    if (t.layout == Layout::nhwc) {
        const int64_t c = t.dims[1], h = t.dims[2], w = t.dims[3];
        return {h * w * c, 1, w * c, c};
    }
    return row_major_strides(t.dims);
}

// Logical dims in the order they are stored.
std::vector<int64_t> physical_order(Layout layout, std::size_t rank) {
    if (layout == Layout::nhwc) return {0, 2, 3, 1};
    std::vector<int64_t> order(rank);
    std::iota(order.begin(), order.end(), 0);
    return order;
}

bool prefers_row_major(const std::string& op) {
    return op == "Softmax" || op == "MatMul" || op == "Reshape" || op == "Flatten" || op == "Squeeze" ||
           op == "Unsqueeze";
}

struct Value {
    enum class Kind { host, tensor, pending, skipped } kind = Kind::host;
    const HostTensor* host = nullptr;
    int tensor = -1;
    int pending = -1;  // PendingConv index
    Dims dims;         // for everything but host values
};

// A Conv held back while the nodes that may fuse into it follow.
struct PendingConv {
    const Node* conv = nullptr;
    ConvStep step;
    Dims dims;
    std::string tail;               // the value the group produces so far
    const Node* add = nullptr;      // the Add that may bring a residual
    const Node* act = nullptr;      // Relu/LeakyRelu/Sigmoid, or SiLU's Mul
    const Node* sigmoid = nullptr;  // SiLU's Sigmoid
    bool active = true;
};

class Planner {
public:
    Planner(const Graph& g, int batch, Precision precision) : g_(g) {
        plan_.model = g.model;
        plan_.batch = batch;
        plan_.precision = precision;
        act_ = precision == Precision::fp16 ? DType::f16 : DType::f32;
    }

    Plan run() {
        if (plan_.batch < 1) fail_model(g_.model, "batch " + std::to_string(plan_.batch) + " is not a batch size");
        if (g_.input_dims[0] == 1 && plan_.batch != 1)
            fail_model(g_.model, "the model fixes its batch at 1, so it cannot run batch " +
                                     std::to_string(plan_.batch) + "; use batch 1 or re-export with a dynamic batch");
        find_needed_and_consumers();
        for (const auto& [name, c] : g_.constants) values_[name] = host_value(&c);
        Dims in_dims = g_.input_dims;
        in_dims[0] = plan_.batch;
        plan_.input = add_tensor(g_.input_name, in_dims, Layout::nhwc, act_);
        values_[g_.input_name] = tensor_value(plan_.input);

        for (const Node& n : g_.nodes)
            if (needed_node(n)) visit(n);
        finish_outputs();
        assign_arena();
        return std::move(plan_);
    }

private:
    const Graph& g_;
    Plan plan_;
    DType act_ = DType::f32;
    std::set<std::string> needed_;
    std::set<std::string> graph_outputs_;
    std::map<std::string, std::vector<const Node*>> consumers_;  // data readers (Shape only reads dims)
    std::map<std::string, HostTensor> folded_;
    std::map<std::string, Value> values_;
    std::map<std::string, int> constant_tensors_;
    std::map<std::pair<int, Layout>, int> relayouts_;
    std::vector<PendingConv> pending_;
    std::map<const Node*, int> absorbers_;            // node -> pending conv it may fuse into
    std::map<const Node*, std::string> silu_inputs_;  // a Mul that completes SiLU -> its x

    // --- the graph's shape -----------------------------------------------------
    void find_needed_and_consumers() {
        for (const auto& o : g_.outputs) {
            needed_.insert(o);
            graph_outputs_.insert(o);
        }
        for (auto it = g_.nodes.rbegin(); it != g_.nodes.rend(); ++it)
            if (needed_node(*it))
                for (const auto& i : it->inputs)
                    if (!i.empty()) needed_.insert(i);
        for (const Node& n : g_.nodes) {
            if (!needed_node(n) || n.op == "Shape") continue;
            for (const auto& i : n.inputs)
                if (!i.empty()) consumers_[i].push_back(&n);
        }
    }

    bool needed_node(const Node& n) const {
        for (const auto& o : n.outputs)
            if (!o.empty() && needed_.count(o)) return true;
        return false;
    }

    // The one node reading `name`, when it is the only reader and no graph output.
    const Node* sole_consumer(const std::string& name) const {
        if (graph_outputs_.count(name)) return nullptr;
        auto it = consumers_.find(name);
        return it != consumers_.end() && it->second.size() == 1 ? it->second[0] : nullptr;
    }

    // --- tensors -----------------------------------------------------------------
    int add_tensor(const std::string& name, const Dims& dims, Layout layout, DType dtype) {
        if (dims.size() > std::size_t(max_rank))
            fail_model(g_.model, "tensor '" + name + "' has rank " + std::to_string(dims.size()) +
                                     "; the cuda backend supports up to " + std::to_string(max_rank));
        PlannedTensor t;
        t.name = name;
        t.dims = dims;
        t.layout = dims.size() == 4 ? layout : Layout::row_major;
        t.dtype = dtype;
        t.bytes = std::size_t(product(dims)) * element_size(dtype);
        plan_.tensors.push_back(std::move(t));
        return int(plan_.tensors.size()) - 1;
    }

    static Value host_value(const HostTensor* h) { return Value{Value::Kind::host, h, -1, -1, {}}; }
    Value tensor_value(int t) { return Value{Value::Kind::tensor, nullptr, t, -1, plan_.tensors[t].dims}; }

    int constant_tensor(const std::string& name, const HostTensor& h) {
        if (auto it = constant_tensors_.find(name); it != constant_tensors_.end()) return it->second;
        Constant c{name, h.dims, {}};
        if (h.is_int) c.values.assign(h.ints.begin(), h.ints.end());
        else c.values = h.floats;
        plan_.constants.push_back(std::move(c));
        PlannedTensor t;
        t.name = name;
        t.dims = h.dims;
        t.constant = true;
        t.constant_index = int(plan_.constants.size()) - 1;
        t.bytes = std::size_t(h.elements()) * sizeof(float);
        plan_.tensors.push_back(std::move(t));
        return constant_tensors_[name] = int(plan_.tensors.size()) - 1;
    }

    const Value& value(const Node& n, const std::string& name) {
        auto it = values_.find(name);
        if (it == values_.end()) fail_node(g_, n, "input '" + name + "' has no value");
        return it->second;
    }

    const HostTensor* host_or_null(const Node& n, std::size_t i) {
        const std::string& name = n.input(i);
        if (name.empty()) return nullptr;
        const Value& v = value(n, name);
        return v.kind == Value::Kind::host ? v.host : nullptr;
    }

    const HostTensor& host_input(const Node& n, std::size_t i, const char* what) {
        const std::string& name = n.input(i);
        if (name.empty()) fail_node(g_, n, std::string("needs its ") + what + " input");
        const HostTensor* h = host_or_null(n, i);
        if (!h)
            fail_node(g_, n, std::string(what) + " must be a constant or computed from shapes only; "
                             "the cuda backend cannot take it from image data");
        return *h;
    }

    const Dims& dims_of(const Node& n, const std::string& name) {
        const Value& v = value(n, name);
        return v.kind == Value::Kind::host ? v.host->dims : v.dims;
    }

    // The planned tensor holding a value (constants become constant tensors).
    int tensor_of(const Node& n, const std::string& name) {
        Value& v = values_.at(name);
        switch (v.kind) {
        case Value::Kind::host: return constant_tensor(name, *v.host);
        case Value::Kind::pending: materialize(v.pending); return values_.at(name).tensor;
        case Value::Kind::skipped: fail_node(g_, n, "internal: input '" + name + "' was fused away");
        case Value::Kind::tensor: break;
        }
        return v.tensor;
    }

    // An activation input: a tensor in the arena, not a constant.
    int activation_of(const Node& n, const std::string& name) {
        const int t = tensor_of(n, name);
        if (plan_.tensors[t].constant) fail_node(g_, n, "internal: a constant reached a step that needs an activation");
        return t;
    }

    int root_of(int t) const { return plan_.tensors[t].alias_of >= 0 ? plan_.tensors[t].alias_of : t; }

    // --- steps -----------------------------------------------------------------
    void add_step(const Node& n, StepParams params) { plan_.steps.push_back(Step{n.name, n.op, std::move(params)}); }

    // Copies the view `src` of tensor `in` into tensor `out` at the slab given by
    // `dst_strides`/`dst_offset` (physical strides of out per logical dim of src).
    void emit_copy(const Node& n, int in, View src, int out, std::vector<int64_t> dst_strides, int64_t dst_offset) {
        const auto order = physical_order(plan_.tensors[out].layout, src.dims.size());
        CopyStep c;
        c.in = in;
        c.out = out;
        c.in_offset = src.offset;
        c.out_offset = dst_offset;
        for (int64_t d : order) {
            if (src.dims[d] == 1) continue;  // size-1 dims move nothing
            const int64_t di = src.dims[d], si = src.strides[d], so = dst_strides[d];
            // Merge with the previous dim when both buffers walk them as one.
            if (!c.dims.empty() && c.in_strides.back() == si * di && c.out_strides.back() == so * di) {
                c.dims.back() *= di;
                c.in_strides.back() = si;
                c.out_strides.back() = so;
                continue;
            }
            c.dims.push_back(di);
            c.in_strides.push_back(si);
            c.out_strides.push_back(so);
        }
        if (c.dims.empty()) c.dims = {1}, c.in_strides = {1}, c.out_strides = {1};
        if (c.dims.size() > std::size_t(max_rank)) fail_node(g_, n, "a copy of rank above " + std::to_string(max_rank));
        add_step(n, std::move(c));
    }

    View view_of(int t) const { return View{plan_.tensors[t].dims, logical_strides(plan_.tensors[t]), 0}; }

    // Whole-tensor copy in -> out (same logical dims).
    void copy_all(const Node& n, int in, View src, int out) {
        emit_copy(n, in, std::move(src), out, logical_strides(plan_.tensors[out]), 0);
    }

    // The same data in another layout (cached: values never change once written).
    int relayout(const Node& n, int t, Layout layout) {
        if (plan_.tensors[t].layout == layout) return t;
        if (auto it = relayouts_.find({t, layout}); it != relayouts_.end()) return it->second;
        const PlannedTensor& src = plan_.tensors[t];
        const int out = add_tensor(src.name + (layout == Layout::nhwc ? "/nhwc" : "/row_major"), src.dims, layout,
                                   src.dtype);
        copy_all(n, t, view_of(t), out);
        return relayouts_[{t, layout}] = out;
    }

    int as_nhwc(const Node& n, int t) {
        if (plan_.tensors[t].dims.size() != 4) fail_node(g_, n, "needs a 4-D input");
        return relayout(n, t, Layout::nhwc);
    }

    // Layout of a 4-D output of a copy-like op: channels last unless every reader wants row major.
    Layout copy_layout(const std::string& out) const {
        auto it = consumers_.find(out);
        bool all_row_major = true;
        if (it != consumers_.end())
            for (const Node* c : it->second) all_row_major = all_row_major && prefers_row_major(c->op);
        return all_row_major ? Layout::row_major : Layout::nhwc;
    }

    void set_output(const std::string& name, int t) { values_[name] = tensor_value(t); }

    // --- the walk ----------------------------------------------------------------
    void visit(const Node& n) {
        if (auto it = absorbers_.find(&n); it != absorbers_.end() && pending_[it->second].active)
            if (absorb(n, pending_[it->second])) return;

        if (n.op == "Shape") return fold_shape(n);
        bool all_host = true;
        for (std::size_t i = 0; i < n.inputs.size(); ++i)
            if (!n.inputs[i].empty() && value(n, n.inputs[i]).kind != Value::Kind::host) all_host = false;
        if (all_host) return fold(n);
        plan_node(n);
    }

    void fold_shape(const Node& n) {
        const Dims& dims = dims_of(n, n.input(0));
        const int64_t rank = int64_t(dims.size());
        int64_t start = n.int_attr("start", 0), end = n.int_attr("end", rank);
        start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
        end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
        HostTensor h;
        h.is_int = true;
        for (int64_t i = start; i < end; ++i) h.ints.push_back(dims[i]);
        h.dims = {int64_t(h.ints.size())};
        folded_[n.outputs[0]] = std::move(h);
        values_[n.outputs[0]] = host_value(&folded_[n.outputs[0]]);
    }

    void fold(const Node& n) {
        std::vector<const HostTensor*> inputs;
        for (std::size_t i = 0; i < n.inputs.size(); ++i) inputs.push_back(host_or_null(n, i));
        auto outs = fold_node(g_, n, inputs);
        for (std::size_t i = 0; i < n.outputs.size() && i < outs.size(); ++i) {
            if (n.outputs[i].empty()) continue;
            folded_[n.outputs[i]] = std::move(outs[i]);
            values_[n.outputs[i]] = host_value(&folded_[n.outputs[i]]);
        }
    }

    void plan_node(const Node& n) {
        const std::string& op = n.op;
        if (op == "Conv") return plan_conv(n);
        if (op == "Identity" || op == "Cast") return plan_identity(n);
        if (op == "Relu" || op == "LeakyRelu" || op == "Sigmoid" || op == "Exp") return plan_unary(n);
        if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return plan_binary(n);
        if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze") return plan_reshape(n);
        if (op == "Transpose" || op == "Slice" || op == "Expand" || op == "Gather") return plan_view(n);
        if (op == "Concat") return plan_concat(n);
        if (op == "Split") return plan_split(n);
        if (op == "Resize" || op == "Upsample") return plan_resize(n);
        if (op == "MaxPool") return plan_maxpool(n);
        if (op == "Softmax") return plan_softmax(n);
        if (op == "MatMul") return plan_matmul(n);
        fail_node(g_, n, "is supported on constant (shape) data only, not on image data, by the cuda backend; "
                         "use backend=opencv");
    }

    // --- Conv and its fusion -----------------------------------------------------
    void plan_conv(const Node& n) {
        const int x = as_nhwc(n, activation_of(n, n.input(0)));
        const HostTensor& w = host_input(n, 1, "the weight");
        const Dims& xd = plan_.tensors[x].dims;
        if (w.dims.size() != 4) fail_node(g_, n, "weights are not 4-D (only 2-D convolutions are supported)");
        const int64_t groups = n.int_attr("group", 1), k = w.dims[0], c = xd[1];
        if (groups < 1 || c % groups || k % groups || w.dims[1] != c / groups)
            fail_node(g_, n, "weights [" + std::to_string(w.dims[0]) + "," + std::to_string(w.dims[1]) +
                                 ",...] do not fit " + std::to_string(c) + " input channels in " +
                                 std::to_string(groups) + " groups");
        const auto kernel = n.ints_attr("kernel_shape", {w.dims[2], w.dims[3]});
        if (kernel.size() != 2 || kernel[0] != w.dims[2] || kernel[1] != w.dims[3])
            fail_node(g_, n, "kernel_shape does not match the weights");
        const auto strides = n.ints_attr("strides", {1, 1}), dilations = n.ints_attr("dilations", {1, 1});
        if (strides.size() != 2 || dilations.size() != 2) fail_node(g_, n, "strides/dilations are not 2-D");

        ConvStep s;
        s.x = x;
        s.w = constant_tensor(n.input(1), w);
        if (!n.input(2).empty()) {
            const HostTensor& b = host_input(n, 2, "the bias");
            if (b.elements() != k) fail_node(g_, n, "bias has " + std::to_string(b.elements()) + " values for " + std::to_string(k) + " outputs");
            s.bias = constant_tensor(n.input(2), b);
        }
        s.groups = int(groups);
        s.strides = {int(strides[0]), int(strides[1])};
        s.dilations = {int(dilations[0]), int(dilations[1])};
        Dims out = {xd[0], k, 0, 0};
        const auto pads = spatial_pads(n, {xd[2], xd[3]}, kernel, strides, dilations, false, out);
        s.pads = {int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])};

        PendingConv p;
        p.conv = &n;
        p.step = s;
        p.dims = out;
        p.tail = n.outputs[0];
        find_fusions(p);
        pending_.push_back(p);
        const int id = int(pending_.size()) - 1;
        values_[p.tail] = Value{Value::Kind::pending, nullptr, -1, id, out};
        if (p.add) absorbers_[p.add] = id;
        if (p.act) absorbers_[p.act] = id;
        if (p.sigmoid) absorbers_[p.sigmoid] = id;
        if (!p.add && !p.act) materialize(id);
    }

    // Output size and pads (top, left, bottom, right) of a conv or pool window.
    std::array<int64_t, 4> spatial_pads(const Node& n, std::array<int64_t, 2> in, const std::vector<int64_t>& kernel,
                                        const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                        bool ceil_mode, Dims& out) {
        const std::string auto_pad = n.string_attr("auto_pad", "NOTSET");
        std::array<int64_t, 4> pads{0, 0, 0, 0};
        auto given = n.ints_attr("pads", {0, 0, 0, 0});
        if (given.size() != 4) fail_node(g_, n, "pads are not 2-D");
        for (int a = 0; a < 2; ++a) {
            const int64_t extent = (kernel[a] - 1) * dilations[a] + 1;
            if (strides[a] < 1 || dilations[a] < 1 || kernel[a] < 1) fail_node(g_, n, "kernel, strides and dilations must be positive");
            int64_t begin = 0, end = 0, size;
            if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
                size = (in[a] + strides[a] - 1) / strides[a];
                const int64_t total = std::max<int64_t>((size - 1) * strides[a] + extent - in[a], 0);
                begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end = total - begin;
            } else {
                if (auto_pad == "NOTSET") begin = given[a], end = given[a + 2];
                const int64_t span = in[a] + begin + end - extent;
                if (span < 0) fail_node(g_, n, "the window is larger than the padded input");
                size = (ceil_mode ? (span + strides[a] - 1) / strides[a] : span / strides[a]) + 1;
                if (ceil_mode) {
                    // A last window that starts in the end padding is dropped (ONNX, PyTorch).
                    if ((size - 1) * strides[a] >= in[a] + begin) --size;
                    end = std::max(end, (size - 1) * strides[a] + extent - in[a] - begin);
                }
            }
            if (size < 1) fail_node(g_, n, "the output would be empty");
            pads[a] = begin;
            pads[a + 2] = end;
            out[2 + a] = size;
        }
        return pads;
    }

    // Which of the following nodes may fuse into this conv (structure only;
    // shapes of a residual are checked when its Add is reached).
    void find_fusions(PendingConv& p) {
        std::string t = p.tail;
        if (const Node* a = sole_consumer(t); a && a->op == "Add" && a->inputs.size() == 2 && a->inputs[0] != a->inputs[1]) {
            p.add = a;
            t = a->outputs[0];
        }
        if (const Node* c = sole_consumer(t); c && (c->op == "Relu" || c->op == "LeakyRelu" || c->op == "Sigmoid")) {
            p.act = c;
            return;
        }
        if (graph_outputs_.count(t)) return;
        auto it = consumers_.find(t);
        if (it == consumers_.end() || it->second.size() != 2) return;
        const Node *s = nullptr, *m = nullptr;
        for (const Node* c : it->second) {
            if (c->op == "Sigmoid") s = c;
            if (c->op == "Mul") m = c;
        }
        if (s && m && sole_consumer(s->outputs[0]) == m && is_silu_mul(*m, t, s->outputs[0])) {
            p.sigmoid = s;
            p.act = m;
        }
    }

    static bool is_silu_mul(const Node& m, const std::string& x, const std::string& sig) {
        return m.inputs.size() == 2 && ((m.inputs[0] == x && m.inputs[1] == sig) || (m.inputs[0] == sig && m.inputs[1] == x));
    }

    // Takes node n into pending conv p; false: n does not fit after all.
    bool absorb(const Node& n, PendingConv& p) {
        const int id = int(&p - pending_.data());
        if (&n == p.add) {
            const std::string& other = n.inputs[0] == p.tail ? n.inputs[1] : n.inputs[0];
            const Value& ov = value(n, other);
            bool fits = ov.kind == Value::Kind::tensor || ov.kind == Value::Kind::pending;
            fits = fits && ov.dims == p.dims && (n.inputs[0] == p.tail || n.inputs[1] == p.tail);
            if (fits) {
                const int r = tensor_of(n, other);
                fits = plan_.tensors[r].layout == Layout::nhwc && plan_.tensors[r].dtype == act_;
                if (fits) p.step.residual = r;
            }
            if (!fits) {
                p.act = p.sigmoid = nullptr;
                materialize(id);
                return false;
            }
            p.tail = n.outputs[0];
            values_[p.tail] = Value{Value::Kind::pending, nullptr, -1, id, p.dims};
            if (!p.act) materialize(id);
            return true;
        }
        if (&n == p.sigmoid) {
            values_[n.outputs[0]] = Value{Value::Kind::skipped, nullptr, -1, -1, p.dims};
            return true;
        }
        if (&n == p.act) {
            if (n.op == "Relu") p.step.activation = Activation::relu;
            else if (n.op == "LeakyRelu") p.step.activation = Activation::leaky_relu, p.step.alpha = n.float_attr("alpha", 0.01f);
            else if (n.op == "Sigmoid") p.step.activation = Activation::sigmoid;
            else p.step.activation = Activation::silu;
            p.tail = n.outputs[0];
            values_[p.tail] = Value{Value::Kind::pending, nullptr, -1, id, p.dims};
            materialize(id);
            return true;
        }
        return false;
    }

    void materialize(int id) {
        PendingConv& p = pending_[id];
        if (!p.active) return;
        p.active = false;
        p.step.y = add_tensor(p.tail, p.dims, Layout::nhwc, act_);
        add_step(*p.conv, p.step);
        set_output(p.tail, p.step.y);
    }

    // --- elementwise -------------------------------------------------------------
    void plan_identity(const Node& n) {
        if (n.op == "Cast") {
            const int64_t to = n.int_attr("to", 1);
            if (to != 1 && to != 10 && to != 11)
                fail_node(g_, n, "casts image data to an integer type, which the cuda backend does not support; use backend=opencv");
        }
        set_output(n.outputs[0], tensor_of(n, n.input(0)));
    }

    void plan_unary(const Node& n) {
        const std::string& x = n.input(0);
        // Sigmoid(x) read only by Mul(x, Sigmoid(x)): one SiLU step at the Mul.
        if (n.op == "Sigmoid")
            if (const Node* m = sole_consumer(n.outputs[0]); m && m->op == "Mul" && is_silu_mul(*m, x, n.outputs[0])) {
                silu_inputs_[m] = x;
                values_[n.outputs[0]] = Value{Value::Kind::skipped, nullptr, -1, -1, dims_of(n, x)};
                return;
            }
        UnaryStep u;
        u.in = activation_of(n, x);
        u.op = n.op == "Relu" ? UnaryOp::relu : n.op == "LeakyRelu" ? UnaryOp::leaky_relu
             : n.op == "Sigmoid" ? UnaryOp::sigmoid : UnaryOp::exp;
        u.alpha = n.op == "LeakyRelu" ? n.float_attr("alpha", 0.01f) : 0.f;
        emit_unary(n, u);
    }

    void emit_unary(const Node& n, UnaryStep u) {
        const PlannedTensor& in = plan_.tensors[u.in];
        u.out = add_tensor(n.outputs[0], in.dims, in.layout, act_);
        add_step(n, u);
        set_output(n.outputs[0], u.out);
    }

    void plan_binary(const Node& n) {
        if (auto it = silu_inputs_.find(&n); it != silu_inputs_.end()) {
            UnaryStep u;
            u.in = activation_of(n, it->second);
            u.op = UnaryOp::silu;
            return emit_unary(n, u);
        }
        BinaryStep b;
        b.a = tensor_of(n, n.input(0));
        b.b = tensor_of(n, n.input(1));
        b.op = n.op == "Add" ? BinaryOp::add : n.op == "Sub" ? BinaryOp::sub : n.op == "Mul" ? BinaryOp::mul : BinaryOp::div;
        const Dims out = broadcast_dims(g_, n, plan_.tensors[b.a].dims, plan_.tensors[b.b].dims);
        // Channels last unless the operands that span the output are row major.
        Layout layout = Layout::nhwc;
        bool spanning = false, any_nhwc = false;
        for (int t : {b.a, b.b})
            if (!plan_.tensors[t].constant && plan_.tensors[t].dims == out) {
                spanning = true;
                any_nhwc = any_nhwc || plan_.tensors[t].layout == Layout::nhwc;
            }
        if (spanning && !any_nhwc) layout = Layout::row_major;
        b.out = add_tensor(n.outputs[0], out, layout, act_);
        const auto order = physical_order(plan_.tensors[b.out].layout, out.size());
        for (int side = 0; side < 2; ++side) {
            const int t = side ? b.b : b.a;
            const View v = broadcast_view(view_of(t), out);
            auto& strides = side ? b.b_strides : b.a_strides;
            for (int64_t d : order) strides.push_back(v.strides[d]);
        }
        for (int64_t d : order) b.dims.push_back(out[d]);
        add_step(n, b);
        set_output(n.outputs[0], b.out);
    }

    // --- data movement -----------------------------------------------------------
    void plan_reshape(const Node& n) {
        const int in = activation_of(n, n.input(0));
        const Dims& dims = plan_.tensors[in].dims;
        Dims out;
        if (n.op == "Reshape") out = reshape_dims(g_, n, dims, host_input(n, 1, "the shape"));
        else if (n.op == "Flatten") out = flatten_dims(g_, n, dims);
        else if (n.op == "Squeeze") out = squeeze_dims(g_, n, dims, axes_of(n, host_or_null(n, 1)));
        else {
            auto axes = axes_of(n, host_or_null(n, 1));
            if (!axes) fail_node(g_, n, "has no axes");
            out = unsqueeze_dims(g_, n, dims, *axes);
        }
        if (plan_.tensors[in].layout == Layout::row_major) {
            // Same bytes, other dims: an alias, no step.
            const int t = add_tensor(n.outputs[0], out, Layout::row_major, plan_.tensors[in].dtype);
            plan_.tensors[t].layout = Layout::row_major;
            plan_.tensors[t].alias_of = root_of(in);
            return set_output(n.outputs[0], t);
        }
        const int t = add_tensor(n.outputs[0], out, Layout::row_major, plan_.tensors[in].dtype);
        plan_.tensors[t].layout = Layout::row_major;
        // Row-major order of the input's logical dims is the output's order.
        emit_copy(n, in, view_of(in), t, row_major_strides(dims), 0);
        set_output(n.outputs[0], t);
    }

    void plan_view(const Node& n) {
        const int in = tensor_of(n, n.input(0));
        const View src = view_of(in);
        const std::string& out_name = n.outputs[0];
        if (n.op == "Gather") return plan_gather(n, in, src);
        View v;
        if (n.op == "Transpose") v = transpose_view(src, transpose_perm(g_, n, src.dims.size()));
        else if (n.op == "Expand") v = broadcast_view(src, expand_dims(g_, n, src.dims, host_input(n, 1, "the shape")));
        else {
            const HostTensor* steps = host_or_null(n, 4);
            if (!n.input(4).empty() && !steps) host_input(n, 4, "steps");
            if (!n.input(3).empty() && !host_or_null(n, 3)) host_input(n, 3, "axes");
            v = slice_view(g_, n, src, as_ints(host_input(n, 1, "starts")), as_ints(host_input(n, 2, "ends")),
                           axes_of(n, host_or_null(n, 3)), steps ? std::optional(as_ints(*steps)) : std::nullopt);
        }
        const int out = add_tensor(out_name, v.dims, copy_layout(out_name), act_);
        copy_all(n, in, v, out);
        set_output(out_name, out);
    }

    void plan_gather(const Node& n, int in, const View& src) {
        const HostTensor& idx = host_input(n, 1, "the indices");
        if (src.dims.empty()) fail_node(g_, n, "cannot gather from a scalar");
        const std::size_t axis = std::size_t(normalize_axis(g_, n, n.int_attr("axis", 0), src.dims.size()));
        const int64_t dim = src.dims[axis];
        std::vector<int64_t> indices = as_ints(idx);
        for (int64_t& k : indices) {
            if (k < -dim || k >= dim) fail_node(g_, n, "index " + std::to_string(k) + " is out of range");
            if (k < 0) k += dim;
        }
        if (idx.dims.size() > 1) fail_node(g_, n, "indices of rank above 1 on image data are not supported by the cuda backend");
        const std::string& out_name = n.outputs[0];
        if (idx.dims.empty()) {  // one index: the axis goes away
            const View v = select_view(src, axis, indices[0]);
            const int out = add_tensor(out_name, v.dims, copy_layout(out_name), act_);
            copy_all(n, in, v, out);
            return set_output(out_name, out);
        }
        Dims dims = src.dims;
        dims[axis] = int64_t(indices.size());
        const int out = add_tensor(out_name, dims, copy_layout(out_name), act_);
        bool arithmetic = indices.size() > 1;
        for (std::size_t i = 2; i < indices.size(); ++i) arithmetic = arithmetic && indices[i] - indices[i - 1] == indices[1] - indices[0];
        if (arithmetic || indices.size() == 1) {  // one strided copy
            View v = src;
            v.offset += indices[0] * src.strides[axis];
            v.dims[axis] = int64_t(indices.size());
            v.strides[axis] = indices.size() > 1 ? (indices[1] - indices[0]) * src.strides[axis] : src.strides[axis];
            copy_all(n, in, v, out);
        } else {  // one copy per index, each into its slab of the output
            const auto out_strides = logical_strides(plan_.tensors[out]);
            for (std::size_t j = 0; j < indices.size(); ++j) {
                View v = src;
                v.offset += indices[j] * src.strides[axis];
                v.dims[axis] = 1;
                emit_copy(n, in, v, out, out_strides, int64_t(j) * out_strides[axis]);
            }
        }
        set_output(out_name, out);
    }

    void plan_concat(const Node& n) {
        std::vector<Dims> dims;
        for (const auto& i : n.inputs) dims.push_back(dims_of(n, i));
        if (dims.empty()) fail_node(g_, n, "has no inputs");
        const int64_t axis = normalize_axis(g_, n, n.int_attr("axis", 0), dims[0].size());
        const Dims out_dims = concat_dims(g_, n, dims, axis);
        const std::string& out_name = n.outputs[0];
        const int out = add_tensor(out_name, out_dims, copy_layout(out_name), act_);
        const auto out_strides = logical_strides(plan_.tensors[out]);
        int64_t start = 0;
        for (std::size_t i = 0; i < n.inputs.size(); ++i) {
            const int in = tensor_of(n, n.inputs[i]);
            emit_copy(n, in, view_of(in), out, out_strides, start * out_strides[axis]);
            start += dims[i][axis];
        }
        set_output(out_name, out);
    }

    void plan_split(const Node& n) {
        const int in = activation_of(n, n.input(0));
        const View src = view_of(in);
        const int64_t axis = normalize_axis(g_, n, n.int_attr("axis", 0), src.dims.size());
        if (!n.input(1).empty()) host_input(n, 1, "split");
        const auto sizes = split_sizes(g_, n, src.dims[axis], host_or_null(n, 1));
        int64_t start = 0;
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            const std::string& name = n.outputs[i];
            if (!name.empty() && needed_.count(name)) {
                View v = src;
                v.offset += start * src.strides[axis];
                v.dims[axis] = sizes[i];
                const int out = add_tensor(name, v.dims, copy_layout(name), act_);
                copy_all(n, in, v, out);
                set_output(name, out);
            }
            start += sizes[i];
        }
    }

    // --- windows -------------------------------------------------------------------
    void plan_resize(const Node& n) {
        const int in = as_nhwc(n, activation_of(n, n.input(0)));
        const Dims& dims = plan_.tensors[in].dims;
        const bool upsample = n.op == "Upsample";
        const std::string mode = n.string_attr("mode", "nearest");
        const bool linear = mode == "linear" || mode == "bilinear";
        std::string transform = upsample ? "asymmetric" : n.string_attr("coordinate_transformation_mode", "half_pixel");

        // Output size from sizes, else from scales (opset 7 Upsample: attribute).
        std::vector<double> scales;
        std::vector<int64_t> sizes;
        const std::size_t scales_input = upsample ? 1 : 2, sizes_input = 3;
        if (!upsample && !n.input(sizes_input).empty() && host_input(n, sizes_input, "sizes").elements() > 0)
            sizes = as_ints(host_input(n, sizes_input, "sizes"));
        else if (!n.input(scales_input).empty() && host_input(n, scales_input, "scales").elements() > 0) {
            const HostTensor& s = host_input(n, scales_input, "scales");
            for (int64_t i = 0; i < s.elements(); ++i) scales.push_back(s.at(i));
        } else if (n.has("scales")) {
            for (float f : std::get<std::vector<float>>(n.attributes.at("scales"))) scales.push_back(f);
        } else {
            fail_node(g_, n, "has neither scales nor sizes");
        }
        // Opset 18's axes: the given values apply to those axes only.
        std::vector<int64_t> axes = n.ints_attr("axes");
        if (axes.empty())
            for (int64_t i = 0; i < 4; ++i) axes.push_back(i);
        const std::size_t given = sizes.empty() ? scales.size() : sizes.size();
        if (given != axes.size()) fail_node(g_, n, "scales/sizes do not match the input's rank");
        Dims out = dims;
        std::array<double, 4> scale{1, 1, 1, 1};
        for (std::size_t i = 0; i < axes.size(); ++i) {
            const int64_t a = normalize_axis(g_, n, axes[i], 4);
            if (!sizes.empty()) {
                out[a] = sizes[i];
                scale[a] = double(sizes[i]) / double(dims[a]);
            } else {
                scale[a] = scales[i];
                out[a] = int64_t(std::floor(double(dims[a]) * scales[i]));
                // The step derives its scale from the sizes, so they must say the same.
                if (std::abs(double(out[a]) / double(dims[a]) - scales[i]) > 1e-6 * scales[i])
                    fail_node(g_, n, "scale " + std::to_string(scales[i]) + " on a dim of " + std::to_string(dims[a]) +
                                         " gives a fractional output size, which the cuda backend does not support");
            }
        }
        if (out[0] != dims[0] || out[1] != dims[1])
            fail_node(g_, n, "resizes the batch or channel dims, which the cuda backend does not support");
        if (out[2] < 1 || out[3] < 1) fail_node(g_, n, "the output would be empty");
        ResizeStep r;
        r.in = in;
        if (!linear) r.mode = ResizeMode::nearest_asymmetric_floor;
        else if (transform == "align_corners") r.mode = ResizeMode::linear_align_corners;
        else if (transform == "asymmetric") r.mode = ResizeMode::linear_asymmetric;
        else {
            if (transform == "pytorch_half_pixel" && (out[2] == 1 || out[3] == 1))
                fail_node(g_, n, "pytorch_half_pixel to a size of 1 is not supported by the cuda backend; use backend=opencv");
            r.mode = ResizeMode::linear_half_pixel;
        }
        r.out = add_tensor(n.outputs[0], out, Layout::nhwc, act_);
        add_step(n, r);
        set_output(n.outputs[0], r.out);
    }

    void plan_maxpool(const Node& n) {
        const int in = as_nhwc(n, activation_of(n, n.input(0)));
        const Dims& dims = plan_.tensors[in].dims;
        const auto kernel = n.ints_attr("kernel_shape");
        const auto strides = n.ints_attr("strides", {1, 1});
        if (strides.size() != 2) fail_node(g_, n, "strides are not 2-D");
        Dims out = {dims[0], dims[1], 0, 0};
        const auto pads = spatial_pads(n, {dims[2], dims[3]}, kernel, strides, {1, 1}, n.int_attr("ceil_mode", 0) != 0, out);
        MaxPoolStep m;
        m.in = in;
        m.kernel = {int(kernel[0]), int(kernel[1])};
        m.strides = {int(strides[0]), int(strides[1])};
        m.pads = {int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])};
        m.out = add_tensor(n.outputs[0], out, Layout::nhwc, act_);
        add_step(n, m);
        set_output(n.outputs[0], m.out);
    }

    void plan_softmax(const Node& n) {
        const int in = relayout(n, activation_of(n, n.input(0)), Layout::row_major);
        const Dims& dims = plan_.tensors[in].dims;
        SoftmaxStep s;
        s.in = in;
        // Before opset 13 Softmax works on the input coerced to 2-D at the axis.
        const bool coerce = g_.opset < 13;
        const int64_t axis = normalize_axis(g_, n, n.int_attr("axis", coerce ? 1 : -1), dims.size());
        s.outer = product(dims, 0, axis);
        s.axis = coerce ? product(dims, axis) : dims[axis];
        s.inner = coerce ? 1 : product(dims, axis + 1);
        s.out = add_tensor(n.outputs[0], dims, Layout::row_major, act_);
        plan_.tensors[s.out].layout = Layout::row_major;
        add_step(n, s);
        set_output(n.outputs[0], s.out);
    }

    void plan_matmul(const Node& n) {
        int a = tensor_of(n, n.input(0)), b = tensor_of(n, n.input(1));
        if (!plan_.tensors[a].constant) a = relayout(n, a, Layout::row_major);
        if (!plan_.tensors[b].constant) b = relayout(n, b, Layout::row_major);
        const Dims &da = plan_.tensors[a].dims, &db = plan_.tensors[b].dims;
        if (da.size() < 2 || db.size() < 2) fail_node(g_, n, "1-D operands are not supported by the cuda backend");
        const int64_t m = da[da.size() - 2], k = da.back(), n_cols = db.back();
        if (db[db.size() - 2] != k) fail_node(g_, n, "inner dims differ");
        const Dims ba(da.begin(), da.end() - 2), bb(db.begin(), db.end() - 2);
        Dims out = broadcast_dims(g_, n, ba, bb);
        const int64_t batch = product(out);
        auto batch_stride = [&](const Dims& own, int64_t matrix) -> int64_t {
            if (product(own) == 1) return 0;
            Dims padded(out.size() - own.size(), 1);
            padded.insert(padded.end(), own.begin(), own.end());
            if (padded != out) fail_node(g_, n, "partly broadcast batch dims are not supported by the cuda backend");
            return matrix;
        };
        MatMulStep s;
        s.a = a;
        s.b = b;
        s.batch = batch;
        s.m = m;
        s.n = n_cols;
        s.k = k;
        s.a_batch_stride = batch_stride(ba, m * k);
        s.b_batch_stride = batch_stride(bb, k * n_cols);
        out.push_back(m);
        out.push_back(n_cols);
        s.out = add_tensor(n.outputs[0], out, Layout::row_major, act_);
        plan_.tensors[s.out].layout = Layout::row_major;
        add_step(n, s);
        set_output(n.outputs[0], s.out);
    }

    // --- outputs and arena -----------------------------------------------------------
    void finish_outputs() {
        static const Node output_node{"graph output", "Output", {}, {}, {}};
        for (const auto& name : g_.outputs) {
            Value& v = values_.at(name);
            if (v.kind == Value::Kind::host)
                fail_model(g_.model, "graph output '" + name + "' is a constant; the cuda backend needs outputs computed from the image");
            const int in = tensor_of(output_node, name);
            if (plan_.tensors[in].name == name) plan_.tensors[in].name = name + "/computed";
            const int out = add_tensor(name, plan_.tensors[in].dims, Layout::row_major, DType::f32);
            plan_.tensors[out].layout = Layout::row_major;
            Node copy_node{name, "Output", {}, {}, {}};
            copy_all(copy_node, in, view_of(in), out);
            plan_.outputs.push_back(out);
            plan_.output_names.push_back(name);
        }
    }

    void assign_arena() {
        auto& tensors = plan_.tensors;
        const int count = int(tensors.size());
        const int end = int(plan_.steps.size());
        std::vector<int> first(count, end + 1), last(count, -2);
        first[plan_.input] = -1;
        for (int s = 0; s < end; ++s) {
            const int w = root_of(step_writes(plan_.steps[s]));
            first[w] = std::min(first[w], s);
            last[w] = std::max(last[w], s);
            for (int r : step_reads(plan_.steps[s])) last[root_of(r)] = std::max(last[root_of(r)], s);
        }
        for (int o : plan_.outputs) last[root_of(o)] = end;
        last[plan_.input] = std::max(last[plan_.input], -1);

        std::vector<int> order;
        for (int t = 0; t < count; ++t)
            if (!tensors[t].constant && tensors[t].alias_of < 0) order.push_back(t);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return tensors[a].bytes > tensors[b].bytes; });

        std::vector<int> placed;
        std::size_t peak = 0;
        for (int t : order) {
            // Lowest aligned offset clear of every placed tensor alive at the same time.
            std::vector<std::pair<std::size_t, std::size_t>> busy;
            for (int p : placed)
                if (!(last[p] < first[t] || last[t] < first[p]))
                    busy.push_back({tensors[p].offset, tensors[p].offset + tensors[p].bytes});
            std::sort(busy.begin(), busy.end());
            std::size_t offset = 0;
            for (const auto& [b, e] : busy) {
                if (offset + tensors[t].bytes <= b) break;
                offset = std::max(offset, (e + arena_alignment - 1) / arena_alignment * arena_alignment);
            }
            tensors[t].offset = offset;
            peak = std::max(peak, offset + tensors[t].bytes);
            placed.push_back(t);
        }
        for (auto& t : tensors)
            if (t.alias_of >= 0) t.offset = tensors[t.alias_of].offset;
        plan_.arena_bytes = (peak + arena_alignment - 1) / arena_alignment * arena_alignment;
    }
};

}  // namespace

Plan make_plan(const Graph& graph, int batch, Precision precision) {
    return Planner(graph, batch, precision).run();
}

}  // namespace ss::engine
