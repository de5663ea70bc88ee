#pragma once
// The GPU inference executor's kernels other than convolution: strided copies
// with dtype conversion, element-wise unary and broadcasting binary ops, NHWC
// resize and max pooling, softmax and small batched matmuls. Stands alone (no
// engine headers): the executor translates its plan's steps into these calls.
//
// Every function:
//  - takes device pointers and a stream and only enqueues work on it: no
//    allocation, no synchronisation, no host-side wait, so every call can be
//    captured into a CUDA graph;
//  - checks its arguments first (null pointers, ranks, every element it will
//    touch lies inside the buffer it is given) and throws ops::Error naming
//    the op before any CUDA call, so a planning bug never becomes a kernel
//    fault that ruins the context;
//  - throws ops::Error naming the op when the launch fails (cudaGetLastError
//    after each launch: errors of earlier asynchronous work on the device can
//    surface here too, as with any CUDA call);
//  - does nothing (and makes no CUDA call) when there are zero elements;
//  - reads f16 and f32 and computes in f32; an f16 result is rounded to nearest.
// Buffers of one call must not overlap unless the function says so.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace ss::cuda::ops {

// A bad argument or a failed launch; the message starts with the op's name.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class ElementType { f32, f16 };

constexpr int max_rank = 6;

constexpr std::size_t element_size(ElementType t) { return t == ElementType::f16 ? 2 : 4; }

// Dims or strides of up to max_rank dimensions, outermost first. Plain data:
// kernels get it by value.
struct Shape {
    int rank = 0;
    std::int64_t v[max_rank] = {};

    Shape() = default;
    Shape(std::initializer_list<std::int64_t> values) { assign(values.begin(), values.size()); }
    explicit Shape(const std::vector<std::int64_t>& values) { assign(values.data(), values.size()); }

    std::int64_t operator[](int d) const { return v[d]; }
    std::int64_t& operator[](int d) { return v[d]; }
    bool operator==(const Shape& o) const {
        if (rank != o.rank) return false;
        for (int d = 0; d < rank; ++d)
            if (v[d] != o.v[d]) return false;
        return true;
    }
    bool operator!=(const Shape& o) const { return !(*this == o); }

private:
    void assign(const std::int64_t* values, std::size_t n) {
        if (n > static_cast<std::size_t>(max_rank))
            throw Error("ss::cuda::ops::Shape: rank " + std::to_string(n) + " is more than " +
                        std::to_string(max_rank));
        rank = static_cast<int>(n);
        for (std::size_t d = 0; d < n; ++d) v[d] = values[d];
    }
};

// Product of the dims (1 for rank 0). Throws Error on a negative dim.
std::int64_t element_count(const Shape& dims);
// Strides of a dense row-major tensor of these dims, in elements.
Shape row_major_strides(const Shape& dims);
// Rewrites an iteration space and the stride sets that walk it into the
// fewest dims with the same meaning: dims of size 1 go, and neighbours d,d+1
// merge where every set has strides[d] == strides[d+1] * dims[d+1]. What the
// kernels do first, so that e.g. a dense copy is one flat loop.
void collapse_dims(Shape& dims, std::initializer_list<Shape*> stride_sets);

// A device buffer read by an op: first element, element type, and its length
// in elements (what the op may touch, checked before launching).
struct Src {
    const void* data = nullptr;
    ElementType type = ElementType::f32;
    std::int64_t elements = 0;
};
// A device buffer written by an op.
struct Dst {
    void* data = nullptr;
    ElementType type = ElementType::f32;
    std::int64_t elements = 0;
};

// out[out_offset + sum_d i_d*out_strides[d]] = in[in_offset + sum_d i_d*in_strides[d]]
// for every index (i_0..i_r-1) of `dims` (rank <= 6), converting the element
// type. Strides in elements, may be 0 (broadcast) or negative on the input;
// two output positions must not coincide (a 0 output stride over a dim > 1 is
// refused). Transposes whose input- and output-contiguous dims are both >= 16
// (NCHW <-> NHWC) go through a shared-memory tile, so reads and writes are both
// coalesced; everything else one thread per element, in output order.
// In and out may be one allocation (e.g. an arena base with offsets) if the
// elements they touch do not overlap (checked).
void strided_copy(Src in, std::int64_t in_offset, const Shape& in_strides, Dst out, std::int64_t out_offset,
                  const Shape& out_strides, const Shape& dims, cudaStream_t stream);

// Dense element-wise conversion, in.elements == out.elements (f32 -> f16 upload
// of a constant, f16 -> f32 of a result).
void convert(Src in, Dst out, cudaStream_t stream);

// Sets every element of `out` to `value` (rounded to f16 for an f16 buffer).
void fill(Dst out, float value, cudaStream_t stream);

enum class UnaryOp { relu, leaky_relu, sigmoid, silu, exp, identity };

// out[i] = op(in[i]) over in.elements == out.elements elements. `alpha` is
// leaky_relu's slope (ignored otherwise). In and out may be the same buffer
// (then of one type), not otherwise overlapping.
void unary(UnaryOp op, float alpha, Src in, Dst out, cudaStream_t stream);

enum class BinaryOp { add, sub, mul, div };

// out = a (op) b over `dims` (rank <= 6), out dense row-major over dims; each
// operand read through its own strides over those dims (0 = broadcast, e.g.
// a [1,C,1,1] bias against an NHWC tensor: strides {0,0,0,1} over [N,H,W,C]).
// a, b and out each have their own element type. out may be the same buffer
// as an operand read with out's own dense strides, not otherwise overlapping.
void binary(BinaryOp op, Src a, const Shape& a_strides, Src b, const Shape& b_strides, Dst out,
            const Shape& dims, cudaStream_t stream);

// ONNX Resize modes, scale = out size / in size on each axis:
//  linear_half_pixel:    x_in = (x_out + 0.5) / scale - 0.5, clamped to [0, in-1]
//  linear_align_corners: x_in = x_out * (in-1) / (out-1)  (0 when out == 1)
//  linear_asymmetric:    x_in = x_out / scale, clamped to [0, in-1]
//  nearest_asymmetric_floor: x_in = min(floor(x_out / scale), in-1)
// Linear modes interpolate bilinearly between floor(x_in) and the next
// sample (the edge sample past the border).
enum class ResizeMode { linear_half_pixel, linear_align_corners, linear_asymmetric, nearest_asymmetric_floor };

// NHWC: in is [n, in_h, in_w, c], out [n, out_h, out_w, c], both dense.
void resize_nhwc(ResizeMode mode, Src in, Dst out, std::int64_t n, std::int64_t c, std::int64_t in_h,
                 std::int64_t in_w, std::int64_t out_h, std::int64_t out_w, cudaStream_t stream);

struct PoolWindow {
    int kernel_h = 1, kernel_w = 1;
    int stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

// Output size of a max pool over `in` samples: floor((in + pads - kernel) /
// stride) + 1, or with ceil instead of floor (ONNX ceil_mode). Throws Error
// when the window does not fit.
std::int64_t pooled_size(std::int64_t in, int kernel, int stride, int pad_before, int pad_after, bool ceil_mode);

// NHWC max pool: in [n, in_h, in_w, c], out [n, out_h, out_w, c], dense.
// Padded positions never win (they are -inf); every window must overlap the
// input (checked), so no output is -inf. out_h/out_w are the caller's (any
// value pooled_size gives with or without ceil_mode).
void maxpool_nhwc(Src in, Dst out, std::int64_t n, std::int64_t c, std::int64_t in_h, std::int64_t in_w,
                  std::int64_t out_h, std::int64_t out_w, const PoolWindow& window, cudaStream_t stream);

// Softmax over the middle axis of dense row-major data seen as
// [outer, axis, inner]: out = exp(x - max) / sum(exp(x - max)). In and out
// may be the same buffer (then of one type).
void softmax(Src in, Dst out, std::int64_t outer, std::int64_t axis, std::int64_t inner, cudaStream_t stream);

// out[i] (m x n, dense, i < batch) = a[i] (m x k) * b[i] (k x n), row-major,
// a[i] starting at element i*a_batch_stride, b[i] at i*b_batch_stride (0 =
// one matrix for every i, e.g. a constant weight). Accumulates in f32.
void matmul(Src a, std::int64_t a_batch_stride, Src b, std::int64_t b_batch_stride, Dst out, std::int64_t batch,
            std::int64_t m, std::int64_t n, std::int64_t k, cudaStream_t stream);

}  // namespace ss::cuda::ops
