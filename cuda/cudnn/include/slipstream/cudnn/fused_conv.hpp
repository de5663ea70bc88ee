#pragma once
// One convolution layer of the GPU executor through cuDNN 9's graph (backend)
// API:   y = act(conv(x, w) + bias + residual)
// NHWC activations, KRSC weights (K, R, S, C/groups), f16 with FP32
// accumulation or f32, groups including depthwise.
//
// cuDNN is loaded at run time (libcudnn.so.9), so a program linking this
// library starts without it; available() says whether and why not.
//
// Data types: x, w, residual and y have the layer's DataType; bias is always
// f32 ([K], what the plan uploads). Every device pointer given to run() must be
// 16-byte aligned (cudaMalloc gives 256; arena offsets must keep 16).
//
// Paths (describe() says which one was taken, and why):
//  1. fused:   one cuDNN graph  conv -> +bias -> +residual -> activation, the
//              intermediates virtual and FP32; the epilogue runs inside cuDNN's
//              kernel (runtime-fusion engines).
//  2. conv + epilogue: when no engine takes the fused graph (or passes the
//              filters below), a conv-only cuDNN graph writes y, then one small
//              kernel of ours adds bias and residual and applies the activation
//              in place on y (FP32 math, one rounding to f16 more than path 1).
// Engine filters: engines with the REDUCED_PRECISION_REDUCTION numerical note
// (FP16 accumulation) are never used; for f32, engines that use tensor cores or
// down-convert inputs (TF32) are used only when no strict-FP32 engine takes the
// graph at all, and tf32() then says so. Candidates whose workspace exceeds the
// limit are dropped. The remaining candidates (heuristics mode A, then mode
// FALLBACK when A gives none that builds; at most a handful) are timed on
// scratch buffers and the fastest is kept.
//
// Odd channel counts (c = 3 input layers, k = 80/44/124 heads) are given to
// cuDNN as they are, not padded: for f16 the fused engines usually want C and K
// multiples of 8 and reject them, and the layer then takes path 2 (the
// conv-only engines accept any C). A caller that wants path 1 for c = 3 can
// pad x and the weights to c = 8 with zeros itself (same result).
//
// Environment: SLIPSTREAM_CUDNN_LOG=1 prints every candidate (engine, knobs,
// workspace, time or failure) to stderr; SLIPSTREAM_CUDNN_FORCE_UNFUSED=1
// skips path 1 (tests of path 2, diagnosis).
//
// Threads: a Handle and the FusedConvs built on it belong to one thread at a
// time. A FusedConv keeps a pointer to its Handle: the Handle must outlive it.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct cudnnContext;  // cudnnHandle_t is cudnnContext*

namespace ss::cudnn {

// Whether cuDNN 9 can be loaded in this process. Never throws; `why` gets one
// short phrase when it cannot (e.g. "libcudnn.so.9 not found: ...").
bool available(std::string* why = nullptr);

// cuDNN's run-time version, e.g. "9.19.0". Throws std::runtime_error when
// cuDNN cannot be loaded.
std::string runtime_version();

// A cuDNN handle (cudnnCreate on the current CUDA device). Throws
// std::runtime_error ("cuDNN: creating a handle: CUDNN_STATUS_...") when cuDNN
// cannot be loaded or initialised (e.g. no usable GPU).
class Handle {
public:
    Handle();
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    // Host-only (capturable); does nothing when `stream` is already set. The
    // handle keeps the stream it was last given (FusedConv::run sets it, a
    // FusedConv's construction gives it back): that stream must outlive the
    // handle's later uses, or cuDNN works on a destroyed stream.
    void set_stream(cudaStream_t stream);
    cudaStream_t stream() const { return stream_; }
    cudnnContext* get() const { return handle_; }

    static std::string version() { return runtime_version(); }

private:
    cudnnContext* handle_ = nullptr;
    cudaStream_t stream_ = nullptr;
};

enum class Activation { none, relu, leaky_relu, sigmoid, silu };
enum class DataType { f16, f32 };

std::size_t element_size(DataType type);
const char* to_string(Activation act);
const char* to_string(DataType type);  // "fp16", "fp32"

// x: [n, c, h, w] stored NHWC; w: [k, c/groups, r, s] stored KRSC;
// y: [n, k, out_h, out_w] stored NHWC. Pads are zero padding before (top,
// left) and after (bottom, right) the picture.
struct ConvShape {
    int n = 1, c = 1, h = 1, w = 1;
    int k = 1, r = 1, s = 1;
    int groups = 1;
    int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    int stride_h = 1, stride_w = 1;
    int dil_h = 1, dil_w = 1;

    int out_h() const { return (h + pad_top + pad_bottom - dil_h * (r - 1) - 1) / stride_h + 1; }
    int out_w() const { return (w + pad_left + pad_right - dil_w * (s - 1) - 1) / stride_w + 1; }
    bool symmetric_padding() const { return pad_top == pad_bottom && pad_left == pad_right; }

    std::int64_t x_elements() const { return std::int64_t(n) * c * h * w; }
    std::int64_t w_elements() const { return std::int64_t(k) * (c / groups) * r * s; }
    std::int64_t y_elements() const { return std::int64_t(n) * k * out_h() * out_w(); }

    // Throws std::invalid_argument naming the problem (non-positive sizes,
    // c or k not divisible by groups, negative pads, empty output).
    void validate() const;
};

// "3x3, 64->128, fp16 nhwc"; groups, stride, dilation and padding other than
// 1/1/1/none are added, e.g. "3x3, 32->32, groups 32, stride 2, pad 1,1,1,1, fp16 nhwc".
std::string describe_shape(const ConvShape& shape, DataType type);

class FusedConv {
public:
    // Builds (and autotunes, unless `preferred` rebuilds) the layer. Throws
    // std::invalid_argument for a bad shape, std::runtime_error
    // ("cuDNN: building convolution 'name' (3x3, 64->128, fp16 nhwc): ...")
    // when no engine takes it. `preferred` is a choice() string from an
    // earlier build of the same layer (may be empty); if it does not rebuild
    // (other shape, other cuDNN, engine gone), the layer is autotuned as if it
    // were empty. Allocates and frees scratch buffers and synchronises the
    // device: call it before any capture.
    FusedConv(Handle& handle, const ConvShape& shape, DataType type, bool has_bias, bool has_residual,
              Activation act, float alpha, std::size_t workspace_limit_bytes, const std::string& name,
              const std::string& preferred = {});
    ~FusedConv();
    FusedConv(FusedConv&&) noexcept;
    FusedConv& operator=(FusedConv&&) noexcept;

    // Identifies the chosen plan: cuDNN version, a key of the layer's shape and
    // options, the path, the engine's global index and its knob choices.
    std::string choice() const;
    // One line: the path taken, the engine, workspace, autotune outcome, why
    // the fused path was not taken where it was not.
    std::string describe() const;
    std::size_t workspace_bytes() const;
    bool fused() const;      // path 1 (cuDNN runs the whole epilogue)
    bool autotuned() const;  // false when built from `preferred`
    bool tf32() const;       // f32 layer running on TF32 tensor cores
    int candidates_timed() const;
    const ConvShape& shape() const;

    // Enqueues the layer on `stream`. No allocation, no synchronisation:
    // capturable into a CUDA graph. bias may be null only without has_bias,
    // residual only without has_residual; workspace may be null when
    // workspace_bytes() is 0. y must not alias x or residual. Throws
    // std::invalid_argument for a missing/misaligned pointer and
    // std::runtime_error when cuDNN or the kernel launch fails.
    void run(const void* x, const void* w, const void* bias, const void* residual, void* y, void* workspace,
             cudaStream_t stream);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---- Host helpers (no GPU, no cuDNN) ----------------------------------------

// IEEE binary16 from float, round to nearest even (NaN stays NaN, overflow to
// infinity), and back.
std::uint16_t float_to_half(float value);
float half_to_float(std::uint16_t bits);

// ONNX Conv weights [K, C/groups, R, S] (OIHW, f32, row major) to KRSC in
// `type`: bytes ready for cudaMemcpy to the w pointer of run(). Only k, c,
// groups, r and s of `shape` are read. Throws std::invalid_argument when those
// are not positive, c is not a multiple of groups, or oihw.size() !=
// shape.w_elements().
std::vector<std::uint8_t> reorder_weights(const std::vector<float>& oihw, const ConvShape& shape, DataType type);

}  // namespace ss::cudnn
