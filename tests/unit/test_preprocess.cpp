// Pre-processing into the input tensor: y = net-scale-factor * (x - offsets[c])
// in the model's channel order and layout, stretched or letterboxed.
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "slipstream/error.hpp"
#include "slipstream/preprocess.hpp"

namespace {

ss::InferConfig config(int width, int height, ss::ColorFormat color = ss::ColorFormat::rgb,
                       ss::InputOrder order = ss::InputOrder::nchw) {
    ss::InferConfig c;
    c.input_width = width;
    c.input_height = height;
    c.input_channels = color == ss::ColorFormat::gray ? 1 : 3;
    c.model_color_format = color;
    c.network_input_order = order;
    c.net_scale_factor = 0.5f;
    c.offsets = {1, 2, 3};
    return c;
}

// A 3x2 BGR image whose every byte is different: pixel (x, y) = (b, g, r).
cv::Mat test_image() {
    cv::Mat m(2, 3, CV_8UC3);
    for (int y = 0; y < 2; ++y) {
        for (int x = 0; x < 3; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(10 + x + 3 * y, 100 + x + 3 * y, 200 + x + 3 * y);
    }
    return m;
}

std::vector<float> run(const ss::InferConfig& c, const cv::Mat& image, ss::InputTransform* transform = nullptr) {
    ss::Preprocessor p(c);
    std::vector<float> out(p.floats_per_image(), -1000.f);
    const auto t = p.run(image, out.data());
    if (transform) *transform = t;
    return out;
}

}  // namespace

TEST(Preprocess, RgbPlanes) {
    const auto out = run(config(3, 2), test_image());
    ASSERT_EQ(out.size(), 18u);
    for (int y = 0; y < 2; ++y) {
        for (int x = 0; x < 3; ++x) {
            const int i = y * 3 + x, v = x + 3 * y;
            EXPECT_FLOAT_EQ(out[0 * 6 + i], 0.5f * (200 + v - 1)) << "R plane";
            EXPECT_FLOAT_EQ(out[1 * 6 + i], 0.5f * (100 + v - 2)) << "G plane";
            EXPECT_FLOAT_EQ(out[2 * 6 + i], 0.5f * (10 + v - 3)) << "B plane";
        }
    }
}

TEST(Preprocess, BgrPlanes) {
    const auto out = run(config(3, 2, ss::ColorFormat::bgr), test_image());
    for (int i = 0; i < 6; ++i) {
        EXPECT_FLOAT_EQ(out[0 * 6 + i], 0.5f * (10 + i - 1));
        EXPECT_FLOAT_EQ(out[1 * 6 + i], 0.5f * (100 + i - 2));
        EXPECT_FLOAT_EQ(out[2 * 6 + i], 0.5f * (200 + i - 3));
    }
}

TEST(Preprocess, RgbInterleavedNhwc) {
    const auto out = run(config(3, 2, ss::ColorFormat::rgb, ss::InputOrder::nhwc), test_image());
    for (int i = 0; i < 6; ++i) {
        EXPECT_FLOAT_EQ(out[i * 3 + 0], 0.5f * (200 + i - 1));
        EXPECT_FLOAT_EQ(out[i * 3 + 1], 0.5f * (100 + i - 2));
        EXPECT_FLOAT_EQ(out[i * 3 + 2], 0.5f * (10 + i - 3));
    }
}

TEST(Preprocess, BgraAndGrayInputs) {
    cv::Mat bgra;
    cv::cvtColor(test_image(), bgra, cv::COLOR_BGR2BGRA);
    EXPECT_EQ(run(config(3, 2), bgra), run(config(3, 2), test_image()));  // alpha ignored

    // A gray image feeds all three channels of a colour model.
    cv::Mat gray(2, 3, CV_8UC1, cv::Scalar(50));
    const auto out = run(config(3, 2), gray);
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(out[c * 6 + 4], 0.5f * (50 - (c + 1)));
}

TEST(Preprocess, GrayModel) {
    cv::Mat image(2, 3, CV_8UC3, cv::Scalar(30, 60, 90));
    cv::Mat expected;
    cv::cvtColor(image, expected, cv::COLOR_BGR2GRAY);
    const auto out = run(config(3, 2, ss::ColorFormat::gray), image);
    ASSERT_EQ(out.size(), 6u);
    for (float v : out) EXPECT_FLOAT_EQ(v, 0.5f * (expected.at<std::uint8_t>(0, 0) - 1));
}

TEST(Preprocess, StretchTransform) {
    ss::InputTransform t;
    run(config(8, 8), cv::Mat(4, 16, CV_8UC3, cv::Scalar::all(7)), &t);
    EXPECT_FLOAT_EQ(t.scale_x, 0.5f);
    EXPECT_FLOAT_EQ(t.scale_y, 2.f);
    EXPECT_FLOAT_EQ(t.pad_x, 0.f);
    EXPECT_FLOAT_EQ(t.to_image_x(8), 16.f);
    EXPECT_FLOAT_EQ(t.to_image_y(8), 4.f);
}

TEST(Preprocess, LetterboxPadsWithZeroPixels) {
    // 8x4 into 4x4: 4x2 of content, two rows of black (0 before scaling and offsets).
    const cv::Mat image(4, 8, CV_8UC3, cv::Scalar::all(101));
    for (const bool symmetric : {false, true}) {
        SCOPED_TRACE(symmetric ? "symmetric" : "top-left");
        auto c = config(4, 4);
        c.maintain_aspect_ratio = true;
        c.symmetric_padding = symmetric;
        ss::InputTransform t;
        const auto out = run(c, image, &t);
        EXPECT_FLOAT_EQ(t.scale_x, 0.5f);
        EXPECT_FLOAT_EQ(t.scale_y, 0.5f);
        EXPECT_FLOAT_EQ(t.pad_x, 0.f);
        EXPECT_FLOAT_EQ(t.pad_y, symmetric ? 1.f : 0.f);
        const int first_content_row = symmetric ? 1 : 0;
        for (int ch = 0; ch < 3; ++ch) {
            for (int y = 0; y < 4; ++y) {
                const bool content = y >= first_content_row && y < first_content_row + 2;
                const float expected = 0.5f * ((content ? 101.f : 0.f) - (ch + 1));
                for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(out[ch * 16 + y * 4 + x], expected) << y << "," << x;
            }
        }
        EXPECT_FLOAT_EQ(t.to_image_y(first_content_row + 2), 4.f);
    }
}

TEST(Preprocess, RejectsUnsupportedImages) {
    ss::Preprocessor p(config(4, 4));
    std::vector<float> out(p.floats_per_image());
    EXPECT_THROW(p.run(cv::Mat(), out.data()), ss::Error);
    EXPECT_THROW(p.run(cv::Mat(4, 4, CV_16UC3), out.data()), ss::Error);
    EXPECT_THROW(p.run(cv::Mat(4, 4, CV_8UC2), out.data()), ss::Error);
}
