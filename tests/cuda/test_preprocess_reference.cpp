// The pre-processing's CPU side, anywhere: geometry as core's Preprocessor
// computes it, colour conversion, padding, layouts and types of the reference.
// (The comparison with core's Preprocessor itself is in tests/unit, which may
// link core; this binary may not.)
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nv12_test_util.hpp"
#include "slipstream/cuda/preprocess.hpp"

namespace ss::cuda::test {
namespace {

PreprocessParams params(int w, int h, Resize resize, ColorOrder color = ColorOrder::rgb, int channels = 3) {
    PreprocessParams p;
    p.width = w;
    p.height = h;
    p.resize = resize;
    p.color = color;
    p.channels = channels;
    return p;
}

PreprocessSource describe(HostNv12& f, const PreprocessParams& p) {
    return describe_source(f.y.data(), f.y_pitch, f.uv.data(), f.uv_pitch, f.width, f.height, p);
}

std::vector<float> run_f32(HostNv12& f, const PreprocessParams& p) {
    std::vector<float> out(tensor_bytes(p, 1) / sizeof(float));
    const PreprocessSource s = describe(f, p);
    preprocess_nv12_reference(&s, 1, p, out.data());
    return out;
}

TEST(PreprocessTransform, LetterboxCentredAsCoreComputesIt) {
    // 1920x1080 into 640x640: scale 1/3, 640x360 centred, 140 rows above.
    const InputTransform t = input_transform(1920, 1080, params(640, 640, Resize::letterbox_centered));
    EXPECT_EQ(t.resized_width, 640);
    EXPECT_EQ(t.resized_height, 360);
    EXPECT_FLOAT_EQ(t.pad_x, 0.f);
    EXPECT_FLOAT_EQ(t.pad_y, 140.f);
    EXPECT_FLOAT_EQ(t.scale_x, 640.f / 1920.f);
    EXPECT_FLOAT_EQ(t.scale_y, 360.f / 1080.f);
}

TEST(PreprocessTransform, LetterboxTopLeftHasNoPadOffset) {
    const InputTransform t = input_transform(333, 250, params(416, 416, Resize::letterbox));
    // scale = min(416/333, 416/250) = 1.2492..: 416 x round(312.31) = 312.
    EXPECT_EQ(t.resized_width, 416);
    EXPECT_EQ(t.resized_height, 312);
    EXPECT_FLOAT_EQ(t.pad_x, 0.f);
    EXPECT_FLOAT_EQ(t.pad_y, 0.f);
    // Odd padding splits down: (416 - 312) / 2 = 52; 7 columns -> 3.
    const InputTransform c = input_transform(100, 93, params(100, 100, Resize::letterbox_centered));
    EXPECT_EQ(c.resized_height, 93);
    EXPECT_FLOAT_EQ(c.pad_y, 3.f);
}

TEST(PreprocessTransform, StretchFillsTheInput) {
    const InputTransform t = input_transform(640, 480, params(300, 300, Resize::stretch));
    EXPECT_EQ(t.resized_width, 300);
    EXPECT_EQ(t.resized_height, 300);
    EXPECT_FLOAT_EQ(t.scale_x, 300.f / 640.f);
    EXPECT_FLOAT_EQ(t.scale_y, 300.f / 480.f);
    EXPECT_FLOAT_EQ(t.pad_x + t.pad_y, 0.f);
}

TEST(PreprocessReference, SolidColourAndBlackPadding) {
    HostNv12 f(64, 32, 8, 0x55);
    // BT.601 limited: Y=81, U=90, V=240 is about pure red (255, 0, 0).
    f.fill([](int, int) { return std::uint8_t{81}; }, [](int, int, int c) { return std::uint8_t(c == 0 ? 90 : 240); });
    PreprocessParams p = params(32, 32, Resize::letterbox_centered);
    p.net_scale_factor = 0.5f;
    p.offsets = {10, 20, 30};
    const std::vector<float> out = run_f32(f, p);
    const std::size_t plane = 32 * 32;
    // 64x32 -> 32x16, centred: rows 8..23 are picture.
    for (int y = 0; y < 32; ++y) {
        const bool picture = y >= 8 && y < 24;
        for (int x = 0; x < 32; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * 32 + x;
            if (picture) {
                EXPECT_NEAR(out[i] / 0.5f + 10.f, 255.f, 2.5f) << x << "," << y;  // R
                EXPECT_NEAR(out[plane + i] / 0.5f + 20.f, 0.f, 2.5f);             // G
                EXPECT_NEAR(out[2 * plane + i] / 0.5f + 30.f, 0.f, 2.5f);         // B
            } else {
                EXPECT_FLOAT_EQ(out[i], 0.5f * -10.f);
                EXPECT_FLOAT_EQ(out[plane + i], 0.5f * -20.f);
                EXPECT_FLOAT_EQ(out[2 * plane + i], 0.5f * -30.f);
            }
        }
    }
}

TEST(PreprocessReference, SameSizeGrayIsTheLumaExpanded) {
    HostNv12 f(16, 8, 4, 0xEE);
    f.fill([](int x, int y) { return static_cast<std::uint8_t>(16 + 12 * x + y); },
           [](int, int, int) { return std::uint8_t{128}; });
    const std::vector<float> out = run_f32(f, params(16, 8, Resize::stretch, ColorOrder::gray, 1));
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 16; ++x) {
            const float expected = std::min(255.f, 1.164f * static_cast<float>(12 * x + y));
            EXPECT_NEAR(out[static_cast<std::size_t>(y) * 16 + x], expected, 0.05f) << x << "," << y;
        }
}

TEST(PreprocessReference, LayoutsTypesAndChannelOrdersAgree) {
    HostNv12 f(50, 30, 6, 0x11);
    f.fill_random(7);
    PreprocessParams p = params(24, 20, Resize::letterbox);
    p.net_scale_factor = 1.f / 255;
    p.offsets = {1, 2, 3};
    const std::vector<float> nchw = run_f32(f, p);
    PreprocessParams q = p;
    q.layout = TensorLayout::nhwc;
    const std::vector<float> nhwc = run_f32(f, q);
    PreprocessParams b = p;
    b.color = ColorOrder::bgr;
    b.offsets = {3, 2, 1};
    const std::vector<float> bgr = run_f32(f, b);
    PreprocessParams h = p;
    h.type = TensorType::f16;
    std::vector<__half> half(tensor_bytes(h, 1) / sizeof(__half));
    const PreprocessSource s = describe(f, h);
    preprocess_nv12_reference(&s, 1, h, half.data());
    const std::size_t plane = 24 * 20;
    for (std::size_t i = 0; i < plane; ++i)
        for (std::size_t c = 0; c < 3; ++c) {
            EXPECT_FLOAT_EQ(nchw[c * plane + i], nhwc[i * 3 + c]);
            EXPECT_FLOAT_EQ(nchw[c * plane + i], bgr[(2 - c) * plane + i]);
            EXPECT_NEAR(__half2float(half[c * plane + i]), nchw[c * plane + i], 1e-3f);
        }
}

TEST(PreprocessReference, RejectsWhatTheKernelCannotDo) {
    HostNv12 f(8, 8);
    const PreprocessParams p = params(8, 8, Resize::stretch);
    EXPECT_THROW(describe_source(f.y.data(), 4, f.uv.data(), f.uv_pitch, 8, 8, p), Error);
    EXPECT_THROW(describe_source(nullptr, 8, f.uv.data(), f.uv_pitch, 8, 8, p), Error);
    EXPECT_THROW(input_transform(8, 8, params(0, 8, Resize::stretch)), Error);
    EXPECT_THROW(input_transform(8, 8, params(8, 8, Resize::stretch, ColorOrder::rgb, 1)), Error);
    PreprocessSource undescribed;
    undescribed.luma = f.y.data();
    undescribed.chroma = f.uv.data();
    std::vector<float> out(tensor_bytes(p, 1) / sizeof(float));
    EXPECT_THROW(preprocess_nv12_reference(&undescribed, 1, p, out.data()), Error);
}

}  // namespace
}  // namespace ss::cuda::test
