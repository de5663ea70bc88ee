#pragma once
// Helpers shared by the element tests: raw video buffers built from a BGR
// picture, I420 output read back into BGR, colour comparisons, batch buffers
// built by hand, bounded waits and the errors an element posts.
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "meta/batch_meta.hpp"

namespace sstest {

// Every wait on an element's thread gives up after this long: a hang is a failure, not a stuck run.
constexpr guint wait_ms = 5000;

// Studio-range BT.601, the colorimetry of SD raw video in GStreamer. Written
// out here, not taken from OpenCV, so the element's decoding is checked
// against the standard rather than against itself.
struct Yuv {
    std::uint8_t y, u, v;
};

inline std::uint8_t clamp_byte(double v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

inline Yuv bt601(const cv::Vec3b& bgr) {
    const double b = bgr[0], g = bgr[1], r = bgr[2];
    return {clamp_byte(16 + 0.257 * r + 0.504 * g + 0.098 * b), clamp_byte(128 - 0.148 * r - 0.291 * g + 0.439 * b),
            clamp_byte(128 + 0.439 * r - 0.368 * g - 0.071 * b)};
}

inline std::string caps_string(GstVideoFormat format, int width, int height) {
    return std::string("video/x-raw, format=(string)") + gst_video_format_to_string(format) +
           ", width=(int)" + std::to_string(width) + ", height=(int)" + std::to_string(height) +
           ", framerate=(fraction)30/1, pixel-aspect-ratio=(fraction)1/1";
}

// A raw video buffer of `format` showing `bgr` (even width and height for the
// 4:2:0 formats), laid out with GStreamer's default strides so padded rows are
// exercised too.
inline GstBuffer* make_video_buffer(GstVideoFormat format, const cv::Mat& bgr, GstClockTime pts = GST_CLOCK_TIME_NONE) {
    GstVideoInfo info;
    gst_video_info_set_format(&info, format, bgr.cols, bgr.rows);
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE)) {
        ADD_FAILURE() << "could not map a new buffer";
        return buffer;
    }
    auto plane = [&](int p) { return static_cast<std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p)); };
    auto stride = [&](int p) { return GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p); };
    // Padding bytes get a value no picture here uses, so reading them would show.
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); ++p) {
        std::memset(plane(p), 0x5a, static_cast<std::size_t>(stride(p)) * GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p));
    }
    switch (format) {
        case GST_VIDEO_FORMAT_BGR:
        case GST_VIDEO_FORMAT_RGB:
            for (int y = 0; y < bgr.rows; ++y) {
                for (int x = 0; x < bgr.cols; ++x) {
                    const cv::Vec3b px = bgr.at<cv::Vec3b>(y, x);
                    std::uint8_t* out = plane(0) + y * stride(0) + 3 * x;
                    const bool rgb = format == GST_VIDEO_FORMAT_RGB;
                    out[0] = rgb ? px[2] : px[0];
                    out[1] = px[1];
                    out[2] = rgb ? px[0] : px[2];
                }
            }
            break;
        case GST_VIDEO_FORMAT_I420:
        case GST_VIDEO_FORMAT_NV12:
            for (int y = 0; y < bgr.rows; ++y) {
                for (int x = 0; x < bgr.cols; ++x) plane(0)[y * stride(0) + x] = bt601(bgr.at<cv::Vec3b>(y, x)).y;
            }
            // One chroma sample per 2x2 block, taken from its top-left pixel.
            for (int cy = 0; cy < bgr.rows / 2; ++cy) {
                for (int cx = 0; cx < bgr.cols / 2; ++cx) {
                    const Yuv c = bt601(bgr.at<cv::Vec3b>(2 * cy, 2 * cx));
                    if (format == GST_VIDEO_FORMAT_I420) {
                        plane(1)[cy * stride(1) + cx] = c.u;
                        plane(2)[cy * stride(2) + cx] = c.v;
                    } else {
                        plane(1)[cy * stride(1) + 2 * cx] = c.u;
                        plane(1)[cy * stride(1) + 2 * cx + 1] = c.v;
                    }
                }
            }
            break;
        default:
            ADD_FAILURE() << "no writer for " << gst_video_format_to_string(format);
    }
    gst_video_frame_unmap(&frame);
    GST_BUFFER_PTS(buffer) = pts;
    return buffer;
}

// The I420 `buffer` described by `caps`, as BGR (and its luma plane, if asked).
inline cv::Mat i420_to_bgr(GstBuffer* buffer, GstCaps* caps, cv::Mat* luma = nullptr) {
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps) || GST_VIDEO_INFO_FORMAT(&info) != GST_VIDEO_FORMAT_I420) {
        ADD_FAILURE() << "not I420 caps";
        return {};
    }
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ)) {
        ADD_FAILURE() << "could not map an output buffer";
        return {};
    }
    const int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
    // Repack into OpenCV's tightly packed I420 layout; GStreamer's planes may be padded.
    cv::Mat packed(h * 3 / 2, w, CV_8UC1);
    std::uint8_t* dst = packed.ptr<std::uint8_t>();
    const int widths[3] = {w, w / 2, w / 2}, heights[3] = {h, h / 2, h / 2};
    for (int p = 0; p < 3; ++p) {
        const auto* src = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
        const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
        for (int y = 0; y < heights[p]; ++y) std::memcpy(dst + y * widths[p], src + y * stride, widths[p]);
        dst += widths[p] * heights[p];
    }
    gst_video_frame_unmap(&frame);
    if (luma) *luma = packed.rowRange(0, h).clone();
    cv::Mat bgr;
    cv::cvtColor(packed, bgr, cv::COLOR_YUV2BGR_I420);
    return bgr;
}

inline int colour_distance(const cv::Vec3b& a, const cv::Vec3b& b) {
    int d = 0;
    for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(int(a[c]) - int(b[c])));
    return d;
}

inline cv::Vec3b vec(const cv::Scalar& s) {
    return {static_cast<std::uint8_t>(s[0]), static_cast<std::uint8_t>(s[1]), static_cast<std::uint8_t>(s[2])};
}

inline std::string describe(const cv::Vec3b& c) {
    return "(B" + std::to_string(c[0]) + " G" + std::to_string(c[1]) + " R" + std::to_string(c[2]) + ")";
}

// gtest assertion: the pixel at `at` is within `tolerance` of `expected` in every channel.
inline ::testing::AssertionResult colour_near(const cv::Mat& image, cv::Point at, const cv::Vec3b& expected, int tolerance) {
    if (at.x < 0 || at.y < 0 || at.x >= image.cols || at.y >= image.rows) {
        return ::testing::AssertionFailure() << "point (" << at.x << "," << at.y << ") outside the image";
    }
    const cv::Vec3b got = image.at<cv::Vec3b>(at);
    if (colour_distance(got, expected) <= tolerance) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "at (" << at.x << "," << at.y << ") got " << describe(got) << ", expected "
                                         << describe(expected) << " +-" << tolerance;
}

// A batch entry of a live source showing `frame` (fresh: not shown before).
inline SsBatchFrame live_entry(guint source, std::shared_ptr<const SsVideoFrame> frame, bool fresh = true) {
    SsBatchFrame e;
    e.source_id = source;
    e.state = SourceState::live;
    e.frame = std::move(frame);
    e.fresh = fresh;
    return e;
}

// A batch buffer as ssbatchmux would have made it, holding `frames`.
inline GstBuffer* make_batch(std::vector<SsBatchFrame> frames, GstClockTime pts = 0, GstClockTime duration = 40 * GST_MSECOND) {
    GstBuffer* buffer = gst_buffer_new();
    SsBatchMeta* meta = ss_buffer_add_batch_meta(buffer);
    *meta->frames = std::move(frames);
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DURATION(buffer) = duration;
    return buffer;
}

// Polls `done` until it holds or wait_ms passed: for what an element's own
// threads do, never a measure of how fast they do it.
inline bool wait_until(const std::function<bool()>& done, guint timeout_ms = wait_ms) {
    const gint64 end = g_get_monotonic_time() + static_cast<gint64>(timeout_ms) * 1000;
    while (!done()) {
        if (g_get_monotonic_time() > end) return false;
        g_usleep(2000);
    }
    return true;
}

// The messages an element posts (GStreamer's harness gives it no bus).
class BusOf {
public:
    explicit BusOf(GstElement* element) : bus_(gst_bus_new()) { gst_element_set_bus(element, bus_); }
    ~BusOf() { gst_object_unref(bus_); }
    BusOf(const BusOf&) = delete;
    BusOf& operator=(const BusOf&) = delete;

    // The first error posted so far ("" when none): "<message> | <debug>", and its domain and code.
    std::string error(GQuark* domain = nullptr, gint* code = nullptr) const {
        GstMessage* message = gst_bus_pop_filtered(bus_, GST_MESSAGE_ERROR);
        if (!message) return "";
        GError* error = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        std::string text = std::string(error->message) + " | " + (debug ? debug : "");
        if (domain) *domain = error->domain;
        if (code) *code = error->code;
        g_error_free(error);
        g_free(debug);
        gst_message_unref(message);
        return text;
    }

private:
    GstBus* bus_;
};

}  // namespace sstest
