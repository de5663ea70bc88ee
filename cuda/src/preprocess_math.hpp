#pragma once
// The per-element arithmetic of the pre-processing kernel, compiled by nvcc
// for the kernel and by g++ for the CPU reference: one definition, so the two
// differ only by floating-point contraction (nvcc fuses multiply-adds).
//
// Sampling follows OpenCV's INTER_LINEAR: input pixel x of the resized
// picture reads source position (x + 0.5) * step - 0.5, clamped to the edge
// pixels. Chroma sits at the centre of its 2x2 luma block, so the same point
// is (pos + 0.5) / 2 - 0.5 in the half-size UV plane.
#include <cuda_fp16.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "slipstream/cuda/preprocess.hpp"

#if defined(__CUDACC__)
#define SS_PP_HD __host__ __device__ __forceinline__
#else
#define SS_PP_HD inline
#endif

namespace ss::cuda::detail {

// PreprocessParams as plain data (std::array is not device code).
struct KernelParams {
    int width = 0, height = 0, channels = 3;
    int color = 0;   // ColorOrder
    int layout = 0;  // TensorLayout
    int type = 0;    // TensorType
    float scale = 1.f;
    float offsets[3] = {0, 0, 0};
};

inline KernelParams kernel_params(const PreprocessParams& p) {
    KernelParams k;
    k.width = p.width;
    k.height = p.height;
    k.channels = p.channels;
    k.color = static_cast<int>(p.color);
    k.layout = static_cast<int>(p.layout);
    k.type = static_cast<int>(p.type);
    k.scale = p.net_scale_factor;
    for (int c = 0; c < 3; ++c) k.offsets[c] = p.offsets[static_cast<std::size_t>(c)];
    return k;
}

// The two source pixels around a position and the weight of the second.
struct Tap {
    int i0 = 0, i1 = 0;
    float t = 0;
};

SS_PP_HD Tap tap(float position, int size) {
    const float f = floorf(position);
    const int i = static_cast<int>(f);
    Tap a;
    if (i < 0) {
        a.i0 = a.i1 = 0;
    } else if (i >= size - 1) {
        a.i0 = a.i1 = size - 1;
    } else {
        a.i0 = i;
        a.i1 = i + 1;
        a.t = position - f;
    }
    return a;
}

// Channel c of a plane with C interleaved channels at (x, y).
template <int C>
SS_PP_HD float bilinear(const std::uint8_t* plane, std::size_t pitch, const Tap& x, const Tap& y, int c) {
    const std::uint8_t* r0 = plane + static_cast<std::size_t>(y.i0) * pitch;
    const std::uint8_t* r1 = plane + static_cast<std::size_t>(y.i1) * pitch;
    const std::size_t a = static_cast<std::size_t>(x.i0) * C + static_cast<std::size_t>(c);
    const std::size_t b = static_cast<std::size_t>(x.i1) * C + static_cast<std::size_t>(c);
    const float top = (1.f - x.t) * static_cast<float>(r0[a]) + x.t * static_cast<float>(r0[b]);
    const float bottom = (1.f - x.t) * static_cast<float>(r1[a]) + x.t * static_cast<float>(r1[b]);
    return (1.f - y.t) * top + y.t * bottom;
}

SS_PP_HD float clamp255(float v) { return v < 0.f ? 0.f : (v > 255.f ? 255.f : v); }

struct Rgb {
    float r = 0, g = 0, b = 0;
};

// Pixel (x, y) of the resized picture (0 <= x < resized_width, ...).
SS_PP_HD Rgb sample_rgb(const PreprocessSource& s, int x, int y) {
    const float fx = (static_cast<float>(x) + 0.5f) * s.step_x - 0.5f;
    const float fy = (static_cast<float>(y) + 0.5f) * s.step_y - 0.5f;
    const float luma = bilinear<1>(s.luma, s.luma_pitch, tap(fx, s.width), tap(fy, s.height), 0);
    const Tap cx = tap((fx + 0.5f) * 0.5f - 0.5f, (s.width + 1) / 2);
    const Tap cy = tap((fy + 0.5f) * 0.5f - 0.5f, (s.height + 1) / 2);
    const float u = bilinear<2>(s.chroma, s.chroma_pitch, cx, cy, 0) - 128.f;
    const float v = bilinear<2>(s.chroma, s.chroma_pitch, cx, cy, 1) - 128.f;
    // BT.601 limited range, OpenCV's coefficients (COLOR_YUV2BGR_NV12).
    const float l = 1.164f * (luma - 16.f);
    Rgb p;
    p.r = clamp255(l + 1.596f * v);
    p.g = clamp255(l - 0.813f * v - 0.391f * u);
    p.b = clamp255(l + 2.018f * u);
    return p;
}

SS_PP_HD float channel_value(const Rgb& p, int color, int c) {
    if (color == static_cast<int>(ColorOrder::gray)) return 0.299f * p.r + 0.587f * p.g + 0.114f * p.b;
    const bool bgr = color == static_cast<int>(ColorOrder::bgr);
    if (c == 1) return p.g;
    return (c == 0) != bgr ? p.r : p.b;
}

// Writes every channel of input pixel (x, y) of image n of the batch.
SS_PP_HD void preprocess_pixel(const PreprocessSource& s, const KernelParams& k, int n, int x, int y, void* tensor) {
    Rgb p;  // padding: black in pixel space, as core's Preprocessor pads
    if (x >= s.pad_x && x < s.pad_x + s.resized_width && y >= s.pad_y && y < s.pad_y + s.resized_height)
        p = sample_rgb(s, x - s.pad_x, y - s.pad_y);
    const std::size_t plane = static_cast<std::size_t>(k.width) * static_cast<std::size_t>(k.height);
    const std::size_t image = plane * static_cast<std::size_t>(k.channels);
    const std::size_t pixel = static_cast<std::size_t>(y) * static_cast<std::size_t>(k.width) + static_cast<std::size_t>(x);
    const bool nchw = k.layout == static_cast<int>(TensorLayout::nchw);
    for (int c = 0; c < k.channels; ++c) {
        const float value = k.scale * (channel_value(p, k.color, c) - k.offsets[c]);
        const std::size_t i = static_cast<std::size_t>(n) * image +
                              (nchw ? static_cast<std::size_t>(c) * plane + pixel
                                    : pixel * static_cast<std::size_t>(k.channels) + static_cast<std::size_t>(c));
        if (k.type == static_cast<int>(TensorType::f16)) {
            static_cast<__half*>(tensor)[i] = __float2half_rn(value);
        } else {
            static_cast<float*>(tensor)[i] = value;
        }
    }
}

// Throws Error unless params describe a tensor the kernel can write.
void check_params(const char* who, const PreprocessParams& params);
// Throws Error unless `s` is a described source with pointers set.
void check_source(const char* who, const PreprocessSource& s, int index);

}  // namespace ss::cuda::detail
