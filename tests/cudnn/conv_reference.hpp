#pragma once
// CPU reference of FusedConv: y = act(conv(x, w) + bias + residual), x and y
// NHWC, w in ONNX's OIHW (so the reference does not share the reorder with the
// code under test), double accumulation.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "slipstream/cudnn/fused_conv.hpp"

namespace ss::cudnn::test {

inline double activate(double v, Activation act, double alpha) {
    switch (act) {
    case Activation::relu: return v > 0 ? v : 0;
    case Activation::leaky_relu: return v < 0 ? alpha * v : v;
    case Activation::sigmoid: return 1 / (1 + std::exp(-v));
    case Activation::silu: return v / (1 + std::exp(-v));
    case Activation::none: break;
    }
    return v;
}

// bias: [k] or empty; residual: NHWC like y, or empty.
inline std::vector<double> reference_conv(const ConvShape& s, const std::vector<float>& x_nhwc,
                                          const std::vector<float>& w_oihw, const std::vector<float>& bias,
                                          const std::vector<float>& residual, Activation act, float alpha) {
    const int oh = s.out_h(), ow = s.out_w();
    const int cg = s.c / s.groups, kg = s.k / s.groups;
    std::vector<double> y(static_cast<std::size_t>(s.y_elements()));
    for (int n = 0; n < s.n; ++n)
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j)
                for (int k = 0; k < s.k; ++k) {
                    const int g = k / kg;
                    double acc = 0;
                    for (int r = 0; r < s.r; ++r) {
                        const int ih = i * s.stride_h - s.pad_top + r * s.dil_h;
                        if (ih < 0 || ih >= s.h) continue;
                        for (int q = 0; q < s.s; ++q) {
                            const int iw = j * s.stride_w - s.pad_left + q * s.dil_w;
                            if (iw < 0 || iw >= s.w) continue;
                            const float* xp =
                                &x_nhwc[((std::size_t(n) * s.h + ih) * s.w + iw) * s.c + std::size_t(g) * cg];
                            for (int c = 0; c < cg; ++c)
                                acc += double(xp[c]) *
                                       double(w_oihw[((std::size_t(k) * cg + c) * s.r + r) * s.s + q]);
                        }
                    }
                    const std::size_t o = ((std::size_t(n) * oh + i) * ow + j) * s.k + k;
                    if (!bias.empty()) acc += bias[k];
                    if (!residual.empty()) acc += residual[o];
                    y[o] = activate(acc, act, alpha);
                }
    return y;
}

inline std::vector<float> random_values(std::size_t count, float lo, float hi, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(count);
    for (float& f : v) f = dist(rng);
    return v;
}

// Values as f16 would hold them.
inline void round_to_half(std::vector<float>& v) {
    for (float& f : v) f = half_to_float(float_to_half(f));
}

}  // namespace ss::cudnn::test
