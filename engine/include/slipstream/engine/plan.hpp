#pragma once
// The executor's plan: an ONNX graph imported, its shapes inferred for one
// batch size, shape arithmetic folded away, convolutions fused with their bias
// and activation, every activation tensor given a physical layout and a place
// in one arena. Pure C++ (no CUDA): planned and checked on any CPU, run by the
// CUDA executor (cuda/backend/) or, slowly and exactly, by reference_run().
//
// Conventions every step kind follows:
//  - Tensor dims are the ONNX (logical) dims, batch resolved. Physical order is
//    `layout`: row_major = the logical order; nhwc = a 4-D [N,C,H,W] tensor
//    stored as [N,H,W,C] ("channels last", what cuDNN's fast FP16 kernels use).
//  - Activations (everything that is not a constant) have the plan's dtype
//    (f16 or f32) except graph outputs, which are always f32 row_major so the
//    output parsers read them as they are.
//  - Constants are kept as f32 row_major on the host; the executor uploads them
//    in the form a step needs (conv weights as K,R,S,C/g in the activation
//    dtype, bias as f32).
//  - Strided steps describe their data movement in elements of the physical
//    buffers, so an executor needs no layout logic of its own.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace ss::engine {

using Dims = std::vector<int64_t>;

enum class DType { f32, f16 };
enum class Layout { row_major, nhwc };
enum class Activation { none, relu, leaky_relu, sigmoid, silu };

constexpr int max_rank = 6;

struct PlannedTensor {
    std::string name;         // the ONNX value name (fused-away values do not appear)
    Dims dims;                // logical
    Layout layout = Layout::row_major;
    DType dtype = DType::f32;
    bool constant = false;    // data in Plan::constants[constant_index], not in the arena
    int constant_index = -1;
    std::size_t offset = 0;   // bytes into the arena (activations only)
    std::size_t bytes = 0;    // element count * element size
    int alias_of = -1;        // a Reshape/Flatten/Squeeze of a row_major tensor: same bytes as tensor alias_of
    std::int64_t elements() const;
};

struct Constant {
    std::string name;
    Dims dims;
    std::vector<float> values;  // row_major
};

// Convolution + bias + optional residual add + activation, NHWC in and out:
// y = act(conv(x, w) + bias + residual). One cuDNN fused graph.
struct ConvStep {
    int x = -1, w = -1, bias = -1, residual = -1, y = -1;  // tensor indices; w, bias constants; bias/residual may be -1
    int groups = 1;
    std::array<int, 2> strides{1, 1}, dilations{1, 1};
    std::array<int, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
    Activation activation = Activation::none;
    float alpha = 0.f;                    // leaky_relu slope
};

// out[i] = in[offset + sum_d index_d(i) * in_strides[d]] over `dims` (physical
// order of out, row major), with dtype conversion. Covers Transpose, layout
// changes, Slice, Split, Concat (one step per input), Gather with a constant
// index, Expand, and the casts at the graph's input and outputs.
struct CopyStep {
    int in = -1, out = -1;
    std::vector<int64_t> dims;        // iteration space, rank <= max_rank
    std::vector<int64_t> in_strides;  // elements, per dim of `dims`
    std::vector<int64_t> out_strides; // elements, per dim of `dims` (writes into a slab of out for Concat)
    int64_t in_offset = 0, out_offset = 0;
};

enum class UnaryOp { relu, leaky_relu, sigmoid, silu, exp, identity };
struct UnaryStep {
    int in = -1, out = -1;
    UnaryOp op = UnaryOp::identity;
    float alpha = 0.f;
};

// out = a (op) b with numpy broadcasting, expressed as strides: both operands
// are read through strides over the output's physical dims (0 = broadcast).
// A constant operand is read from its f32 row_major upload.
enum class BinaryOp { add, sub, mul, div };
struct BinaryStep {
    int a = -1, b = -1, out = -1;
    BinaryOp op = BinaryOp::add;
    std::vector<int64_t> dims;  // output physical dims
    std::vector<int64_t> a_strides, b_strides;
};

// NHWC in and out. ONNX Resize, modes the supported models use.
enum class ResizeMode { linear_half_pixel, linear_align_corners, linear_asymmetric, nearest_asymmetric_floor };
struct ResizeStep {
    int in = -1, out = -1;
    ResizeMode mode = ResizeMode::linear_half_pixel;
};

// NHWC in and out; pads outside the input never win (-inf).
struct MaxPoolStep {
    int in = -1, out = -1;
    std::array<int, 2> kernel{1, 1}, strides{1, 1};
    std::array<int, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
};

// Over row_major data seen as [outer, axis, inner].
struct SoftmaxStep {
    int in = -1, out = -1;
    int64_t outer = 1, axis = 1, inner = 1;
};

// Batched row-major matrix products: out[b] = a[b] (m x k) * b[b] (k x n),
// with batch strides (0 = broadcast, e.g. a constant weight matrix).
struct MatMulStep {
    int a = -1, b = -1, out = -1;
    int64_t batch = 1, m = 1, n = 1, k = 1;
    int64_t a_batch_stride = 0, b_batch_stride = 0;
};

using StepParams = std::variant<ConvStep, CopyStep, UnaryStep, BinaryStep, ResizeStep, MaxPoolStep, SoftmaxStep, MatMulStep>;

struct Step {
    std::string node;     // the ONNX node it comes from (the first, when fused), for messages and profiles
    std::string op;       // its ONNX op type
    StepParams params;
};

// The tensors a step reads (constants included; a ConvStep's w and bias too)
// and the one it writes: what arena lifetimes and executors walk.
std::vector<int> step_reads(const Step& step);
int step_writes(const Step& step);

enum class Precision { fp32, fp16 };

struct Plan {
    std::filesystem::path model;
    int batch = 1;
    Precision precision = Precision::fp16;
    std::vector<PlannedTensor> tensors;
    std::vector<Constant> constants;
    std::vector<Step> steps;
    int input = -1;                // the graph input as the executor fills it: activation dtype, nhwc when 4-D
    std::vector<int> outputs;      // graph outputs in model order: f32 row_major
    std::vector<std::string> output_names;
    std::size_t arena_bytes = 0;   // activations live at PlannedTensor::offset in one block of this size
};

// Reads an ONNX file; throws ss::ModelError naming the file (and the node and
// op for an op or attribute we do not support), never returns a partial graph.
struct Graph;  // engine/src/graph.hpp: the imported graph, shapes still symbolic in the batch
std::shared_ptr<const Graph> import_onnx(const std::filesystem::path& model);

// Plans the graph for one batch size. The input's spatial dims must be fixed by
// the model. Throws ss::ModelError naming file and node where shapes disagree.
Plan make_plan(const Graph& graph, int batch, Precision precision);

// Runs a plan on the CPU in f32 (whatever its precision), step by step, as the
// executor would: the semantic reference for the GPU and for tests. `input` is
// NCHW f32 (converted to the plan's input layout here); returns the outputs.
std::vector<std::vector<float>> reference_run(const Plan& plan, const std::vector<float>& input_nchw);

}  // namespace ss::engine
