#pragma once
// The per-pixel arithmetic of the NV12 scaler, compiled by nvcc for the
// kernels and by g++ for the CPU reference: one definition, so the GPU result
// can be tested against the reference bit for bit. Integers only (exact, and
// no dependence on how a compiler contracts floating point).
//
// Per axis, output pixel o of D covers source pixels [o*S/D, (o+1)*S/D).
// Shrinking (S > D): each source pixel is weighted by the length of its
// overlap with that interval (area average, fractional at the edges).
// Enlarging (S < D): bilinear between the two source pixels around the
// output pixel's centre, (o + 0.5) * S/D - 0.5, clamped at the borders.
// Same size: one pixel of weight 1, an exact copy. The 2-D result is
// round-half-up of sum(wy * sum(wx * p)) / (sum wy * sum wx).
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define SS_HD __host__ __device__ __forceinline__
#else
#define SS_HD inline
#endif

namespace ss::cuda::detail {

// Largest side accepted: keeps the interval ends below (products of two
// sides) within 32-bit integers.
constexpr int kMaxSide = 16384;

SS_HD int imin(int a, int b) { return a < b ? a : b; }
SS_HD int imax(int a, int b) { return a > b ? a : b; }

SS_HD int gcd(int a, int b) {
    while (b != 0) {
        const int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

// One axis of a scale from `size` source pixels, with S:D reduced to s:d so
// that the weights and their sum stay small.
struct Axis {
    int size = 1;  // source pixels
    int s = 1;     // S / gcd(S, D)
    int d = 1;     // D / gcd(S, D)
};

SS_HD Axis make_axis(int source_size, int destination_size) {
    const int g = gcd(source_size, destination_size);
    Axis a;
    a.size = source_size;
    a.s = source_size / g;
    a.d = destination_size / g;
    return a;
}

SS_HD bool enlarging(const Axis& a) { return a.s < a.d; }

// What every output pixel's weights on this axis add up to.
SS_HD int weight_sum(const Axis& a) { return enlarging(a) ? 2 * a.d : a.s; }

// The source pixels one output pixel takes on one axis: first .. first+count-1.
struct Taps {
    int first = 0;
    int count = 0;
    int lo = 0;  // area: the output pixel's interval [lo, hi), in 1/d source pixels
    int hi = 0;
    int w0 = 0;  // bilinear: weights of first and first+1
    int w1 = 0;
};

SS_HD Taps taps(const Axis& a, int o) {
    Taps t;
    if (enlarging(a)) {
        // Centre in units of 1/(2d) source pixels: (2o+1)*s - d.
        const int den = 2 * a.d;
        const int centre = (2 * o + 1) * a.s - a.d;
        if (centre <= 0) {
            t.first = 0;
            t.count = 1;
            t.w0 = den;
        } else if (centre / den >= a.size - 1) {
            t.first = a.size - 1;
            t.count = 1;
            t.w0 = den;
        } else {
            const int frac = centre % den;
            t.first = centre / den;
            t.count = 2;
            t.w0 = den - frac;
            t.w1 = frac;
        }
    } else {
        // Source pixel i spans [i*d, (i+1)*d) in the same units.
        t.lo = o * a.s;
        t.hi = t.lo + a.s;
        t.first = t.lo / a.d;
        t.count = (t.hi - 1) / a.d - t.first + 1;
    }
    return t;
}

SS_HD int weight(const Axis& a, const Taps& t, int k) {
    if (enlarging(a)) return k == 0 ? t.w0 : t.w1;
    const int begin = (t.first + k) * a.d;
    return imin(begin + a.d, t.hi) - imax(begin, t.lo);
}

// Output pixel (ox, oy) of a plane with C interleaved 8-bit channels (1 for
// Y, 2 for NV12's UV), written to out[0..C-1]. `source` is the plane's first
// row; only the source's width x height pixels are ever read.
template <int C>
SS_HD void scale_pixel(const std::uint8_t* source, std::size_t source_pitch,
                       const Axis& ax, const Axis& ay, int ox, int oy, std::uint8_t* out) {
    const Taps tx = taps(ax, ox);
    const Taps ty = taps(ay, oy);
    // A row's sum fits 32 bits (< 2*kMaxSide*255); the plane's needs 64.
    std::uint64_t sum[C];
    for (int c = 0; c < C; ++c) sum[c] = 0;
    for (int ky = 0; ky < ty.count; ++ky) {
        const std::uint8_t* row =
            source + static_cast<std::size_t>(ty.first + ky) * source_pitch +
            static_cast<std::size_t>(tx.first) * C;
        std::uint32_t row_sum[C];
        for (int c = 0; c < C; ++c) row_sum[c] = 0;
        for (int kx = 0; kx < tx.count; ++kx) {
            const std::uint32_t wx = static_cast<std::uint32_t>(weight(ax, tx, kx));
            for (int c = 0; c < C; ++c) row_sum[c] += wx * row[kx * C + c];
        }
        const std::uint64_t wy = static_cast<std::uint64_t>(weight(ay, ty, ky));
        for (int c = 0; c < C; ++c) sum[c] += wy * row_sum[c];
    }
    const std::uint64_t total =
        static_cast<std::uint64_t>(weight_sum(ax)) * static_cast<std::uint64_t>(weight_sum(ay));
    for (int c = 0; c < C; ++c) out[c] = static_cast<std::uint8_t>((sum[c] + total / 2) / total);
}

}  // namespace ss::cuda::detail
