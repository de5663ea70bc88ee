// The GPU path's pre-processing (its CPU reference in the CUDA library, which
// the kernel is tested against on a GPU) against core's Preprocessor: the
// geometry must agree exactly (boxes map back with core's InputTransform), the
// tensor within what NV12's half-resolution chroma changes. Built where the
// CUDA library is (it needs no GPU).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "slipstream/config.hpp"
#include "slipstream/cuda/preprocess.hpp"
#include "slipstream/preprocess.hpp"

namespace {

struct Case {
    int source_w, source_h, net_w, net_h;
    bool keep_aspect, symmetric;
    ss::ColorFormat color;
    ss::InputOrder order;
};

ss::InferConfig core_config(const Case& c) {
    ss::InferConfig config;
    config.input_width = c.net_w;
    config.input_height = c.net_h;
    config.input_channels = c.color == ss::ColorFormat::gray ? 1 : 3;
    config.model_color_format = c.color;
    config.network_input_order = c.order;
    config.maintain_aspect_ratio = c.keep_aspect;
    config.symmetric_padding = c.symmetric;
    config.net_scale_factor = 0.5f;
    config.offsets = {3, 7, 11};
    return config;
}

ss::cuda::PreprocessParams gpu_params(const Case& c) {
    ss::cuda::PreprocessParams p;
    p.width = c.net_w;
    p.height = c.net_h;
    p.channels = c.color == ss::ColorFormat::gray ? 1 : 3;
    p.color = c.color == ss::ColorFormat::gray  ? ss::cuda::ColorOrder::gray
              : c.color == ss::ColorFormat::bgr ? ss::cuda::ColorOrder::bgr
                                                : ss::cuda::ColorOrder::rgb;
    p.resize = !c.keep_aspect ? ss::cuda::Resize::stretch
               : c.symmetric  ? ss::cuda::Resize::letterbox_centered
                              : ss::cuda::Resize::letterbox;
    p.layout = c.order == ss::InputOrder::nchw ? ss::cuda::TensorLayout::nchw : ss::cuda::TensorLayout::nhwc;
    p.net_scale_factor = 0.5f;
    p.offsets = {3, 7, 11};
    return p;
}

// A smooth picture with some structure: what cameras show at detector sizes.
cv::Mat picture(int w, int h) {
    cv::Mat bgr(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double fx = static_cast<double>(x) / w, fy = static_cast<double>(y) / h;
            bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(40 + 170 * fx),
                                                cv::saturate_cast<uchar>(128 + 90 * std::sin(6 * fx + 4 * fy)),
                                                cv::saturate_cast<uchar>(30 + 200 * fy));
        }
    cv::circle(bgr, {w / 3, h / 2}, std::min(w, h) / 5, cv::Scalar(20, 200, 230), -1, cv::LINE_AA);
    cv::GaussianBlur(bgr, bgr, {5, 5}, 1.5);
    return bgr;
}

// BGR -> NV12 (BT.601 limited, OpenCV's I420, U and V interleaved).
struct Nv12 {
    std::vector<std::uint8_t> y, uv;
    int w, h;
};

Nv12 to_nv12(const cv::Mat& bgr) {
    cv::Mat i420;
    cv::cvtColor(bgr, i420, cv::COLOR_BGR2YUV_I420);
    const int w = bgr.cols, h = bgr.rows;
    Nv12 out{std::vector<std::uint8_t>(i420.data, i420.data + static_cast<std::size_t>(w) * h),
             std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h / 2), w, h};
    const std::uint8_t* u = i420.data + static_cast<std::size_t>(w) * h;
    const std::uint8_t* v = u + static_cast<std::size_t>(w / 2) * (h / 2);
    for (std::size_t i = 0; i < static_cast<std::size_t>(w / 2) * (h / 2); ++i) {
        out.uv[2 * i] = u[i];
        out.uv[2 * i + 1] = v[i];
    }
    return out;
}

TEST(PreprocessNv12, GeometryIsCoresToTheBit) {
    for (int keep = 0; keep < 2; ++keep)
        for (int symmetric = 0; symmetric < 2; ++symmetric)
            for (const cv::Size net : {cv::Size(640, 640), cv::Size(416, 416), cv::Size(960, 544), cv::Size(300, 301)})
                for (const cv::Size source : {cv::Size(1920, 1080), cv::Size(640, 360), cv::Size(333, 251),
                                              cv::Size(1280, 720), cv::Size(720, 1280), cv::Size(2, 2),
                                              cv::Size(4096, 2160), cv::Size(612, 344)}) {
                    const Case c{source.width, source.height, net.width, net.height, keep == 1, symmetric == 1,
                                 ss::ColorFormat::rgb, ss::InputOrder::nchw};
                    const ss::InputTransform expected = ss::Preprocessor(core_config(c)).transform_for(source);
                    const ss::cuda::InputTransform got = ss::cuda::input_transform(source.width, source.height, gpu_params(c));
                    SCOPED_TRACE(std::to_string(source.width) + "x" + std::to_string(source.height) + " -> " +
                                 std::to_string(net.width) + "x" + std::to_string(net.height));
                    EXPECT_EQ(got.scale_x, expected.scale_x);
                    EXPECT_EQ(got.scale_y, expected.scale_y);
                    EXPECT_EQ(got.pad_x, expected.pad_x);
                    EXPECT_EQ(got.pad_y, expected.pad_y);
                }
}

TEST(PreprocessNv12, TransformForIsWhatRunReturns) {
    const Case c{1280, 720, 416, 416, true, true, ss::ColorFormat::rgb, ss::InputOrder::nchw};
    const ss::Preprocessor pre(core_config(c));
    std::vector<float> out(pre.floats_per_image());
    const ss::InputTransform run = pre.run(picture(1280, 720), out.data());
    const ss::InputTransform alone = pre.transform_for({1280, 720});
    EXPECT_EQ(run.scale_x, alone.scale_x);
    EXPECT_EQ(run.scale_y, alone.scale_y);
    EXPECT_EQ(run.pad_x, alone.pad_x);
    EXPECT_EQ(run.pad_y, alone.pad_y);
}

TEST(PreprocessNv12, TensorMatchesCoreOnTheSamePicture) {
    const std::vector<Case> cases = {
        {640, 360, 320, 320, true, true, ss::ColorFormat::rgb, ss::InputOrder::nchw},
        {640, 360, 320, 320, true, false, ss::ColorFormat::bgr, ss::InputOrder::nhwc},
        {640, 360, 300, 200, false, false, ss::ColorFormat::rgb, ss::InputOrder::nhwc},
        {320, 240, 320, 320, true, true, ss::ColorFormat::gray, ss::InputOrder::nchw},
        {320, 240, 640, 640, true, true, ss::ColorFormat::bgr, ss::InputOrder::nchw},  // enlarging
        {400, 400, 400, 400, false, false, ss::ColorFormat::rgb, ss::InputOrder::nchw},  // same size
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::to_string(c.source_w) + "x" + std::to_string(c.source_h) + " -> " + std::to_string(c.net_w) +
                     "x" + std::to_string(c.net_h) + " keep " + std::to_string(c.keep_aspect) + " symmetric " +
                     std::to_string(c.symmetric) + " color " + std::to_string(static_cast<int>(c.color)));
        const cv::Mat bgr = picture(c.source_w, c.source_h);
        // The CPU path's own picture is what NV12 decodes to: compare against
        // core run on that, so only the pre-processing differs.
        const Nv12 nv12 = to_nv12(bgr);
        cv::Mat y(c.source_h, c.source_w, CV_8UC1, const_cast<std::uint8_t*>(nv12.y.data()));
        cv::Mat uv(c.source_h / 2, c.source_w / 2, CV_8UC2, const_cast<std::uint8_t*>(nv12.uv.data()));
        cv::Mat decoded;
        cv::cvtColorTwoPlane(y, uv, decoded, cv::COLOR_YUV2BGR_NV12);

        const ss::Preprocessor pre(core_config(c));
        std::vector<float> expected(pre.floats_per_image());
        pre.run(decoded, expected.data());

        const ss::cuda::PreprocessParams p = gpu_params(c);
        const ss::cuda::PreprocessSource s = ss::cuda::describe_source(
            nv12.y.data(), static_cast<std::size_t>(c.source_w), nv12.uv.data(), static_cast<std::size_t>(c.source_w),
            c.source_w, c.source_h, p);
        std::vector<float> got(ss::cuda::tensor_bytes(p, 1) / sizeof(float));
        ASSERT_EQ(got.size(), expected.size());
        ss::cuda::preprocess_nv12_reference(&s, 1, p, got.data());

        // In pixel units (the tensor is 0.5 * (x - offset)): chroma sampled
        // bilinearly here and nearest in OpenCV's NV12 decode, 8-bit rounding there.
        // Across sharp colour edges (the disc's rim) the two chroma
        // upsamplings differ by up to a quarter of the chroma step (tens of
        // levels); elsewhere they agree within a few levels.
        double sum = 0, worst = 0;
        std::size_t far = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
            const double d = std::fabs(static_cast<double>(got[i]) - expected[i]) / 0.5;
            sum += d;
            worst = std::max(worst, d);
            far += d > 8;
        }
        const double mean = sum / static_cast<double>(got.size());
        const double far_share = static_cast<double>(far) / static_cast<double>(got.size());
        std::printf("mean %.3f, worst %.1f, over 8 levels %.4f%%\n", mean, worst, 100 * far_share);
        EXPECT_LT(mean, 1.5);
        EXPECT_LT(far_share, 0.02);
        EXPECT_LT(worst, 80.0);
    }
}

}  // namespace
