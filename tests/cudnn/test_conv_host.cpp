// Host-only parts of the cuDNN convolution library: shape arithmetic and
// checks, names, f16 conversion, the OIHW -> KRSC weight reorder, and the CPU
// reference the GPU tests trust. No GPU, no cuDNN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "conv_reference.hpp"
#include "slipstream/cudnn/fused_conv.hpp"

namespace ss::cudnn::test {
namespace {

ConvShape shape(int n, int c, int h, int w, int k, int r, int s, int stride = 1, int pad = 0, int groups = 1) {
    ConvShape sh;
    sh.n = n, sh.c = c, sh.h = h, sh.w = w, sh.k = k, sh.r = r, sh.s = s, sh.groups = groups;
    sh.stride_h = sh.stride_w = stride;
    sh.pad_top = sh.pad_left = sh.pad_bottom = sh.pad_right = pad;
    return sh;
}

TEST(ConvShape, OutputSize) {
    EXPECT_EQ(shape(1, 3, 416, 416, 16, 3, 3, 2, 1).out_h(), 208);
    EXPECT_EQ(shape(1, 3, 416, 416, 16, 3, 3, 2, 1).out_w(), 208);
    EXPECT_EQ(shape(1, 8, 40, 40, 8, 3, 3, 1, 1).out_h(), 40);
    EXPECT_EQ(shape(1, 8, 40, 40, 8, 1, 1).out_w(), 40);
    EXPECT_EQ(shape(1, 8, 7, 9, 8, 3, 3, 2, 0).out_h(), 3);  // (7-3)/2+1
    EXPECT_EQ(shape(1, 8, 7, 9, 8, 3, 3, 2, 0).out_w(), 4);  // (9-3)/2+1
    ConvShape a = shape(1, 8, 9, 9, 8, 3, 3, 2, 0);
    a.pad_bottom = a.pad_right = 1;  // SAME_UPPER-like stride 2
    EXPECT_EQ(a.out_h(), 4);
    EXPECT_FALSE(a.symmetric_padding());
    ConvShape d = shape(1, 8, 20, 20, 8, 3, 3, 1, 2);
    d.dil_h = d.dil_w = 2;  // effective kernel 5
    EXPECT_EQ(d.out_h(), 20);
    d.dil_w = 3;  // effective width 7: 20 + 4 - 7 + 1
    EXPECT_EQ(d.out_w(), 18);
    const ConvShape b = shape(8, 16, 12, 10, 32, 3, 3, 1, 1);
    EXPECT_EQ(b.x_elements(), 8 * 16 * 12 * 10);
    EXPECT_EQ(b.w_elements(), 32 * 16 * 9);
    EXPECT_EQ(b.y_elements(), 8 * 32 * 12 * 10);
    EXPECT_EQ(shape(1, 32, 8, 8, 32, 3, 3, 1, 1, 32).w_elements(), 32 * 9);  // depthwise
}

TEST(ConvShape, ValidateRejects) {
    EXPECT_NO_THROW(shape(1, 3, 8, 8, 16, 3, 3, 2, 1).validate());
    EXPECT_NO_THROW(shape(1, 32, 8, 8, 32, 3, 3, 1, 1, 32).validate());
    EXPECT_THROW(shape(1, 30, 8, 8, 32, 3, 3, 1, 1, 4).validate(), std::invalid_argument);  // c % groups
    EXPECT_THROW(shape(1, 32, 8, 8, 30, 3, 3, 1, 1, 4).validate(), std::invalid_argument);  // k % groups
    EXPECT_THROW(shape(0, 3, 8, 8, 16, 3, 3).validate(), std::invalid_argument);
    EXPECT_THROW(shape(1, 3, 2, 2, 16, 3, 3).validate(), std::invalid_argument);  // kernel > input
    EXPECT_THROW(shape(1, 3, 8, 8, 16, 3, 3, 0).validate(), std::invalid_argument);
    ConvShape p = shape(1, 3, 8, 8, 16, 3, 3);
    p.pad_left = -1;
    EXPECT_THROW(p.validate(), std::invalid_argument);
    try {
        shape(1, 30, 8, 8, 32, 3, 3, 1, 1, 4).validate();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("groups (4)"), std::string::npos) << e.what();
    }
}

TEST(ConvShape, Describe) {
    EXPECT_EQ(describe_shape(shape(1, 64, 8, 8, 128, 3, 3, 1, 0), DataType::f16), "3x3, 64->128, fp16 nhwc");
    EXPECT_EQ(describe_shape(shape(1, 32, 8, 8, 32, 3, 3, 2, 1, 32), DataType::f32),
              "3x3, 32->32, groups 32, stride 2, pad 1,1,1,1, fp32 nhwc");
    EXPECT_STREQ(to_string(Activation::leaky_relu), "leaky_relu");
    EXPECT_STREQ(to_string(DataType::f16), "fp16");
    EXPECT_EQ(element_size(DataType::f16), 2u);
    EXPECT_EQ(element_size(DataType::f32), 4u);
}

TEST(Half, KnownValues) {
    EXPECT_EQ(float_to_half(0.f), 0x0000);
    EXPECT_EQ(float_to_half(-0.f), 0x8000);
    EXPECT_EQ(float_to_half(1.f), 0x3C00);
    EXPECT_EQ(float_to_half(-2.5f), 0xC100);
    EXPECT_EQ(float_to_half(65504.f), 0x7BFF);  // largest finite
    EXPECT_EQ(float_to_half(65520.f), 0x7C00);  // rounds up to infinity
    EXPECT_EQ(float_to_half(1e6f), 0x7C00);
    EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xFC00);
    EXPECT_EQ(float_to_half(std::ldexp(1.f, -14)), 0x0400);  // smallest normal
    EXPECT_EQ(float_to_half(std::ldexp(1.f, -24)), 0x0001);  // smallest subnormal
    EXPECT_EQ(float_to_half(std::ldexp(1.f, -25)), 0x0000);  // tie to even: 0
    EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
    EXPECT_EQ(float_to_half(std::ldexp(3.f, -25)), 0x0002);  // 1.5 ulp: tie to even (2)
    // Ties between normal halves: 1 + 2^-11 lies between 1 and 1 + 2^-10 -> even (1).
    EXPECT_EQ(float_to_half(1.f + std::ldexp(1.f, -11)), 0x3C00);
    EXPECT_EQ(float_to_half(1.f + 3 * std::ldexp(1.f, -11)), 0x3C02);
    const std::uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(nan & 0x7C00, 0x7C00);
    EXPECT_NE(nan & 0x03FF, 0);
}

TEST(Half, RoundTrip) {
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        const auto bits = static_cast<std::uint16_t>(h);
        const float f = half_to_float(bits);
        if (std::isnan(f)) {
            EXPECT_TRUE((bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0);
            continue;
        }
        ASSERT_EQ(float_to_half(f), bits) << "half 0x" << std::hex << h;
    }
    EXPECT_EQ(half_to_float(0x3C00), 1.f);
    EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.f, -24));
    EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.f, -24));
    EXPECT_EQ(half_to_float(0x7BFF), 65504.f);
}

TEST(ReorderWeights, OihwToKrscF32) {
    const ConvShape sh = shape(1, 3, 8, 8, 2, 2, 3);  // K=2, C=3, R=2, S=3
    std::vector<float> oihw(static_cast<std::size_t>(sh.w_elements()));
    for (std::size_t i = 0; i < oihw.size(); ++i) oihw[i] = float(i);
    const auto bytes = reorder_weights(oihw, sh, DataType::f32);
    ASSERT_EQ(bytes.size(), oihw.size() * 4);
    std::vector<float> krsc(oihw.size());
    std::memcpy(krsc.data(), bytes.data(), bytes.size());
    for (int k = 0; k < 2; ++k)
        for (int c = 0; c < 3; ++c)
            for (int r = 0; r < 2; ++r)
                for (int s = 0; s < 3; ++s)
                    EXPECT_EQ(krsc[((k * 2 + r) * 3 + s) * 3 + c], oihw[((k * 3 + c) * 2 + r) * 3 + s])
                        << k << c << r << s;
}

TEST(ReorderWeights, GroupedAndF16) {
    // Depthwise: [K, 1, R, S] is already KRSC; grouped: C/g per filter.
    const ConvShape dw = shape(1, 4, 8, 8, 4, 3, 3, 1, 1, 4);
    std::vector<float> w(static_cast<std::size_t>(dw.w_elements()));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * float(i) - 3.f;
    const auto bytes = reorder_weights(w, dw, DataType::f16);
    ASSERT_EQ(bytes.size(), w.size() * 2);
    for (std::size_t i = 0; i < w.size(); ++i) {
        std::uint16_t h;
        std::memcpy(&h, bytes.data() + 2 * i, 2);
        EXPECT_EQ(half_to_float(h), w[i]);
    }

    const ConvShape g2 = shape(1, 4, 8, 8, 6, 1, 2, 1, 0, 2);  // C/g = 2
    std::vector<float> v(static_cast<std::size_t>(g2.w_elements()));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = float(i);
    const auto b2 = reorder_weights(v, g2, DataType::f32);
    std::vector<float> krsc(v.size());
    std::memcpy(krsc.data(), b2.data(), b2.size());
    for (int k = 0; k < 6; ++k)
        for (int c = 0; c < 2; ++c)
            for (int s = 0; s < 2; ++s) EXPECT_EQ(krsc[(k * 2 + s) * 2 + c], v[(k * 2 + c) * 2 + s]);

    EXPECT_THROW(reorder_weights(std::vector<float>(5), g2, DataType::f32), std::invalid_argument);
}

TEST(ReorderWeights, OnlyWeightDimsMatter) {
    // What an executor passes: k, c (= C/groups), r, s; h, w left at 1.
    ConvShape sh;
    sh.k = 8, sh.c = 3, sh.r = 3, sh.s = 3;
    EXPECT_EQ(reorder_weights(std::vector<float>(8 * 3 * 9, 1.f), sh, DataType::f16).size(), 8u * 3 * 9 * 2);
}

TEST(Reference, SmallKnownConvolution) {
    // 1x1 input channel, 3x3 picture of 1..9, 2x2 kernel of ones, pad 0:
    // each output is the sum of a 2x2 window.
    const ConvShape sh = shape(1, 1, 3, 3, 1, 2, 2);
    std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
    const auto y = reference_conv(sh, x, {1, 1, 1, 1}, {0.5f}, {}, Activation::none, 0.f);
    ASSERT_EQ(y.size(), 4u);
    EXPECT_DOUBLE_EQ(y[0], 12.5);
    EXPECT_DOUBLE_EQ(y[1], 16.5);
    EXPECT_DOUBLE_EQ(y[2], 24.5);
    EXPECT_DOUBLE_EQ(y[3], 28.5);
    // Pad 1 stride 2 on the same picture: corners of the padded 5x5.
    const auto z = reference_conv(shape(1, 1, 3, 3, 1, 2, 2, 2, 1), x, {1, 1, 1, 1}, {}, {}, Activation::relu, 0.f);
    ASSERT_EQ(z.size(), 4u);
    EXPECT_DOUBLE_EQ(z[0], 1);
    EXPECT_DOUBLE_EQ(z[1], 2 + 3);
    EXPECT_DOUBLE_EQ(z[2], 4 + 7);
    EXPECT_DOUBLE_EQ(z[3], 5 + 6 + 8 + 9);
    EXPECT_DOUBLE_EQ(activate(-2, Activation::leaky_relu, 0.1), -0.2);
    EXPECT_DOUBLE_EQ(activate(0, Activation::sigmoid, 0), 0.5);
    EXPECT_DOUBLE_EQ(activate(2, Activation::silu, 0), 2 / (1 + std::exp(-2.0)));
}

}  // namespace
}  // namespace ss::cudnn::test
