// Decoder formats to BGR at a smaller size: every format keeps the colours of
// a picture of flat colour blocks, also with padded row strides.
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "slipstream/error.hpp"
#include "slipstream/frame_convert.hpp"

namespace {

constexpr int W = 160, H = 120;  // source size; blocks of 80x60
const cv::Vec3b colours[4] = {{30, 60, 200}, {200, 40, 40}, {40, 180, 60}, {220, 220, 220}};

cv::Mat blocks() {
    cv::Mat m(H, W, CV_8UC3);
    for (int i = 0; i < 4; ++i) m(cv::Rect((i % 2) * W / 2, (i / 2) * H / 2, W / 2, H / 2)).setTo(cv::Scalar(colours[i]));
    return m;
}

// Copies `plane` into a buffer whose rows are `pad` bytes longer than needed,
// as decoders and GStreamer often deliver them.
struct PaddedPlane {
    cv::Mat storage;
    cv::Mat view;
    PaddedPlane(const cv::Mat& plane, int pad) {
        storage.create(plane.rows, static_cast<int>(plane.cols * plane.elemSize()) + pad, CV_8UC1);
        storage.setTo(cv::Scalar(77));  // garbage in the padding must not show
        view = cv::Mat(plane.rows, plane.cols, plane.type(), storage.data, storage.step);
        plane.copyTo(view);
    }
    const std::uint8_t* data() const { return storage.data; }
    int stride() const { return static_cast<int>(storage.step); }
};

// Checks the centre of each block of a converted image against its colour.
void expect_blocks(const cv::Mat& out, cv::Size size, int tolerance) {
    ASSERT_EQ(out.type(), CV_8UC3);
    ASSERT_EQ(out.size(), size);
    for (int i = 0; i < 4; ++i) {
        const cv::Point centre((i % 2) * size.width / 2 + size.width / 4, (i / 2) * size.height / 2 + size.height / 4);
        const cv::Vec3b got = out.at<cv::Vec3b>(centre);
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(got[c], colours[i][c], tolerance) << "block " << i << " channel " << c;
        }
    }
}

}  // namespace

TEST(FrameConvert, I420AndYv12) {
    for (const bool yv12 : {false, true}) {
        SCOPED_TRACE(yv12 ? "YV12" : "I420");
        cv::Mat yuv;
        cv::cvtColor(blocks(), yuv, yv12 ? cv::COLOR_BGR2YUV_YV12 : cv::COLOR_BGR2YUV_I420);
        // Planes in memory order: Y, then the two quarter-size chroma planes.
        const cv::Mat y = yuv.rowRange(0, H);
        const cv::Mat c1(H / 2, W / 2, CV_8UC1, yuv.ptr(H));
        const cv::Mat c2(H / 2, W / 2, CV_8UC1, yuv.ptr(H) + (W / 2) * (H / 2));
        const PaddedPlane py(y, 32), p1(c1, 16), p2(c2, 8);
        ss::PlanarImage in;
        in.format = yv12 ? ss::PixelFormat::yv12 : ss::PixelFormat::i420;
        in.width = W;
        in.height = H;
        in.planes[0] = py.data(), in.planes[1] = p1.data(), in.planes[2] = p2.data();
        in.strides[0] = py.stride(), in.strides[1] = p1.stride(), in.strides[2] = p2.stride();
        for (const cv::Size size : {cv::Size(80, 60), cv::Size(120, 90), cv::Size(W, H)}) {
            cv::Mat out;
            ss::convert_scaled(in, size, out);
            expect_blocks(out, size, 6);
        }
    }
}

TEST(FrameConvert, Nv12) {
    cv::Mat i420;
    cv::cvtColor(blocks(), i420, cv::COLOR_BGR2YUV_I420);
    const cv::Mat u(H / 2, W / 2, CV_8UC1, i420.ptr(H));
    const cv::Mat v(H / 2, W / 2, CV_8UC1, i420.ptr(H) + (W / 2) * (H / 2));
    cv::Mat uv;
    cv::merge(std::vector<cv::Mat>{u, v}, uv);  // interleaved U, V
    const PaddedPlane py(i420.rowRange(0, H), 24), puv(uv, 24);
    ss::PlanarImage in;
    in.format = ss::PixelFormat::nv12;
    in.width = W;
    in.height = H;
    in.planes[0] = py.data(), in.planes[1] = puv.data();
    in.strides[0] = py.stride(), in.strides[1] = puv.stride();
    cv::Mat out;
    ss::convert_scaled(in, {80, 60}, out);
    expect_blocks(out, {80, 60}, 6);
}

TEST(FrameConvert, PackedFormats) {
    struct Case {
        ss::PixelFormat format;
        int code;  // from BGR; -1 = as is
    };
    for (const Case& c : {Case{ss::PixelFormat::bgr, -1}, Case{ss::PixelFormat::rgb, cv::COLOR_BGR2RGB},
                          Case{ss::PixelFormat::bgrx, cv::COLOR_BGR2BGRA}, Case{ss::PixelFormat::rgbx, cv::COLOR_BGR2RGBA}}) {
        SCOPED_TRACE(static_cast<int>(c.format));
        cv::Mat packed = blocks();
        if (c.code >= 0) cv::cvtColor(blocks(), packed, c.code);
        const PaddedPlane p(packed, 12);
        ss::PlanarImage in;
        in.format = c.format;
        in.width = W;
        in.height = H;
        in.planes[0] = p.data();
        in.strides[0] = p.stride();
        cv::Mat out;
        ss::convert_scaled(in, {64, 48}, out);
        expect_blocks(out, {64, 48}, 1);  // no YUV round trip: only scaling
    }
}

TEST(FrameConvert, Gray8) {
    cv::Mat gray(H, W, CV_8UC1, cv::Scalar(123));
    ss::PlanarImage in;
    in.format = ss::PixelFormat::gray8;
    in.width = W;
    in.height = H;
    in.planes[0] = gray.data;
    in.strides[0] = static_cast<int>(gray.step);
    cv::Mat out;
    ss::convert_scaled(in, {40, 30}, out);
    ASSERT_EQ(out.size(), cv::Size(40, 30));
    EXPECT_EQ(out.at<cv::Vec3b>(10, 10), cv::Vec3b(123, 123, 123));
}

TEST(FrameConvert, OddSizesRoundDownToEven) {
    const cv::Mat bgr = blocks();
    ss::PlanarImage in;
    in.format = ss::PixelFormat::bgr;
    in.width = W;
    in.height = H;
    in.planes[0] = bgr.data;
    in.strides[0] = static_cast<int>(bgr.step);
    cv::Mat out;
    ss::convert_scaled(in, {81, 61}, out);
    EXPECT_EQ(out.size(), cv::Size(80, 60));
    EXPECT_THROW(ss::convert_scaled(in, {1, 1}, out), ss::Error);
}

TEST(DetectorFrameSize, TheNetworksInputOrWithinItKeepingTheAspect) {
    EXPECT_EQ(ss::detector_frame_size({1920, 1080}, {416, 416}, false), cv::Size(416, 416));
    EXPECT_EQ(ss::detector_frame_size({1920, 1080}, {416, 416}, true), cv::Size(416, 234));
    // Smaller frames are scaled up to the network, as sscudascale does (unlike fit_size).
    EXPECT_EQ(ss::detector_frame_size({320, 240}, {640, 640}, true), cv::Size(640, 480));
    EXPECT_EQ(ss::detector_frame_size({1080, 1920}, {416, 416}, true), cv::Size(234, 416));
    // Even sides, at least 2.
    EXPECT_EQ(ss::detector_frame_size({1000, 3}, {415, 415}, true), cv::Size(414, 2));
}
