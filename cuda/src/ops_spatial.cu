// NHWC resize and max pooling: one thread per output element (or per 16
// bytes of channels, see with_channel_groups), channels innermost, so
// neighbouring threads read and write neighbouring channels.
#include <cstdint>
#include <type_traits>

#include "ops_device.cuh"

namespace ss::cuda::ops {
namespace detail {
namespace {

constexpr int kThreads = 256;

// Source coordinate of output sample `o` on one axis. Written as plain
// float division, addition and one multiplication (no a*b+c that the
// compiler could fuse), so it rounds like the ONNX Runtime and the CPU tests.
__device__ __forceinline__ float source_coordinate(ResizeMode mode, std::int64_t o, float scale,
                                                   float align_ratio) {
    const float x = static_cast<float>(o);
    switch (mode) {
        case ResizeMode::linear_half_pixel: return (x + 0.5f) / scale - 0.5f;
        case ResizeMode::linear_align_corners: return x * align_ratio;
        case ResizeMode::linear_asymmetric:
        case ResizeMode::nearest_asymmetric_floor: break;
    }
    return x / scale;
}

// The two samples around a linear coordinate and the weight of the second;
// clamped to [0, size-1] (beyond the border both samples are the edge one,
// as ONNX's edge padding and PyTorch's align_corners=False give).
struct Taps {
    std::int64_t i0, i1;
    float w1;
};
__device__ __forceinline__ Taps linear_taps(float x, std::int64_t size) {
    if (!(x > 0.f)) x = 0.f;  // also NaN-safe
    std::int64_t i0 = static_cast<std::int64_t>(floorf(x));
    if (i0 >= size - 1) return {size - 1, size - 1, 0.f};
    return {i0, i0 + 1, x - static_cast<float>(i0)};
}

struct ResizeGeometry {
    std::int64_t n, c, in_h, in_w, out_h, out_w;
    float scale_h, scale_w;        // out / in
    float align_h, align_w;        // (in - 1) / (out - 1), 0 when out == 1
};

template <int V, class T>
__device__ __forceinline__ void load_channels(const T* p, float (&v)[V]) {
    if constexpr (V == 1)
        v[0] = load(p);
    else
        load16(p, v);
}
template <int V, class T>
__device__ __forceinline__ void store_channels(T* p, const float (&v)[V]) {
    if constexpr (V == 1)
        store(p, v[0]);
    else
        store16(p, v);
}

// The output position of element (or channel group) `i` of an NHWC tensor
// with `groups` per pixel: the channel group, x, y and the image. Index is
// uint32_t below 2^31 elements (cheaper divisions), else uint64_t.
template <class Index>
struct NhwcPosition {
    Index group, x, y, image;
};
template <class Index>
__device__ __forceinline__ NhwcPosition<Index> nhwc_position(Index i, Index groups, Index width, Index height) {
    NhwcPosition<Index> p;
    p.group = i % groups;
    Index rest = i / groups;
    p.x = rest % width;
    rest /= width;
    p.y = rest % height;
    p.image = rest / height;
    return p;
}

// V channels per thread: 1 (any types), or 16 bytes' worth when input and
// output share a type and the channels come in whole groups of them.
template <class Tin, class Tout, int V, class Index>
__global__ void resize_kernel(const Tin* in, Tout* out, ResizeGeometry g, ResizeMode mode, Index total) {
    const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
    const Index groups = static_cast<Index>(g.c / V);
    for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
        const auto at = nhwc_position<Index>(i, groups, static_cast<Index>(g.out_w), static_cast<Index>(g.out_h));
        const Tin* image = in + static_cast<std::int64_t>(at.image) * g.in_h * g.in_w * g.c + static_cast<std::int64_t>(at.group) * V;
        const float fy = source_coordinate(mode, static_cast<std::int64_t>(at.y), g.scale_h, g.align_h);
        const float fx = source_coordinate(mode, static_cast<std::int64_t>(at.x), g.scale_w, g.align_w);
        float value[V];
        if (mode == ResizeMode::nearest_asymmetric_floor) {
            std::int64_t y = static_cast<std::int64_t>(floorf(fy));
            std::int64_t x = static_cast<std::int64_t>(floorf(fx));
            y = y < 0 ? 0 : (y > g.in_h - 1 ? g.in_h - 1 : y);
            x = x < 0 ? 0 : (x > g.in_w - 1 ? g.in_w - 1 : x);
            load_channels<V>(image + (y * g.in_w + x) * g.c, value);
        } else {
            const Taps ty = linear_taps(fy, g.in_h), tx = linear_taps(fx, g.in_w);
            float v00[V], v01[V], v10[V], v11[V];
            load_channels<V>(image + (ty.i0 * g.in_w + tx.i0) * g.c, v00);
            load_channels<V>(image + (ty.i0 * g.in_w + tx.i1) * g.c, v01);
            load_channels<V>(image + (ty.i1 * g.in_w + tx.i0) * g.c, v10);
            load_channels<V>(image + (ty.i1 * g.in_w + tx.i1) * g.c, v11);
#pragma unroll
            for (int k = 0; k < V; ++k) {
                const float top = v00[k] + (v01[k] - v00[k]) * tx.w1;
                const float bottom = v10[k] + (v11[k] - v10[k]) * tx.w1;
                value[k] = top + (bottom - top) * ty.w1;
            }
        }
        store_channels<V>(out + static_cast<std::int64_t>(i) * V, value);
    }
}

struct PoolGeometry {
    std::int64_t n, c, in_h, in_w, out_h, out_w;
    PoolWindow w;
};

template <class Tin, class Tout, int V, class Index>
__global__ void maxpool_kernel(const Tin* in, Tout* out, PoolGeometry g, Index total) {
    const Index step = static_cast<Index>(gridDim.x) * blockDim.x;
    const Index groups = static_cast<Index>(g.c / V);
    for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
        const auto at = nhwc_position<Index>(i, groups, static_cast<Index>(g.out_w), static_cast<Index>(g.out_h));
        const Tin* image = in + static_cast<std::int64_t>(at.image) * g.in_h * g.in_w * g.c + static_cast<std::int64_t>(at.group) * V;
        // The window clipped to the input: padded positions take no part.
        const std::int64_t y_start = static_cast<std::int64_t>(at.y) * g.w.stride_h - g.w.pad_top;
        const std::int64_t x_start = static_cast<std::int64_t>(at.x) * g.w.stride_w - g.w.pad_left;
        const std::int64_t y0 = y_start < 0 ? 0 : y_start, x0 = x_start < 0 ? 0 : x_start;
        const std::int64_t y1 = y_start + g.w.kernel_h < g.in_h ? y_start + g.w.kernel_h : g.in_h;
        const std::int64_t x1 = x_start + g.w.kernel_w < g.in_w ? x_start + g.w.kernel_w : g.in_w;
        float best[V];
#pragma unroll
        for (int k = 0; k < V; ++k) best[k] = -INFINITY;
        for (std::int64_t y = y0; y < y1; ++y)
            for (std::int64_t x = x0; x < x1; ++x) {
                float v[V];
                load_channels<V>(image + (y * g.in_w + x) * g.c, v);
#pragma unroll
                for (int k = 0; k < V; ++k) best[k] = fmaxf(best[k], v[k]);
            }
        store_channels<V>(out + static_cast<std::int64_t>(i) * V, best);
    }
}

// Calls f(std::integral_constant<int, V>, count) for a kernel over
// `elements` NHWC outputs of `channels` channels, `count` = elements / V
// threads' worth: V channels per thread, 16 bytes' worth where the types
// match, the channels fill whole groups and both pointers are aligned for
// them, else 1; count's type is the kernel's Index (with_index_type).
template <class Tin, class Tout, class F>
void with_channel_groups(std::int64_t channels, const void* in, const void* out, std::int64_t elements, F&& f) {
    auto by_index = [&](auto v) {
        with_index_type(elements / decltype(v)::value, [&](auto count) { f(v, count); });
    };
    if constexpr (std::is_same_v<Tin, Tout>) {
        constexpr int n = Vec16<Tin>::n;
        const auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
        if (channels % n == 0 && aligned(in) && aligned(out)) {
            by_index(std::integral_constant<int, n>{});
            return;
        }
    }
    by_index(std::integral_constant<int, 1>{});
}

}  // namespace
}  // namespace detail

void resize_nhwc(ResizeMode mode, Src in, Dst out, std::int64_t n, std::int64_t c, std::int64_t in_h, std::int64_t in_w,
                 std::int64_t out_h, std::int64_t out_w, cudaStream_t stream) {
    const char* name = "resize_nhwc";
    const std::int64_t in_count = detail::checked_product(name, {n, c, in_h, in_w});
    const std::int64_t out_count = detail::checked_product(name, {n, c, out_h, out_w});
    if (out_count == 0) return;
    if (in_count == 0) detail::fail(name, "empty input for a non-empty output");
    detail::check_not_null(name, "in", in.data);
    detail::check_not_null(name, "out", out.data);
    detail::check_dense(name, "in", in.elements, in_count);
    detail::check_dense(name, "out", out.elements, out_count);
    detail::check_disjoint(name, in.data, in.type, {0, in_count - 1}, out.data, out.type, {0, out_count - 1});
    if (mode != ResizeMode::linear_half_pixel && mode != ResizeMode::linear_align_corners &&
        mode != ResizeMode::linear_asymmetric && mode != ResizeMode::nearest_asymmetric_floor)
        detail::fail(name, "unknown mode");

    detail::ResizeGeometry g{n, c, in_h, in_w, out_h, out_w, 0.f, 0.f, 0.f, 0.f};
    g.scale_h = static_cast<float>(out_h) / static_cast<float>(in_h);
    g.scale_w = static_cast<float>(out_w) / static_cast<float>(in_w);
    g.align_h = out_h > 1 ? static_cast<float>(in_h - 1) / static_cast<float>(out_h - 1) : 0.f;
    g.align_w = out_w > 1 ? static_cast<float>(in_w - 1) / static_cast<float>(out_w - 1) : 0.f;
    detail::with_type(in.type, [&](auto tin) {
        detail::with_type(out.type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            detail::with_channel_groups<Tin, Tout>(c, in.data, out.data, out_count, [&](auto v, auto count) {
                detail::resize_kernel<Tin, Tout, decltype(v)::value, decltype(count)>
                    <<<detail::grid_blocks(count, detail::kThreads), detail::kThreads, 0, stream>>>(
                        static_cast<const Tin*>(in.data), static_cast<Tout*>(out.data), g, mode, count);
            });
        });
    });
    detail::check_launch(name);
}

void maxpool_nhwc(Src in, Dst out, std::int64_t n, std::int64_t c, std::int64_t in_h, std::int64_t in_w,
                  std::int64_t out_h, std::int64_t out_w, const PoolWindow& window, cudaStream_t stream) {
    const char* name = "maxpool_nhwc";
    const std::int64_t in_count = detail::checked_product(name, {n, c, in_h, in_w});
    const std::int64_t out_count = detail::checked_product(name, {n, c, out_h, out_w});
    const PoolWindow& w = window;
    if (w.kernel_h < 1 || w.kernel_w < 1 || w.stride_h < 1 || w.stride_w < 1)
        detail::fail(name, "kernel and strides must be positive");
    if (w.pad_top < 0 || w.pad_left < 0 || w.pad_bottom < 0 || w.pad_right < 0)
        detail::fail(name, "pads must not be negative");
    if (out_count == 0) return;
    if (in_count == 0) detail::fail(name, "empty input for a non-empty output");
    // Every window must overlap the input, else its output would be -inf:
    // the first starts before the input's end... and the last starts inside it.
    if (w.pad_top >= w.kernel_h || w.pad_left >= w.kernel_w)
        detail::fail(name, "a leading pad is as large as the kernel: the first window lies in the padding");
    if ((out_h - 1) * w.stride_h - w.pad_top >= in_h || (out_w - 1) * w.stride_w - w.pad_left >= in_w)
        detail::fail(name, "output " + std::to_string(out_h) + "x" + std::to_string(out_w) +
                               " is too large: its last window starts past the input " + std::to_string(in_h) +
                               "x" + std::to_string(in_w));
    detail::check_not_null(name, "in", in.data);
    detail::check_not_null(name, "out", out.data);
    detail::check_dense(name, "in", in.elements, in_count);
    detail::check_dense(name, "out", out.elements, out_count);
    detail::check_disjoint(name, in.data, in.type, {0, in_count - 1}, out.data, out.type, {0, out_count - 1});

    const detail::PoolGeometry g{n, c, in_h, in_w, out_h, out_w, w};
    detail::with_type(in.type, [&](auto tin) {
        detail::with_type(out.type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            detail::with_channel_groups<Tin, Tout>(c, in.data, out.data, out_count, [&](auto v, auto count) {
                detail::maxpool_kernel<Tin, Tout, decltype(v)::value, decltype(count)>
                    <<<detail::grid_blocks(count, detail::kThreads), detail::kThreads, 0, stream>>>(
                        static_cast<const Tin*>(in.data), static_cast<Tout*>(out.data), g, count);
            });
        });
    });
    detail::check_launch(name);
}

}  // namespace ss::cuda::ops
