// NHWC resize and max pooling: one thread per output element, channels
// innermost, so neighbouring threads read and write neighbouring channels.
#include <cstdint>

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

template <class Tin, class Tout>
__global__ void resize_kernel(const Tin* in, Tout* out, ResizeGeometry g, ResizeMode mode, std::int64_t total) {
    for (std::int64_t i = thread_index(); i < total; i += thread_count()) {
        const std::int64_t ch = i % g.c;
        std::int64_t rest = i / g.c;
        const std::int64_t ox = rest % g.out_w;
        rest /= g.out_w;
        const std::int64_t oy = rest % g.out_h;
        const std::int64_t b = rest / g.out_h;
        const Tin* image = in + b * g.in_h * g.in_w * g.c + ch;
        const float fy = source_coordinate(mode, oy, g.scale_h, g.align_h);
        const float fx = source_coordinate(mode, ox, g.scale_w, g.align_w);
        float value;
        if (mode == ResizeMode::nearest_asymmetric_floor) {
            std::int64_t y = static_cast<std::int64_t>(floorf(fy));
            std::int64_t x = static_cast<std::int64_t>(floorf(fx));
            y = y < 0 ? 0 : (y > g.in_h - 1 ? g.in_h - 1 : y);
            x = x < 0 ? 0 : (x > g.in_w - 1 ? g.in_w - 1 : x);
            value = load(image + (y * g.in_w + x) * g.c);
        } else {
            const Taps ty = linear_taps(fy, g.in_h), tx = linear_taps(fx, g.in_w);
            const float v00 = load(image + (ty.i0 * g.in_w + tx.i0) * g.c);
            const float v01 = load(image + (ty.i0 * g.in_w + tx.i1) * g.c);
            const float v10 = load(image + (ty.i1 * g.in_w + tx.i0) * g.c);
            const float v11 = load(image + (ty.i1 * g.in_w + tx.i1) * g.c);
            const float top = v00 + (v01 - v00) * tx.w1;
            const float bottom = v10 + (v11 - v10) * tx.w1;
            value = top + (bottom - top) * ty.w1;
        }
        store(out + i, value);
    }
}

struct PoolGeometry {
    std::int64_t n, c, in_h, in_w, out_h, out_w;
    PoolWindow w;
};

template <class Tin, class Tout>
__global__ void maxpool_kernel(const Tin* in, Tout* out, PoolGeometry g, std::int64_t total) {
    for (std::int64_t i = thread_index(); i < total; i += thread_count()) {
        const std::int64_t ch = i % g.c;
        std::int64_t rest = i / g.c;
        const std::int64_t ox = rest % g.out_w;
        rest /= g.out_w;
        const std::int64_t oy = rest % g.out_h;
        const std::int64_t b = rest / g.out_h;
        const Tin* image = in + b * g.in_h * g.in_w * g.c + ch;
        // The window clipped to the input: padded positions take no part.
        const std::int64_t y_start = oy * g.w.stride_h - g.w.pad_top;
        const std::int64_t x_start = ox * g.w.stride_w - g.w.pad_left;
        const std::int64_t y0 = y_start < 0 ? 0 : y_start, x0 = x_start < 0 ? 0 : x_start;
        const std::int64_t y1 = y_start + g.w.kernel_h < g.in_h ? y_start + g.w.kernel_h : g.in_h;
        const std::int64_t x1 = x_start + g.w.kernel_w < g.in_w ? x_start + g.w.kernel_w : g.in_w;
        float best = -INFINITY;
        for (std::int64_t y = y0; y < y1; ++y)
            for (std::int64_t x = x0; x < x1; ++x) best = fmaxf(best, load(image + (y * g.in_w + x) * g.c));
        store(out + i, best);
    }
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
    const unsigned blocks = detail::grid_blocks(out_count, detail::kThreads);
    detail::with_type(in.type, [&](auto tin) {
        detail::with_type(out.type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            detail::resize_kernel<Tin, Tout><<<blocks, detail::kThreads, 0, stream>>>(
                static_cast<const Tin*>(in.data), static_cast<Tout*>(out.data), g, mode, out_count);
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
    const unsigned blocks = detail::grid_blocks(out_count, detail::kThreads);
    detail::with_type(in.type, [&](auto tin) {
        detail::with_type(out.type, [&](auto tout) {
            using Tin = decltype(tin);
            using Tout = decltype(tout);
            detail::maxpool_kernel<Tin, Tout><<<blocks, detail::kThreads, 0, stream>>>(
                static_cast<const Tin*>(in.data), static_cast<Tout*>(out.data), g, out_count);
        });
    });
    detail::check_launch(name);
}

}  // namespace ss::cuda::ops
