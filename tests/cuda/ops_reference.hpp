#pragma once
// CPU references of the ops in slipstream/cuda/ops.hpp: plain loops over
// float vectors (values already rounded to the element type they stand for),
// accumulating in double, written from the semantics in ops.hpp and the
// engine's plan.hpp, independently of the kernels. Plus host f16 rounding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "slipstream/cuda/ops.hpp"

namespace ss::cuda::test {

using ops::ElementType;
using ops::Shape;

// IEEE binary16 bits of f, rounded to nearest even (GCC's _Float16 on x86-64).
inline std::uint16_t half_bits(float f) {
    const _Float16 h = static_cast<_Float16>(f);
    std::uint16_t bits;
    std::memcpy(&bits, &h, sizeof bits);
    return bits;
}
inline float half_value(std::uint16_t bits) {
    _Float16 h;
    std::memcpy(&h, &bits, sizeof bits);
    return static_cast<float>(h);
}
// What storing v as an element of type t keeps of it.
inline float round_to(ElementType t, float v) { return t == ElementType::f16 ? half_value(half_bits(v)) : v; }
inline std::vector<float> round_to(ElementType t, std::vector<float> v) {
    for (float& x : v) x = round_to(t, x);
    return v;
}

// Calls f(index, offsets...) for every index of dims in row-major order,
// with the element offset of each stride set.
template <class F>
void for_each_index(const Shape& dims, const std::vector<Shape>& strides, const std::vector<std::int64_t>& bases,
                    F&& f) {
    const std::int64_t n = ops::element_count(dims);
    std::vector<std::int64_t> idx(static_cast<std::size_t>(dims.rank), 0);
    std::vector<std::int64_t> off(strides.size());
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t rem = i;
        for (int d = dims.rank - 1; d >= 0; --d) {
            idx[static_cast<std::size_t>(d)] = rem % dims[d];
            rem /= dims[d];
        }
        for (std::size_t s = 0; s < strides.size(); ++s) {
            off[s] = bases[s];
            for (int d = 0; d < dims.rank; ++d) off[s] += idx[static_cast<std::size_t>(d)] * strides[s][d];
        }
        f(i, off);
    }
}

// `out` holds the destination's previous contents (positions not written keep them).
inline void strided_copy_ref(const std::vector<float>& in, std::int64_t in_offset, const Shape& in_strides,
                             std::vector<float>& out, std::int64_t out_offset, const Shape& out_strides,
                             const Shape& dims, ElementType out_type) {
    for_each_index(dims, {in_strides, out_strides}, {in_offset, out_offset},
                   [&](std::int64_t, const std::vector<std::int64_t>& off) {
                       out[static_cast<std::size_t>(off[1])] = round_to(out_type, in[static_cast<std::size_t>(off[0])]);
                   });
}

inline double unary_ref(ops::UnaryOp op, double alpha, double x) {
    switch (op) {
        case ops::UnaryOp::relu: return x > 0 ? x : 0;
        case ops::UnaryOp::leaky_relu: return x < 0 ? alpha * x : x;
        case ops::UnaryOp::sigmoid: return 1 / (1 + std::exp(-x));
        case ops::UnaryOp::silu: return x / (1 + std::exp(-x));
        case ops::UnaryOp::exp: return std::exp(x);
        case ops::UnaryOp::identity: return x;
    }
    return x;
}

inline double binary_ref(ops::BinaryOp op, double x, double y) {
    switch (op) {
        case ops::BinaryOp::add: return x + y;
        case ops::BinaryOp::sub: return x - y;
        case ops::BinaryOp::mul: return x * y;
        case ops::BinaryOp::div: return x / y;
    }
    return x;
}

// out dense over dims.
inline std::vector<double> binary_ref(ops::BinaryOp op, const std::vector<float>& a, const Shape& a_strides,
                                      const std::vector<float>& b, const Shape& b_strides, const Shape& dims) {
    std::vector<double> out(static_cast<std::size_t>(ops::element_count(dims)));
    for_each_index(dims, {a_strides, b_strides}, {0, 0}, [&](std::int64_t i, const std::vector<std::int64_t>& off) {
        out[static_cast<std::size_t>(i)] =
            binary_ref(op, a[static_cast<std::size_t>(off[0])], b[static_cast<std::size_t>(off[1])]);
    });
    return out;
}

// ONNX Resize on NHWC data, scale = out / in in float as the ONNX Runtime
// computes it; interpolation in double.
inline std::vector<double> resize_nhwc_ref(ops::ResizeMode mode, const std::vector<float>& in, std::int64_t n,
                                           std::int64_t c, std::int64_t ih, std::int64_t iw, std::int64_t oh,
                                           std::int64_t ow) {
    using ops::ResizeMode;
    auto coordinate = [&](std::int64_t o, std::int64_t in_size, std::int64_t out_size) -> float {
        const float scale = static_cast<float>(out_size) / static_cast<float>(in_size);
        const float x = static_cast<float>(o);
        switch (mode) {
            case ResizeMode::linear_half_pixel: return (x + 0.5f) / scale - 0.5f;
            case ResizeMode::linear_align_corners:
                return out_size > 1 ? x * (static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)) : 0.f;
            case ResizeMode::linear_asymmetric:
            case ResizeMode::nearest_asymmetric_floor: return x / scale;
        }
        return 0.f;
    };
    auto at = [&](std::int64_t b, std::int64_t y, std::int64_t x, std::int64_t ch) -> double {
        return in[static_cast<std::size_t>(((b * ih + y) * iw + x) * c + ch)];
    };
    std::vector<double> out(static_cast<std::size_t>(n * oh * ow * c));
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t y = 0; y < oh; ++y)
            for (std::int64_t x = 0; x < ow; ++x)
                for (std::int64_t ch = 0; ch < c; ++ch) {
                    const float fy = coordinate(y, ih, oh), fx = coordinate(x, iw, ow);
                    double v;
                    if (mode == ResizeMode::nearest_asymmetric_floor) {
                        const auto sy = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(fy)), 0, ih - 1);
                        const auto sx = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(fx)), 0, iw - 1);
                        v = at(b, sy, sx, ch);
                    } else {
                        // ONNX pads the edge: neighbours past the border are the border sample.
                        const double cy = std::clamp<double>(fy, 0, static_cast<double>(ih - 1));
                        const double cx = std::clamp<double>(fx, 0, static_cast<double>(iw - 1));
                        const auto y0 = static_cast<std::int64_t>(std::floor(cy));
                        const auto x0 = static_cast<std::int64_t>(std::floor(cx));
                        const std::int64_t y1 = std::min(y0 + 1, ih - 1), x1 = std::min(x0 + 1, iw - 1);
                        const double ly = cy - static_cast<double>(y0), lx = cx - static_cast<double>(x0);
                        v = (1 - ly) * ((1 - lx) * at(b, y0, x0, ch) + lx * at(b, y0, x1, ch)) +
                            ly * ((1 - lx) * at(b, y1, x0, ch) + lx * at(b, y1, x1, ch));
                    }
                    out[static_cast<std::size_t>(((b * oh + y) * ow + x) * c + ch)] = v;
                }
    return out;
}

inline std::vector<double> maxpool_nhwc_ref(const std::vector<float>& in, std::int64_t n, std::int64_t c,
                                            std::int64_t ih, std::int64_t iw, std::int64_t oh, std::int64_t ow,
                                            const ops::PoolWindow& w) {
    std::vector<double> out(static_cast<std::size_t>(n * oh * ow * c));
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t y = 0; y < oh; ++y)
            for (std::int64_t x = 0; x < ow; ++x)
                for (std::int64_t ch = 0; ch < c; ++ch) {
                    double best = -std::numeric_limits<double>::infinity();
                    for (int ky = 0; ky < w.kernel_h; ++ky)
                        for (int kx = 0; kx < w.kernel_w; ++kx) {
                            const std::int64_t sy = y * w.stride_h - w.pad_top + ky;
                            const std::int64_t sx = x * w.stride_w - w.pad_left + kx;
                            if (sy < 0 || sy >= ih || sx < 0 || sx >= iw) continue;  // padding never wins
                            best = std::max<double>(best, in[static_cast<std::size_t>(((b * ih + sy) * iw + sx) * c + ch)]);
                        }
                    out[static_cast<std::size_t>(((b * oh + y) * ow + x) * c + ch)] = best;
                }
    return out;
}

inline std::vector<double> softmax_ref(const std::vector<float>& in, std::int64_t outer, std::int64_t axis,
                                       std::int64_t inner) {
    std::vector<double> out(in.size());
    for (std::int64_t o = 0; o < outer; ++o)
        for (std::int64_t i = 0; i < inner; ++i) {
            auto at = [&](std::int64_t j) { return static_cast<std::size_t>((o * axis + j) * inner + i); };
            double m = -std::numeric_limits<double>::infinity();
            for (std::int64_t j = 0; j < axis; ++j) m = std::max<double>(m, in[at(j)]);
            double s = 0;
            for (std::int64_t j = 0; j < axis; ++j) s += std::exp(in[at(j)] - m);
            for (std::int64_t j = 0; j < axis; ++j) out[at(j)] = std::exp(in[at(j)] - m) / s;
        }
    return out;
}

// Also returns, per output, sum |a*b| (the scale its rounding error goes with).
inline std::vector<double> matmul_ref(const std::vector<float>& a, std::int64_t a_stride, const std::vector<float>& b,
                                      std::int64_t b_stride, std::int64_t batch, std::int64_t m, std::int64_t n,
                                      std::int64_t k, std::vector<double>* magnitude = nullptr) {
    std::vector<double> out(static_cast<std::size_t>(batch * m * n));
    if (magnitude) magnitude->assign(out.size(), 0);
    for (std::int64_t bi = 0; bi < batch; ++bi)
        for (std::int64_t r = 0; r < m; ++r)
            for (std::int64_t c = 0; c < n; ++c) {
                double acc = 0, mag = 0;
                for (std::int64_t j = 0; j < k; ++j) {
                    const double p = static_cast<double>(a[static_cast<std::size_t>(bi * a_stride + r * k + j)]) *
                                     b[static_cast<std::size_t>(bi * b_stride + j * n + c)];
                    acc += p;
                    mag += std::fabs(p);
                }
                const auto o = static_cast<std::size_t>((bi * m + r) * n + c);
                out[o] = acc;
                if (magnitude) (*magnitude)[o] = mag;
            }
    return out;
}

}  // namespace ss::cuda::test
