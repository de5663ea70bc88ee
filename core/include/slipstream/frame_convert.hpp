#pragma once
// Decoded frames arrive in the decoder's format at camera resolution. They are
// scaled and converted to BGR once, here, straight to the working size that
// inference and display need, so full-resolution pixels are read exactly once.
#include <cstdint>

#include <opencv2/core.hpp>

namespace ss {

enum class PixelFormat { i420, yv12, nv12, bgr, bgrx, rgb, rgbx, gray8 };

struct PlanarImage {
    PixelFormat format = PixelFormat::i420;
    int width = 0, height = 0;
    const std::uint8_t* planes[3] = {nullptr, nullptr, nullptr};
    int strides[3] = {0, 0, 0};
};

// The largest size with `source`'s aspect ratio that fits in `box`, never larger
// than the source, with even width and height.
cv::Size fit_size(cv::Size source, cv::Size box);

// The size the GPU path hands the detector its frames at (sscudascale): the
// network's input, or, with keep_aspect, the largest size with the frame's
// aspect ratio inside it (up or down); even sides, at least 2.
cv::Size detector_frame_size(cv::Size frame, cv::Size network, bool keep_aspect);

// Scales and converts `in` into an 8-bit BGR image of `size` (reallocating `out` if needed).
void convert_scaled(const PlanarImage& in, cv::Size size, cv::Mat& out);

}  // namespace ss
