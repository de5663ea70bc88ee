#include "executor.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "slipstream/cuda/ops.hpp"
#include "slipstream/error.hpp"

namespace ss::cuda_backend {
namespace {

using engine::Plan;
using engine::PlannedTensor;
namespace ops = ss::cuda::ops;

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

ops::ElementType element_type(engine::DType type) {
    return type == engine::DType::f16 ? ops::ElementType::f16 : ops::ElementType::f32;
}

cudnn::Activation activation(engine::Activation act) {
    switch (act) {
        case engine::Activation::relu: return cudnn::Activation::relu;
        case engine::Activation::leaky_relu: return cudnn::Activation::leaky_relu;
        case engine::Activation::sigmoid: return cudnn::Activation::sigmoid;
        case engine::Activation::silu: return cudnn::Activation::silu;
        case engine::Activation::none: break;
    }
    return cudnn::Activation::none;
}

ops::UnaryOp unary_op(engine::UnaryOp op) {
    switch (op) {
        case engine::UnaryOp::relu: return ops::UnaryOp::relu;
        case engine::UnaryOp::leaky_relu: return ops::UnaryOp::leaky_relu;
        case engine::UnaryOp::sigmoid: return ops::UnaryOp::sigmoid;
        case engine::UnaryOp::silu: return ops::UnaryOp::silu;
        case engine::UnaryOp::exp: return ops::UnaryOp::exp;
        case engine::UnaryOp::identity: break;
    }
    return ops::UnaryOp::identity;
}

ops::BinaryOp binary_op(engine::BinaryOp op) {
    switch (op) {
        case engine::BinaryOp::add: return ops::BinaryOp::add;
        case engine::BinaryOp::sub: return ops::BinaryOp::sub;
        case engine::BinaryOp::mul: return ops::BinaryOp::mul;
        case engine::BinaryOp::div: return ops::BinaryOp::div;
    }
    return ops::BinaryOp::add;
}

ops::ResizeMode resize_mode(engine::ResizeMode mode) {
    switch (mode) {
        case engine::ResizeMode::linear_half_pixel: return ops::ResizeMode::linear_half_pixel;
        case engine::ResizeMode::linear_align_corners: return ops::ResizeMode::linear_align_corners;
        case engine::ResizeMode::linear_asymmetric: return ops::ResizeMode::linear_asymmetric;
        case engine::ResizeMode::nearest_asymmetric_floor: return ops::ResizeMode::nearest_asymmetric_floor;
    }
    return ops::ResizeMode::linear_half_pixel;
}

int as_int(int64_t v) { return static_cast<int>(v); }

}  // namespace

void check_cuda(cudaError_t status, const char* what) {
    if (status != cudaSuccess) {
        cudaGetLastError();
        throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(status));
    }
}

DeviceBuffer::DeviceBuffer(std::size_t size) : bytes(size) {
    check_cuda(cudaMalloc(&data, std::max<std::size_t>(size, 256)),
               ("allocating " + std::to_string(size >> 20) + " MB on the GPU").c_str());
}

DeviceBuffer::~DeviceBuffer() {
    if (data) cudaFree(data);
}

Executor::Executor(engine::Plan plan, ModelContext& context, cudaStream_t build_stream)
    : plan_(std::move(plan)), context_(context) {
    handle_ = std::make_unique<cudnn::Handle>();
    handle_->set_stream(build_stream);
    arena_ = std::make_unique<DeviceBuffer>(plan_.arena_bytes);
    const auto& in = plan_.tensors.at(plan_.input);
    staging_ = std::make_unique<DeviceBuffer>(static_cast<std::size_t>(in.elements()) * sizeof(float));

    const auto type = plan_.precision == engine::Precision::fp16 ? cudnn::DataType::f16 : cudnn::DataType::f32;
    std::size_t workspace = 0;
    convs_.resize(plan_.steps.size());
    for (std::size_t i = 0; i < plan_.steps.size(); ++i) {
        const auto* conv = std::get_if<engine::ConvStep>(&plan_.steps[i].params);
        if (!conv) continue;
        if (context_.cancelled && context_.cancelled->load()) throw std::runtime_error("building cancelled");
        const auto& x = plan_.tensors.at(conv->x);
        const auto& w = plan_.tensors.at(conv->w);
        cudnn::ConvShape shape;
        shape.n = as_int(x.dims[0]);
        shape.c = as_int(x.dims[1]);
        shape.h = as_int(x.dims[2]);
        shape.w = as_int(x.dims[3]);
        shape.k = as_int(w.dims[0]);
        shape.r = as_int(w.dims[2]);
        shape.s = as_int(w.dims[3]);
        shape.groups = conv->groups;
        shape.pad_top = conv->pads[0];
        shape.pad_left = conv->pads[1];
        shape.pad_bottom = conv->pads[2];
        shape.pad_right = conv->pads[3];
        shape.stride_h = conv->strides[0];
        shape.stride_w = conv->strides[1];
        shape.dil_h = conv->dilations[0];
        shape.dil_w = conv->dilations[1];
        const auto act = activation(conv->activation);
        std::ostringstream layer;
        layer << cudnn::describe_shape(shape, type) << ", " << shape.h << "x" << shape.w << ", " << cudnn::to_string(act)
              << (conv->bias >= 0 ? ", bias" : "") << (conv->residual >= 0 ? ", residual" : "");
        const std::string any_batch = layer.str();
        std::ostringstream key;
        key << cudnn::describe_shape(shape, type) << ", " << shape.n << "x" << shape.h << "x" << shape.w << ", "
            << cudnn::to_string(act)
            << (conv->bias >= 0 ? ", bias" : "") << (conv->residual >= 0 ? ", residual" : "");
        const std::string preferred = context_.cached_choice ? context_.cached_choice(key.str(), any_batch) : std::string();
        auto built = std::make_unique<cudnn::FusedConv>(*handle_, shape, type, conv->bias >= 0, conv->residual >= 0,
                                                        act, conv->alpha, context_.workspace_limit,
                                                        plan_.steps[i].node, preferred);
        if (context_.remember_choice) context_.remember_choice(key.str(), any_batch, built->choice());
        workspace = std::max(workspace, built->workspace_bytes());
        convs_[i] = std::move(built);
    }
    if (workspace) workspace_ = std::make_unique<DeviceBuffer>(workspace);

    // Constants are uploaded now, before any capture (uploads synchronise).
    step_constants_.assign(plan_.steps.size(), nullptr);
    step_constants_b_.assign(plan_.steps.size(), nullptr);
    for (std::size_t i = 0; i < plan_.steps.size(); ++i) {
        if (const auto* conv = std::get_if<engine::ConvStep>(&plan_.steps[i].params)) {
            step_constants_[i] = constant(conv->w, type == cudnn::DataType::f16 ? "krsc16" : "krsc32");
            if (conv->bias >= 0) step_constants_b_[i] = constant(conv->bias, "f32");
        } else if (const auto* bin = std::get_if<engine::BinaryStep>(&plan_.steps[i].params)) {
            if (plan_.tensors.at(bin->a).constant) step_constants_[i] = constant(bin->a, "f32");
            if (plan_.tensors.at(bin->b).constant) step_constants_b_[i] = constant(bin->b, "f32");
        } else if (const auto* mm = std::get_if<engine::MatMulStep>(&plan_.steps[i].params)) {
            if (plan_.tensors.at(mm->a).constant) step_constants_[i] = constant(mm->a, "f32");
            if (plan_.tensors.at(mm->b).constant) step_constants_b_[i] = constant(mm->b, "f32");
        } else if (const auto* copy = std::get_if<engine::CopyStep>(&plan_.steps[i].params)) {
            if (plan_.tensors.at(copy->in).constant) step_constants_[i] = constant(copy->in, "f32");
        }
    }
    check_cuda(cudaDeviceSynchronize(), "uploading the model's constants");
}

Executor::~Executor() {
    if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
    if (graph_) cudaGraphDestroy(graph_);
}

const void* Executor::constant(int tensor, const std::string& form) {
    const auto& t = plan_.tensors.at(tensor);
    const auto& c = plan_.constants.at(t.constant_index);
    // Name, dims and content: values folded per batch size may share a name.
    std::uint64_t hash = 1469598103934665603ull;
    for (float v : c.values) {
        std::uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        hash = (hash ^ bits) * 1099511628211ull;
    }
    std::string key = c.name + "/" + form;
    for (auto d : c.dims) {
        key += ',';
        key += std::to_string(d);
    }
    key += "/" + std::to_string(hash);
    auto it = context_.constants.find(key);
    if (it != context_.constants.end()) return it->second->data;
    std::vector<std::uint8_t> bytes;
    if (form == "f32") {
        bytes.resize(c.values.size() * sizeof(float));
        std::memcpy(bytes.data(), c.values.data(), bytes.size());
    } else {
        cudnn::ConvShape shape;  // only k, c/groups, r, s matter for the reorder
        shape.k = as_int(c.dims[0]);
        shape.c = as_int(c.dims[1]);
        shape.groups = 1;
        shape.r = as_int(c.dims[2]);
        shape.s = as_int(c.dims[3]);
        bytes = cudnn::reorder_weights(c.values, shape, form == "krsc16" ? cudnn::DataType::f16 : cudnn::DataType::f32);
    }
    auto buffer = std::make_shared<DeviceBuffer>(bytes.size());
    check_cuda(cudaMemcpy(buffer->data, bytes.data(), bytes.size(), cudaMemcpyHostToDevice),
               ("uploading constant '" + c.name + "'").c_str());
    context_.constants.emplace(key, buffer);
    return buffer->data;
}

void* Executor::address(int tensor) const {
    const PlannedTensor* t = &plan_.tensors.at(tensor);
    while (t->alias_of >= 0) t = &plan_.tensors.at(t->alias_of);
    return static_cast<char*>(arena_->data) + t->offset;
}

void* Executor::input() const { return address(plan_.input); }

void* Executor::output(std::size_t index) const { return address(plan_.outputs.at(index)); }

void Executor::run(cudaStream_t stream, bool from_staging) {
    if (from_staging) {
        // NCHW f32 staging -> the plan's input (NHWC in the activation dtype).
        const auto& in = plan_.tensors.at(plan_.input);
        const int64_t n = in.dims[0], c = in.dims[1], h = in.dims[2], w = in.dims[3];
        const ops::Src src{staging_->data, ops::ElementType::f32, in.elements()};
        const ops::Dst dst{input(), element_type(in.dtype), in.elements()};
        if (in.layout == engine::Layout::nhwc) {
            ops::strided_copy(src, 0, ops::Shape{c * h * w, w, 1, h * w}, dst, 0, ops::Shape{h * w * c, w * c, c, 1},
                              ops::Shape{n, h, w, c}, stream);
        } else {
            ops::convert(src, dst, stream);
        }
    }
    if (!graph_exec_ && !capture_failed_) {
        // Captured on the first run, once the convolutions are built and tuned.
        check_cuda(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "starting graph capture");
        std::string failure;
        try {
            launch_steps(stream);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        const auto ended = cudaStreamEndCapture(stream, &graph_);
        if (failure.empty() && ended == cudaSuccess && graph_) {
            if (cudaGraphInstantiate(&graph_exec_, graph_, 0) != cudaSuccess) {
                graph_exec_ = nullptr;
                failure = "instantiation failed";
            }
        } else if (failure.empty()) {
            failure = cudaGetErrorString(ended);
        }
        cudaGetLastError();
        if (!graph_exec_) {
            if (graph_) cudaGraphDestroy(graph_);
            graph_ = nullptr;
            capture_failed_ = true;
            capture_failure_ = failure;
        }
    }
    if (graph_exec_) {
        check_cuda(cudaGraphLaunch(graph_exec_, stream), "launching the model's CUDA graph");
    } else {
        launch_steps(stream);
    }
}

void Executor::launch_steps(cudaStream_t stream) {
    handle_->set_stream(stream);
    for (std::size_t i = 0; i < plan_.steps.size(); ++i) launch_step(i, stream);
}

void Executor::launch_step(std::size_t i, cudaStream_t stream) {
    auto src = [&](int tensor, const void* constant_ptr) {
        const auto& t = plan_.tensors.at(tensor);
        if (t.constant) return ops::Src{constant_ptr, ops::ElementType::f32, t.elements()};
        return ops::Src{address(tensor), element_type(t.dtype), t.elements()};
    };
    auto dst = [&](int tensor) {
        const auto& t = plan_.tensors.at(tensor);
        return ops::Dst{address(tensor), element_type(t.dtype), t.elements()};
    };
    const auto& step = plan_.steps[i];
    try {
        std::visit(
            overloaded{
                [&](const engine::ConvStep& s) {
                    convs_[i]->run(address(s.x), step_constants_[i], step_constants_b_[i],
                                   s.residual >= 0 ? address(s.residual) : nullptr, address(s.y),
                                   workspace_ ? workspace_->data : nullptr, stream);
                },
                [&](const engine::CopyStep& s) {
                    ops::strided_copy(src(s.in, step_constants_[i]), s.in_offset, ops::Shape(s.in_strides),
                                      dst(s.out), s.out_offset, ops::Shape(s.out_strides), ops::Shape(s.dims),
                                      stream);
                },
                [&](const engine::UnaryStep& s) {
                    ops::unary(unary_op(s.op), s.alpha, src(s.in, nullptr), dst(s.out), stream);
                },
                [&](const engine::BinaryStep& s) {
                    ops::binary(binary_op(s.op), src(s.a, step_constants_[i]), ops::Shape(s.a_strides),
                                src(s.b, step_constants_b_[i]), ops::Shape(s.b_strides), dst(s.out),
                                ops::Shape(s.dims), stream);
                },
                [&](const engine::ResizeStep& s) {
                    const auto& in = plan_.tensors.at(s.in).dims;
                    const auto& out = plan_.tensors.at(s.out).dims;
                    ops::resize_nhwc(resize_mode(s.mode), src(s.in, nullptr), dst(s.out), in[0], in[1], in[2],
                                     in[3], out[2], out[3], stream);
                },
                [&](const engine::MaxPoolStep& s) {
                    const auto& in = plan_.tensors.at(s.in).dims;
                    const auto& out = plan_.tensors.at(s.out).dims;
                    ops::PoolWindow window;
                    window.kernel_h = s.kernel[0];
                    window.kernel_w = s.kernel[1];
                    window.stride_h = s.strides[0];
                    window.stride_w = s.strides[1];
                    window.pad_top = s.pads[0];
                    window.pad_left = s.pads[1];
                    window.pad_bottom = s.pads[2];
                    window.pad_right = s.pads[3];
                    ops::maxpool_nhwc(src(s.in, nullptr), dst(s.out), in[0], in[1], in[2], in[3], out[2], out[3],
                                      window, stream);
                },
                [&](const engine::SoftmaxStep& s) {
                    ops::softmax(src(s.in, nullptr), dst(s.out), s.outer, s.axis, s.inner, stream);
                },
                [&](const engine::MatMulStep& s) {
                    ops::matmul(src(s.a, step_constants_[i]), s.a_batch_stride, src(s.b, step_constants_b_[i]),
                                s.b_batch_stride, dst(s.out), s.batch, s.m, s.n, s.k, stream);
                },
            },
            step.params);
    } catch (const std::exception& e) {
        throw ModelError(plan_.model.string() + ": node '" + step.node + "' (" + step.op + "): " + e.what());
    }
}

std::string Executor::profile(cudaStream_t stream, int runs) {
    const std::size_t steps = plan_.steps.size();
    std::vector<cudaEvent_t> marks(steps + 1, nullptr);
    std::vector<double> step_ms(steps, 0.0);
    auto release = [&] {
        for (auto& m : marks) {
            if (m) cudaEventDestroy(m);
        }
    };
    // The arena reuses the input's memory for later tensors: every run starts
    // from a copy of it saved first, and it is put back for the run() after.
    const auto& in = plan_.tensors.at(plan_.input);
    DeviceBuffer saved(in.bytes);
    auto restore_input = [&] {
        check_cuda(cudaMemcpyAsync(input(), saved.data, in.bytes, cudaMemcpyDeviceToDevice, stream), "restoring the input");
    };
    try {
        for (auto& m : marks) check_cuda(cudaEventCreate(&m), "creating a profiling event");
        check_cuda(cudaMemcpyAsync(saved.data, input(), in.bytes, cudaMemcpyDeviceToDevice, stream), "saving the input");
        handle_->set_stream(stream);
        for (int r = 0; r < runs; ++r) {
            restore_input();
            check_cuda(cudaEventRecord(marks[0], stream), "recording a profiling event");
            for (std::size_t i = 0; i < steps; ++i) {
                launch_step(i, stream);
                check_cuda(cudaEventRecord(marks[i + 1], stream), "recording a profiling event");
            }
            check_cuda(cudaEventSynchronize(marks[steps]), "profiling the steps");
            for (std::size_t i = 0; i < steps; ++i) {
                float ms = 0;
                check_cuda(cudaEventElapsedTime(&ms, marks[i], marks[i + 1]), "reading a profiling event");
                step_ms[i] += ms / runs;
            }
        }
        restore_input();
    } catch (...) {
        release();
        throw;
    }
    release();
    double total = 0;
    std::map<std::string, std::pair<double, int>> by_op;
    for (std::size_t i = 0; i < steps; ++i) {
        total += step_ms[i];
        auto& [ms, count] = by_op[plan_.steps[i].op];
        ms += step_ms[i];
        ++count;
    }
    std::vector<std::pair<double, std::string>> ops_sorted;
    for (const auto& [op, v] : by_op) ops_sorted.emplace_back(v.first, op + " x" + std::to_string(v.second));
    std::sort(ops_sorted.rbegin(), ops_sorted.rend());
    std::vector<std::size_t> order(steps);
    for (std::size_t i = 0; i < steps; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return step_ms[a] > step_ms[b]; });
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o.precision(3);
    o << "batch " << plan_.batch << ": " << total << " ms over " << steps << " steps launched one by one; by kind:";
    for (const auto& [ms, what] : ops_sorted) o << " " << what << " " << ms;
    o << "; slowest:";
    const std::size_t shown = std::min<std::size_t>(8, steps);
    for (std::size_t k = 0; k < shown; ++k) {
        const auto& step = plan_.steps[order[k]];
        o << " " << step.node << " (" << step.op;
        if (convs_[order[k]]) o << (convs_[order[k]]->fused() ? ", fused" : ", own epilogue");
        o << ") " << step_ms[order[k]] << (k + 1 < shown ? "," : "");
    }
    return o.str();
}

std::string Executor::describe() const {
    int convs = 0, fused = 0;
    for (const auto& c : convs_) {
        if (!c) continue;
        ++convs;
        fused += c->fused() ? 1 : 0;
    }
    std::ostringstream s;
    s << "batch " << plan_.batch << ": " << plan_.steps.size() << " steps, " << convs << " convolutions ("
      << fused << " fused in cuDNN), arena " << (plan_.arena_bytes >> 20) << " MB, "
      << (graph_exec_ ? "CUDA graph" : capture_failed_ ? "no CUDA graph (" + capture_failure_ + ")" : "not run yet");
    return s.str();
}

}  // namespace ss::cuda_backend
