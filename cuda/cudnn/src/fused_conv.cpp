// FusedConv through cuDNN 9's backend API. Outline:
//   build the operation graph (fused: conv -> +bias -> +residual -> act, or
//   conv only) -> heuristics (mode A, then FALLBACK) -> engine configs,
//   filtered by numerical notes -> execution plans within the workspace limit
//   -> time them on scratch buffers -> keep the fastest.
// A `preferred` choice string skips the search: engine index + knob choices
// rebuild the engine config directly.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "cudnn_api.hpp"
#include "epilogue.hpp"
#include "slipstream/cudnn/fused_conv.hpp"

namespace ss::cudnn {

using detail::Api;
using detail::api;
using detail::api_or_throw;
using detail::status_text;

namespace {

const Api& A() { return *api(); }  // only called once a Handle exists (so cuDNN is loaded)

// One failed cuDNN call: the status and the step that failed.
class Failure : public std::runtime_error {
public:
    Failure(cudnnStatus_t status, const std::string& step)
        : std::runtime_error(step + ": " + status_text(status)), status_(status) {}
    cudnnStatus_t status() const { return status_; }

private:
    cudnnStatus_t status_;
};

void check(cudnnStatus_t status, const char* step) {
    if (status != CUDNN_STATUS_SUCCESS) throw Failure(status, step);
}

void check_cuda(cudaError_t err, const std::string& label, const char* step) {
    if (err != cudaSuccess)
        throw std::runtime_error("CUDA: " + label + ": " + step + ": " + cudaGetErrorString(err));
}

// A backend descriptor, destroyed with its owner.
class Desc {
public:
    Desc() = default;
    Desc(cudnnBackendDescriptorType_t type, const char* what) {
        check(A().BackendCreateDescriptor(type, &d_), what);
    }
    ~Desc() { reset(); }
    Desc(Desc&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
    Desc& operator=(Desc&& o) noexcept {
        if (this != &o) {
            reset();
            d_ = std::exchange(o.d_, nullptr);
        }
        return *this;
    }
    Desc(const Desc&) = delete;
    Desc& operator=(const Desc&) = delete;

    cudnnBackendDescriptor_t get() const { return d_; }
    explicit operator bool() const { return d_ != nullptr; }
    void reset() {
        if (d_ != nullptr) (void)A().BackendDestroyDescriptor(d_);
        d_ = nullptr;
    }

    void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t count,
             const void* values, const char* what) {
        check(A().BackendSetAttribute(d_, name, type, count, values), what);
    }
    void set_i64(cudnnBackendAttributeName_t name, std::int64_t v, const char* what) {
        set(name, CUDNN_TYPE_INT64, 1, &v, what);
    }
    void set_i64s(cudnnBackendAttributeName_t name, const std::vector<std::int64_t>& v, const char* what) {
        set(name, CUDNN_TYPE_INT64, static_cast<std::int64_t>(v.size()), v.data(), what);
    }
    void set_desc(cudnnBackendAttributeName_t name, const Desc& other, const char* what) {
        cudnnBackendDescriptor_t d = other.get();
        set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &d, what);
    }
    void finalize(const char* what) { check(A().BackendFinalize(d_), what); }

private:
    cudnnBackendDescriptor_t d_ = nullptr;
};

// Unique ids of the tensors (those in the variant pack, then the virtual ones).
enum Uid : std::int64_t { uid_x = 1, uid_w, uid_b, uid_r, uid_y, uid_conv_out, uid_bias_out, uid_res_out };

using Dims4 = std::array<std::int64_t, 4>;

// [N, C, H, W] dims with NHWC (channels last) strides.
Dims4 nhwc_strides(const Dims4& d) { return {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]}; }

Desc make_tensor(std::int64_t uid, cudnnDataType_t type, const Dims4& dims, bool is_virtual) {
    Desc t(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "creating a tensor descriptor");
    const Dims4 strides = nhwc_strides(dims);
    t.set(CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type, "setting a tensor's data type");
    t.set(CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims.data(), "setting a tensor's dimensions");
    t.set(CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides.data(), "setting a tensor's strides");
    t.set_i64(CUDNN_ATTR_TENSOR_UNIQUE_ID, uid, "setting a tensor's unique id");
    t.set_i64(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, 16, "setting a tensor's byte alignment");
    const bool virt = is_virtual;
    t.set(CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &virt, "setting a tensor's virtual flag");
    t.finalize("finalizing a tensor descriptor");
    return t;
}

// The layer, as the graph builder and the key need it.
struct Layer {
    ConvShape shape;
    DataType type = DataType::f16;
    bool has_bias = false, has_residual = false;
    Activation act = Activation::none;
    float alpha = 0.f;

    bool needs_epilogue() const { return has_bias || has_residual || act != Activation::none; }
};

struct Graph {
    bool fused = false;               // epilogue inside the graph
    std::vector<Desc> keep;           // tensors, op descriptors: alive as long as the graph
    Desc graph;                       // finalized operation graph
    std::vector<std::int64_t> uids;   // variant pack order: x, w, [b], [r], y
};

Desc pointwise_op(cudnnPointwiseMode_t mode, const Desc& x, const Desc* b, const Desc& y, double slope,
                  std::vector<Desc>& keep) {
    Desc pw(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, "creating a pointwise descriptor");
    pw.set(CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, "setting a pointwise mode");
    const cudnnDataType_t prec = CUDNN_DATA_FLOAT;
    pw.set(CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec, "setting a pointwise precision");
    if (mode == CUDNN_POINTWISE_RELU_FWD) {
        // y = x >= lower ? min(x, upper) : lower + slope * (x - lower)
        const double lower = 0.0, upper = std::numeric_limits<float>::max();
        pw.set(CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_DOUBLE, 1, &lower, "setting the relu lower clip");
        pw.set(CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_DOUBLE, 1, &upper, "setting the relu upper clip");
        pw.set(CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_DOUBLE, 1, &slope,
               "setting the relu lower clip slope");
    }
    if (mode == CUDNN_POINTWISE_SWISH_FWD) {
        const double beta = 1.0;  // silu = swish with beta 1
        pw.set(CUDNN_ATTR_POINTWISE_SWISH_BETA, CUDNN_TYPE_DOUBLE, 1, &beta, "setting the swish beta");
    }
    pw.finalize("finalizing a pointwise descriptor");

    Desc op(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, "creating a pointwise operation");
    op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, "setting a pointwise operation's mode");
    op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, "setting a pointwise operation's input");
    if (b != nullptr) op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, *b, "setting a pointwise operation's 2nd input");
    op.set_desc(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, "setting a pointwise operation's output");
    op.finalize("finalizing a pointwise operation");
    keep.push_back(std::move(pw));
    return op;
}

Graph build_graph(cudnnHandle_t handle, const Layer& L, bool fused) {
    const ConvShape& s = L.shape;
    const cudnnDataType_t io = L.type == DataType::f16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    Graph g;
    g.fused = fused || !L.needs_epilogue();
    const Dims4 ydims{s.n, s.k, s.out_h(), s.out_w()};

    // The chain after the convolution: which pointwise steps, each writing a
    // virtual FP32 tensor except the last, which writes y.
    std::vector<int> steps;  // 0 bias, 1 residual, 2 activation
    if (g.fused) {
        if (L.has_bias) steps.push_back(0);
        if (L.has_residual) steps.push_back(1);
        if (L.act != Activation::none) steps.push_back(2);
    }

    std::vector<Desc>& keep = g.keep;
    Desc x = make_tensor(uid_x, io, {s.n, s.c, s.h, s.w}, false);
    Desc w = make_tensor(uid_w, io, {s.k, s.c / s.groups, s.r, s.s}, false);
    Desc y = make_tensor(uid_y, io, ydims, false);
    g.uids = {uid_x, uid_w};

    Desc conv(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, "creating the convolution descriptor");
    const std::int64_t spatial = 2;
    conv.set_i64(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, spatial, "setting the spatial dims");
    const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
    conv.set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, "setting the compute type");
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    conv.set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode, "setting the mode");
    conv.set_i64s(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, {s.pad_top, s.pad_left}, "setting the pre paddings");
    conv.set_i64s(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, {s.pad_bottom, s.pad_right}, "setting the post paddings");
    conv.set_i64s(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, {s.stride_h, s.stride_w}, "setting the strides");
    conv.set_i64s(CUDNN_ATTR_CONVOLUTION_DILATIONS, {s.dil_h, s.dil_w}, "setting the dilations");
    conv.finalize("finalizing the convolution descriptor");

    std::vector<Desc> ops;
    Desc conv_out = steps.empty() ? Desc() : make_tensor(uid_conv_out, CUDNN_DATA_FLOAT, ydims, true);
    {
        Desc op(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, "creating the convolution operation");
        const float alpha = 1.f, beta = 0.f;
        op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha, "setting conv alpha");
        op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta, "setting conv beta");
        op.set_desc(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, conv, "setting the conv descriptor");
        op.set_desc(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, x, "setting the conv input");
        op.set_desc(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, w, "setting the conv weights");
        op.set_desc(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, steps.empty() ? y : conv_out, "setting the conv output");
        op.finalize("finalizing the convolution operation");
        ops.push_back(std::move(op));
    }

    // Virtual tensors of the chain live here (stable addresses) until the end.
    std::array<Desc, 2> virt;
    const Desc* cur = &conv_out;  // the chain's current (virtual) tensor
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const bool last = i + 1 == steps.size();
        if (!last) virt[i] = make_tensor(steps[i] == 0 ? uid_bias_out : uid_res_out, CUDNN_DATA_FLOAT, ydims, true);
        const Desc& dst = last ? y : virt[i];
        if (steps[i] == 0) {
            // Bias: f32 [1, K, 1, 1], whatever the layer's type (the plan uploads f32 bias).
            Desc b = make_tensor(uid_b, CUDNN_DATA_FLOAT, {1, s.k, 1, 1}, false);
            ops.push_back(pointwise_op(CUDNN_POINTWISE_ADD, *cur, &b, dst, 0.0, keep));
            keep.push_back(std::move(b));
            g.uids.push_back(uid_b);
        } else if (steps[i] == 1) {
            Desc r = make_tensor(uid_r, io, ydims, false);
            ops.push_back(pointwise_op(CUDNN_POINTWISE_ADD, *cur, &r, dst, 0.0, keep));
            keep.push_back(std::move(r));
            g.uids.push_back(uid_r);
        } else {
            cudnnPointwiseMode_t m = CUDNN_POINTWISE_RELU_FWD;
            double slope = 0.0;
            switch (L.act) {
            case Activation::relu: break;
            case Activation::leaky_relu: slope = L.alpha; break;
            case Activation::sigmoid: m = CUDNN_POINTWISE_SIGMOID_FWD; break;
            case Activation::silu: m = CUDNN_POINTWISE_SWISH_FWD; break;
            case Activation::none: break;
            }
            ops.push_back(pointwise_op(m, *cur, nullptr, dst, slope, keep));
        }
        if (!last) cur = &virt[i];
    }
    g.uids.push_back(uid_y);

    std::vector<cudnnBackendDescriptor_t> raw;
    for (const Desc& op : ops) raw.push_back(op.get());
    g.graph = Desc(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "creating the operation graph");
    g.graph.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle, "setting the graph's handle");
    g.graph.set(CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<std::int64_t>(raw.size()),
                raw.data(), "setting the graph's operations");
    g.graph.finalize("finalizing the operation graph");

    keep.push_back(std::move(x));
    keep.push_back(std::move(w));
    keep.push_back(std::move(y));
    keep.push_back(std::move(conv));
    keep.push_back(std::move(conv_out));
    for (Desc& v : virt) keep.push_back(std::move(v));
    for (Desc& op : ops) keep.push_back(std::move(op));
    return g;
}

// What an engine config is, for the filters, describe() and choice().
struct EngineInfo {
    std::int64_t index = -1;
    std::vector<std::pair<std::int64_t, std::int64_t>> knobs;  // (knob type, value)
    bool tensor_core = false, down_convert = false, reduced_precision = false, runtime_compiled = false;

    std::string knob_text() const {
        std::string t;
        for (const auto& [type, value] : knobs) {
            if (!t.empty()) t += ",";
            t += std::to_string(type) + ":" + std::to_string(value);
        }
        return t;
    }
    std::string signature() const { return std::to_string(index) + "/" + knob_text(); }
};

EngineInfo inspect_engine(const Desc& engine) {
    EngineInfo info;
    std::int64_t n = 0;
    check(A().BackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &info.index),
          "reading an engine's index");
    std::array<cudnnBackendNumericalNote_t, CUDNN_NUMERICAL_NOTE_TYPE_COUNT> notes{};
    n = 0;
    check(A().BackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                  static_cast<std::int64_t>(notes.size()), &n, notes.data()),
          "reading an engine's numerical notes");
    for (std::int64_t i = 0; i < n && i < static_cast<std::int64_t>(notes.size()); ++i) {
        if (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE) info.tensor_core = true;
        if (notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS) info.down_convert = true;
        if (notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION) info.reduced_precision = true;
    }
    std::array<cudnnBackendBehaviorNote_t, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT> behaviour{};
    n = 0;
    if (A().BackendGetAttribute(engine.get(), CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                static_cast<std::int64_t>(behaviour.size()), &n, behaviour.data()) ==
        CUDNN_STATUS_SUCCESS) {
        for (std::int64_t i = 0; i < n && i < static_cast<std::int64_t>(behaviour.size()); ++i)
            if (behaviour[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION) info.runtime_compiled = true;
    }
    return info;
}

EngineInfo inspect_config(const Desc& cfg) {
    Desc engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR, "creating an engine descriptor");
    cudnnBackendDescriptor_t e = engine.get();
    std::int64_t n = 0;
    check(A().BackendGetAttribute(cfg.get(), CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &e),
          "reading an engine config's engine");
    EngineInfo info = inspect_engine(engine);

    std::vector<Desc> choices;
    std::vector<cudnnBackendDescriptor_t> raw;
    for (int i = 0; i < CUDNN_KNOB_TYPE_COUNTS; ++i) {
        choices.emplace_back(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, "creating a knob choice descriptor");
        raw.push_back(choices.back().get());
    }
    n = 0;
    check(A().BackendGetAttribute(cfg.get(), CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                  static_cast<std::int64_t>(raw.size()), &n, raw.data()),
          "reading an engine config's knob choices");
    for (std::int64_t i = 0; i < n && i < static_cast<std::int64_t>(raw.size()); ++i) {
        cudnnBackendKnobType_t type{};
        std::int64_t value = 0, got = 0;
        check(A().BackendGetAttribute(raw[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &got, &type),
              "reading a knob type");
        check(A().BackendGetAttribute(raw[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &got, &value),
              "reading a knob value");
        info.knobs.emplace_back(static_cast<std::int64_t>(type), value);
    }
    std::sort(info.knobs.begin(), info.knobs.end());
    return info;
}

// An engine config rebuilt from an engine index and knob choices.
Desc make_config(const Graph& g, std::int64_t index, const std::vector<std::pair<std::int64_t, std::int64_t>>& knobs) {
    Desc engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR, "creating an engine descriptor");
    engine.set_desc(CUDNN_ATTR_ENGINE_OPERATION_GRAPH, g.graph, "setting the engine's graph");
    engine.set_i64(CUDNN_ATTR_ENGINE_GLOBAL_INDEX, index, "setting the engine's index");
    engine.finalize("finalizing the engine");
    std::vector<Desc> choices;
    std::vector<cudnnBackendDescriptor_t> raw;
    for (const auto& [type, value] : knobs) {
        Desc c(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, "creating a knob choice");
        const auto t = static_cast<cudnnBackendKnobType_t>(type);
        c.set(CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &t, "setting a knob type");
        c.set_i64(CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, value, "setting a knob value");
        c.finalize("finalizing a knob choice");
        raw.push_back(c.get());
        choices.push_back(std::move(c));
    }
    Desc cfg(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "creating an engine config");
    cfg.set_desc(CUDNN_ATTR_ENGINECFG_ENGINE, engine, "setting the config's engine");
    if (!raw.empty())
        cfg.set(CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                static_cast<std::int64_t>(raw.size()), raw.data(), "setting the config's knob choices");
    cfg.finalize("finalizing the engine config");
    return cfg;
}

Desc make_plan(cudnnHandle_t handle, const Desc& cfg, std::size_t& workspace) {
    Desc plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "creating an execution plan");
    plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle, "setting the plan's handle");
    plan.set_desc(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfg, "setting the plan's engine config");
    plan.finalize("finalizing the execution plan");
    std::int64_t ws = 0, n = 0;
    check(A().BackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, &ws),
          "reading the plan's workspace size");
    workspace = static_cast<std::size_t>(std::max<std::int64_t>(ws, 0));
    return plan;
}

// Finalized engine configs from heuristics; empty when the mode has none.
std::vector<Desc> heuristic_configs(const Graph& g, cudnnBackendHeurMode_t mode) {
    Desc heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "creating the heuristics descriptor");
    heur.set_desc(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, g.graph, "setting the heuristics' graph");
    heur.set(CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "setting the heuristics mode");
    heur.finalize("finalizing the heuristics");
    std::int64_t count = 0;
    check(A().BackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count,
                                  nullptr),
          "counting the heuristics' results");
    std::vector<Desc> cfgs;
    std::vector<cudnnBackendDescriptor_t> raw;
    for (std::int64_t i = 0; i < count; ++i) {
        cfgs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "creating an engine config");
        raw.push_back(cfgs.back().get());
    }
    if (count == 0) return cfgs;
    std::int64_t got = 0;
    check(A().BackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got,
                                  raw.data()),
          "reading the heuristics' results");
    cfgs.resize(static_cast<std::size_t>(std::clamp<std::int64_t>(got, 0, count)));
    return cfgs;
}

// A variant pack for one set of pointers (uids in the graph's order).
Desc make_pack(const std::vector<std::int64_t>& uids, void* const* ptrs, void* workspace) {
    Desc pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, "creating a variant pack");
    pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, static_cast<std::int64_t>(uids.size()), uids.data(),
             "setting the variant pack's ids");
    pack.set(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, static_cast<std::int64_t>(uids.size()), ptrs,
             "setting the variant pack's pointers");
    pack.set(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace,
             "setting the variant pack's workspace");
    pack.finalize("finalizing the variant pack");
    return pack;
}

// The variant pack's pointers in uid order.
std::vector<void*> pointers_for(const std::vector<std::int64_t>& uids, const void* x, const void* w, const void* b,
                                const void* r, void* y) {
    std::vector<void*> p;
    for (std::int64_t uid : uids) {
        switch (uid) {
        case uid_x: p.push_back(const_cast<void*>(x)); break;
        case uid_w: p.push_back(const_cast<void*>(w)); break;
        case uid_b: p.push_back(const_cast<void*>(b)); break;
        case uid_r: p.push_back(const_cast<void*>(r)); break;
        default: p.push_back(y); break;
        }
    }
    return p;
}

// Device memory, zeroed on `stream`; freed with its owner.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(std::size_t bytes, cudaStream_t stream, const std::string& label) {
        if (bytes == 0) return;
        check_cuda(cudaMalloc(&p_, bytes), label, "allocating autotune scratch");
        check_cuda(cudaMemsetAsync(p_, 0, bytes, stream), label, "clearing autotune scratch");
    }
    ~DeviceBuffer() {
        if (p_ != nullptr) (void)cudaFree(p_);
    }
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    void* get() const { return p_; }

private:
    void* p_ = nullptr;
};

struct Timing {
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, stop = nullptr;
    explicit Timing(const std::string& label) {
        check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), label, "creating the autotune stream");
        check_cuda(cudaEventCreate(&start), label, "creating an event");
        check_cuda(cudaEventCreate(&stop), label, "creating an event");
    }
    ~Timing() {
        if (stream != nullptr) (void)cudaStreamSynchronize(stream);
        if (start != nullptr) (void)cudaEventDestroy(start);
        if (stop != nullptr) (void)cudaEventDestroy(stop);
        if (stream != nullptr) (void)cudaStreamDestroy(stream);
    }
    Timing(const Timing&) = delete;
    Timing& operator=(const Timing&) = delete;
};

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : s) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    return h;
}

std::string layer_key(const Layer& L) {
    const ConvShape& s = L.shape;
    std::ostringstream o;
    o << s.n << ',' << s.c << ',' << s.h << ',' << s.w << ',' << s.k << ',' << s.r << ',' << s.s << ',' << s.groups
      << ',' << s.pad_top << ',' << s.pad_left << ',' << s.pad_bottom << ',' << s.pad_right << ',' << s.stride_h << ','
      << s.stride_w << ',' << s.dil_h << ',' << s.dil_w << ',' << to_string(L.type) << ',' << L.has_bias << ','
      << L.has_residual << ',' << to_string(L.act) << ',' << L.alpha;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(o.str())));
    return hex;
}

bool log_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("SLIPSTREAM_CUDNN_LOG");
        return v != nullptr && *v != '\0' && std::string(v) != "0";
    }();
    return on;
}

// Candidates built per graph at most, and how long to keep building once one exists.
// Each candidate costs a plan build (a run-time compiled engine: NVRTC, up to
// seconds) and a timing; a model has dozens of layers per batch size.
constexpr std::size_t max_candidates = 3;
constexpr double build_budget_s = 1.5;

struct Candidate {
    EngineInfo info;
    Desc cfg;
    Desc plan;
    std::size_t workspace = 0;
    float ms = std::numeric_limits<float>::infinity();
};

// The parsed choice() string.
struct Choice {
    std::string version, key, path;
    std::int64_t engine = -1;
    std::vector<std::pair<std::int64_t, std::int64_t>> knobs;
    bool tf32 = false;
};

bool parse_choice(const std::string& text, Choice& c) {
    std::istringstream in(text);
    std::string field;
    bool have_engine = false;
    while (std::getline(in, field, ';')) {
        const auto eq = field.find('=');
        if (eq == std::string::npos) return false;
        const std::string name = field.substr(0, eq), value = field.substr(eq + 1);
        try {
            if (name == "cudnn") c.version = value;
            else if (name == "key") c.key = value;
            else if (name == "path") c.path = value;
            else if (name == "engine") {
                c.engine = std::stoll(value);
                have_engine = true;
            } else if (name == "tf32") c.tf32 = value == "1";
            else if (name == "knobs") {
                std::istringstream kin(value);
                std::string kv;
                while (std::getline(kin, kv, ',')) {
                    const auto colon = kv.find(':');
                    if (colon == std::string::npos) return false;
                    c.knobs.emplace_back(std::stoll(kv.substr(0, colon)), std::stoll(kv.substr(colon + 1)));
                }
            }
        } catch (const std::exception&) {
            return false;
        }
    }
    return have_engine && !c.version.empty() && !c.key.empty() && (c.path == "fused" || c.path == "conv");
}

}  // namespace

// ---- library-level ----------------------------------------------------------

bool available(std::string* why) { return api(why) != nullptr; }

std::string runtime_version() {
    const Api& a = api_or_throw("reading the version");
    const std::size_t v = a.GetVersion();  // major*10000 + minor*100 + patch since 9.0
    return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

Handle::Handle() {
    const Api& a = api_or_throw("creating a handle");
    cudnnHandle_t h = nullptr;
    const cudnnStatus_t st = a.Create(&h);
    if (st != CUDNN_STATUS_SUCCESS) throw std::runtime_error("cuDNN: creating a handle: " + status_text(st));
    handle_ = h;
}

Handle::~Handle() {
    if (handle_ != nullptr) (void)A().Destroy(handle_);
}

void Handle::set_stream(cudaStream_t stream) {
    if (stream == stream_) return;
    const cudnnStatus_t st = A().SetStream(handle_, stream);
    if (st != CUDNN_STATUS_SUCCESS) throw std::runtime_error("cuDNN: setting the handle's stream: " + status_text(st));
    stream_ = stream;
}

// ---- FusedConv ---------------------------------------------------------------

struct FusedConv::Impl {
    Handle* handle = nullptr;
    Layer layer;
    std::size_t ws_limit = 0;
    std::string name, label, key;

    // Declared in this order so that they are destroyed pack -> plan -> graph.
    Graph graph;
    Candidate chosen;
    bool autotuned = false, tf32 = false;
    int timed = 0;
    std::string why_not_fused;  // set when the fused graph was wanted but not taken
    std::string search_notes;   // what was tried, for describe()

    Desc pack;
    std::vector<void*> pack_ptrs;
    void* pack_ws = nullptr;

    std::size_t bytes(std::int64_t elements) const {
        return static_cast<std::size_t>(elements) * element_size(layer.type);
    }

    // One execution of `plan` on `stream` with the given pointers (pack built here).
    cudnnStatus_t execute(const Graph& g, const Desc& plan, const std::vector<void*>& ptrs, void* ws,
                          cudaStream_t stream) {
        handle->set_stream(stream);
        Desc p = make_pack(g.uids, ptrs.data(), ws);
        return A().BackendExecute(handle->get(), plan.get(), p.get());
    }

    // Scratch tensors for autotuning, zeroed on `stream`.
    struct Scratch {
        DeviceBuffer x, w, b, r, y, ws;
        std::vector<void*> ptrs;
    };
    std::unique_ptr<Scratch> make_scratch(const Graph& g, std::size_t ws_bytes, cudaStream_t stream) {
        auto s = std::make_unique<Scratch>();
        const ConvShape& sh = layer.shape;
        s->x = DeviceBuffer(bytes(sh.x_elements()), stream, label);
        s->w = DeviceBuffer(bytes(sh.w_elements()), stream, label);
        s->b = DeviceBuffer(layer.has_bias ? std::size_t(sh.k) * 4 : 0, stream, label);
        s->r = DeviceBuffer(layer.has_residual ? bytes(sh.y_elements()) : 0, stream, label);
        s->y = DeviceBuffer(bytes(sh.y_elements()), stream, label);
        s->ws = DeviceBuffer(ws_bytes, stream, label);
        s->ptrs = pointers_for(g.uids, s->x.get(), s->w.get(), s->b.get(), s->r.get(), s->y.get());
        return s;
    }

    // Builds plans for one graph; autotunes them. True when `chosen` is set.
    bool search(Graph g, bool allow_tf32, std::string& why, cudnnStatus_t& status) {
        const bool f32 = layer.type == DataType::f32;
        std::vector<Candidate> cands;
        std::vector<std::string> seen;
        int rejected_notes = 0, rejected_ws = 0, unsupported = 0;
        std::string first_failure;
        const auto t0 = std::chrono::steady_clock::now();
        for (const cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
            std::vector<Desc> cfgs;
            try {
                cfgs = heuristic_configs(g, mode);
            } catch (const Failure& f) {
                status = f.status();
                if (first_failure.empty()) first_failure = f.what();
                continue;
            }
            for (Desc& cfg : cfgs) {
                if (cands.size() >= max_candidates) break;
                if (!cands.empty() &&
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > build_budget_s)
                    break;
                Candidate c;
                try {
                    c.info = inspect_config(cfg);
                } catch (const Failure& f) {
                    status = f.status();
                    if (first_failure.empty()) first_failure = f.what();
                    continue;
                }
                const std::string sig = c.info.signature();
                if (std::find(seen.begin(), seen.end(), sig) != seen.end()) continue;
                seen.push_back(sig);
                const bool tf32_engine = f32 && (c.info.tensor_core || c.info.down_convert);
                if (c.info.reduced_precision || (tf32_engine && !allow_tf32)) {
                    ++rejected_notes;
                    if (log_enabled())
                        std::fprintf(stderr, "slipstream cudnn: %s: engine %s rejected (numerical notes)\n",
                                     label.c_str(), sig.c_str());
                    continue;
                }
                try {
                    c.plan = make_plan(handle->get(), cfg, c.workspace);
                } catch (const Failure& f) {
                    ++unsupported;
                    status = f.status();
                    if (first_failure.empty()) first_failure = f.what();
                    if (log_enabled())
                        std::fprintf(stderr, "slipstream cudnn: %s: engine %s: %s\n", label.c_str(), sig.c_str(),
                                     f.what());
                    continue;
                }
                if (c.workspace > ws_limit) {
                    ++rejected_ws;
                    continue;
                }
                c.cfg = std::move(cfg);
                cands.push_back(std::move(c));
            }
            if (!cands.empty()) break;
        }
        if (cands.empty()) {
            std::ostringstream o;
            o << "no engine (" << seen.size() << " configs: " << unsupported << " did not build, " << rejected_notes
              << " rejected for precision, " << rejected_ws << " over the workspace limit)";
            if (!first_failure.empty()) o << "; first failure: " << first_failure;
            why = o.str();
            if (status == CUDNN_STATUS_SUCCESS) status = CUDNN_STATUS_NOT_SUPPORTED;
            return false;
        }

        // Time each candidate on scratch buffers.
        std::size_t max_ws = 0;
        for (const Candidate& c : cands) max_ws = std::max(max_ws, c.workspace);
        Timing timing(label);
        auto scratch = make_scratch(g, max_ws, timing.stream);
        constexpr int runs = 3;
        int best = -1;
        for (std::size_t i = 0; i < cands.size(); ++i) {
            Candidate& c = cands[i];
            cudnnStatus_t st = execute(g, c.plan, scratch->ptrs, scratch->ws.get(), timing.stream);  // warm-up
            if (st == CUDNN_STATUS_SUCCESS) {
                check_cuda(cudaEventRecord(timing.start, timing.stream), label, "recording an event");
                for (int k = 0; k < runs && st == CUDNN_STATUS_SUCCESS; ++k)
                    st = execute(g, c.plan, scratch->ptrs, scratch->ws.get(), timing.stream);
                check_cuda(cudaEventRecord(timing.stop, timing.stream), label, "recording an event");
                check_cuda(cudaEventSynchronize(timing.stop), label, "timing a candidate");
            }
            if (st != CUDNN_STATUS_SUCCESS) {
                status = st;
                if (log_enabled())
                    std::fprintf(stderr, "slipstream cudnn: %s: engine %s failed to run: %s\n", label.c_str(),
                                 c.info.signature().c_str(), status_text(st).c_str());
                continue;
            }
            float ms = 0.f;
            check_cuda(cudaEventElapsedTime(&ms, timing.start, timing.stop), label, "reading an event");
            c.ms = ms / runs;
            ++timed;
            if (log_enabled())
                std::fprintf(stderr, "slipstream cudnn: %s: %s engine %s%s ws %zu: %.4f ms\n", label.c_str(),
                             g.fused ? "fused" : "conv", c.info.signature().c_str(),
                             c.info.runtime_compiled ? " (rtc)" : "", c.workspace, double(c.ms));
            if (best < 0 || c.ms < cands[best].ms) best = static_cast<int>(i);
        }
        check_cuda(cudaStreamSynchronize(timing.stream), label, "finishing the autotune runs");
        if (best < 0) {
            why = "no engine ran (" + std::to_string(cands.size()) + " plans built; last status " +
                  status_text(status) + ")";
            return false;
        }
        std::ostringstream notes;
        notes << cands.size() << " candidates timed";
        search_notes = notes.str();
        chosen = std::move(cands[best]);
        graph = std::move(g);
        autotuned = true;
        tf32 = f32 && (chosen.info.tensor_core || chosen.info.down_convert);
        return true;
    }

    // Rebuilds a preferred choice; false (with why) when it does not apply.
    bool rebuild(const std::string& preferred, std::string& why) {
        Choice c;
        if (!parse_choice(preferred, c)) {
            why = "unreadable";
            return false;
        }
        if (c.version != std::to_string(A().GetVersion())) {
            why = "made with cuDNN " + c.version;
            return false;
        }
        if (c.key != key) {
            why = "made for another layer";
            return false;
        }
        try {
            Graph g = build_graph(handle->get(), layer, c.path == "fused");
            Candidate cand;
            cand.cfg = make_config(g, c.engine, c.knobs);
            cand.info = inspect_config(cand.cfg);
            const bool tf32_engine = layer.type == DataType::f32 && (cand.info.tensor_core || cand.info.down_convert);
            if (cand.info.reduced_precision || (tf32_engine && !c.tf32)) {
                why = "engine's numerical notes changed";
                return false;
            }
            cand.plan = make_plan(handle->get(), cand.cfg, cand.workspace);
            if (cand.workspace > ws_limit) {
                why = "workspace " + std::to_string(cand.workspace) + " over the limit";
                return false;
            }
            // One run on scratch buffers: proves the plan runs here, and loads
            // its kernels before any capture.
            Timing timing(label);
            auto scratch = make_scratch(g, cand.workspace, timing.stream);
            const cudnnStatus_t st = execute(g, cand.plan, scratch->ptrs, scratch->ws.get(), timing.stream);
            check_cuda(cudaStreamSynchronize(timing.stream), label, "running the preferred plan");
            if (st != CUDNN_STATUS_SUCCESS) {
                why = "does not run: " + status_text(st);
                return false;
            }
            chosen = std::move(cand);
            graph = std::move(g);
            tf32 = tf32_engine;
            autotuned = false;
            search_notes = "from the preferred choice";
            return true;
        } catch (const Failure& f) {
            why = std::string("does not build: ") + f.what();
            return false;
        }
    }

    std::string choice() const {
        std::ostringstream o;
        o << "cudnn=" << A().GetVersion() << ";key=" << key << ";path=" << (graph.fused ? "fused" : "conv")
          << ";engine=" << chosen.info.index << ";knobs=" << chosen.info.knob_text() << ";tf32=" << (tf32 ? 1 : 0);
        return o.str();
    }
};

FusedConv::FusedConv(Handle& handle, const ConvShape& shape, DataType type, bool has_bias, bool has_residual,
                     Activation act, float alpha, std::size_t workspace_limit_bytes, const std::string& name,
                     const std::string& preferred)
    : impl_(std::make_unique<Impl>()) {
    shape.validate();
    Impl& m = *impl_;
    m.handle = &handle;
    m.layer = Layer{shape, type, has_bias, has_residual, act, alpha};
    m.ws_limit = workspace_limit_bytes;
    m.name = name;
    m.label = "convolution '" + name + "' (" + describe_shape(shape, type) + ")";
    m.key = layer_key(m.layer);

    // Autotuning runs on a stream of its own: give the handle its stream back after.
    struct StreamRestore {
        Handle& h;
        cudaStream_t s;
        ~StreamRestore() {
            try {
                h.set_stream(s);
            } catch (...) {
            }
        }
    } restore{handle, handle.stream()};

    std::string preferred_why;
    if (!preferred.empty()) {
        if (m.rebuild(preferred, preferred_why)) return;
        if (log_enabled())
            std::fprintf(stderr, "slipstream cudnn: %s: preferred choice not used (%s): autotuning\n",
                         m.label.c_str(), preferred_why.c_str());
    }

    // Passes in order; the first that yields a running plan wins.
    struct Pass {
        bool fused, tf32;
    };
    // SLIPSTREAM_CUDNN_FORCE_UNFUSED=1 (tests, diagnosis): path 2 only.
    const char* force = std::getenv("SLIPSTREAM_CUDNN_FORCE_UNFUSED");
    const bool unfused_only = force != nullptr && *force != '\0' && std::string(force) != "0";
    std::vector<Pass> passes;
    if (m.layer.needs_epilogue()) {
        if (unfused_only) {
            passes = {{false, false}};
            if (type == DataType::f32) passes.push_back({false, true});
        } else {
            passes = {{true, false}, {false, false}};
            if (type == DataType::f32) passes.insert(passes.end(), {{true, true}, {false, true}});
        }
    } else {
        passes = {{true, false}};  // conv only, and nothing to fuse
        if (type == DataType::f32) passes.push_back({true, true});
    }
    std::vector<std::string> whys;
    cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
    for (const Pass& p : passes) {
        const std::string what = std::string(p.fused && m.layer.needs_epilogue() ? "fused graph" : "conv graph") +
                                 (p.tf32 ? " (tf32 allowed)" : "");
        std::string why;
        try {
            Graph g = build_graph(handle.get(), m.layer, p.fused);
            if (m.search(std::move(g), p.tf32, why, status)) {
                if (!m.graph.fused)
                    m.why_not_fused = unfused_only ? std::string("SLIPSTREAM_CUDNN_FORCE_UNFUSED is set")
                                      : whys.empty() ? std::string()
                                                     : whys.front();
                if (!preferred.empty()) m.search_notes += "; preferred choice not used: " + preferred_why;
                return;
            }
        } catch (const Failure& f) {
            status = f.status();
            why = f.what();
        }
        whys.push_back(what + ": " + why);
    }

    std::string msg = "cuDNN: building " + m.label + ": " + status_text(status);
    if (!shape.symmetric_padding())
        msg += "; asymmetric padding (" + std::to_string(shape.pad_top) + "," + std::to_string(shape.pad_left) + "," +
               std::to_string(shape.pad_bottom) + "," + std::to_string(shape.pad_right) +
               ") is not supported by any engine";
    for (const std::string& w : whys) msg += "; " + w;
    throw std::runtime_error(msg);
}

FusedConv::~FusedConv() = default;
FusedConv::FusedConv(FusedConv&&) noexcept = default;
FusedConv& FusedConv::operator=(FusedConv&&) noexcept = default;

std::string FusedConv::choice() const { return impl_->choice(); }

std::string FusedConv::describe() const {
    const Impl& m = *impl_;
    std::ostringstream o;
    o << m.label << ": ";
    if (m.graph.fused && !m.layer.needs_epilogue()) {
        o << "cuDNN conv graph (nothing to fuse)";
    } else if (m.graph.fused) {
        o << "fused cuDNN graph (conv";
        if (m.layer.has_bias) o << " + bias";
        if (m.layer.has_residual) o << " + residual";
        if (m.layer.act != Activation::none) o << " + " << to_string(m.layer.act);
        o << ")";
    } else {
        o << "cuDNN conv + own epilogue kernel (";
        bool first = true;
        auto item = [&](const char* s) {
            o << (first ? "" : " + ") << s;
            first = false;
        };
        if (m.layer.has_bias) item("bias");
        if (m.layer.has_residual) item("residual");
        if (m.layer.act != Activation::none) item(to_string(m.layer.act));
        o << ")";
    }
    o << ", engine " << m.chosen.info.index;
    if (!m.chosen.info.knobs.empty()) o << " knobs " << m.chosen.info.knob_text();
    if (m.chosen.info.runtime_compiled) o << " (runtime compiled)";
    if (m.chosen.info.tensor_core) o << (m.tf32 ? " (TF32 tensor cores)" : " (tensor cores)");
    o << ", workspace " << m.chosen.workspace << " B";
    if (m.autotuned) o << ", " << m.search_notes << ", best " << m.chosen.ms << " ms";
    else o << ", " << m.search_notes;
    if (!m.why_not_fused.empty()) o << "; not fused: " << m.why_not_fused;
    return o.str();
}

std::size_t FusedConv::workspace_bytes() const { return impl_->chosen.workspace; }
bool FusedConv::fused() const { return impl_->graph.fused; }
bool FusedConv::autotuned() const { return impl_->autotuned; }
bool FusedConv::tf32() const { return impl_->tf32; }
int FusedConv::candidates_timed() const { return impl_->timed; }
const ConvShape& FusedConv::shape() const { return impl_->layer.shape; }

void FusedConv::run(const void* x, const void* w, const void* bias, const void* residual, void* y, void* workspace,
                    cudaStream_t stream) {
    Impl& m = *impl_;
    auto need = [&](const void* p, const char* what) {
        if (p == nullptr) throw std::invalid_argument(m.label + ": run() without " + what);
        if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0)
            throw std::invalid_argument(m.label + ": run(): " + what + " is not 16-byte aligned");
    };
    need(x, "x");
    need(w, "w");
    need(y, "y");
    if (m.layer.has_bias) need(bias, "bias");
    if (m.layer.has_residual) need(residual, "residual");
    if (m.chosen.workspace > 0) need(workspace, "workspace");
    if (m.chosen.workspace == 0) workspace = nullptr;

    m.handle->set_stream(stream);
    std::vector<void*> ptrs = pointers_for(m.graph.uids, x, w, bias, residual, y);
    if (!m.pack || ptrs != m.pack_ptrs || workspace != m.pack_ws) {
        m.pack.reset();
        try {
            m.pack = make_pack(m.graph.uids, ptrs.data(), workspace);
        } catch (const Failure& f) {
            throw std::runtime_error("cuDNN: running " + m.label + ": " + f.what());
        }
        m.pack_ptrs = std::move(ptrs);
        m.pack_ws = workspace;
    }
    const cudnnStatus_t st = A().BackendExecute(m.handle->get(), m.chosen.plan.get(), m.pack.get());
    if (st != CUDNN_STATUS_SUCCESS) throw std::runtime_error("cuDNN: running " + m.label + ": " + status_text(st));
    if (!m.graph.fused) {
        const cudaError_t err = detail::launch_epilogue(
            m.layer.type == DataType::f16, y, m.layer.has_bias ? static_cast<const float*>(bias) : nullptr,
            m.layer.has_residual ? residual : nullptr, m.layer.shape.y_elements(), m.layer.shape.k,
            static_cast<detail::EpilogueAct>(static_cast<int>(m.layer.act)), m.layer.alpha, stream);
        if (err != cudaSuccess)
            throw std::runtime_error("CUDA: running " + m.label + ": epilogue kernel: " + cudaGetErrorString(err));
    }
}

}  // namespace ss::cudnn
