#include "slipstream/frame_convert.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "slipstream/error.hpp"

namespace ss {
namespace {

// Area averaging for real shrinking (no aliasing on 1080p -> tile), bilinear otherwise.
// OpenCV's INTER_AREA is fast only for whole-number ratios: 1080p -> 600x338
// costs ~2.3 ms per luma plane, an exact halving ~0.06 ms (bench/run.sh found
// it was most of the CPU per 1080p camera after decoding). So while the
// picture is still at least twice the target, halve it by area averaging, then
// finish bilinear at a ratio below 2: the same box prefilter, ~10x less CPU.
void resize_plane(const cv::Mat& in, cv::Mat out) {
    if (in.size() == out.size()) {
        in.copyTo(out);
        return;
    }
    cv::Mat source = in;
    while (source.cols >= 2 * out.cols && source.rows >= 2 * out.rows) {
        const cv::Size half(source.cols / 2, source.rows / 2);
        // An odd last row or column is left out so the ratio is exactly 2.
        const cv::Mat even = source(cv::Rect(0, 0, half.width * 2, half.height * 2));
        if (half == out.size()) {
            cv::resize(even, out, half, 0, 0, cv::INTER_AREA);
            return;
        }
        cv::Mat halved;
        cv::resize(even, halved, half, 0, 0, cv::INTER_AREA);
        source = halved;
    }
    cv::resize(source, out, out.size(), 0, 0, cv::INTER_LINEAR);
}

}  // namespace

cv::Size fit_size(cv::Size source, cv::Size box) {
    if (source.width <= 0 || source.height <= 0) return {0, 0};
    double scale = std::min(static_cast<double>(box.width) / source.width, static_cast<double>(box.height) / source.height);
    scale = std::min(scale, 1.0);
    const int w = std::max(2, static_cast<int>(std::lround(source.width * scale)) & ~1);
    const int h = std::max(2, static_cast<int>(std::lround(source.height * scale)) & ~1);
    return {w, h};
}

cv::Size detector_frame_size(cv::Size frame, cv::Size network, bool keep_aspect) {
    int w = network.width, h = network.height;
    if (keep_aspect && frame.width > 0 && frame.height > 0) {
        const double scale =
            std::min(static_cast<double>(network.width) / frame.width, static_cast<double>(network.height) / frame.height);
        w = static_cast<int>(std::lround(frame.width * scale));
        h = static_cast<int>(std::lround(frame.height * scale));
    }
    return {std::max(2, w & ~1), std::max(2, h & ~1)};
}

void convert_scaled(const PlanarImage& in, cv::Size size, cv::Mat& out) {
    const int w = size.width & ~1, h = size.height & ~1;
    if (w <= 0 || h <= 0 || in.width <= 0 || in.height <= 0) throw Error("convert_scaled: empty image");
    out.create(h, w, CV_8UC3);
    auto plane = [&](int i, int rows, int cols, int type) {
        return cv::Mat(rows, cols, type, const_cast<std::uint8_t*>(in.planes[i]), static_cast<std::size_t>(in.strides[i]));
    };
    // Packed formats other than BGR: scale in the source's own format, then
    // convert only the small picture.
    auto scale_then_convert = [&](int type, cv::ColorConversionCodes code) {
        cv::Mat scaled(h, w, type);
        resize_plane(plane(0, in.height, in.width, type), scaled);
        cv::cvtColor(scaled, out, code);
    };
    switch (in.format) {
        case PixelFormat::i420:
        case PixelFormat::yv12: {
            // Scale the planes in YUV (half the bytes of BGR), then convert at the small size.
            cv::Mat yuv(h * 3 / 2, w, CV_8UC1);
            const int cw = (in.width + 1) / 2, ch = (in.height + 1) / 2;
            resize_plane(plane(0, in.height, in.width, CV_8UC1), yuv.rowRange(0, h));
            // In a contiguous I420 buffer each chroma plane is w/2 x h/2, stored as h/4 rows of w.
            cv::Mat u(h / 2, w / 2, CV_8UC1, yuv.ptr(h));
            cv::Mat v(h / 2, w / 2, CV_8UC1, yuv.ptr(h) + (w / 2) * (h / 2));
            resize_plane(plane(1, ch, cw, CV_8UC1), u);
            resize_plane(plane(2, ch, cw, CV_8UC1), v);
            cv::cvtColor(yuv, out, in.format == PixelFormat::i420 ? cv::COLOR_YUV2BGR_I420 : cv::COLOR_YUV2BGR_YV12);
            break;
        }
        case PixelFormat::nv12: {
            cv::Mat y(h, w, CV_8UC1), uv(h / 2, w / 2, CV_8UC2);
            resize_plane(plane(0, in.height, in.width, CV_8UC1), y);
            resize_plane(plane(1, (in.height + 1) / 2, (in.width + 1) / 2, CV_8UC2), uv);
            cv::cvtColorTwoPlane(y, uv, out, cv::COLOR_YUV2BGR_NV12);
            break;
        }
        case PixelFormat::bgr:
            resize_plane(plane(0, in.height, in.width, CV_8UC3), out);
            break;
        case PixelFormat::rgb:
            scale_then_convert(CV_8UC3, cv::COLOR_RGB2BGR);
            break;
        case PixelFormat::bgrx:
        case PixelFormat::rgbx:
            scale_then_convert(CV_8UC4, in.format == PixelFormat::bgrx ? cv::COLOR_BGRA2BGR : cv::COLOR_RGBA2BGR);
            break;
        case PixelFormat::gray8:
            scale_then_convert(CV_8UC1, cv::COLOR_GRAY2BGR);
            break;
    }
}

}  // namespace ss
